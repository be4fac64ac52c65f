//! The `redirectUri` page (`handleCallback`) in the simulated browser: single use, unknown and
//! expired states, the relay from a popup, and what it leaves in the address bar and storage.

mod sim;

use oauth_connect::effect::{Effect, Listener};
use oauth_connect::error::ErrorCode;
use oauth_connect::fields::Value;
use sim::*;

fn setup() -> (Sim, Shared<AuthServer>, Conn) {
    oauth2_tab(&oauth2_token_config(""))
}

#[test]
fn a_page_without_oauth_parameters_answers_null_and_does_nothing() {
    let mut sim = Sim::new();
    let tab = sim.open_tab();
    sim.reload(tab, &format!("{ORIGIN}/account?tab=1"));
    let call = sim.handle_callback(tab);
    assert_eq!(sim.result(call), Value::Other);
    assert!(sim.effects_of(tab).iter().all(|e| matches!(e, Effect::Resolve { .. })), "{:?}", sim.effects_of(tab));
}

#[test]
fn the_same_callback_url_opened_again_is_already_handled_with_no_second_token_request() {
    let (mut sim, server, conn) = setup();
    let call = sim.redirect(conn, None);
    sim.run();
    let _ = call;
    let url = sim.pages[conn.page].navigated.clone().unwrap();
    let back = server.borrow_mut().approve(&url);
    sim.reload(conn.page, &back);
    let first = sim.handle_callback(conn.page);
    sim.run();
    assert!(matches!(sim.settled(first), Some(Settled::Resolved(_))));
    // The user reloads the callback URL (from history).
    sim.reload(conn.page, &back);
    let second = sim.handle_callback(conn.page);
    sim.run();
    assert_eq!(sim.code(second), ErrorCode::AlreadyHandled);
    assert_eq!(server.borrow().code_exchanges, 1);
    assert_eq!(sim.events(conn.page, Listener::Call(second)), ["error"]);
}

#[test]
fn handle_callback_twice_for_the_same_url_gives_both_calls_one_answer() {
    let (mut sim, server, conn) = setup();
    sim.redirect(conn, None);
    sim.run();
    let url = sim.pages[conn.page].navigated.clone().unwrap();
    let back = server.borrow_mut().approve(&url);
    sim.reload(conn.page, &back);
    // React's StrictMode runs the page's effect twice, before the first has finished.
    let first = sim.handle_callback_at(conn.page, &back, &back);
    let second = sim.handle_callback_at(conn.page, &back, &sim.pages[conn.page].href.clone());
    sim.run();
    assert_eq!(sim.result(first), sim.result(second));
    assert_eq!(server.borrow().code_exchanges, 1);
    let third = sim.handle_callback_at(conn.page, &back, &back);
    assert_eq!(sim.result(third), sim.result(first));
}

#[test]
fn a_state_matching_no_transaction_is_unknown_state_and_the_code_is_never_sent() {
    let (mut sim, _server, conn) = setup();
    let forged = with_query(CALLBACK, &[("code", "forged-code-1"), ("state", "nobody-made-this")]);
    sim.reload(conn.page, &forged);
    let call = sim.handle_callback(conn.page);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::UnknownState);
    assert!(sim.requests.is_empty());
    assert_eq!(sim.pages[conn.page].href, CALLBACK, "the code left the address bar anyway");
}

#[test]
fn a_callback_from_another_tabs_redirect_is_unknown_state_here() {
    let (mut sim, server, conn) = setup();
    sim.redirect(conn, None);
    sim.run();
    let url = sim.pages[conn.page].navigated.clone().unwrap();
    let back = server.borrow_mut().approve(&url);
    let other = sim.open_tab();
    sim.reload(other, &back);
    let call = sim.handle_callback(other);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::UnknownState, "transactions live in the tab's sessionStorage");
    assert_eq!(server.borrow().code_exchanges, 0);
}

#[test]
fn a_transaction_older_than_ten_minutes_is_transaction_expired_and_nothing_is_redeemed() {
    let (mut sim, server, conn) = setup();
    sim.redirect(conn, None);
    sim.run();
    let url = sim.pages[conn.page].navigated.clone().unwrap();
    sim.advance(600_001.0);
    let back = server.borrow_mut().approve(&url);
    sim.reload(conn.page, &back);
    let call = sim.handle_callback(conn.page);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::TransactionExpired);
    assert_eq!(server.borrow().code_exchanges, 0);
    assert!(sim.pages[conn.page].session.keys().all(|k| !k.starts_with("oauth-connect:tx:")), "consumed anyway");
}

#[test]
fn a_new_redirect_prunes_transactions_older_than_ten_minutes() {
    let (mut sim, _server, conn) = setup();
    sim.redirect(conn, None);
    sim.run();
    sim.reload(conn.page, &format!("{ORIGIN}/"));
    let conn = sim.connect(conn.page, &oauth2_token_config(""));
    sim.advance(600_001.0);
    sim.redirect(conn, None);
    sim.run();
    assert_eq!(sim.pages[conn.page].session.keys().filter(|k| k.starts_with("oauth-connect:tx:")).count(), 1);
}

#[test]
fn a_damaged_transaction_is_unknown_state() {
    let (mut sim, server, conn) = setup();
    sim.redirect(conn, None);
    sim.run();
    let url = sim.pages[conn.page].navigated.clone().unwrap();
    let state = param(&url, "state").unwrap();
    sim.pages[conn.page].session.insert(format!("oauth-connect:tx:{state}"), String::from("{not json"));
    let back = server.borrow_mut().approve(&url);
    sim.reload(conn.page, &back);
    let call = sim.handle_callback(conn.page);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::UnknownState);
    assert_eq!(server.borrow().code_exchanges, 0);
}

#[test]
fn in_a_popup_the_page_relays_by_message_and_channel_closes_itself_and_answers_null() {
    let (mut sim, server, conn) = setup();
    sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let page = sim.approve_in_popup(&server, popup);
    let effects = sim.effects_of(page);
    let post = effects.iter().position(|e| matches!(e, Effect::PostToOpener { .. })).expect("posted to the opener");
    let broadcast = effects.iter().position(|e| matches!(e, Effect::Broadcast { .. })).expect("broadcast");
    let close = effects.iter().position(|e| matches!(e, Effect::CloseSelf)).expect("closed itself");
    assert!(post < close && broadcast < close);
    let call = effects.iter().find_map(|e| match e {
        Effect::Resolve { call, json } => Some((*call, json.clone())),
        _ => None,
    });
    assert_eq!(call.map(|(_, json)| json).as_deref(), Some("null"));
    assert!(effects.iter().any(|e| matches!(e, Effect::ReplaceUrl { url } if url == CALLBACK)), "the code left the popup's address bar");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Fetch(_))), "the opener redeems the code, not the popup");
}

#[test]
fn in_a_popup_cut_by_coop_the_marker_tells_it_to_relay_over_the_channel() {
    let (mut sim, server, conn) = setup();
    sim.coop.push(String::from(AS));
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let page = sim.approve_in_popup(&server, popup);
    assert!(sim.effects_of(page).iter().any(|e| matches!(e, Effect::Broadcast { .. })));
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
}

#[test]
fn without_a_marker_a_page_with_an_opener_and_no_transaction_relays() {
    let (mut sim, server, conn) = setup();
    sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    // The marker was lost (storage cleared): window.opener still tells.
    let markers: Vec<String> = sim.local.keys().filter(|k| k.starts_with("oauth-connect:popup:")).cloned().collect();
    for key in markers {
        sim.local.remove(&key);
    }
    let page = sim.approve_in_popup(&server, popup);
    assert!(sim.effects_of(page).iter().any(|e| matches!(e, Effect::PostToOpener { .. })));
}

#[test]
fn marker_hides_state_no_local_storage_key_or_value_names_a_running_flows_state() {
    let (mut sim, _server, conn) = setup();
    sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let state = param(&sim.popups[popup].location, "state").unwrap();
    // Neither a key nor a value of localStorage (which every page of the origin reads) names
    // the running flow's state: the marker is keyed by the state's SHA-256 (it used to be
    // keyed by the state itself), and its value is only a time, no verifier.
    for (key, value) in &sim.local {
        assert!(!key.contains(&state) && !value.contains(&state), "{key} = {value}");
    }
    let marker = sim.local.get(&oauth_connect::machine::popup_marker_key(&state)).expect("marker");
    assert!(marker.bytes().all(|b| b.is_ascii_digit()));
}

#[test]
fn the_leak_check_catches_a_secret_in_local_storage() {
    let (mut sim, server, conn) = setup();
    sim.popup_flow(&server, conn);
    let token = sim.access_token_now(conn).unwrap();
    sim.log.push((0, Effect::WriteStorage { area: oauth_connect::effect::Area::Local, key: String::from("x"), value: token }));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.assert_no_leaks()));
    assert!(caught.is_err(), "the check must fail on a leaked token");
}
