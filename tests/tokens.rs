//! Token sets in the simulated browser: accessToken() and refresh(), storage, sharing between
//! tabs, and what never leaves the tab.

mod sim;

use oauth_connect::effect::{Area, Call, Effect, Listener, PopupOptions};
use oauth_connect::error::ErrorCode;
use oauth_connect::fields::Value;
use sim::*;

fn connected(config: &str) -> (Sim, Shared<AuthServer>, Conn) {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, config);
    let call = sim.popup_flow(&server, conn);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    (sim, server, conn)
}

#[test]
fn access_token_answers_a_fresh_token_without_a_request() {
    let (mut sim, server, conn) = connected(&oauth2_token_config(""));
    let call = sim.access_token(conn);
    assert_eq!(sim.result(call), Value::Text(sim.access_token_now(conn).unwrap()), "answered in the same turn");
    assert_eq!(server.borrow().refreshes, 0);
}

#[test]
fn access_token_refreshes_within_the_skew_of_expiry() {
    let (mut sim, server, conn) = connected(&oauth2_token_config(r#","refreshSkewMs":120000"#));
    let before = sim.access_token_now(conn).unwrap();
    sim.advance(3_600_000.0 - 121_000.0);
    let call = sim.access_token(conn);
    assert_eq!(sim.result(call), Value::Text(before.clone()));
    sim.advance(2_000.0);
    let call = sim.access_token(conn);
    sim.run();
    assert_ne!(sim.result(call), Value::Text(before));
    assert_eq!(server.borrow().refreshes, 1);
}

#[test]
fn access_token_keeps_a_token_valid_across_four_expiries_with_no_user_action() {
    let (mut sim, server, conn) = connected(&oauth2_token_config(""));
    let mut seen = vec![sim.access_token_now(conn).unwrap()];
    for _ in 0..4 {
        sim.advance(3_600_000.0);
        let call = sim.access_token(conn);
        sim.run();
        let Value::Text(token) = sim.result(call) else { panic!() };
        assert!(!seen.contains(&token));
        seen.push(token);
    }
    assert_eq!(server.borrow().refreshes, 4);
    assert!(!server.borrow().grant_revoked());
}

#[test]
fn refresh_sends_the_refresh_token_grant_with_the_client_id() {
    let (mut sim, _server, conn) = connected(&oauth2_token_config(""));
    let refresh_token = text_at(&sim.tokens(conn).unwrap(), "refreshToken").unwrap();
    let call = sim.refresh(conn);
    sim.run();
    let requests = sim.requests_to(&format!("{AS}/token"));
    let request = requests.last().unwrap();
    assert_eq!(form_field(request, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(form_field(request, "refresh_token"), Some(refresh_token.clone()));
    assert_eq!(form_field(request, "client_id").as_deref(), Some("app"));
    assert_ne!(text_at(&sim.result(call), "refreshToken"), Some(refresh_token), "the rotated one is kept");
}

#[test]
fn before_connecting_access_token_rejects_reconnect_required() {
    let mut sim = Sim::new();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(""));
    let call = sim.access_token(conn);
    assert_eq!(sim.code(call), ErrorCode::ReconnectRequired);
}

#[test]
fn without_a_token_endpoint_access_token_is_invalid_config() {
    let mut sim = Sim::new();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_exchange_config(""));
    let call = sim.access_token(conn);
    assert_eq!(sim.code(call), ErrorCode::InvalidConfig);
}

#[test]
fn an_expired_token_without_a_refresh_token_is_reconnect_required() {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    sim.on(&format!("{AS}/token"), |_| Some(ok(r#"{"access_token":"at-once","token_type":"Bearer","expires_in":600}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(""));
    let call = sim.popup_flow(&server, conn);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    sim.advance(600_000.0);
    let call = sim.access_token(conn);
    assert_eq!(sim.code(call), ErrorCode::ReconnectRequired);
}

#[test]
fn a_400_that_is_not_invalid_grant_is_token_error_and_not_retried() {
    let (mut sim, _server, conn) = connected(&oauth2_token_config(""));
    sim.on(&format!("{AS}/token"), |_| Some(status(400, r#"{"error":"invalid_client"}"#)));
    let call = sim.refresh(conn);
    sim.advance(5_000.0);
    let error = sim.error(call);
    assert_eq!((error.code(), error.status()), (ErrorCode::TokenError, Some(400)));
    assert_eq!(sim.requests_to(&format!("{AS}/token")).len(), 2, "the exchange and one refresh");
    assert_eq!(sim.status(conn), "connected");
}

#[test]
fn a_429_is_retried() {
    let (mut sim, server, conn) = connected(&oauth2_token_config(""));
    let handle = server.clone();
    let mut first = true;
    sim.on(&format!("{AS}/token"), move |r| {
        if std::mem::take(&mut first) {
            Some(status(429, "{}"))
        } else {
            Some(handle.borrow_mut().token(r))
        }
    });
    let call = sim.refresh(conn);
    sim.advance(300.0);
    assert!(text_at(&sim.result(call), "accessToken").is_some());
}

#[test]
fn session_storage_keeps_the_token_set_across_a_reload() {
    let config = oauth2_token_config(r#","tokenStorage":"session""#);
    let (mut sim, _server, conn) = connected(&config);
    let token = sim.access_token_now(conn);
    assert!(sim.pages[conn.page].session.keys().any(|k| k.starts_with("oauth-connect:tokens:")));
    sim.reload(conn.page, &format!("{ORIGIN}/"));
    let again = sim.connect(conn.page, &config);
    assert_eq!(sim.access_token_now(again), token);
    assert_eq!(sim.status(again), "connected");
}

#[test]
fn memory_storage_writes_no_token_to_any_storage() {
    let (mut sim, _server, conn) = connected(&oauth2_token_config(""));
    let refresh = sim.refresh(conn);
    sim.run();
    assert!(matches!(sim.settled(refresh), Some(Settled::Resolved(_))));
    assert!(!sim.log.iter().any(|(_, e)| matches!(e, Effect::WriteStorage { area: Area::Session, key, .. } if key.starts_with("oauth-connect:tokens:"))));
    for (key, value) in &sim.local {
        assert!(!value.contains("at-") && !value.contains("rt-"), "{key} holds a token");
    }
    sim.assert_no_leaks();
}

#[test]
fn a_new_tab_asks_for_the_tokens_and_gets_them() {
    let (mut sim, _server, conn) = connected(&oauth2_token_config(""));
    let tab = sim.open_tab();
    let other = sim.connect(tab, &oauth2_token_config(""));
    assert_eq!(sim.status(other), "connected");
    assert_eq!(sim.access_token_now(other), sim.access_token_now(conn));
}

#[test]
fn a_refresh_in_one_tab_reaches_the_others() {
    let (mut sim, _server, a) = connected(&oauth2_token_config(""));
    let tab = sim.open_tab();
    let b = sim.connect(tab, &oauth2_token_config(""));
    let call = sim.refresh(a);
    sim.run();
    assert_eq!(text_at(&sim.result(call), "accessToken"), sim.access_token_now(b));
}

#[test]
fn another_connection_key_is_not_shared() {
    let (mut sim, _server, _a) = connected(&oauth2_token_config(""));
    let tab = sim.open_tab();
    let other = sim.connect(tab, &oauth2_token_config("").replace(r#""clientId":"app""#, r#""clientId":"other-app""#));
    assert_eq!(sim.tokens(other), None);
    assert_eq!(sim.status(other), "idle");
}

#[test]
fn the_fingerprint_in_local_storage_is_not_the_refresh_token() {
    let (sim, _server, conn) = connected(&oauth2_token_config(""));
    let refresh_token = text_at(&sim.tokens(conn).unwrap(), "refreshToken").unwrap();
    let (_, fingerprint) = sim.local.iter().find(|(k, _)| k.starts_with("oauth-connect:rt:")).expect("fingerprint stored");
    assert_ne!(fingerprint, &refresh_token);
    assert!(!fingerprint.contains(&refresh_token));
}

#[test]
fn require_reconnect_clears_the_tokens_in_every_tab_and_the_next_connect_restores() {
    let (mut sim, server, a) = connected(&oauth2_token_config(""));
    let tab = sim.open_tab();
    let b = sim.connect(tab, &oauth2_token_config(""));
    sim.call(a, Call::RequireReconnect);
    sim.run();
    assert_eq!((sim.status(a), sim.status(b)), ("reconnect_required", "reconnect_required"));
    let call = sim.popup_flow(&server, b);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    assert_eq!((sim.status(a), sim.status(b)), ("connected", "connected"));
}

#[test]
fn a_config_with_a_client_secret_is_refused_as_insecure_config() {
    let mut sim = Sim::new();
    let tab = sim.open_tab();
    let error = sim.try_connect(tab, &oauth2_token_config(r#","clientSecret":"a-secret-value""#)).unwrap_err();
    assert_eq!(error.code(), ErrorCode::InsecureConfig);
    assert!(!error.message().contains("a-secret-value"));
    let error = sim.try_connect(tab, &oauth2_token_config(r#","grant":"client_credentials""#)).unwrap_err();
    assert_eq!(error.code(), ErrorCode::InsecureConfig);
    let error = sim.try_connect(tab, r#"{"kind":"nope"}"#).unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidConfig);
}

// ---- connect.onStatus: every change of `status`, once, with nothing to poll ----------------

fn statuses(sim: &Sim, conn: Conn) -> Vec<&'static str> {
    sim.events(conn.page, Listener::Status(conn.id))
}

#[test]
fn on_status_hears_each_change_of_a_flow_and_of_disconnect_once_and_in_order() {
    let (mut sim, server, conn) = oauth2_tab(&oauth2_token_config(""));
    assert_eq!(statuses(&sim, conn), Vec::<&str>::new(), "a new Connect reports nothing: the app reads idle");
    let call = sim.popup(conn);
    assert_eq!(statuses(&sim, conn), ["connecting"]);
    sim.run();
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.approve_in_popup(&server, popup);
    sim.run();
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    assert_eq!(statuses(&sim, conn), ["connecting", "connected"]);
    // Work that leaves the status as it was reports nothing.
    let call = sim.access_token(conn);
    sim.run();
    let call_2 = sim.refresh(conn);
    sim.run();
    assert!(matches!((sim.settled(call), sim.settled(call_2)), (Some(Settled::Resolved(_)), Some(Settled::Resolved(_)))));
    assert_eq!(statuses(&sim, conn), ["connecting", "connected"]);
    sim.disconnect(conn);
    sim.run();
    assert_eq!(statuses(&sim, conn), ["connecting", "connected", "idle"]);
    assert_eq!(sim.status(conn), "idle");
}

#[test]
fn on_status_hears_a_closed_popup_end_the_flow() {
    let (mut sim, _server, conn) = oauth2_tab(&oauth2_token_config(""));
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.user_closes(popup);
    sim.advance(2_000.0);
    assert_eq!(sim.code(call), ErrorCode::PopupClosed);
    assert_eq!(statuses(&sim, conn), ["connecting", "idle"]);
}

#[test]
fn on_status_hears_what_another_tab_did() {
    let (mut sim, server, a) = connected(&oauth2_token_config(""));
    let tab = sim.open_tab();
    let b = sim.connect(tab, &oauth2_token_config(""));
    // b is made idle and asks the other tabs; a's answer on the channel connects it: a change
    // its listeners hear.
    assert_eq!(statuses(&sim, b), ["connected"]);
    assert_eq!(sim.status(b), "connected");
    sim.call(a, Call::RequireReconnect);
    sim.run();
    assert_eq!(statuses(&sim, b).last(), Some(&"reconnect_required"));
    assert_eq!(statuses(&sim, a), ["connecting", "connected", "reconnect_required"]);
    let call = sim.popup_flow(&server, b);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    assert_eq!(statuses(&sim, a).last(), Some(&"connected"), "a's listeners hear b's new connection");
    assert_eq!(statuses(&sim, b).last(), Some(&"connected"));
}

#[test]
fn on_status_hears_reconnect_required_when_the_grant_is_revoked() {
    let (mut sim, server, conn) = connected(&oauth2_token_config(""));
    server.borrow_mut().revoke_all();
    let call = sim.refresh(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::ReconnectRequired);
    assert_eq!(statuses(&sim, conn), ["connecting", "connected", "reconnect_required"]);
}

#[test]
fn on_status_hears_a_blocked_popup_in_order_though_the_block_is_answered_inside_the_open() {
    // The runner feeds "blocked" while it carries out the open, before the rest of the first
    // event's effects: the report of "connecting" must not come after the report of its end.
    let (mut sim, _server, conn) = oauth2_tab(&oauth2_token_config(""));
    sim.blocker = true;
    let call = sim.popup(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::PopupBlocked);
    let heard = statuses(&sim, conn);
    assert_eq!(heard.last().copied(), Some(sim.status(conn)), "{heard:?}");
    assert_eq!(heard, ["connecting", sim.status(conn)]);
}

#[test]
fn a_listener_that_disconnects_on_connected_forgets_the_connection_in_every_tab() {
    // The listener runs after the event that connected was carried out: the disconnect comes
    // after the token set was stored and told to the other tabs, and undoes all of it.
    let (mut sim, server, a) = oauth2_tab(&oauth2_token_config(""));
    let tab = sim.open_tab();
    let b = sim.connect(tab, &oauth2_token_config(""));
    let disconnect = sim.on_told(a, Listener::Status(a.id), "connected", Call::Disconnect);
    let call = sim.popup_flow(&server, a);
    sim.run();
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    assert!(matches!(sim.settled(disconnect), Some(Settled::Resolved(_))));
    assert_eq!(statuses(&sim, a), ["connecting", "connected", "idle"]);
    assert_eq!((sim.status(a), sim.status(b)), ("idle", "idle"));
    assert_eq!((sim.access_token_now(a), sim.access_token_now(b)), (None, None));
    let later = sim.open_tab();
    let c = sim.connect(later, &oauth2_token_config(""));
    sim.run();
    assert_eq!((sim.status(c), sim.access_token_now(c)), ("idle", None), "a tab opened later finds nothing");
    assert!(sim.local.keys().all(|key| !key.starts_with("oauth-connect:rt:")), "{:?}", sim.local.keys().collect::<Vec<_>>());
}

#[test]
fn a_listener_that_opens_a_popup_again_on_idle_gets_a_flow_that_completes() {
    let (mut sim, server, conn) = oauth2_tab(&oauth2_token_config(""));
    let first = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let again = sim.on_told(conn, Listener::Status(conn.id), "idle", Call::Popup(PopupOptions { screen: [0.0, 0.0, 1280.0, 800.0], ..PopupOptions::default() }));
    sim.user_closes(popup);
    sim.advance(2_000.0);
    assert_eq!(sim.code(first), ErrorCode::PopupClosed);
    assert_eq!(sim.status(conn), "connecting", "the second flow runs");
    assert!(sim.pages[conn.page].listening_messages, "the second flow listens for the popup's message");
    sim.run();
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.approve_in_popup(&server, popup);
    sim.run();
    assert!(matches!(sim.settled(again), Some(Settled::Resolved(_))), "{:?}", sim.settled(again));
    assert_eq!(statuses(&sim, conn), ["connecting", "idle", "connecting", "connected"]);
}
