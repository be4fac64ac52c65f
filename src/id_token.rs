//! ID token claim checks ([OpenID Connect Core §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)).
//!
//! The ID token is received directly from the token endpoint over TLS, so its signature check
//! may be skipped (§3.1.3.7 item 6); the claims are always checked: `iss`, `aud` (and `azp`),
//! `nonce`, `exp`. Decoding the JSON is the browser's (`JSON.parse`); this module splits the
//! JWT and judges the claims.

use alloc::string::String;
use alloc::vec::Vec;

use crate::encoding::{has_byte, split_once_byte};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::{opt_string_list, Reader, Record};

/// Clock skew allowed on `exp`, in seconds.
pub const EXP_LEEWAY_SECONDS: f64 = 60.0;

fn invalid(message: &'static str) -> ConnectError {
    ConnectError::new(ErrorCode::InvalidIdToken, message)
}

/// The payload bytes of a compact JWS (`header.payload.signature`, [RFC 7515 §7.1](https://www.rfc-editor.org/rfc/rfc7515#section-7.1)).
pub fn jwt_payload(token: &str) -> Result<Vec<u8>> {
    let payload = split_once_byte(token, b'.')
        .and_then(|(_header, rest)| split_once_byte(rest, b'.'))
        .filter(|(_payload, signature)| !has_byte(signature, b'.'))
        .map(|(payload, _signature)| payload);
    let Some(payload) = payload else {
        return Err(invalid("ID token: not a compact JWT"));
    };
    crate::encoding::base64url_decode(payload).ok_or_else(|| invalid("ID token: payload not base64url"))
}

/// What the claims must match.
pub struct IdTokenExpectation<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The nonce sent with the authorization request; `None` for a refreshed ID token, which
    /// carries none to compare (§12.2).
    pub nonce: Option<&'a str>,
    pub now_seconds: f64,
    /// On refresh, the `sub` of the first ID token: it must not change (§12.2).
    pub subject: Option<&'a str>,
}

/// Check the claims; returns the `sub`.
pub fn check_claims(claims: &Record, expect: &IdTokenExpectation<'_>) -> Result<String> {
    let code = ErrorCode::InvalidIdToken;
    let mut read = Reader::new(claims, code);
    if read.str("iss") != Some(expect.issuer) {
        read.invalid("ID token: iss is not the issuer");
    }
    let audiences = opt_string_list(claims, "aud", false, code);
    let audiences = read.take(audiences).unwrap_or_default();
    if !audiences.iter().any(|aud| aud == expect.client_id) {
        read.invalid("ID token: aud lacks this client");
    }
    let azp = read.str("azp");
    if (audiences.len() > 1 || azp.is_some()) && azp != Some(expect.client_id) {
        read.invalid("ID token: azp is not this client");
    }
    match read.number("exp") {
        Some(exp) if exp + EXP_LEEWAY_SECONDS > expect.now_seconds => {}
        Some(_) => read.invalid("ID token: expired"),
        None => read.invalid("ID token: no exp"),
    }
    if let Some(nonce) = expect.nonce {
        if !crate::state::constant_time_eq(read.str("nonce").unwrap_or_default(), nonce) {
            read.invalid("ID token: wrong nonce (possible replay)");
        }
    }
    let subject = read.nonempty("sub", "ID token: no sub");
    if expect.subject.is_some_and(|previous| previous != subject) {
        read.invalid("ID token: sub changed (another user)");
    }
    read.finish(subject)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{record, text, Value};
    use alloc::vec;

    fn claims() -> Vec<(String, Value)> {
        record(&[
            ("iss", text("https://id.example")),
            ("aud", text("app")),
            ("exp", Value::Number(2_000)),
            ("nonce", text("n-0S6_WzA2Mj")),
            ("sub", text("alice")),
        ])
    }

    fn expect() -> IdTokenExpectation<'static> {
        IdTokenExpectation { issuer: "https://id.example", client_id: "app", nonce: Some("n-0S6_WzA2Mj"), now_seconds: 1_000.0, subject: None }
    }

    fn with(name: &str, value: Value) -> Vec<(String, Value)> {
        let mut claims = claims();
        claims.retain(|(key, _)| key != name);
        claims.push((String::from(name), value));
        claims
    }

    #[test]
    fn accepts_good_claims() {
        assert_eq!(check_claims(&claims(), &expect()).unwrap(), "alice");
        let many = with("aud", Value::List(vec![text("app"), text("other")]));
        assert!(check_claims(&many, &expect()).is_err());
        let mut with_azp = many.clone();
        with_azp.push((String::from("azp"), text("app")));
        assert!(check_claims(&with_azp, &expect()).is_ok());
    }

    #[test]
    fn refuses_bad_claims() {
        for (name, value) in [
            ("iss", text("https://evil.example")),
            ("aud", text("other")),
            ("exp", Value::Number(900)),
            ("exp", Value::Absent),
            ("nonce", text("replayed")),
            ("nonce", Value::Absent),
            ("sub", Value::Absent),
        ] {
            assert_eq!(check_claims(&with(name, value), &expect()).unwrap_err().code(), ErrorCode::InvalidIdToken, "{name}");
        }
        let refreshed = IdTokenExpectation { nonce: None, subject: Some("bob"), ..expect() };
        assert!(check_claims(&claims(), &refreshed).is_err());
    }

    #[test]
    fn splits_a_jwt() {
        assert_eq!(jwt_payload("eyJhbGciOiJub25lIn0.eyJhIjoxfQ.").unwrap(), b"{\"a\":1}");
        assert!(jwt_payload("only.two").is_err());
        assert!(jwt_payload("a.b.c.d").is_err());
        assert!(jwt_payload("a.!!!.c").is_err());
    }
}
