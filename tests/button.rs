//! The connect button in the simulated browser: its states, drawings, callbacks and modes.

mod sim;

use oauth_connect::effect::{ButtonCallback, Effect, Listener};
use oauth_connect::error::ErrorCode;
use sim::*;

fn setup(options: &str, in_app: bool) -> (Sim, Shared<AuthServer>, Conn, ButtonRef) {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(""));
    let button = sim.mount_button(conn, options, in_app);
    (sim, server, conn, button)
}

#[test]
fn button_goes_idle_connecting_connected_and_calls_on_success_once() {
    let (mut sim, server, conn, button) = setup(r#"{"mode":"popup"}"#, false);
    let drawing = sim.drawing(button);
    assert_eq!((drawing.state, drawing.label.as_str(), drawing.busy, drawing.inert), ("idle", "Connect", false, false));
    sim.click(button);
    let drawing = sim.drawing(button);
    assert_eq!((drawing.state, drawing.busy), ("connecting", true));
    assert_eq!(sim.button_state(button), "connecting");
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.approve_in_popup(&server, popup);
    let drawing = sim.drawing(button);
    assert_eq!((drawing.state, drawing.inert, drawing.busy), ("connected", true, false));
    assert_eq!(drawing.announcement, "Connected.");
    let calls = sim.button_calls(button);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, ButtonCallback::Success);
    assert!(text_at(&json(calls[0].1.as_deref().unwrap()), "tokens.accessToken").is_some());
    assert!(sim.events(conn.page, Listener::Button(button.id)).contains(&"success"));
}

#[test]
fn a_double_click_starts_one_flow_and_opens_one_popup() {
    let (mut sim, _server, _conn, button) = setup(r#"{"mode":"popup"}"#, false);
    sim.click(button);
    sim.click(button);
    sim.run();
    assert_eq!(sim.popup_count(), 1);
    assert_eq!(sim.count(is_open_window), 1);
    assert!(sim.button_calls(button).is_empty(), "no busy error reaches the app");
}

#[test]
fn deny_shows_the_error_state_with_its_message_and_calls_on_error() {
    let (mut sim, server, conn, button) = setup(r#"{"mode":"popup"}"#, false);
    sim.click(button);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let url = sim.popups[popup].location.clone();
    let back = server.borrow_mut().deny(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    let drawing = sim.drawing(button);
    assert_eq!((drawing.state, drawing.label.as_str()), ("error", "Try again"));
    let calls = sim.button_calls(button);
    let error = calls[0].2.clone().unwrap();
    assert_eq!((calls[0].0, error.code()), (ButtonCallback::Error, ErrorCode::AuthorizationError));
    assert_eq!(drawing.announcement, error.message(), "the live region reads the error");
    // A click in the error state tries again.
    sim.click(button);
    assert_eq!(sim.popup_count(), 2);
}

#[test]
fn the_users_close_goes_back_to_idle_and_calls_on_exit() {
    let (mut sim, _server, conn, button) = setup(r#"{"mode":"popup"}"#, false);
    sim.click(button);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.user_closes(popup);
    sim.advance(2_000.0);
    assert_eq!(sim.drawing(button).state, "idle");
    let calls = sim.button_calls(button);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, ButtonCallback::Exit);
    assert_eq!(calls[0].2.as_ref().map(|e| e.code()), Some(ErrorCode::PopupClosed));
}

#[test]
fn a_revoked_grant_shows_reconnect_and_one_click_starts_one_fresh_flow() {
    let (mut sim, server, conn, button) = setup(r#"{"mode":"popup"}"#, false);
    sim.click(button);
    sim.provider_page_seen();
    sim.approve_in_popup(&server, sim.last_popup(conn.page));
    assert_eq!(sim.drawing(button).state, "connected");
    server.borrow_mut().revoke_all();
    let call = sim.refresh(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::ReconnectRequired);
    let drawing = sim.drawing(button);
    assert_eq!((drawing.state, drawing.label.as_str()), ("reconnect", "Reconnect"));
    let refreshes = server.borrow().refreshes;
    sim.click(button);
    sim.advance(10_000.0);
    assert_eq!(sim.popup_count(), 2);
    assert_eq!(server.borrow().refreshes, refreshes, "no retry loop");
    sim.approve_in_popup(&server, sim.last_popup(conn.page));
    assert_eq!(sim.drawing(button).state, "connected");
}

#[test]
fn a_severed_popup_shows_waiting_with_cancel_which_aborts() {
    let (mut sim, _server, conn, button) = setup(r#"{"mode":"popup","labels":{"cancel":"Stop"}}"#, false);
    sim.coop.push(String::from(AS));
    sim.click(button);
    sim.provider_page_seen();
    sim.close_grace_passes();
    let drawing = sim.drawing(button);
    assert_eq!(drawing.state, "connecting");
    assert!(drawing.cancel_shown);
    assert_eq!(drawing.cancel_label, "Stop");
    assert_eq!(drawing.label, "Waiting for the other window…");
    sim.cancel(button);
    let drawing = sim.drawing(button);
    assert_eq!((drawing.state, drawing.cancel_shown), ("idle", false));
    let calls = sim.button_calls(button);
    assert_eq!((calls[0].0, calls[0].2.as_ref().map(|e| e.code())), (ButtonCallback::Exit, Some(ErrorCode::Aborted)));
    assert!(!sim.popups[sim.last_popup(conn.page)].open);
    assert_eq!(sim.pending_timers(conn.page), 0);
}

#[test]
fn auto_mode_falls_back_to_a_redirect_when_the_popup_is_blocked() {
    let (mut sim, _server, conn, button) = setup(r#"{"mode":"auto"}"#, false);
    sim.blocker = true;
    sim.click(button);
    sim.run();
    let url = sim.pages[conn.page].navigated.clone().expect("went by redirect");
    assert!(url.starts_with(&format!("{AS}/authorize")));
    assert_eq!(sim.drawing(button).state, "connecting");
    assert!(sim.button_calls(button).is_empty());
    let state = param(&url, "state").unwrap();
    let tx = json(&sim.pages[conn.page].session[&format!("oauth-connect:tx:{state}")]);
    assert_eq!(text_at(&tx, "returnTo").as_deref(), Some("/account?tab=1"), "the button comes back to its page");
}

#[test]
fn popup_mode_reports_a_blocked_popup_as_an_error() {
    let (mut sim, _server, conn, button) = setup(r#"{"mode":"popup"}"#, false);
    sim.blocker = true;
    sim.click(button);
    sim.run();
    assert_eq!(sim.pages[conn.page].navigated, None);
    assert_eq!(sim.drawing(button).state, "error");
    assert_eq!(sim.button_calls(button)[0].2.as_ref().map(|e| e.code()), Some(ErrorCode::PopupBlocked));
}

#[test]
fn in_an_in_app_browser_auto_mode_goes_straight_to_a_redirect() {
    let (mut sim, _server, conn, button) = setup("{}", true);
    sim.click(button);
    sim.run();
    assert_eq!(sim.count(is_open_window), 0, "no popup tried");
    assert!(sim.pages[conn.page].navigated.is_some());
}

#[test]
fn redirect_mode_comes_back_connected_through_the_callback_page() {
    let (mut sim, server, conn, button) = setup(r#"{"mode":"redirect"}"#, false);
    sim.click(button);
    sim.run();
    let url = sim.pages[conn.page].navigated.clone().unwrap();
    let back = server.borrow_mut().approve(&url);
    sim.reload(conn.page, &back);
    let call = sim.handle_callback(conn.page);
    sim.run();
    assert_eq!(text_at(&sim.result(call), "returnTo").as_deref(), Some("/account?tab=1"));
    let again = sim.connect(conn.page, &oauth2_token_config(""));
    let button = sim.mount_button(again, r#"{"mode":"redirect"}"#, false);
    assert_eq!(sim.drawing(button).state, "connected");
}

#[test]
fn destroy_removes_the_button_and_a_click_after_it_starts_nothing() {
    let (mut sim, _server, conn, button) = setup(r#"{"mode":"popup"}"#, false);
    sim.click(button);
    sim.feed(conn.page, oauth_connect::effect::Event::DestroyButton { button: button.id });
    assert!(sim.log.iter().any(|(_, e)| matches!(e, Effect::RemoveButton { button: b } if *b == button.id)));
    assert!(!sim.popups[sim.last_popup(conn.page)].open, "its flow ended with it");
    assert_eq!(sim.pending_timers(conn.page), 0);
    assert!(!sim.pages[conn.page].listening_messages);
    sim.click(button);
    assert_eq!(sim.popup_count(), 1);
}

#[test]
fn custom_labels_and_set_state() {
    let (mut sim, _server, conn, button) = setup(r#"{"labels":{"idle":"Link your bank","error":"Retry"}}"#, false);
    assert_eq!(sim.drawing(button).label, "Link your bank");
    let call = 9_999;
    sim.feed(conn.page, oauth_connect::effect::Event::SetButtonState { call, button: button.id, state: String::from("error") });
    assert_eq!(sim.drawing(button).label, "Retry");
    assert_eq!(sim.button_state(button), "error");
    sim.feed(conn.page, oauth_connect::effect::Event::SetButtonState { call: 10_000, button: button.id, state: String::from("bogus") });
    assert_eq!(sim.code(10_000), ErrorCode::InvalidConfig);
}

#[test]
fn a_bad_mode_is_refused() {
    let mut sim = Sim::new();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(""));
    sim.feed(tab, oauth_connect::effect::Event::MountButton { call: 42, button: 43, connection: conn.id, options: String::from(r#"{"mode":"window"}"#), in_app_browser: false, return_to: String::from("/") });
    assert_eq!(sim.code(42), ErrorCode::InvalidConfig);
}

#[test]
fn connection_0_is_no_connection_even_when_a_connect_was_made_with_that_id() {
    // The runner sends 0 for a config that is neither an object nor a Connect, and reads a
    // missing id as 0: a button on it is refused, whatever holds that id.
    use oauth_connect::effect::Event;
    let mut sim = Sim::new();
    let tab = sim.open_tab();
    sim.feed(tab, Event::NewConnect { call: 40, connection: 0, config: oauth2_token_config("") });
    assert!(matches!(sim.settled(40), Some(Settled::Resolved(_))), "a Connect may be made with id 0 natively");
    sim.feed(tab, Event::MountButton { call: 42, button: 43, connection: 0, options: String::from("{}"), in_app_browser: false, return_to: String::from("/") });
    assert_eq!(sim.code(42), ErrorCode::InvalidConfig);
    assert!(!sim.effects_of(tab).iter().any(|effect| matches!(effect, Effect::CreateButton { .. })), "no button made");
}

#[test]
fn a_button_follows_a_disconnect_in_another_tab() {
    let (mut sim, server, conn, button) = setup(r#"{"mode":"popup"}"#, false);
    sim.click(button);
    sim.provider_page_seen();
    sim.approve_in_popup(&server, sim.last_popup(conn.page));
    assert_eq!(sim.drawing(button).state, "connected");
    let tab = sim.open_tab();
    let other = sim.connect(tab, &oauth2_token_config(""));
    sim.disconnect(other);
    sim.run();
    assert_eq!(sim.drawing(button).state, "idle");
    assert_eq!(sim.status(conn), "idle");
}
