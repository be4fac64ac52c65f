//! ID tokens: any compact JWT text is accepted only with the right iss, aud, nonce and a future
//! exp, or refused with a ConnectError; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::secret::Secret;

const ISSUER: &str = "https://id.example";

fuzz_target!(|text: &str| {
    let token = Secret::new(String::from(text));
    let now = 1_800_000_000_000.0;
    if let Ok(sub) = oauth_connect::providers::oidc::check_id_token(&token, ISSUER, "client-1", Some("n-0S6_WzA2Mj"), None, now) {
        // Accepted: its payload really says so.
        let payload = oauth_connect::id_token::jwt_payload(text).expect("an accepted token has a payload");
        let claims = oauth_connect::json::parse_object(std::str::from_utf8(&payload).unwrap()).unwrap();
        let get = |name: &str| oauth_connect::fields::Fields::field(&claims, name).cloned();
        assert_eq!(get("iss"), Some(oauth_connect::fields::Value::Text(ISSUER.into())));
        assert_eq!(get("nonce"), Some(oauth_connect::fields::Value::Text("n-0S6_WzA2Mj".into())));
        assert_eq!(get("sub"), Some(oauth_connect::fields::Value::Text(sub)));
    }
});
