//! OAuth 2.0 flows (`kind: "oauth2"`) end to end in the simulated browser: popup and redirect,
//! with a token endpoint, with the app's exchange endpoint, and with neither.

mod sim;

use oauth_connect::effect::{Area, Effect, Listener};
use oauth_connect::error::ErrorCode;
use oauth_connect::fields::Value;
use sim::*;

fn setup(config: &str) -> (Sim, Shared<AuthServer>, Conn) {
    oauth2_tab(config)
}

#[test]
fn popup_with_token_endpoint_connects_and_holds_the_token_set() {
    let (mut sim, server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup_flow(&server, conn);
    let result = sim.result(call);
    assert_eq!(text_at(&result, "provider").as_deref(), Some("oauth2"));
    assert!(text_at(&result, "tokens.accessToken").unwrap().starts_with("at-"));
    assert!(text_at(&result, "tokens.refreshToken").unwrap().starts_with("rt-"));
    assert_eq!(at(&result, "code"), Value::Absent, "the code was exchanged: not in the result");
    assert_eq!(at(&result, "params.code"), Value::Absent);
    assert_eq!(text_at(&result, "params.iss").as_deref(), Some(AS));
    assert_eq!(text_at(&result, "params.state"), text_at(&result, "state"));
    assert_eq!(sim.status(conn), "connected");
    assert_eq!(sim.access_token_now(conn), text_at(&result, "tokens.accessToken"));
    assert_eq!(server.borrow().code_exchanges, 1);
    assert_eq!(sim.conn_events(conn), ["open", "callback", "exchange", "success"]);
    sim.assert_no_leaks();
}

#[test]
fn popup_flow_releases_its_window_marker_timers_and_listeners() {
    let (mut sim, server, conn) = setup(&oauth2_token_config(""));
    sim.popup_flow(&server, conn);
    let popup = sim.last_popup(conn.page);
    assert!(!sim.popups[popup].open, "the callback page closed the popup");
    assert!(sim.local.keys().all(|key| !key.starts_with("oauth-connect:popup:")), "marker removed: {:?}", sim.local);
    assert_eq!(sim.pending_timers(conn.page), 0);
    assert!(!sim.pages[conn.page].listening_messages);
    // The channel stays open: the token slot shares tokens with the other tabs.
    assert!(sim.pages[conn.page].listening_channel);
}

#[test]
fn popup_navigates_only_once_the_url_is_ready_and_opens_in_the_click_turn() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let before = sim.log.len();
    sim.popup(conn);
    let turn: Vec<Effect> = sim.log[before..].iter().map(|(_, e)| e.clone()).collect();
    let open = turn.iter().position(is_open_window).expect("opened in the same turn");
    let navigate = turn.iter().position(|e| matches!(e, Effect::NavigateWindow { .. })).expect("navigated");
    assert!(open < navigate);
    let marker = turn.iter().position(|e| matches!(e, Effect::WriteStorage { area: Area::Local, key, .. } if key.starts_with("oauth-connect:popup:"))).unwrap();
    assert!(marker < open, "the marker is written before window.open");
    let url = match &turn[navigate] {
        Effect::NavigateWindow { url, .. } => url.clone(),
        _ => unreachable!(),
    };
    assert!(url.starts_with(&format!("{AS}/authorize?")));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(CALLBACK));
    assert_eq!(param(&url, "scope").as_deref(), Some("read write"));
}

#[test]
fn popup_with_exchange_endpoint_returns_the_backends_reply_and_no_tokens() {
    let (mut sim, server, conn) = setup(&oauth2_exchange_config(""));
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = seen.clone();
    sim.on("/api/exchange", move |request| {
        log.borrow_mut().push(json_body(request));
        Some(ok(r#"{"linked":true,"account":"acct-1"}"#))
    });
    let call = sim.popup_flow(&server, conn);
    let result = sim.result(call);
    assert_eq!(at(&result, "exchange.linked"), Value::Bool(true));
    assert_eq!(at(&result, "tokens"), Value::Absent);
    assert_eq!(at(&result, "code"), Value::Absent);
    let body = seen.borrow()[0].clone();
    assert!(text_at(&body, "code").unwrap().starts_with("code-"));
    assert_eq!(text_at(&body, "codeVerifier").map(|v| v.len()), Some(43));
    assert_eq!(text_at(&body, "redirectUri").as_deref(), Some(CALLBACK));
    assert_eq!(text_at(&body, "state"), text_at(&result, "state"));
    assert_eq!(sim.tokens(conn), None);
    assert_eq!(sim.status(conn), "connected");
    sim.assert_no_leaks();
}

#[test]
fn popup_with_neither_endpoint_hands_the_code_and_verifier_to_the_app() {
    let (mut sim, server, conn) = setup(&oauth2_code_config(""));
    let call = sim.popup_flow(&server, conn);
    let result = sim.result(call);
    let code = text_at(&result, "code").expect("code");
    let verifier = text_at(&result, "codeVerifier").expect("codeVerifier");
    assert!(code.starts_with("code-"));
    // The pair redeems at the provider.
    let answer = server.borrow_mut().token(&oauth_connect::effect::HttpRequest {
        id: 0,
        method: "POST",
        url: format!("{AS}/token"),
        body: Some(("application/x-www-form-urlencoded", form(&[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", &verifier), ("redirect_uri", CALLBACK), ("client_id", "app")]))),
    });
    assert!(matches!(answer, oauth_connect::effect::HttpAnswer::Response { status: 200, .. }), "{answer:?}");
    assert_eq!(sim.count(fetches_to(AS)), 0, "the library made no token request");
    assert_eq!(sim.conn_events(conn), ["open", "callback", "success"]);
}

#[test]
fn redirect_with_token_endpoint_completes_on_the_callback_page_with_return_to_and_the_apps_query_kept() {
    let redirect_uri = format!("{CALLBACK}?keep=me");
    let config = oauth2_token_config("").replace(&format!("\"redirectUri\":\"{CALLBACK}\""), &format!("\"redirectUri\":\"{redirect_uri}\""));
    let (mut sim, server, conn) = setup(&config);
    let call = sim.redirect_and_return(conn, Some("/account?tab=1"), |url| server.borrow_mut().approve(url));
    let result = sim.result(call);
    assert_eq!(text_at(&result, "returnTo").as_deref(), Some("/account?tab=1"));
    assert!(text_at(&result, "tokens.accessToken").is_some());
    assert_eq!(text_at(&result, "params.keep").as_deref(), Some("me"));
    assert_eq!(sim.pages[conn.page].href, redirect_uri, "the address bar keeps the app's own query only");
    let page = conn.page;
    assert!(sim.pages[page].session.keys().all(|key| !key.starts_with("oauth-connect:tx:")), "the transaction was consumed");
    assert_eq!(sim.events(page, Listener::Call(call)), ["callback", "exchange", "success"]);
    // A Connect made on the new page sees the tokens.
    let again = sim.connect(page, &config);
    assert_eq!(sim.status(again), "connected");
    assert_eq!(sim.access_token_now(again), text_at(&result, "tokens.accessToken"));
    sim.assert_no_leaks();
}

#[test]
fn redirect_stores_a_transaction_emits_redirect_and_leaves_the_page() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let call = sim.redirect(conn, None);
    sim.run();
    assert_eq!(sim.result(call), Value::Other, "redirect() resolves with nothing");
    let url = sim.pages[conn.page].navigated.clone().expect("left for the provider");
    let state = param(&url, "state").unwrap();
    let stored = sim.pages[conn.page].session.get(&format!("oauth-connect:tx:{state}")).cloned().expect("transaction stored");
    let stored = json(&stored);
    assert_eq!(text_at(&stored, "state").as_deref(), Some(state.as_str()));
    assert_eq!(text_at(&stored, "verifier").map(|v| v.len()), Some(43));
    assert_eq!(text_at(&stored, "tokenEndpoint").as_deref(), Some(&*format!("{AS}/token")));
    assert_eq!(sim.conn_events(conn), ["redirect"]);
    assert_eq!(sim.status(conn), "connecting", "busy until the page has left");
    assert!(sim.local.is_empty(), "nothing of a redirect flow in localStorage: {:?}", sim.local);
}

#[test]
fn redirect_with_exchange_endpoint_gives_the_backends_reply_on_the_callback_page() {
    let (mut sim, server, conn) = setup(&oauth2_exchange_config(""));
    sim.on("/api/exchange", |request| {
        assert!(text_at(&json_body(request), "codeVerifier").is_some());
        Some(ok(r#"{"linked":true}"#))
    });
    let call = sim.redirect_and_return(conn, None, |url| server.borrow_mut().approve(url));
    let result = sim.result(call);
    assert_eq!(at(&result, "exchange.linked"), Value::Bool(true));
    assert_eq!(at(&result, "returnTo"), Value::Absent);
}

#[test]
fn redirect_with_neither_endpoint_gives_code_and_verifier_on_the_callback_page() {
    let (mut sim, server, conn) = setup(&oauth2_code_config(""));
    let call = sim.redirect_and_return(conn, None, |url| server.borrow_mut().approve(url));
    let result = sim.result(call);
    assert!(text_at(&result, "code").is_some());
    assert_eq!(text_at(&result, "codeVerifier").map(|v| v.len()), Some(43));
}

#[test]
fn deny_in_the_popup_is_authorization_error_access_denied_and_no_token_request() {
    let (mut sim, server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    let url = sim.popups[popup].location.clone();
    let back = server.borrow_mut().deny(&url);
    sim.popup_lands(popup, &back);
    sim.run();
    let error = sim.error(call);
    assert_eq!(error.code(), ErrorCode::AuthorizationError);
    assert_eq!(error.provider().map(|p| p.error.as_str()), Some("access_denied"));
    assert_eq!(server.borrow().code_exchanges, 0);
    assert_eq!(sim.status(conn), "error");
    let emits = sim.emits(conn.page, Listener::Connection(conn.id));
    let last = emits.last().unwrap();
    assert_eq!((last.0, last.1.code), ("error", Some("authorization_error")));
    assert_eq!(last.1.mode, Some("popup"));
}

#[test]
fn deny_after_a_redirect_is_authorization_error_on_the_callback_page() {
    let (mut sim, server, conn) = setup(&oauth2_token_config(""));
    let call = sim.redirect_and_return(conn, None, |url| server.borrow_mut().deny(url));
    assert_eq!(sim.code(call), ErrorCode::AuthorizationError);
    assert_eq!(server.borrow().code_exchanges, 0);
    assert_eq!(sim.pages[conn.page].href, CALLBACK, "the error parameters left the address bar too");
}

#[test]
fn user_closes_the_popup_popup_closed_with_event_exit_after_the_grace() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup(conn);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    sim.user_closes(popup);
    sim.advance(200.0);
    assert_eq!(sim.settle_count(call), 0, "a relay may still come during the grace");
    sim.advance(1_500.0);
    assert_eq!(sim.code(call), ErrorCode::PopupClosed);
    let events = sim.conn_events(conn);
    assert_eq!(events.last(), Some(&"exit"));
    assert!(!events.contains(&"error"));
    assert_eq!(sim.status(conn), "idle");
    assert_eq!(sim.pending_timers(conn.page), 0);
}

#[test]
fn the_blocker_refuses_the_window_popup_blocked_and_nothing_prepared() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    sim.blocker = true;
    let call = sim.popup(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::PopupBlocked);
    assert_eq!(sim.conn_events(conn), ["popup_blocked", "error"]);
    assert_eq!(sim.popup_count(), 0);
    assert!(sim.local.keys().all(|key| !key.starts_with("oauth-connect:popup:")), "the marker went with the flow");
    assert_eq!(sim.status(conn), "error");
}

#[test]
fn the_apps_own_window_null_is_popup_blocked() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup_with(conn, oauth_connect::effect::PopupOptions { window: Some(false), ..Default::default() });
    assert_eq!(sim.code(call), ErrorCode::PopupBlocked);
}

#[test]
fn the_apps_own_window_is_adopted_and_navigated() {
    let (mut sim, server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup_with(conn, oauth_connect::effect::PopupOptions { window: Some(true), ..Default::default() });
    assert_eq!(sim.count(|e| matches!(e, Effect::OpenWindow { .. })), 0);
    sim.provider_page_seen();
    let popup = sim.last_popup(conn.page);
    assert!(sim.popups[popup].location.starts_with(AS));
    sim.approve_in_popup(&server, popup);
    assert!(text_at(&sim.result(call), "tokens.accessToken").is_some());
}

#[test]
fn a_second_popup_while_one_is_in_flight_rejects_busy_and_opens_nothing() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let first = sim.popup(conn);
    let second = sim.popup(conn);
    assert_eq!(sim.code(second), ErrorCode::Busy);
    assert_eq!(sim.popup_count(), 1);
    assert_eq!(sim.settle_count(first), 0, "the first flow goes on");
    assert_eq!(sim.status(conn), "connecting");
    let redirect = sim.redirect(conn, None);
    assert_eq!(sim.code(redirect), ErrorCode::Busy);
}

#[test]
fn timeout_rejects_timeout_and_closes_the_window() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup_with(conn, oauth_connect::effect::PopupOptions { timeout_ms: Value::Number(5_000), ..Default::default() });
    sim.provider_page_seen();
    sim.advance(4_500.0);
    assert_eq!(sim.settle_count(call), 0);
    sim.advance(200.0);
    assert_eq!(sim.code(call), ErrorCode::Timeout);
    let popup = sim.last_popup(conn.page);
    assert!(!sim.popups[popup].open, "the library closed its window");
    assert_eq!(sim.pending_timers(conn.page), 0);
    assert_eq!(sim.status(conn), "error");
}

#[test]
fn the_config_timeout_applies_when_popup_gives_none() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(r#","timeoutMs":3000"#));
    let call = sim.popup(conn);
    sim.advance(3_000.0);
    assert_eq!(sim.code(call), ErrorCode::Timeout);
}

#[test]
fn a_timeout_that_is_not_a_positive_number_is_invalid_config_and_opens_nothing() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    for bad in [Value::Number(0), Value::Number(-5), Value::Text("10".into())] {
        let call = sim.popup_with(conn, oauth_connect::effect::PopupOptions { timeout_ms: bad, ..Default::default() });
        assert_eq!(sim.code(call), ErrorCode::InvalidConfig);
    }
    assert_eq!(sim.popup_count(), 0);
    assert_eq!(sim.status(conn), "idle");
}

#[test]
fn abort_ends_the_flow_and_closes_the_window() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup(conn);
    sim.provider_page_seen();
    sim.abort(conn.page, call);
    assert_eq!(sim.code(call), ErrorCode::Aborted);
    let popup = sim.last_popup(conn.page);
    assert!(!sim.popups[popup].open);
    assert_eq!(sim.pending_timers(conn.page), 0);
    assert_eq!(sim.status(conn), "idle");
    // The connection is free again.
    let next = sim.popup(conn);
    assert_eq!(sim.settle_count(next), 0);
    assert_eq!(sim.popup_count(), 2);
}

#[test]
fn an_already_aborted_signal_opens_nothing() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    let call = sim.popup_with(conn, oauth_connect::effect::PopupOptions { aborted: true, ..Default::default() });
    assert_eq!(sim.code(call), ErrorCode::Aborted);
    assert_eq!(sim.popup_count(), 0);
    assert_eq!(sim.count(|e| matches!(e, Effect::WriteStorage { .. })), 0);
}

#[test]
fn return_to_on_another_origin_is_refused_and_the_page_stays() {
    let (mut sim, _server, conn) = setup(&oauth2_token_config(""));
    for bad in ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"] {
        let call = sim.redirect(conn, Some(bad));
        assert_eq!(sim.code(call), ErrorCode::InvalidConfig, "{bad}");
    }
    assert_eq!(sim.pages[conn.page].navigated, None);
    assert_eq!(sim.status(conn), "idle");
    let call = sim.redirect(conn, Some(&format!("{ORIGIN}/account")));
    sim.run();
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
}

#[test]
fn two_tabs_connect_at_once_each_with_its_own_flow() {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let (a, b) = (sim.open_tab(), sim.open_tab());
    let config = oauth2_token_config("");
    let (ca, cb) = (sim.connect(a, &config), sim.connect(b, &config));
    let call_a = sim.popup(ca);
    let call_b = sim.popup(cb);
    sim.provider_page_seen();
    let (pa, pb) = (sim.last_popup(a), sim.last_popup(b));
    // B's user finishes first.
    sim.approve_in_popup(&server, pb);
    sim.approve_in_popup(&server, pa);
    let (ra, rb) = (sim.result(call_a), sim.result(call_b));
    assert_ne!(text_at(&ra, "state"), text_at(&rb, "state"));
    assert!(text_at(&ra, "tokens.accessToken").is_some() && text_at(&rb, "tokens.accessToken").is_some());
    assert_eq!(server.borrow().code_exchanges, 2);
}
