//! Callback parsing (`parseCallback`'s checks) and the address-bar cleanup on any input: never a
//! panic; a callback accepted has the expected state, a non-empty code, and no parameter twice;
//! the cleaned address keeps none of the removed names and is the same URL otherwise.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::callback::{parse_callback, CallbackExpectation, ResponseMode};

// The input is lines: the expected state, the expected issuer (empty: none), `query` or
// `fragment`, then the callback URL (the rest, newlines and all), so seeds are readable.
fuzz_target!(|input: &str| {
    let mut lines = input.splitn(4, '\n');
    let (state, issuer, mode, url) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""), lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    let issuer = (!issuer.is_empty()).then_some(issuer);
    let response_mode = if mode == "fragment" { ResponseMode::Fragment } else { ResponseMode::Query };
    // An issuer given with a `!` in front: its responses always carry `iss`.
    let (issuer, iss_required) = match issuer.map(|issuer| issuer.strip_prefix('!').map_or((issuer, false), |rest| (rest, true))) {
        Some((issuer, required)) => (Some(issuer), required),
        None => (None, false),
    };
    let expect = CallbackExpectation { state, issuer, iss_required, response_mode };
    if let Ok(callback) = parse_callback(url, &expect) {
        assert_eq!(callback.state(), state);
        assert!(!callback.code().secret().is_empty());
        let names: Vec<&str> = callback.params().iter().map(|(name, _)| name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "a parameter twice in {url:?}");
        if let (Some(expected), Some(iss)) = (issuer, callback.iss()) {
            assert_eq!(expected, iss);
        }
        if iss_required {
            assert!(callback.iss().is_some());
        }
    }
    let removed = ["code", "state", "iss", "error"];
    if let Some(cleaned) = oauth_connect::flow::strip_params(url, &removed) {
        let (_, query, fragment) = oauth_connect::url::split_query_fragment(&cleaned);
        for component in [query, fragment].into_iter().flatten() {
            for (name, _) in url::form_urlencoded::parse(component.as_bytes()) {
                assert!(!removed.contains(&name.as_ref()), "{url:?} kept {name:?}");
            }
        }
        assert!(cleaned.len() < url.len());
        assert!(url.starts_with(oauth_connect::url::split_query_fragment(&cleaned).0));
    }
});
