//! OpenID Connect flows in the simulated browser: discovery, the nonce, the ID token's claims.

mod sim;

use oauth_connect::effect::Listener;
use oauth_connect::error::ErrorCode;
use sim::*;

fn setup() -> (Sim, Shared<AuthServer>, Conn) {
    let mut sim = Sim::new();
    let server = sim.oidc_server();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oidc_config(""));
    (sim, server, conn)
}

fn claims_of(id_token: &str) -> oauth_connect::fields::Value {
    let payload = oauth_connect::id_token::jwt_payload(id_token).unwrap();
    json(std::str::from_utf8(&payload).unwrap())
}

#[test]
fn oidc_popup_discovers_sends_a_nonce_and_holds_a_checked_token_set() {
    let (mut sim, server, conn) = setup();
    let call = sim.popup_flow(&server, conn);
    let result = sim.result(call);
    assert_eq!(text_at(&result, "provider").as_deref(), Some("oidc"));
    let id_token = text_at(&result, "tokens.idToken").expect("idToken");
    let claims = claims_of(&id_token);
    assert_eq!(text_at(&claims, "sub").as_deref(), Some("alice"));
    let popup = sim.last_popup(conn.page);
    let authorize = sim.popups[popup].navigations[0].clone();
    assert!(authorize.starts_with(&format!("{IDP}/authorize?")));
    assert_eq!(param(&authorize, "nonce"), text_at(&claims, "nonce"));
    assert!(param(&authorize, "scope").unwrap().split(' ').any(|s| s == "openid"));
    assert_eq!(sim.requests_to(&format!("{IDP}/.well-known/openid-configuration")).len(), 1);
    assert_eq!(sim.status(conn), "connected");
    sim.assert_no_leaks();
}

#[test]
fn oidc_discovery_is_fetched_once_per_connect() {
    let (mut sim, server, conn) = setup();
    sim.popup_flow(&server, conn);
    sim.call(conn, oauth_connect::effect::Call::Disconnect);
    sim.popup_flow(&server, conn);
    assert_eq!(sim.requests_to(&format!("{IDP}/.well-known")).len(), 1);
}

#[test]
fn oidc_redirect_validates_the_id_token_on_the_callback_page() {
    let (mut sim, server, conn) = setup();
    let call = sim.redirect_and_return(conn, Some("/home"), |url| server.borrow_mut().approve(url));
    let result = sim.result(call);
    assert!(text_at(&result, "tokens.idToken").is_some());
    assert_eq!(text_at(&result, "returnTo").as_deref(), Some("/home"));
    assert_eq!(sim.requests_to(&format!("{IDP}/token")).len(), 1);
    assert_eq!(sim.requests_to(&format!("{IDP}/.well-known")).len(), 1, "the callback page uses the token endpoint stored with the transaction");
}

#[test]
fn oidc_an_id_token_with_another_nonce_is_invalid_id_token() {
    let (mut sim, server, conn) = setup();
    server.borrow_mut().forged_nonce = Some(String::from("someone-elses-nonce"));
    let call = sim.popup_flow(&server, conn);
    assert_eq!(sim.code(call), ErrorCode::InvalidIdToken);
    assert_eq!(sim.tokens(conn), None);
    assert_eq!(sim.status(conn), "error");
}

#[test]
fn oidc_redirect_with_a_replayed_id_token_is_refused_on_the_callback_page() {
    let (mut sim, server, conn) = setup();
    server.borrow_mut().forged_nonce = Some(String::from("replayed"));
    let call = sim.redirect_and_return(conn, None, |url| server.borrow_mut().approve(url));
    assert_eq!(sim.code(call), ErrorCode::InvalidIdToken);
    let events = sim.events(conn.page, Listener::Call(call));
    assert_eq!(events.last(), Some(&"error"));
}

#[test]
fn oidc_a_callback_with_another_issuers_iss_is_issuer_mismatch_and_no_token_request() {
    let (mut sim, server, conn) = setup();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let url = sim.popups[popup].location.clone();
    let back = server.borrow_mut().approve(&url).replace(&form(&[("iss", IDP)]), &form(&[("iss", "https://evil.example")]));
    sim.popup_lands(popup, &back);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::IssuerMismatch);
    assert_eq!(server.borrow().code_exchanges, 0);
}

#[test]
fn oidc_a_refreshed_id_token_for_another_user_is_refused() {
    let (mut sim, server, conn) = setup();
    server.borrow_mut().expires_in = 30;
    sim.popup_flow(&server, conn);
    server.borrow_mut().refreshed_sub = Some(String::from("mallory"));
    let call = sim.refresh(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::InvalidIdToken);
}

#[test]
fn oidc_refresh_keeps_the_same_user() {
    let (mut sim, server, conn) = setup();
    sim.popup_flow(&server, conn);
    let before = sim.access_token_now(conn).unwrap();
    let call = sim.refresh(conn);
    sim.run();
    let set = sim.result(call);
    assert_ne!(text_at(&set, "accessToken").unwrap(), before);
    assert_eq!(text_at(&claims_of(&text_at(&set, "idToken").unwrap()), "sub").as_deref(), Some("alice"));
}

#[test]
fn oidc_a_discovery_document_for_another_issuer_is_invalid_config() {
    let mut sim = Sim::new();
    let server = sim.oidc_server();
    sim.on(&format!("{IDP}/.well-known"), |_| Some(ok(r#"{"issuer":"https://evil.example","authorization_endpoint":"https://evil.example/a","token_endpoint":"https://evil.example/t"}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oidc_config(""));
    let call = sim.popup(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::InvalidConfig);
    let popup = sim.last_popup(tab);
    assert!(!sim.popups[popup].open, "the blank window is closed");
    assert!(sim.popups[popup].navigations.is_empty(), "never sent anywhere");
    drop(server);
}
