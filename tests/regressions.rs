//! Regressions found by reading the sans-IO rewrite as an attacker would, each named after what
//! it guards: answers that cannot be read are never taken as a yes, a callback without a state
//! is no other tab's popup, a dropped connection ends its flow, an unreadable event is refused.

mod sim;

use oauth_connect::effect::{Effect, Event};
use oauth_connect::error::ErrorCode;
use oauth_connect::secret::Secret;
use sim::*;

#[test]
fn a_liquid_verify_answer_that_cannot_be_read_never_approves_the_session() {
    let mut sim = Sim::new();
    let liquid = sim.liquid_backend();
    // The backend passes on a field this library's JSON reader refuses (beyond f64), beside
    // `approved: false`: the old `JSON.parse` honoured the refusal; a body that cannot be read
    // must not turn into an approval.
    sim.on("/api/liquid/verify", |_| Some(ok(r#"{"approved":false,"n":1e400}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &liquid_close_config(""));
    let call = sim.popup(conn);
    sim.run();
    sim.provider_page_seen();
    let popup = sim.last_popup(tab);
    let url = sim.popups[popup].location.clone();
    assert_eq!(liquid.borrow_mut().approve(&url), None);
    sim.user_closes(popup);
    sim.advance(2_000.0);
    assert_eq!(sim.code(call), ErrorCode::PopupClosed);
    assert_ne!(sim.status(conn), "connected");
}

#[test]
fn a_backend_exchange_answer_that_is_not_json_is_token_error_not_success() {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    sim.on("/api/exchange", |_| Some(ok("<html>Bad gateway</html>")));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_exchange_config(""));
    let call = sim.popup_flow(&server, conn);
    assert_eq!(sim.code(call), ErrorCode::TokenError);
    assert_ne!(sim.status(conn), "connected");
}

#[test]
fn a_token_response_with_a_key_given_twice_is_refused() {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    // Readers that take the last key (as JSON.parse does) would see another token.
    sim.on(&format!("{AS}/token"), |_| Some(ok(r#"{"access_token":"a","access_token":"b","token_type":"Bearer"}"#)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(""));
    let call = sim.popup_flow(&server, conn);
    assert_eq!(sim.code(call), ErrorCode::TokenError);
    assert_eq!(sim.tokens(conn), None);
}

#[test]
fn an_id_token_with_a_claim_given_twice_is_invalid_id_token() {
    let token = jwt(r#"{"iss":"https://id.example","iss":"https://evil.example","aud":"app","sub":"u1","exp":4000000000}"#);
    let error = oauth_connect::providers::oidc::check_id_token(&Secret::new(token), "https://id.example", "app", None, None, START).unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidIdToken);
}

#[test]
fn a_callback_without_state_is_not_taken_for_another_tabs_popup() {
    let mut sim = Sim::new();
    let _server = sim.oauth2_server();
    // Tab A has a popup in flight: its marker is in the shared localStorage.
    let a = sim.open_tab();
    let conn = sim.connect(a, &oauth2_token_config(""));
    let _popup_call = sim.popup(conn);
    sim.run();
    // Tab B lands on the callback page with an answer that names no state.
    let b = sim.open_tab();
    let url = format!("{CALLBACK}?error=access_denied");
    sim.reload(b, &url);
    let call = sim.handle_callback(b);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::UnknownState, "not relayed as if tab B were tab A's popup");
    assert!(!sim.effects_of(b).iter().any(|e| matches!(e, Effect::CloseSelf | Effect::PostToOpener { .. })));
}

#[test]
fn dropping_a_connection_ends_its_flow_as_aborted_and_forgets_it() {
    let mut sim = Sim::new();
    let _server = sim.oauth2_server();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(""));
    let call = sim.popup(conn);
    sim.run();
    sim.feed(tab, Event::DropConnection { connection: conn.id });
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::Aborted);
    assert!(sim.effects_of(tab).iter().any(|e| matches!(e, Effect::CloseWindow { .. })), "the popup is closed");
    assert_eq!(sim.status(conn), "idle");
    let again = sim.popup(conn);
    sim.run();
    assert_eq!(sim.code(again), ErrorCode::InvalidConfig, "a dropped connection takes no more calls");
}

#[test]
fn an_event_nested_too_deeply_to_read_is_unreadable_so_the_runner_rejects_its_call() {
    // A NewConnect (kind 0) whose config is nested past json::MAX_DEPTH.
    let mut config = String::from("[0,1,1,");
    config.push_str(&"[".repeat(100));
    config.push_str(&"]".repeat(100));
    config.push(']');
    let mut tab = oauth_connect::machine::Tab::new("https://app.example");
    assert_eq!(tab.feed(0.0, &config), None, "unreadable: the runner rejects the call");
    assert_eq!(tab.feed(0.0, "[99]"), Some(Vec::new()), "a kind this core does not know does nothing");
}
