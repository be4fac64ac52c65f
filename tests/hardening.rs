//! Issue 9's holes, each replayed in the simulated browser: every test here failed before its
//! fix (the name says what it guards).

mod sim;

use oauth_connect::error::ErrorCode;
use sim::*;

/// A connected tab whose token endpoint then stops answering (the requests stay pending).
fn connected_then_silent(config: &str) -> (Sim, Conn) {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, config);
    let call = sim.popup_flow(&server, conn);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    sim.on(&format!("{AS}/token"), |_| None);
    (sim, conn)
}

/// requestTimeoutMs: a token endpoint that never answers the code exchange fails the flow as
/// `network` once the time is up (it used to leave `popup()` pending and the status on
/// "connecting" for good).
#[test]
fn request_timeout_a_code_exchange_that_gets_no_answer_fails_as_network() {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    sim.on(&format!("{AS}/token"), |_| None);
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oauth2_token_config(r#","requestTimeoutMs":5000"#));
    let call = sim.popup_flow(&server, conn);
    assert!(sim.settled(call).is_none(), "waiting for the token endpoint");
    assert_eq!(sim.status(conn), "connecting");
    sim.advance(4_999.0);
    assert!(sim.settled(call).is_none());
    sim.advance(2.0);
    let error = sim.error(call);
    assert_eq!(error.code(), ErrorCode::Network);
    assert!(error.message().contains("requestTimeoutMs"), "{}", error.message());
    assert_ne!(sim.status(conn), "connecting");
    // The answer that comes after is ignored: the call was settled once.
    let late = sim.pending_to(&format!("{AS}/token"));
    sim.answer(late, status(500, "{}"));
    assert_eq!(sim.settle_count(call), 1);
}

/// requestTimeoutMs: a refresh that gets no answer rejects `network` after the default 30 s,
/// releases the Web Lock (it used to hold it forever, so `accessToken()` hung in every tab),
/// and the next call tries again.
#[test]
fn request_timeout_a_refresh_that_gets_no_answer_releases_its_lock() {
    let (mut sim, conn) = connected_then_silent(&oauth2_token_config(""));
    sim.advance(3_600_000.0);
    let call = sim.access_token(conn);
    sim.run();
    assert!(sim.lock_holder("oauth-connect refresh ").is_some(), "the refresh holds the lock");
    sim.advance(29_000.0);
    assert!(sim.settled(call).is_none());
    sim.advance(1_001.0);
    assert_eq!(sim.code(call), ErrorCode::Network);
    assert_eq!(sim.lock_holder("oauth-connect refresh "), None, "the lock is released");
    let again = sim.access_token(conn);
    sim.run();
    assert!(sim.lock_holder("oauth-connect refresh ").is_some(), "a new refresh runs");
    assert!(sim.settled(again).is_none());
}

/// An OpenID provider whose discovery document says it sends `iss` with every authorization
/// response (RFC 9207 §3), and which sends it or not as `send_iss` says.
fn oidc_with_iss_supported(send_iss: bool) -> (Sim, Shared<AuthServer>, Conn) {
    let mut sim = Sim::new();
    let server = sim.oidc_server();
    server.borrow_mut().send_iss = send_iss;
    let document = format!(
        r#"{{"issuer":"{IDP}","authorization_endpoint":"{IDP}/authorize","token_endpoint":"{IDP}/token","code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true}}"#
    );
    sim.on(&format!("{IDP}/.well-known/openid-configuration"), move |_| Some(ok(&document)));
    let tab = sim.open_tab();
    let conn = sim.connect(tab, &oidc_config(""));
    (sim, server, conn)
}

/// RFC 9207 §2.4: when discovery advertises `authorization_response_iss_parameter_supported`, a
/// response without `iss` is `issuer_mismatch` (the mix-up defence) and its code is never
/// redeemed; it used to be accepted. Popup flow.
#[test]
fn rfc9207_iss_required_a_popup_callback_without_iss_is_refused() {
    let (mut sim, server, conn) = oidc_with_iss_supported(false);
    let call = sim.popup_flow(&server, conn);
    assert_eq!(sim.code(call), ErrorCode::IssuerMismatch);
    assert_eq!(server.borrow().code_exchanges, 0);
    // The same provider sending iss connects.
    server.borrow_mut().send_iss = true;
    let call = sim.popup_flow(&server, conn);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))), "{:?}", sim.settled(call));
}

/// The same through a redirect: the stored transaction remembers that the issuer sends `iss`.
#[test]
fn rfc9207_iss_required_a_redirect_callback_without_iss_is_refused() {
    let (mut sim, server, conn) = oidc_with_iss_supported(false);
    let handled = sim.redirect_and_return(conn, None, |url| server.borrow_mut().approve(url));
    assert_eq!(sim.code(handled), ErrorCode::IssuerMismatch);
    assert_eq!(server.borrow().code_exchanges, 0);
    let (mut sim, server, conn) = oidc_with_iss_supported(true);
    let handled = sim.redirect_and_return(conn, None, |url| server.borrow_mut().approve(url));
    assert!(matches!(sim.settled(handled), Some(Settled::Resolved(_))), "{:?}", sim.settled(handled));
}

/// OIDC Core §12.2: the `sub` is kept with the tokens in `sessionStorage`, so after a reload a
/// refreshed ID token naming another user is still refused (it used to be accepted: the `sub`
/// lived in memory only).
#[test]
fn oidc_sub_after_reload_a_refreshed_id_token_for_another_user_is_refused() {
    let mut sim = Sim::new();
    let server = sim.oidc_server();
    let tab = sim.open_tab();
    let config = oidc_config(r#","tokenStorage":"session""#);
    let conn = sim.connect(tab, &config);
    let call = sim.popup_flow(&server, conn);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    sim.reload(tab, CALLBACK);
    let conn = sim.connect(tab, &config);
    sim.run();
    assert!(sim.access_token_now(conn).is_some(), "restored from sessionStorage");
    server.borrow_mut().refreshed_sub = Some(String::from("mallory"));
    let call = sim.refresh(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::InvalidIdToken);
}

/// `disconnect()` during a refresh ends the refresh: its caller gets `aborted`, the lock is
/// released, and the answer that comes after does not bring the tokens back (it used to: the
/// connection was connected again after the app disconnected it).
#[test]
fn disconnect_cancels_refresh_in_flight() {
    let (mut sim, conn) = connected_then_silent(&oauth2_token_config(""));
    sim.advance(3_600_000.0);
    let call = sim.access_token(conn);
    sim.run();
    let refresh = sim.pending_to(&format!("{AS}/token"));
    sim.disconnect(conn);
    sim.run();
    assert_eq!(sim.code(call), ErrorCode::Aborted);
    assert_eq!(sim.lock_holder("oauth-connect refresh "), None);
    assert_eq!(sim.status(conn), "idle");
    // The token endpoint answers late, with a fresh set: ignored.
    let body = r#"{"access_token":"late-at","token_type":"Bearer","expires_in":3600,"refresh_token":"late-rt"}"#;
    sim.answer(refresh, ok(body));
    assert_eq!(sim.tokens(conn), None);
    assert_eq!(sim.status(conn), "idle");
    assert_eq!(sim.pending_timers(conn.page), 0, "no timer left behind");
}

/// handleCallback() remembers the answers of the last few URLs only: an app that passes many
/// URLs does not grow the tab's memory (every URL's answer was kept for the page's life), and
/// the page's own URL, asked again, is still answered the same without reading storage again.
#[test]
fn handle_callback_memo_is_bounded() {
    use oauth_connect::effect::Effect;
    let mut sim = Sim::new();
    let tab = sim.open_tab();
    let url = |n: u32| format!("{CALLBACK}?code=c{n}&state=s{n}");
    let reads = |sim: &Sim| sim.count(|e| matches!(e, Effect::ReadStorage { .. }));
    let mut first = Vec::new();
    for n in 0..50 {
        let call = sim.handle_callback_at(tab, &url(n), CALLBACK);
        sim.run();
        first.push(sim.code(call));
    }
    assert!(first.iter().all(|code| *code == ErrorCode::UnknownState));
    // The last URL is remembered: answered again, the same, with no new read.
    let before = reads(&sim);
    let again = sim.handle_callback_at(tab, &url(49), CALLBACK);
    assert_eq!((sim.code(again), reads(&sim)), (ErrorCode::UnknownState, before));
    // The first was forgotten: worked out again (same answer), from storage.
    let again = sim.handle_callback_at(tab, &url(0), CALLBACK);
    sim.run();
    assert_eq!(sim.code(again), ErrorCode::UnknownState);
    assert!(reads(&sim) > before);
}

/// A redirect the user walked away from (Back) leaves its transaction, verifier included, in
/// `sessionStorage`: it is removed once its 10 minutes are over, at the tab's next `Connect`
/// (it used to stay until another redirect started).
#[test]
fn expire_abandoned_transactions_at_the_next_connect() {
    let mut sim = Sim::new();
    let _server = sim.oauth2_server();
    let tab = sim.open_tab();
    let config = oauth2_token_config("");
    let conn = sim.connect(tab, &config);
    let call = sim.redirect(conn, None);
    sim.run();
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    let stored = |sim: &Sim| sim.pages[tab].session.keys().filter(|key| key.starts_with("oauth-connect:tx:")).count();
    assert_eq!(stored(&sim), 1);
    // Back on the app, within the 10 minutes: the transaction stays (the user may still return).
    sim.reload(tab, ORIGIN);
    sim.advance(5.0 * 60_000.0);
    sim.connect(tab, &config);
    sim.run();
    assert_eq!(stored(&sim), 1);
    // Later: gone.
    sim.reload(tab, ORIGIN);
    sim.advance(6.0 * 60_000.0);
    sim.connect(tab, &config);
    sim.run();
    assert_eq!(stored(&sim), 0);
}

/// Tabs A and B of the app: A connected by popup, B got the access token from A.
fn two_tabs() -> (Sim, Shared<AuthServer>, Conn, Conn) {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let tab = sim.open_tab();
    let a = sim.connect(tab, &oauth2_token_config(""));
    let call = sim.popup_flow(&server, a);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    let tab_b = sim.open_tab();
    let b = sim.connect(tab_b, &oauth2_token_config(""));
    assert_eq!(sim.access_token_now(b), sim.access_token_now(a));
    (sim, server, a, b)
}

/// `tokenStorage: "memory"`: the refresh token never leaves the tab (it used to go to any
/// same-origin script asking `tokens?` on the channel). B gets access tokens only, and A
/// refreshes for both, once.
#[test]
fn memory_rt_stays_in_tab_no_channel_message_carries_a_refresh_token() {
    let (mut sim, server, a, b) = two_tabs();
    assert!(sim.tokens(a).and_then(|t| text_at(&t, "refreshToken")).is_some());
    assert_eq!(sim.tokens(b).and_then(|t| text_at(&t, "refreshToken")), None);
    for _ in 0..3 {
        sim.advance(3_600_000.0);
        let call_b = sim.access_token(b);
        sim.run();
        assert_eq!(sim.result(call_b), oauth_connect::fields::Value::Text(sim.access_token_now(a).unwrap()));
    }
    assert_eq!(server.borrow().refreshes, 3, "A refreshed for B each time");
    assert!(!server.borrow().grant_revoked());
    // No broadcast held a refresh token ("rt-…"), nor any storage but A's own session.
    for (_, effect) in &sim.log {
        if let oauth_connect::effect::Effect::Broadcast { message } = effect {
            assert!(!message.contains("\"rt-") && !message.contains("refreshToken"), "{message}");
        }
    }
    sim.assert_no_leaks();
}

/// A set pushed on the channel (by a same-origin script) is never taken with a refresh token,
/// never by the tab that holds its own refresh token, and never for another `sub` (it used to
/// be adopted whole, refresh token included).
#[test]
fn memory_rt_stays_in_tab_a_pushed_set_is_taken_as_an_access_token_only() {
    let (mut sim, _server, a, b) = two_tabs();
    let key = sim
        .log
        .iter()
        .find_map(|(_, effect)| match effect {
            oauth_connect::effect::Effect::Broadcast { message } => text_at(&json(message), "key"),
            _ => None,
        })
        .unwrap();
    let forged = format!(
        r#"{{"type":"oauth-connect:tokens","key":"{key}","tokens":{{"accessToken":"forged-at","tokenType":"Bearer","refreshToken":"forged-rt"}}}}"#
    );
    let before_a = sim.access_token_now(a);
    for page in [a.page, b.page] {
        sim.feed(page, oauth_connect::effect::Event::ChannelMessage { data: Some(forged.clone()) });
    }
    sim.run();
    assert_eq!(sim.access_token_now(a), before_a, "the holder keeps its own set");
    assert!(sim.tokens(a).and_then(|t| text_at(&t, "refreshToken")).is_some_and(|rt| rt != "forged-rt"));
    assert_eq!(sim.tokens(b).and_then(|t| text_at(&t, "refreshToken")), None, "never a refresh token from the channel");
}

/// A relayed Turnqey callback for this flow's state but another identity, another platform or
/// a status that is not `connected` never completes the flow (it used to: only `state` and
/// `collection` were read).
#[test]
fn relay_cannot_complete_a_turnqey_flow_for_another_identity_or_status() {
    for (from, to) in [("identity=user-42", "identity=user-7"), ("status=connected", "status=revoked"), ("platform=", "platform=x")] {
        let mut sim = Sim::new();
        let turnqey = sim.turnqey_backend();
        let tab = sim.open_tab();
        let conn = sim.connect(tab, &turnqey_config(""));
        let (call, popup) = sim.popup_until_provider(conn);
        let url = sim.popups[popup].location.clone();
        let back = turnqey.borrow_mut().approve(&url);
        assert!(back.contains(from), "{back}");
        // `platform=` + the configured platform becomes another one.
        sim.popup_lands(popup, &back.replacen(from, to, 1));
        sim.run();
        assert_eq!(sim.code(call), ErrorCode::InvalidCallback, "{to}");
        assert_ne!(sim.status(conn), "connected");
    }
}

/// A relayed Liquid return page must name this flow's session: one with the state but no (or
/// another) `session_id` never completes the flow (without `session_id` it used to pass).
#[test]
fn relay_cannot_complete_a_liquid_flow_without_its_session() {
    for forge in [|back: &str| back.split("&session_id=").next().unwrap().to_string(), |back: &str| back.replacen("session_id=", "session_id=x", 1)] {
        let mut sim = Sim::new();
        let liquid = sim.liquid_backend();
        let tab = sim.open_tab();
        let conn = sim.connect(tab, &liquid_return_config(""));
        let (call, popup) = sim.popup_until_provider(conn);
        let url = sim.popups[popup].location.clone();
        let back = liquid.borrow_mut().approve(&url).unwrap();
        assert!(back.contains("&session_id="), "{back}");
        sim.popup_lands(popup, &forge(&back));
        sim.run();
        assert_eq!(sim.code(call), ErrorCode::InvalidCallback);
        assert_ne!(sim.status(conn), "connected");
    }
}

/// RFC 9700 §4.3.2: no access or refresh token ever goes into a URL (a request's, a window's,
/// the address bar's), through a connect and refreshes in two tabs.
#[test]
fn no_token_in_any_url() {
    use oauth_connect::effect::Effect;
    let (mut sim, _server, a, b) = two_tabs();
    for _ in 0..2 {
        sim.advance(3_600_000.0);
        let call = sim.access_token(b);
        sim.run();
        assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    }
    let tokens: Vec<String> = sim.secrets.borrow().iter().filter(|s| s.starts_with("at-") || s.starts_with("rt-")).cloned().collect();
    assert!(tokens.len() >= 4, "{tokens:?}");
    let _ = a;
    for (_, effect) in &sim.log {
        let url = match effect {
            Effect::Fetch(request) => &request.url,
            Effect::NavigateWindow { url, .. } | Effect::NavigateSelf { url } | Effect::ReplaceUrl { url } => url,
            _ => continue,
        };
        assert!(tokens.iter().all(|token| !url.contains(token.as_str())), "a token in {url}");
    }
}

/// A set pushed on the channel that names another `sub` than the tab knows is not taken (OIDC).
#[test]
fn memory_rt_stays_in_tab_a_pushed_set_for_another_user_is_not_taken() {
    let mut sim = Sim::new();
    let server = sim.oidc_server();
    let tab = sim.open_tab();
    let a = sim.connect(tab, &oidc_config(""));
    let call = sim.popup_flow(&server, a);
    assert!(matches!(sim.settled(call), Some(Settled::Resolved(_))));
    let tab_b = sim.open_tab();
    let b = sim.connect(tab_b, &oidc_config(""));
    let before = sim.access_token_now(b);
    assert!(before.is_some(), "B took A's set (same user)");
    let key = sim
        .log
        .iter()
        .find_map(|(_, effect)| match effect {
            oauth_connect::effect::Effect::Broadcast { message } => text_at(&json(message), "key"),
            _ => None,
        })
        .unwrap();
    let forged = format!(r#"{{"type":"oauth-connect:tokens","key":"{key}","sub":"mallory","tokens":{{"accessToken":"forged-at","tokenType":"Bearer"}}}}"#);
    sim.feed(b.page, oauth_connect::effect::Event::ChannelMessage { data: Some(forged) });
    sim.run();
    assert_eq!(sim.access_token_now(b), before);
}
