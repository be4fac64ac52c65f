//! Torque, Turnqey and Liquid flows in the simulated browser, against fakes of their backends.

mod sim;

use oauth_connect::effect::{Call, Listener};
use oauth_connect::error::ErrorCode;
use oauth_connect::fields::Value;
use sim::*;

// -- Torque --------------------------------------------------------------------------------------

#[test]
fn torque_popup_backend_opens_the_session_and_redeems_the_code_for_the_delegated_jwt() {
    let mut sim = Sim::new();
    let torque = sim.torque_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &torque_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let session = torque.borrow().session_requests[0].clone();
    assert_eq!(text_at(&session, "codeChallengeMethod").as_deref(), Some("S256"));
    assert_eq!(text_at(&session, "redirectUri").as_deref(), Some(CALLBACK));
    assert_eq!(text_at(&session, "externalUserId").as_deref(), Some("user-42"));
    assert_eq!(text_at(&session, "scope").as_deref(), Some("accounts:read transfers:execute"));
    let url = sim.popups[popup].location.clone();
    assert!(url.starts_with("https://torque.example/connect/authorize?session="));
    let back = torque.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    let result = sim.result(call);
    assert_eq!(text_at(&result, "provider").as_deref(), Some("torque"));
    assert!(text_at(&result, "exchange.accessToken").unwrap().contains("torque-jwt"));
    assert_eq!(at(&result, "params.code"), Value::Absent);
    assert_eq!(text_at(&result, "params.state"), text_at(&session, "state"));
    assert_eq!(torque.borrow().exchanges, 1);
    assert_eq!(sim.conn_events(conn), ["open", "callback", "exchange", "success"]);
}

#[test]
fn torque_without_scope_or_user_sends_neither() {
    let mut sim = Sim::new();
    let torque = sim.torque_backend();
    let tab = sim.open_tab();
    let config = torque_config("").replace(r#","externalUserId":"user-42","scope":["accounts:read","transfers:execute"]"#, "");
    let conn = sim.connect(tab, &config);
    sim.popup_until_provider(conn);
    let session = torque.borrow().session_requests[0].clone();
    assert_eq!(at(&session, "scope"), Value::Absent);
    assert_eq!(at(&session, "externalUserId"), Value::Absent);
}

#[test]
fn torque_deny_is_authorization_error_and_no_exchange() {
    let mut sim = Sim::new();
    let torque = sim.torque_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &torque_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    let back = torque.borrow_mut().deny(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::AuthorizationError);
    assert_eq!(torque.borrow().exchanges, 0);
}

#[test]
fn torque_backend_refusing_the_exchange_is_token_error_400_invalid_grant() {
    let mut sim = Sim::new();
    let torque = sim.torque_backend();
    sim.on("/api/torque/exchange", |_| Some(status(400, r#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &torque_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    let back = torque.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    let error = sim.error(call);
    assert_eq!((error.code(), error.status()), (ErrorCode::TokenError, Some(400)));
    assert_eq!(error.provider().map(|p| p.error.as_str()), Some("invalid_grant"));
    sim.assert_no_leaks();
}

#[test]
fn torque_a_session_answer_without_an_https_authorize_url_is_invalid_config() {
    let mut sim = Sim::new();
    sim.on("/api/torque/session", |_| Some(ok(r#"{"authorizeUrl":"http://torque.example/x"}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &torque_config(""));
    let call = sim.popup(conn);
    sim.run();
    assert!(matches!(sim.code(call), ErrorCode::InvalidConfig | ErrorCode::InsecureConfig));
    assert!(!sim.popups[sim.last_popup(tab)].open);
}

#[test]
fn torque_redirect_completes_on_the_callback_page_and_cleans_the_address_bar() {
    let mut sim = Sim::new();
    let torque = sim.torque_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &torque_config(""));
    let call = sim.redirect_and_return(conn, None, |url| torque.borrow_mut().approve(url));
    let result = sim.result(call);
    assert!(text_at(&result, "exchange.accessToken").is_some());
    assert_eq!(sim.pages[tab].href, CALLBACK);
}

#[test]
fn torque_with_coop_on_the_consent_screen_is_severed_then_succeeds() {
    let mut sim = Sim::new();
    let torque = sim.torque_backend();
    sim.coop.push(String::from("https://torque.example"));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &torque_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    assert!(sim.popups[popup].cut);
    sim.close_grace_passes();
    assert_eq!(sim.conn_events(conn), ["open", "popup_severed"]);
    let url = sim.popups[popup].location.clone();
    let back = torque.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    assert!(text_at(&sim.result(call), "exchange.accessToken").is_some());
    assert!(!sim.conn_events(conn).contains(&"exit"));
}

// -- Turnqey -------------------------------------------------------------------------------------

#[test]
fn turnqey_popup_signs_exactly_the_request_and_returns_the_new_collection() {
    let mut sim = Sim::new();
    let turnqey = sim.turnqey_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &turnqey_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let request = turnqey.borrow().checksum_requests[0].clone();
    let Value::Record(pairs) = &request else { panic!() };
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["client", "platform", "identity", "state"], "exactly the signed fields, no collection yet");
    let url = sim.popups[popup].location.clone();
    let order: Vec<String> = params(&url).into_iter().map(|(k, _)| k).collect();
    assert_eq!(order, ["client", "platform", "state", "identity", "checksum"]);
    let back = turnqey.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    let result = sim.result(call);
    let collection = text_at(&result, "collection").unwrap();
    assert_eq!(text_at(&result, "params.collection"), Some(collection));
    assert_eq!(text_at(&result, "params.status").as_deref(), Some("connected"));
    assert_eq!(text_at(&result, "params.identity").as_deref(), Some("user-42"));
    assert_eq!(sim.status(conn), "connected");
    sim.assert_no_leaks();
}

#[test]
fn turnqey_reconnect_goes_into_the_same_collection() {
    let mut sim = Sim::new();
    let turnqey = sim.turnqey_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &turnqey_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    let back = turnqey.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    let collection = text_at(&sim.result(call), "collection").unwrap();
    let reconnect = sim.call(conn, Call::RequireReconnect);
    sim.run();
    assert_eq!(sim.result(reconnect), Value::Other);
    assert_eq!(sim.status(conn), "reconnect_required");
    assert_eq!(sim.conn_events(conn).last(), Some(&"reconnect_required"));
    let (call, popup) = sim.popup_until_provider(conn);
    let sent = turnqey.borrow().checksum_requests[1].clone();
    assert_eq!(text_at(&sent, "collection"), Some(collection.clone()));
    let url = sim.popups[popup].location.clone();
    assert_eq!(param(&url, "collection"), Some(collection.clone()));
    let back = turnqey.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    assert_eq!(text_at(&sim.result(call), "collection"), Some(collection));
    assert_eq!(turnqey.borrow().collections, 1, "no new collection");
    assert_eq!(sim.status(conn), "connected");
}

#[test]
fn turnqey_an_existing_collection_in_the_config_is_sent_and_joined() {
    let mut sim = Sim::new();
    let turnqey = sim.turnqey_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &turnqey_config(r#","collection":"c0ffee00-0000-4000-8000-000000000001""#));
    let (call, popup) = sim.popup_until_provider(conn);
    assert_eq!(text_at(&turnqey.borrow().checksum_requests[0], "collection").as_deref(), Some("c0ffee00-0000-4000-8000-000000000001"));
    let url = sim.popups[popup].location.clone();
    let back = turnqey.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    assert_eq!(text_at(&sim.result(call), "collection").as_deref(), Some("c0ffee00-0000-4000-8000-000000000001"));
}

#[test]
fn turnqey_a_wrong_checksum_is_refused_by_turnqey_as_authorization_error_invalid_checksum() {
    let mut sim = Sim::new();
    let turnqey = sim.turnqey_backend();
    sim.on("/api/turnqey/checksum", |_| Some(ok(r#"{"checksum":"cs-tampered"}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &turnqey_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    let back = turnqey.borrow_mut().approve(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    let error = sim.error(call);
    assert_eq!(error.code(), ErrorCode::AuthorizationError);
    assert_eq!(error.provider().map(|p| p.error.as_str()), Some("invalid_checksum"));
}

#[test]
fn turnqey_a_checksum_endpoint_refusal_is_token_error_403_and_turnqey_is_never_asked() {
    let mut sim = Sim::new();
    sim.on("/api/turnqey/checksum", |_| Some(status(403, r#"{"error":"forbidden"}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &turnqey_config(""));
    let call = sim.popup(conn);
    sim.run();
    let error = sim.error(call);
    assert_eq!((error.code(), error.status()), (ErrorCode::TokenError, Some(403)));
    let popup = sim.last_popup(tab);
    assert!(sim.popups[popup].navigations.is_empty());
    assert!(!sim.popups[popup].open);
}

#[test]
fn turnqey_deny_is_authorization_error_and_nothing_connected() {
    let mut sim = Sim::new();
    let turnqey = sim.turnqey_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &turnqey_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    let back = turnqey.borrow_mut().deny(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::AuthorizationError);
    assert_eq!(sim.status(conn), "error");
}

#[test]
fn turnqey_redirect_comes_back_with_the_collection_return_to_and_a_clean_address_bar() {
    let mut sim = Sim::new();
    let turnqey = sim.turnqey_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &turnqey_config(""));
    let call = sim.redirect_and_return(conn, Some("/settings"), |url| turnqey.borrow_mut().approve(url));
    let result = sim.result(call);
    assert!(text_at(&result, "collection").is_some());
    assert_eq!(text_at(&result, "returnTo").as_deref(), Some("/settings"));
    assert_eq!(sim.pages[tab].href, CALLBACK, "state, collection, identity, platform and status left the address bar");
}

// -- Liquid --------------------------------------------------------------------------------------

fn liquid_setup(config: &str) -> (Sim, Shared<Liquid>, Conn) {
    let mut sim = Sim::new();
    let liquid = sim.liquid_backend();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, config);
    (sim, liquid, conn)
}

#[test]
fn liquid_return_url_popup_relays_from_the_return_page_and_verifies() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_return_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let request = liquid.borrow().session_requests[0].clone();
    assert_eq!(text_at(&request, "public_api_key").as_deref(), Some("pk_test_1"));
    let return_url = text_at(&request, "return_url").unwrap();
    assert!(return_url.starts_with(&format!("{CALLBACK}?state=")));
    let url = sim.popups[popup].location.clone();
    assert!(url.starts_with(&format!("{LIQUID}/api/v1/session/ls-0001/liquid_oauth")));
    let back = liquid.borrow_mut().approve(&url).unwrap();
    sim.popup_lands(popup, &back);
    sim.run();
    let result = sim.result(call);
    assert_eq!(text_at(&result, "session.sessionId").as_deref(), Some("ls-0001"));
    assert_eq!(text_at(&result, "session.sessionSecret").as_deref(), Some("liquid-session-secret-0001"));
    assert_eq!(at(&result, "exchange.approved"), Value::Bool(true));
    assert_eq!(liquid.borrow().verify_requests, 1);
    assert_eq!(sim.status(conn), "connected");
    sim.assert_no_leaks();
}

#[test]
fn liquid_close_the_window_ending_verifies_then_connects() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_close_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    assert_eq!(liquid.borrow_mut().approve(&url), None, "the close-this-window page");
    sim.user_closes(popup);
    sim.advance(200.0);
    sim.advance(1_500.0);
    let result = sim.result(call);
    assert_eq!(text_at(&result, "session.sessionId").as_deref(), Some("ls-0001"));
    assert_eq!(at(&result, "exchange.approved"), Value::Bool(true));
    assert!(!sim.conn_events(conn).contains(&"exit"));
}

#[test]
fn liquid_deny_then_close_is_popup_closed_never_connected() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_close_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    liquid.borrow_mut().deny(&url);
    sim.user_closes(popup);
    sim.advance(2_000.0);
    assert_eq!(sim.code(call), ErrorCode::PopupClosed);
    assert_eq!(sim.conn_events(conn).last(), Some(&"exit"));
    assert_ne!(sim.status(conn), "connected");
    assert_eq!(liquid.borrow().verify_requests, 1, "the backend was asked and said no");
}

#[test]
fn liquid_closed_without_answering_is_popup_closed() {
    let (mut sim, _liquid, conn) = liquid_setup(&liquid_close_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    sim.user_closes(popup);
    sim.advance(2_000.0);
    assert_eq!(sim.code(call), ErrorCode::PopupClosed);
    assert_eq!(sim.status(conn), "idle");
}

#[test]
fn liquid_return_url_deny_is_authorization_error_access_denied() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_return_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    let back = liquid.borrow_mut().deny(&url).unwrap();
    sim.popup_lands(popup, &back);
    sim.run();
    let error = sim.error(call);
    assert_eq!(error.code(), ErrorCode::AuthorizationError);
    assert_eq!(error.provider().map(|p| p.error.as_str()), Some("access_denied"));
}

/// A closed window says nothing about consent: without a return page, the app's backend must
/// confirm the session. Such a config is refused before any window opens or request is sent
/// (it used to resolve as connected when the user closed the window without approving).
#[test]
fn liquid_without_return_url_or_verify_endpoint_is_refused_before_anything_opens() {
    let config = format!(r#"{{"kind":"liquid","baseUrl":"{LIQUID}","publicApiKey":"pk_test_1"}}"#);
    let error = oauth_connect::config::ConnectConfig::parse(&oauth_connect::json::parse_object(&config).unwrap()).unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidConfig);
    assert!(error.message().contains("verifyEndpoint is required without returnUrl"), "{}", error.message());
    // With a return page, the page's message (checked against Liquid's answer) decides.
    let with_return = format!(r#"{{"kind":"liquid","baseUrl":"{LIQUID}","publicApiKey":"pk_test_1","returnUrl":"{CALLBACK}"}}"#);
    assert!(oauth_connect::config::ConnectConfig::parse(&oauth_connect::json::parse_object(&with_return).unwrap()).is_ok());
}

#[test]
fn liquid_pages_with_coop_the_return_url_flow_still_succeeds_never_reported_closed() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_return_config(""));
    sim.coop.push(String::from(LIQUID));
    let (call, popup) = sim.popup_until_provider(conn);
    assert!(sim.popups[popup].cut);
    sim.close_grace_passes();
    let url = sim.popups[popup].location.clone();
    let back = liquid.borrow_mut().approve(&url).unwrap();
    sim.popup_lands(popup, &back);
    sim.run();
    assert!(text_at(&sim.result(call), "session.sessionId").is_some());
    let events = sim.conn_events(conn);
    assert!(events.contains(&"popup_severed") && !events.contains(&"exit"), "{events:?}");
}

#[test]
fn liquid_a_deactivated_key_is_token_error_401_and_the_popup_closes() {
    let config = liquid_return_config("").replace("pk_test_1", "pk_test_revoked");
    let (mut sim, _liquid, conn) = liquid_setup(&config);
    let call = sim.popup(conn);
    sim.run();
    let error = sim.error(call);
    assert_eq!((error.code(), error.status()), (ErrorCode::TokenError, Some(401)));
    assert!(!sim.popups[sim.last_popup(conn.page)].open);
    assert_eq!(sim.status(conn), "error");
}

#[test]
fn liquid_redirect_with_return_url_comes_back_with_the_verified_session() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_return_config(""));
    let call = sim.redirect_and_return(conn, None, |url| liquid.borrow_mut().approve(url).unwrap());
    let result = sim.result(call);
    assert_eq!(text_at(&result, "session.sessionId").as_deref(), Some("ls-0001"));
    assert_eq!(at(&result, "exchange.approved"), Value::Bool(true));
    assert_eq!(sim.pages[conn.page].href, CALLBACK, "state and session_id left the address bar");
    let stored_before: Vec<_> = sim.pages[conn.page].session.keys().filter(|k| k.starts_with("oauth-connect:tx:")).collect();
    assert!(stored_before.is_empty());
}

#[test]
fn liquid_redirect_without_return_url_is_invalid_config_and_creates_no_session() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_close_config(""));
    let call = sim.redirect(conn, None);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::InvalidConfig);
    assert!(liquid.borrow().session_requests.is_empty());
    assert_eq!(sim.pages[conn.page].navigated, None);
    assert_eq!(sim.events(conn.page, Listener::Connection(conn.id)), ["error"]);
}

#[test]
fn liquid_a_return_page_naming_another_session_is_refused() {
    let (mut sim, liquid, conn) = liquid_setup(&liquid_return_config(""));
    let (call, popup) = sim.popup_until_provider(conn);
    let url = sim.popups[popup].location.clone();
    let back = liquid.borrow_mut().approve(&url).unwrap().replace("session_id=ls-0001", "session_id=ls-9999");
    sim.popup_lands(popup, &back);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::InvalidCallback);
    assert_eq!(liquid.borrow().verify_requests, 0);
}
