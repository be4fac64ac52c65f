//! Token requests and responses for public clients: the code exchange
//! ([RFC 6749 §4.1.3](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3) with
//! [RFC 7636 §4.5](https://www.rfc-editor.org/rfc/rfc7636#section-4.5)), refresh
//! ([§6](https://www.rfc-editor.org/rfc/rfc6749#section-6)), the successful response
//! ([§5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1)) and the error response
//! ([§5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)). The HTTP itself is in
//! `browser/http.rs`.

use alloc::string::String;

use crate::callback::AuthorizationCode;
use crate::encoding::form_serialize_str;
use crate::error::{refused_by, ConnectError, ErrorCode, Result};
use crate::fields::{Fields, Reader, Record, Value};
use crate::pkce::PkceVerifier;
use crate::secret::Secret;

/// A token set as the app sees it (`TokenSet` of the contract). `expires_at_ms` is epoch ms.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSet {
    pub access_token: Secret,
    pub token_type: String,
    pub expires_at_ms: Option<f64>,
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
    pub id_token: Option<Secret>,
}

impl TokenSet {
    /// True when the access token expires within `skew_ms` of `now_ms` (or has expired).
    /// A token without `expires_in` is taken as valid: the server said nothing about it.
    pub fn needs_refresh(&self, now_ms: f64, skew_ms: u32) -> bool {
        self.expires_at_ms.is_some_and(|expires_at| now_ms + f64::from(skew_ms) >= expires_at)
    }

    /// True when the access token is past its expiry.
    pub fn is_expired(&self, now_ms: f64) -> bool {
        self.expires_at_ms.is_some_and(|expires_at| now_ms >= expires_at)
    }

    /// Read back a token set in the contract's shape (`accessToken`, `tokenType`, ...), as stored
    /// in `sessionStorage` or shared between tabs.
    pub fn from_contract_fields(fields: &Record) -> Result<TokenSet> {
        let mut read = Reader::new(fields, ErrorCode::TokenError);
        let access_token = read.opt("accessToken").filter(|t| !t.is_empty());
        let token_type = read.opt("tokenType");
        if access_token.is_none() || token_type.is_none() {
            read.invalid("stored tokens lack accessToken or tokenType");
        }
        let tokens = TokenSet {
            access_token: Secret::new(access_token.unwrap_or_default()),
            token_type: token_type.unwrap_or_default(),
            expires_at_ms: read.number("expiresAt"),
            refresh_token: read.opt("refreshToken").map(Secret::new),
            scope: read.opt("scope"),
            id_token: read.opt("idToken").map(Secret::new),
        };
        read.finish(tokens)
    }
}

/// The form body of the code exchange for a public client: the client authenticates with
/// nothing but its `client_id`, and proves possession of the PKCE verifier.
pub fn authorization_code_body(code: &AuthorizationCode, redirect_uri: &str, client_id: &str, verifier: &PkceVerifier) -> String {
    form_serialize_str(&[
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier.secret()),
    ])
}

/// The form body of a refresh ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)).
pub fn refresh_body(refresh_token: &Secret, client_id: &str) -> String {
    form_serialize_str(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose()), ("client_id", client_id)])
}

/// A successful token response (§5.1) as a [`TokenSet`]. `previous_refresh_token` is kept when
/// a refresh response carries none (the server may keep the old one valid, §6).
pub fn token_set_from_response(fields: &Record, now_ms: f64, previous_refresh_token: Option<&Secret>) -> Result<TokenSet> {
    let mut read = Reader::new(fields, ErrorCode::TokenError);
    let access_token = read.nonempty("access_token", "token response: no access_token");
    let token_type = read.nonempty("token_type", "token response: no token_type");
    let expires_at_ms = match read.number("expires_in") {
        Some(seconds) if seconds < 0.0 => {
            read.invalid("token response: negative expires_in");
            None
        }
        seconds => seconds.map(|seconds| now_ms + seconds * 1000.0),
    };
    let refresh_token = match read.opt("refresh_token") {
        Some(token) if !token.is_empty() => Some(Secret::new(token)),
        _ => previous_refresh_token.cloned(),
    };
    let tokens = TokenSet {
        access_token: Secret::new(access_token),
        token_type,
        expires_at_ms,
        refresh_token,
        scope: read.opt("scope"),
        id_token: read.opt("id_token").filter(|t| !t.is_empty()).map(Secret::new),
    };
    read.finish(tokens)
}

/// An error response (§5.2), or any other failure of the token endpoint, as `token_error`
/// with what the server said. `fields` is `None` when the body was not a JSON object.
pub fn token_error(status: u16, fields: Option<&Record>) -> ConnectError {
    // What is not a string is left out: the refusal stands either way.
    let text = |name| match fields.and_then(|fields| fields.field(name)) {
        Some(Value::Text(text)) => Some(text.as_str()),
        _ => None,
    };
    refused_by(ErrorCode::TokenError, "the token endpoint refused the request", text("error"), text("error_description"), text("error_uri")).with_status(status)
}

/// Whether a failed refresh can be tried again: the network failed or the server had a
/// transient problem. An `invalid_grant` never is.
pub fn is_retryable(error: &ConnectError) -> bool {
    match error.code() {
        ErrorCode::Network => true,
        ErrorCode::TokenError => error.status().is_some_and(|status| status >= 500 || status == 429),
        _ => false,
    }
}

/// The delays before each retry of a refresh: three attempts in all.
pub const REFRESH_RETRY_DELAYS_MS: [u32; 2] = [300, 1_200];

/// `true` when the server says the refresh token is no good any more: the user must connect again.
pub fn is_invalid_grant(error: &ConnectError) -> bool {
    error.provider().is_some_and(|provider| provider.error == "invalid_grant")
}

/// A short fingerprint of a refresh token (96 bits of its SHA-256, base64url). Tabs compare
/// fingerprints to learn that another tab rotated the token, without sharing the token in
/// storage; the token cannot be recovered from it.
pub fn fingerprint(token: &Secret) -> String {
    crate::encoding::base64url(&crate::sha256::sha256(token.expose().as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::{parse_callback, CallbackExpectation, ResponseMode};
    use crate::fields::{record, text};
    use alloc::format;

    #[test]
    fn code_exchange_body_is_form_encoded() {
        let callback = parse_callback(
            "https://app.example/cb?code=Splx%2BlOB&state=s",
            &CallbackExpectation { state: "s", issuer: None, iss_required: false, response_mode: ResponseMode::Query },
        )
        .unwrap();
        let verifier = PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into()).unwrap();
        assert_eq!(
            authorization_code_body(callback.code(), "https://app.example/cb", "s6Bh dRk", &verifier),
            "grant_type=authorization_code&code=Splx%2BlOB&redirect_uri=https%3A%2F%2Fapp.example%2Fcb\
             &client_id=s6Bh+dRk&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn refresh_body_is_form_encoded() {
        assert_eq!(refresh_body(&Secret::new("tGzv/3JO".into()), "app"), "grant_type=refresh_token&refresh_token=tGzv%2F3JO&client_id=app");
    }

    #[test]
    fn reads_a_token_response() {
        let response = record(&[
            ("access_token", text("2YotnFZFEjr1zCsicMWpAA")),
            ("token_type", text("Bearer")),
            ("expires_in", Value::Number(3600)),
            ("refresh_token", text("tGzv3JOkF0XG5Qx2TlKWIA")),
            ("scope", text("openid profile")),
            ("id_token", text("a.b.c")),
        ]);
        let tokens = token_set_from_response(&response, 1_000.0, None).unwrap();
        assert_eq!(tokens.access_token.expose(), "2YotnFZFEjr1zCsicMWpAA");
        assert_eq!(tokens.expires_at_ms, Some(3_601_000.0));
        assert_eq!(tokens.refresh_token.as_ref().unwrap().expose(), "tGzv3JOkF0XG5Qx2TlKWIA");
        assert!(!format!("{tokens:?}").contains("2YotnFZFEjr1zCsicMWpAA"));
        assert!(!tokens.needs_refresh(3_540_000.0, 60_000));
        assert!(tokens.needs_refresh(3_541_000.0, 60_000));
        assert!(!tokens.is_expired(3_600_999.0) && tokens.is_expired(3_601_000.0));
    }

    #[test]
    fn keeps_the_old_refresh_token_unless_rotated() {
        let old = Secret::new("old".into());
        let without = record(&[("access_token", text("a")), ("token_type", text("Bearer")), ("expires_in", text("60"))]);
        let tokens = token_set_from_response(&without, 0.0, Some(&old)).unwrap();
        assert_eq!(tokens.refresh_token, Some(old.clone()));
        assert_eq!(tokens.expires_at_ms, Some(60_000.0));
        let rotated = record(&[("access_token", text("a")), ("token_type", text("Bearer")), ("refresh_token", text("new"))]);
        assert_eq!(token_set_from_response(&rotated, 0.0, Some(&old)).unwrap().refresh_token.unwrap().expose(), "new");
    }

    #[test]
    fn refuses_incomplete_responses() {
        for response in [
            record(&[("token_type", text("Bearer"))]),
            record(&[("access_token", text("a"))]),
            record(&[("access_token", text("")), ("token_type", text("Bearer"))]),
            record(&[("access_token", text("a")), ("token_type", text("Bearer")), ("expires_in", Value::Number(-5))]),
            record(&[("access_token", Value::Number(1)), ("token_type", text("Bearer"))]),
        ] {
            assert_eq!(token_set_from_response(&response, 0.0, None).unwrap_err().code(), ErrorCode::TokenError);
        }
    }

    #[test]
    fn error_responses_carry_the_provider_fields() {
        let body = record(&[("error", text("invalid_grant")), ("error_description", text("grant request is invalid"))]);
        let error = token_error(400, Some(&body));
        assert_eq!(error.code(), ErrorCode::TokenError);
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.provider().unwrap().error, "invalid_grant");
        assert!(is_invalid_grant(&error) && !is_retryable(&error));
        assert!(is_retryable(&token_error(503, None)));
        assert!(is_retryable(&ConnectError::new(ErrorCode::Network, "offline")));
    }

    #[test]
    fn contract_shape_round_trip() {
        let stored = record(&[
            ("accessToken", text("a")),
            ("tokenType", text("Bearer")),
            ("expiresAt", Value::Number(5)),
            ("refreshToken", text("r")),
        ]);
        let tokens = TokenSet::from_contract_fields(&stored).unwrap();
        assert_eq!((tokens.access_token.expose(), tokens.expires_at_ms), ("a", Some(5.0)));
        assert!(TokenSet::from_contract_fields(&record(&[("tokenType", text("Bearer"))])).is_err());
    }
}
