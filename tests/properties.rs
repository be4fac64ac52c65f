//! Property tests of the pure core (native only: proptest does not run in the browser).
#![cfg(not(target_arch = "wasm32"))]

use oauth_connect::authorize::{build_authorize_url, ParamValue};
use oauth_connect::callback::{parse_callback, CallbackExpectation, ResponseMode};
use base64::Engine;
use oauth_connect::encoding::{base64url, base64url_decode, form_parse};
use oauth_connect::error::ErrorCode;
use oauth_connect::pkce::pkce_challenge;
use proptest::collection::vec;
use proptest::prelude::*;

/// Any text, weighted towards the characters that URL encoding treats specially.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[ &=+%#?/:@!$'()*,;~._\\-a-zA-Z0-9é€😀\u{0}\u{7f}]{0,24}",
    ]
}

/// A parameter map: distinct names in insertion order.
fn any_params() -> impl Strategy<Value = Vec<(String, String)>> {
    vec((any_text(), any_text()), 0..12).prop_map(|pairs| {
        let mut distinct: Vec<(String, String)> = Vec::new();
        for (name, value) in pairs {
            if !distinct.iter().any(|(seen, _)| *seen == name) {
                distinct.push((name, value));
            }
        }
        distinct
    })
}

fn as_params(pairs: &[(String, String)]) -> Vec<(String, ParamValue)> {
    pairs.iter().map(|(name, value)| (name.clone(), ParamValue::One(value.clone()))).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever goes into `build_authorize_url` comes back out of the query unchanged and in order.
    #[test]
    fn any_parameter_map_survives_build_then_parse(params in any_params()) {
        let url = build_authorize_url("https://as.example/authorize?tenant=t%201", as_params(&params)).unwrap();
        let query = url.split_once('?').unwrap().1;
        prop_assert!(!url.contains('#') && !url.contains(' '));
        let mut expected = vec![("tenant".to_string(), "t 1".to_string())];
        expected.extend(params.iter().cloned());
        prop_assert_eq!(form_parse(query), expected);
    }

    /// The same, through `parse_callback`: a callback carrying any extra parameters yields them all.
    #[test]
    fn any_parameter_map_survives_build_then_parse_callback(params in any_params(), state in "[A-Za-z0-9_-]{1,64}", code in ".+") {
        const RESERVED: [&str; 9] = ["code", "state", "iss", "error", "token", "access_token", "id_token", "response", "tenant"];
        let mut sent: Vec<(String, String)> = params.into_iter().filter(|(name, _)| !RESERVED.contains(&name.as_str())).collect();
        sent.push(("code".into(), code.clone()));
        sent.push(("state".into(), state.clone()));
        let url = build_authorize_url("http://localhost:8080/callback", as_params(&sent)).unwrap();
        let expect = CallbackExpectation { state: &state, issuer: None, iss_required: false, response_mode: ResponseMode::Query };
        let callback = parse_callback(&url, &expect).unwrap();
        prop_assert_eq!(callback.code().secret(), code.as_str());
        prop_assert_eq!(callback.params(), &sent[..]);
    }

    /// Arbitrary callback URLs and expectations give a result or a `ConnectError`, never a panic,
    /// and an error never quotes the code it was given.
    #[test]
    fn parse_callback_never_panics(url in any_text(), state in any_text(), issuer in proptest::option::of(any_text()), fragment in any::<bool>()) {
        let response_mode = if fragment { ResponseMode::Fragment } else { ResponseMode::Query };
        let expect = CallbackExpectation { state: &state, issuer: issuer.as_deref(), iss_required: false, response_mode };
        let _ = parse_callback(&url, &expect);
        let prefixed = format!("https://app.example/cb?{url}");
        if let Err(error) = parse_callback(&prefixed, &expect) {
            prop_assert!(!error.code().as_str().is_empty());
        }
    }

    #[test]
    fn parse_callback_errors_never_quote_the_code(code in "[A-Za-z0-9]{16,40}", extra in "(state=x|iss=y|code=z|access_token=t|error=e)") {
        let url = format!("https://app.example/cb?code={code}&state=expected&{extra}");
        let expect = CallbackExpectation { state: "expected", issuer: Some("https://as.example"), iss_required: false, response_mode: ResponseMode::Query };
        let error = parse_callback(&url, &expect).unwrap_err();
        prop_assert!(!error.message().contains(&code));
    }

    /// `pkce_challenge` on arbitrary text: a challenge exactly when the RFC 7636 §4.1 grammar
    /// holds, `invalid_verifier` otherwise, never a panic.
    #[test]
    fn pkce_challenge_never_panics(verifier in prop_oneof![".*", "[A-Za-z0-9._~-]{40,130}"]) {
        let valid = (43..=128).contains(&verifier.len())
            && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        match pkce_challenge(&verifier) {
            Ok(challenge) => { prop_assert!(valid); prop_assert_eq!(challenge.len(), 43); }
            Err(error) => { prop_assert!(!valid); prop_assert_eq!(error.code(), ErrorCode::InvalidVerifier); }
        }
    }

    /// Arbitrary endpoints give a URL or `invalid_config`, never a panic.
    #[test]
    fn build_authorize_url_never_panics(endpoint in any_text(), params in any_params()) {
        for endpoint in [endpoint.clone(), format!("https://{endpoint}"), format!("https://as.example/{endpoint}")] {
            if let Err(error) = build_authorize_url(&endpoint, as_params(&params)) {
                prop_assert_eq!(error.code(), ErrorCode::InvalidConfig);
            }
        }
    }

    /// base64url round-trips any bytes, with the length RFC 4648 §5 gives without padding.
    #[test]
    fn base64url_round_trips(bytes in vec(any::<u8>(), 0..200)) {
        let encoded = base64url(&bytes);
        prop_assert_eq!(encoded.len(), (bytes.len() * 8).div_ceil(6));
        prop_assert_eq!(base64url_decode(&encoded), Some(bytes));
    }

    /// The hand-written codec agrees with the `base64` crate it replaced (a dev-dependency only):
    /// the same text for any bytes, and for any text the same bytes or the same refusal
    /// (trailing `=` were trimmed before decoding, as `id_token::jwt_payload` did).
    #[test]
    fn base64url_agrees_with_the_base64_crate(bytes in vec(any::<u8>(), 0..64), text in prop_oneof!["[A-Za-z0-9_-]{0,24}={0,2}", "[A-Za-z0-9_+/=. -]{0,24}"]) {
        let reference = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        prop_assert_eq!(base64url(&bytes), reference.encode(&bytes));
        prop_assert_eq!(base64url_decode(&text), reference.decode(text.trim_end_matches('=')).ok());
    }

    /// The hand-written SHA-256 agrees with the `sha2` crate it replaced (a dev-dependency only),
    /// across the one- and two-block paddings and longer input.
    #[test]
    fn sha256_agrees_with_the_sha2_crate(bytes in vec(any::<u8>(), 0..300)) {
        use sha2::Digest;
        prop_assert_eq!(oauth_connect::sha256::sha256(&bytes).to_vec(), sha2::Sha256::digest(&bytes).to_vec());
    }

    /// The hand-written UTF-8 check agrees with core's `from_utf8` (which it replaced in the
    /// wasm): the text, or where the valid prefix ends and how long the invalid subpart is.
    /// Mostly multi-byte characters, cut and spliced, so that the edge cases come up often.
    #[test]
    fn utf8_check_agrees_with_core(pieces in vec(prop_oneof![any::<u8>().prop_map(|b| vec![b]), any::<char>().prop_map(|c| c.to_string().into_bytes()), (any::<char>(), 1..4usize).prop_map(|(c, cut)| { let b = c.to_string().into_bytes(); b[..cut.min(b.len())].to_vec() })], 0..20)) {
        let bytes: Vec<u8> = pieces.concat();
        let core = std::str::from_utf8(&bytes).map_err(|e| (std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap(), e.error_len().unwrap_or(bytes.len() - e.valid_up_to())));
        prop_assert_eq!(oauth_connect::encoding::utf8(&bytes), core);
    }

    /// `form_parse` decodes every escape and replaces bytes that are not UTF-8 as std does.
    #[test]
    fn form_parse_decodes_bytes_like_std(bytes in vec(any::<u8>(), 0..40)) {
        let mut escaped = String::from("n=");
        for byte in &bytes {
            escaped.push_str(&format!("%{byte:02X}"));
        }
        let pairs = form_parse(&escaped);
        prop_assert_eq!(pairs, vec![(String::from("n"), String::from_utf8_lossy(&bytes).into_owned())]);
    }

    /// `callback_state` answers what a full parse of query then fragment says.
    #[test]
    fn callback_state_agrees_with_a_full_parse(query in proptest::option::of(any_text()), fragment in proptest::option::of(any_text())) {
        let clean = |text: &str| text.replace(['#', ' '], "").replace(|c: char| c.is_control(), "");
        let mut url = String::from("https://app.example/cb");
        let query = query.map(|q| clean(&q).replace('?', ""));
        let fragment = fragment.map(|f| clean(&f));
        if let Some(q) = &query { url.push('?'); url.push_str(q); }
        if let Some(f) = &fragment { url.push('#'); url.push_str(f); }
        let pairs: Vec<(String, String)> = [query, fragment].into_iter().flatten().flat_map(|c| form_parse(&c)).collect();
        let has = pairs.iter().any(|(name, _)| matches!(name.as_str(), "state" | "code" | "error"));
        let state = pairs.iter().find(|(name, _)| name == "state").map(|(_, value)| value.clone());
        let expected = has.then(|| state.unwrap_or_default());
        prop_assert_eq!(oauth_connect::flow::callback_state(&url), expected);
    }

    /// A port is kept when it is 1 to 5 digits of at most 65535, and refused otherwise.
    #[test]
    fn url_ports_are_read_exactly(port in prop_oneof!["[0-9]{1,7}", "[0-9a-z+-]{1,4}"]) {
        let parsed = oauth_connect::url::WebUrl::parse(&format!("https://x.example:{port}/")).map(|url| url.port);
        let expected = match port.parse::<u32>() {
            Ok(n) if port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) && n <= 65535 => Ok((n != 443).then_some(n as u16)),
            _ => Err(oauth_connect::url::UrlProblem::BadPort),
        };
        prop_assert_eq!(parsed, expected);
    }

    /// A config URL is kept as `trim()` would keep it, or refused.
    #[test]
    fn config_urls_are_trimmed_or_refused(before in "[ \t\n\r\u{b}\u{c}\u{a0}\u{3000}]{0,3}", after in "[ \t\n\r\u{b}\u{c}\u{a0}\u{3000}]{0,3}") {
        use oauth_connect::fields::Value;
        let uri = format!("{before}https://app.example/cb{after}");
        let fields: Vec<(String, Value)> = vec![
            (String::from("kind"), Value::Text(String::from("oauth2"))),
            (String::from("authorizationEndpoint"), Value::Text(String::from("https://as.example/authorize"))),
            (String::from("clientId"), Value::Text(String::from("app"))),
            (String::from("redirectUri"), Value::Text(uri.clone())),
        ];
        if let Ok(config) = oauth_connect::config::ConnectConfig::parse(&fields) {
            prop_assert_eq!(config.redirect_uri(), uri.trim());
        }
    }
}
