//! Races replayed step by step: COOP cuts around the relay, two tabs refreshing at the same
//! instant, late and forged messages, relays meant for another tab, revoked grants.

mod sim;

use oauth_connect::effect::{Effect, Event, Listener, PopupOptions};
use oauth_connect::error::ErrorCode;
use oauth_connect::fields::Value;
use sim::*;

fn relay(url: &str) -> String {
    format!(r#"{{"type":"oauth-connect:callback","url":"{url}"}}"#)
}

fn oauth2() -> (Sim, Shared<AuthServer>, Conn) {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(""));
    (sim, server, conn)
}

/// Tabs A and B of the app share one connection: A connected by popup, B got the set from A.
fn two_connected_tabs() -> (Sim, Shared<AuthServer>, Conn, Conn) {
    let (mut sim, server, a) = oauth2();
    let call = sim.popup_flow(&server, a);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    let tab_b = sim.open_tab();
    let b = sim.connect(tab_b, &oauth2_token_config(""));
    assert_eq!(sim.access_token_now(b), sim.access_token_now(a), "B asked the other tabs and got the set");
    (sim, server, a, b)
}

#[test]
fn coop_cut_before_the_relay_is_severed_then_success_never_popup_closed() {
    let (mut sim, server, conn) = oauth2();
    sim.coop.push(String::from(AS));
    let call = sim.popup(conn);
    sim.provider_page_seen();
    sim.close_grace_passes();
    assert_eq!(sim.conn_events(conn), ["open", "popup_severed"]);
    // The user takes their time: the flow keeps waiting.
    sim.advance(30_000.0);
    assert_eq!(sim.settle_count(call), 0);
    let popup = sim.last_popup(conn.page);
    let page = sim.approve_in_popup(&server, popup);
    // The callback page had no opener: only the channel carried the relay.
    assert!(sim.effects_of(page).iter().any(|e| matches!(e, Effect::Broadcast { .. })));
    assert!(text_at(&sim.result(call), "tokens.accessToken").is_some());
    let events = sim.conn_events(conn);
    assert!(!events.contains(&"exit") && events.last() == Some(&"success"), "{events:?}");
}

#[test]
fn coop_cut_by_the_last_redirect_after_the_page_was_seen_waits_the_grace_and_succeeds() {
    let (mut sim, server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    // The provider's last redirect sends COOP: the opener reads closed, focus still here
    // (headless), so it looks like a close; the relay comes within the grace.
    sim.cut(popup);
    sim.advance(200.0);
    assert_eq!(sim.settle_count(call), 0);
    sim.advance(400.0);
    sim.approve_in_popup(&server, popup);
    assert!(text_at(&sim.result(call), "tokens.accessToken").is_some());
    sim.advance(2_000.0);
    assert_eq!(sim.settle_count(call), 1);
    assert!(!sim.conn_events(conn).contains(&"exit"));
}

#[test]
fn coop_cut_right_after_the_relay_was_posted_completes_once() {
    let (mut sim, server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.approve_with_tasks_held(&server, popup);
    sim.cut(popup);
    sim.hold_all = false;
    sim.run();
    sim.advance(2_000.0);
    assert_eq!(sim.settle_count(call), 1, "the message and the channel both carried it: one settle");
    assert!(text_at(&sim.result(call), "tokens.accessToken").is_some());
    assert_eq!(server.borrow().code_exchanges, 1);
}

/// The order behind a flaky e2e run under load: the provider approved at once (its page caught
/// by one poll only, so never "seen"), the callback page posted its relay and closed itself, and
/// the opener's poll read `closed` before the message's task ran. That close looks like a cut
/// (rule 1), but the relay is on its way: no `popup_severed`, no `exit`, one success.
#[test]
fn a_callback_page_closed_before_its_relay_is_delivered_is_neither_cut_nor_closed() {
    let (mut sim, server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.run();
    sim.advance(f64::from(oauth_connect::flow::POPUP_POLL_MS));
    let popup = sim.last_popup(conn.page);
    sim.approve_with_tasks_held(&server, popup);
    assert!(!sim.popups[popup].open, "the callback page closed itself");
    sim.advance(f64::from(oauth_connect::flow::POPUP_POLL_MS));
    assert_eq!(sim.conn_events(conn), ["open"], "the poll read closed; nothing is said yet");
    sim.hold_all = false;
    sim.run();
    sim.close_grace_passes();
    assert!(text_at(&sim.result(call), "tokens.accessToken").is_some());
    assert_eq!(sim.settle_count(call), 1);
    assert_eq!(sim.conn_events(conn), ["open", "callback", "exchange", "success"]);
    assert_eq!(sim.pending_timers(conn.page), 0);
}

/// The same close read with focus away from the opener (rule 2) and the relay late by less
/// than the grace: still one success and no `popup_severed`.
#[test]
fn a_relay_late_within_the_grace_after_a_close_judged_a_cut_says_nothing_of_it() {
    let (mut sim, server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.pages[conn.page].focused = false;
    sim.approve_with_tasks_held(&server, popup);
    sim.advance(f64::from(oauth_connect::flow::CLOSE_GRACE_MS - 100));
    assert_eq!(sim.conn_events(conn), ["open"]);
    sim.hold_all = false;
    sim.run();
    sim.close_grace_passes();
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    assert_eq!(sim.conn_events(conn), ["open", "callback", "exchange", "success"]);
}

#[test]
fn a_popup_in_front_when_closed_reads_as_a_cut_not_a_close() {
    let (mut sim, server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.pages[conn.page].focused = false;
    sim.cut(popup);
    sim.advance(200.0);
    sim.close_grace_passes();
    assert_eq!(sim.conn_events(conn).last(), Some(&"popup_severed"));
    sim.advance(5_000.0);
    assert_eq!(sim.settle_count(call), 0, "after the grace it waits for the channel: no popup_closed");
    sim.approve_in_popup(&server, popup);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
}

#[test]
fn a_severed_flow_ends_with_timeout_when_nothing_comes() {
    let (mut sim, _server, conn) = oauth2();
    sim.coop.push(String::from(AS));
    let call = sim.popup_with(conn, PopupOptions { timeout_ms: Value::Number(10_000), ..Default::default() });
    sim.advance(10_000.0);
    assert_eq!(sim.code(call), ErrorCode::Timeout);
    assert!(!sim.conn_events(conn).contains(&"exit"));
}

#[test]
fn two_tabs_refreshing_at_the_same_instant_make_one_refresh_and_share_the_new_token() {
    let (mut sim, server, a, b) = two_connected_tabs();
    let old = sim.access_token_now(a).unwrap();
    sim.advance(3_600_000.0);
    let call_a = sim.access_token(a);
    let call_b = sim.access_token(b);
    sim.run();
    let (token_a, token_b) = (sim.result(call_a), sim.result(call_b));
    assert_eq!(token_a, token_b);
    assert_ne!(token_a, Value::Text(old));
    assert_eq!(server.borrow().refreshes, 1, "exactly one refresh request");
    assert!(!server.borrow().grant_revoked());
    assert_eq!(sim.access_token_now(a), sim.access_token_now(b));
    // A refreshed for both: the refresh token never left A.
    assert!(sim.tokens(a).and_then(|t| text_at(&t, "refreshToken")).is_some());
    assert_eq!(sim.tokens(b).and_then(|t| text_at(&t, "refreshToken")), None);
}

#[test]
fn the_lock_granted_before_the_broadcast_arrives_waits_for_it_instead_of_spending_the_rotated_token() {
    let (mut sim, server, a, b) = two_connected_tabs();
    sim.advance(3_600_000.0);
    sim.hold_channel = true;
    let call_a = sim.access_token(a);
    let call_b = sim.access_token(b);
    sim.run();
    assert!(matches!(sim.settled(call_a), Some(Settled::Resolved(_))));
    assert_eq!(sim.settle_count(call_b), 0, "B (no refresh token) waits for the share of A, which refreshed");
    assert_eq!(server.borrow().refreshes, 1);
    sim.advance(500.0);
    sim.hold_channel = false;
    sim.run();
    assert_eq!(sim.result(call_b), sim.result(call_a));
    assert_eq!(server.borrow().refreshes, 1);
    assert!(!server.borrow().grant_revoked());
    assert_eq!(sim.pending_timers(b.page), 0, "the wait's timers are gone");
    assert_eq!(sim.lock_holder("oauth-connect refresh "), None, "the lock is free");
}

#[test]
fn a_lost_broadcast_is_asked_for_again_half_way() {
    let (mut sim, server, a, b) = two_connected_tabs();
    sim.advance(3_600_000.0);
    sim.hold_channel = true;
    let call_a = sim.access_token(a);
    let call_b = sim.access_token(b);
    sim.run();
    // The share from A is lost.
    assert!(sim.drop_channel() >= 1);
    sim.hold_channel = false;
    sim.advance(999.0);
    assert_eq!(sim.settle_count(call_b), 0);
    sim.advance(1_000.0);
    assert_eq!(sim.result(call_b), sim.result(call_a));
    assert_eq!(server.borrow().refreshes, 1);
}

#[test]
fn within_one_tab_concurrent_calls_share_one_refresh_and_the_rotated_token_works_next_time() {
    let (mut sim, server, conn) = oauth2();
    sim.popup_flow(&server, conn);
    sim.advance(3_600_000.0);
    let calls: Vec<_> = (0..3).map(|_| sim.access_token(conn)).collect();
    let forced = sim.refresh(conn);
    sim.run();
    let first = sim.result(calls[0]);
    for call in &calls {
        assert_eq!(sim.result(*call), first);
    }
    assert_eq!(text_at(&sim.result(forced), "accessToken"), match &first { Value::Text(t) => Some(t.clone()), _ => None });
    assert_eq!(server.borrow().refreshes, 1);
    sim.advance(3_600_000.0);
    let next = sim.access_token(conn);
    sim.run();
    assert_ne!(sim.result(next), first);
    assert_eq!(server.borrow().refreshes, 2);
    assert!(!server.borrow().grant_revoked(), "never a reused refresh token");
}

#[test]
fn a_message_after_the_timeout_is_ignored_and_nothing_settles_twice() {
    let (mut sim, server, conn) = oauth2();
    let call = sim.popup_with(conn, PopupOptions { timeout_ms: Value::Number(5_000), ..Default::default() });
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let url = sim.popups[popup].location.clone();
    let back = server.borrow_mut().approve(&url);
    sim.advance(5_000.0);
    assert_eq!(sim.code(call), ErrorCode::Timeout);
    // The relay arrives late, by both routes.
    sim.feed(conn.page, Event::WindowMessage { origin: ORIGIN.to_string(), data: Some(relay(&back)) });
    sim.feed(conn.page, Event::ChannelMessage { data: Some(relay(&back)) });
    sim.run();
    assert_eq!(sim.settle_count(call), 1);
    assert_eq!(server.borrow().code_exchanges, 0);
    assert_eq!(sim.status(conn), "error");
}

#[test]
fn a_forged_message_from_another_origin_is_ignored_and_the_real_one_completes() {
    let (mut sim, server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let url = sim.popups[popup].location.clone();
    let state = param(&url, "state").unwrap();
    let forged = with_query(CALLBACK, &[("code", "attacker-code"), ("state", &state)]);
    sim.feed(conn.page, Event::WindowMessage { origin: "https://evil.example".to_string(), data: Some(relay(&forged)) });
    assert_eq!(sim.conn_events(conn).last(), Some(&"ignored_message"));
    assert_eq!(sim.settle_count(call), 0);
    sim.approve_in_popup(&server, popup);
    assert!(text_at(&sim.result(call), "tokens.accessToken").is_some());
    assert!(sim.requests_to(&format!("{AS}/token")).iter().all(|r| !form_field(r, "code").unwrap().contains("attacker")));
}

#[test]
fn a_message_from_this_origin_with_a_state_not_in_flight_is_ignored_message() {
    let (mut sim, _server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let stray = with_query(CALLBACK, &[("code", "c-1"), ("state", "not-ours")]);
    sim.feed(conn.page, Event::WindowMessage { origin: ORIGIN.to_string(), data: Some(relay(&stray)) });
    assert_eq!(sim.conn_events(conn).last(), Some(&"ignored_message"));
    assert_eq!(sim.settle_count(call), 0);
    // Messages that are not relays are not even noted.
    sim.feed(conn.page, Event::WindowMessage { origin: "https://evil.example".to_string(), data: Some(String::from(r#"{"hello":1}"#)) });
    sim.feed(conn.page, Event::WindowMessage { origin: ORIGIN.to_string(), data: None });
    assert_eq!(sim.conn_events(conn).iter().filter(|n| **n == "ignored_message").count(), 1);
}

#[test]
fn a_relay_for_another_tabs_state_is_left_to_that_tab() {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let (a, b) = (sim.open_tab(), sim.open_tab());
    let config = oauth2_token_config("");
    let (ca, cb) = (sim.connect(a, &config), sim.connect(b, &config));
    let call_a = sim.popup(ca);
    let call_b = sim.popup(cb);
    sim.provider_page_seen();
    let pa = sim.last_popup(a);
    sim.approve_in_popup(&server, pa);
    assert!(matches!(sim.settled(call_a), Some(Settled::Resolved(_))));
    // B heard A's relay on the channel: not for it, and not suspicious either.
    assert_eq!(sim.settle_count(call_b), 0);
    assert!(!sim.conn_events(cb).contains(&"ignored_message"));
    assert!(!sim.conn_events(cb).contains(&"callback"));
    let pb = sim.last_popup(b);
    sim.approve_in_popup(&server, pb);
    assert!(matches!(sim.settled(call_b), Some(Settled::Resolved(_))));
}

#[test]
fn invalid_grant_moves_every_tab_to_reconnect_required_and_nothing_more_is_tried() {
    let (mut sim, server, a, b) = two_connected_tabs();
    server.borrow_mut().revoke_all();
    let call = sim.refresh(a);
    sim.run();
    let error = sim.error(call);
    assert_eq!(error.code(), ErrorCode::ReconnectRequired);
    assert_eq!(error.provider().map(|p| p.error.as_str()), Some("invalid_grant"));
    assert_eq!(sim.status(a), "reconnect_required");
    assert_eq!(sim.status(b), "reconnect_required");
    assert_eq!(sim.tokens(b), None);
    assert_eq!(sim.conn_events(a).last(), Some(&"reconnect_required"));
    let refreshes = server.borrow().refreshes;
    for conn in [a, b] {
        let again = sim.access_token(conn);
        sim.run();
        assert_eq!(sim.code(again), ErrorCode::ReconnectRequired);
    }
    assert_eq!(server.borrow().refreshes, refreshes, "no further refresh until a new connect");
    // A new connect clears it, in both tabs.
    sim.popup_flow(&server, a);
    assert_eq!(sim.status(a), "connected");
    assert_eq!(sim.status(b), "connected");
}

#[test]
fn a_503_is_retried_after_300_ms_and_then_succeeds() {
    let (mut sim, server, conn) = oauth2();
    sim.popup_flow(&server, conn);
    server.borrow_mut().fail_next = 1;
    let call = sim.refresh(conn);
    sim.run();
    assert_eq!(sim.settle_count(call), 0);
    assert_eq!(server.borrow().refreshes, 0, "the 503 was not counted as a refresh");
    assert_eq!(sim.requests_to(&format!("{AS}/token")).len(), 2);
    sim.advance(299.0);
    assert_eq!(sim.requests_to(&format!("{AS}/token")).len(), 2);
    sim.advance(1.0);
    assert!(text_at(&sim.result(call), "accessToken").is_some());
    assert_eq!(sim.requests_to(&format!("{AS}/token")).len(), 3);
    assert_eq!(sim.conn_events(conn).last(), Some(&"refresh"));
}

#[test]
fn network_failures_are_retried_twice_then_reject_network_and_release_the_lock() {
    let (mut sim, server, conn) = oauth2();
    sim.popup_flow(&server, conn);
    sim.on(&format!("{AS}/token"), |_| Some(oauth_connect::effect::HttpAnswer::Failed));
    let call = sim.refresh(conn);
    sim.advance(300.0);
    sim.advance(1_200.0);
    assert_eq!(sim.code(call), ErrorCode::Network);
    assert_eq!(sim.requests_to(&format!("{AS}/token")).len(), 4, "one code exchange, three refresh attempts");
    assert_eq!(sim.lock_holder("oauth-connect refresh "), None);
    assert_eq!(sim.status(conn), "connected", "a network failure does not end the connection");
    assert_eq!(sim.conn_events(conn).last(), Some(&"error"));
}

#[test]
fn a_refresh_left_unanswered_holds_every_caller_and_the_lock_until_it_answers() {
    let (mut sim, server, conn) = oauth2();
    sim.popup_flow(&server, conn);
    sim.on(&format!("{AS}/token"), |_| None);
    sim.advance(3_600_000.0);
    let first = sim.refresh(conn);
    let second = sim.access_token(conn);
    sim.run();
    assert_eq!((sim.settle_count(first), sim.settle_count(second)), (0, 0));
    assert_eq!(sim.lock_holder("oauth-connect refresh "), Some(conn.page));
    let pending = sim.pending_to(&format!("{AS}/token"));
    sim.answer(pending, ok(r#"{"access_token":"at-late","token_type":"Bearer","expires_in":60}"#));
    assert_eq!(sim.result(second), Value::Text(String::from("at-late")));
    assert_eq!(text_at(&sim.result(first), "accessToken").as_deref(), Some("at-late"));
    assert!(text_at(&sim.result(first), "refreshToken").is_some(), "the old refresh token is kept when none comes back");
    assert_eq!(sim.lock_holder("oauth-connect refresh "), None);
}

#[test]
fn disconnect_in_one_tab_forgets_the_connection_in_the_others() {
    let (mut sim, _server, a, b) = two_connected_tabs();
    let call = sim.disconnect(b);
    sim.run();
    assert_eq!(sim.result(call), Value::Other);
    assert_eq!((sim.status(a), sim.status(b)), ("idle", "idle"));
    assert_eq!((sim.tokens(a), sim.tokens(b)), (None, None));
    assert!(sim.local.keys().all(|k| !k.starts_with("oauth-connect:rt:")), "fingerprint removed: {:?}", sim.local);
    let again = sim.access_token(a);
    assert_eq!(sim.code(again), ErrorCode::ReconnectRequired);
}

#[test]
fn disconnect_during_a_popup_ends_the_flow_as_aborted() {
    let (mut sim, _server, conn) = oauth2();
    let call = sim.popup(conn);
    sim.provider_page_seen();
    sim.disconnect(conn);
    assert_eq!(sim.code(call), ErrorCode::Aborted);
    assert!(!sim.popups[sim.last_popup(conn.page)].open);
    assert_eq!(sim.status(conn), "idle");
}

/// The refresh token never leaves the tab that got it: when that tab goes away mid-refresh,
/// the other tab cannot refresh for itself. It waits for the holder's share, then answers
/// `reconnect_required` (its access token has expired); the lock is free again.
#[test]
fn a_closed_tab_holding_the_refresh_token_leaves_the_others_to_reconnect() {
    let (mut sim, _server, a, b) = two_connected_tabs();
    sim.advance(3_600_000.0);
    sim.on(&format!("{AS}/token"), |_| None);
    sim.access_token(a);
    let call_b = sim.access_token(b);
    sim.run();
    assert_eq!(sim.lock_holder("oauth-connect refresh "), Some(a.page));
    assert_eq!(sim.settle_count(call_b), 0, "B waits for A's share");
    // Tab A goes away mid-refresh: the browser releases its lock.
    sim.reload(a.page, &format!("{ORIGIN}/"));
    sim.run();
    sim.advance(2_000.0);
    assert_eq!(sim.code(call_b), oauth_connect::error::ErrorCode::ReconnectRequired);
    assert_eq!(sim.lock_holder("oauth-connect refresh "), None);
    assert_eq!(sim.pending_timers(b.page), 0);
    let _ = Listener::Connection(0);
}
