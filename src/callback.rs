//! The authorization response
//! ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)): parsing and
//! validating the redirect back. [`parse_callback`] is the only maker of a [`Callback`], and a
//! `Callback` is the only thing the token exchange accepts, so an unchecked code can never be
//! redeemed.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::authorize::{first_repeated_name, quote_name};
use crate::encoding::form_parse;
use crate::error::{refused_by, ConnectError, ErrorCode, Result};
use crate::state::constant_time_eq;
use crate::url::query_and_fragment;

/// Where the authorization server puts the response parameters
/// ([OAuth 2.0 Multiple Response Type Encoding Practices §2](https://openid.net/specs/oauth-v2-multiple-response-types-1_0.html#ResponseModes)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    #[default]
    Query,
    Fragment,
}

/// What the callback must match.
#[derive(Debug, Clone)]
pub struct CallbackExpectation<'a> {
    /// The `state` sent with the authorization request. Required and compared in constant time.
    pub state: &'a str,
    /// The issuer identifier; when given, an `iss` parameter must equal it
    /// ([RFC 9207 §2.4](https://www.rfc-editor.org/rfc/rfc9207#section-2.4)).
    pub issuer: Option<&'a str>,
    /// The issuer always sends `iss` (its discovery document says
    /// `authorization_response_iss_parameter_supported`): a response without one is refused
    /// ([RFC 9207 §2.4](https://www.rfc-editor.org/rfc/rfc9207#section-2.4), the mix-up defence).
    pub iss_required: bool,
    pub response_mode: ResponseMode,
}

/// An authorization code ([RFC 6749 §1.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-1.3.1)):
/// a secret with a redacted `Debug`.
pub struct AuthorizationCode(String);

impl AuthorizationCode {
    pub fn secret(&self) -> &str {
        &self.0
    }

    pub fn into_secret(self) -> String {
        self.0
    }
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationCode([redacted])")
    }
}

/// A callback that passed every check of [`parse_callback`]. `state` and `iss` are read from
/// the parameters when asked for, not copied out of them for every callback.
pub struct Callback {
    code: AuthorizationCode,
    params: Vec<(String, String)>,
}

impl Callback {
    pub fn code(&self) -> &AuthorizationCode {
        &self.code
    }

    pub fn state(&self) -> &str {
        param(&self.params, "state").unwrap_or("")
    }

    /// The `iss` parameter, checked against the expected issuer when one was given.
    pub fn iss(&self) -> Option<&str> {
        param(&self.params, "iss")
    }

    /// Every parameter of the callback in order, `code` included.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// Split into the code and the rest.
    pub fn into_parts(self) -> (AuthorizationCode, String, Option<String>, Vec<(String, String)>) {
        let (state, iss) = (String::from(self.state()), self.iss().map(String::from));
        (self.code, state, iss, self.params)
    }

    /// Split into the code and the parameters (which hold `state` and `iss`).
    pub fn into_code_and_params(self) -> (AuthorizationCode, Vec<(String, String)>) {
        (self.code, self.params)
    }
}

/// Shows parameter names only: values include the code.
impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code)
            .field("params", &self.params.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Parameters that only implicit, hybrid or JARM responses carry; a code flow callback that has
/// one was not produced by the request this library sent.
const FOREIGN_RESPONSE_PARAMS: [&str; 4] = ["token", "access_token", "id_token", "response"];

/// `parseCallback(url, expect)`: the checks run in the contract's order, and the first that fails
/// decides the error:
/// 1. `invalid_callback` if the URL cannot be read at all;
/// 2. `duplicate_parameter`: any parameter more than once (RFC 6749 §3.1);
/// 3. `authorization_error`: an `error` parameter, even empty (§4.1.2.1);
/// 4. `state_mismatch`: `state` missing or different (§10.12);
/// 5. `issuer_mismatch`: an expected issuer given and `iss` present but different, or absent
///    where the issuer always sends it (RFC 9207 §2.4);
/// 6. `missing_code`: `code` absent or empty (§4.1.2);
/// 7. `invalid_callback`: an implicit, hybrid or JARM response parameter is present.
pub fn parse_callback(url: &str, expect: &CallbackExpectation<'_>) -> Result<Callback> {
    let params = check_response(url, expect)?;
    let get = |name: &str| param(&params, name);
    let code = match get("code") {
        Some(code) if !code.is_empty() => String::from(code),
        _ => return Err(ConnectError::new(ErrorCode::MissingCode, "the callback has no authorization code")),
    };
    if FOREIGN_RESPONSE_PARAMS.iter().any(|name| get(name).is_some()) {
        return Err(ConnectError::new(
            ErrorCode::InvalidCallback,
            "the callback holds a token: not a code response",
        ));
    }
    Ok(Callback { code: AuthorizationCode(code), params })
}

/// Checks 1 to 5 of [`parse_callback`], for every kind of response (also those without a code,
/// such as Turnqey's and Liquid's): returns the parameters in order.
pub fn check_response(url: &str, expect: &CallbackExpectation<'_>) -> Result<Vec<(String, String)>> {
    if expect.state.is_empty() {
        return Err(ConnectError::new(ErrorCode::InvalidConfig, "the expected state must not be empty"));
    }
    let (query, fragment) = query_and_fragment(url)
        .ok_or_else(|| ConnectError::new(ErrorCode::InvalidCallback, "the callback is not an absolute URL"))?;
    let component = match expect.response_mode {
        ResponseMode::Query => query,
        ResponseMode::Fragment => fragment,
    };
    let params = form_parse(component.unwrap_or(""));
    let get = |name: &str| param(&params, name);

    if let Some(name) = first_repeated_name(&params) {
        return Err(ConnectError::field(ErrorCode::DuplicateParameter, &quote_name(name), crate::authorize::REPEATED));
    }
    if let Some(error) = get("error") {
        return Err(authorization_error(error, get("error_description"), get("error_uri")));
    }
    let state = get("state").unwrap_or("");
    if state.is_empty() || !constant_time_eq(state, expect.state) {
        return Err(ConnectError::new(
            ErrorCode::StateMismatch,
            "the callback's state is wrong (possible CSRF)",
        ));
    }
    let iss_wrong = match (expect.issuer, get("iss")) {
        (Some(expected), Some(received)) => received != expected,
        (Some(_), None) => expect.iss_required,
        (None, _) => false,
    };
    if iss_wrong {
        return Err(ConnectError::new(ErrorCode::IssuerMismatch, "the callback's iss is wrong or missing (possible mix-up)"));
    }
    Ok(params)
}

/// The value of the parameter `name`: the first, as [`check_response`] refuses repeats.
#[inline(never)]
pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// `authorization_error` with the provider's fields. The `error` code is quoted in the message
/// only when it keeps to the RFC's character set, so a crafted value cannot write prose.
pub(crate) fn authorization_error(error: &str, description: Option<&str>, uri: Option<&str>) -> ConnectError {
    refused_by(ErrorCode::AuthorizationError, "the authorization server refused the request", Some(error), description, uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    const STATE: &str = "af0ifjsldkj";

    fn expect() -> CallbackExpectation<'static> {
        CallbackExpectation { state: STATE, issuer: Some("https://server.example.com"), iss_required: false, response_mode: ResponseMode::Query }
    }

    fn code_of(url: &str) -> Result<Callback> {
        parse_callback(url, &expect())
    }

    #[test]
    fn accepts_a_valid_callback() {
        let callback =
            code_of("https://client.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Fserver.example.com&app=1")
                .unwrap();
        assert_eq!(callback.code().secret(), "SplxlOBeZQQYbYS6WxSbIA");
        assert_eq!(callback.state(), STATE);
        assert_eq!(callback.iss(), Some("https://server.example.com"));
        assert_eq!(callback.params().len(), 4);
        assert_eq!(callback.params()[3], ("app".into(), "1".into()));
        assert!(!format!("{callback:?}").contains("SplxlOBeZQQYbYS6WxSbIA"));
        let (code, state, iss, params) = callback.into_parts();
        assert_eq!((code.secret(), state.as_str(), iss.as_deref(), params.len()), ("SplxlOBeZQQYbYS6WxSbIA", STATE, Some("https://server.example.com"), 4));
    }

    #[test]
    fn fragment_mode_reads_the_fragment_only() {
        let fragment = CallbackExpectation { response_mode: ResponseMode::Fragment, ..expect() };
        let url = "https://client.example.com/cb?code=query&state=other#code=frag&state=af0ifjsldkj";
        assert_eq!(parse_callback(url, &fragment).unwrap().code().secret(), "frag");
        assert_eq!(code_of(url).unwrap_err().code(), ErrorCode::StateMismatch);
    }

    #[test]
    fn duplicate_parameter() {
        let error = code_of("https://c/cb?code=a&state=af0ifjsldkj&code=b").unwrap_err();
        assert_eq!(error.code(), ErrorCode::DuplicateParameter);
        assert!(error.message().contains("\"code\""));
        // Checked before everything else, even an error response.
        assert_eq!(code_of("https://c/cb?error=x&error=y").unwrap_err().code(), ErrorCode::DuplicateParameter);
    }

    /// Hostile input is read in linear time (`O(n log n)` for the duplicate check): a callback
    /// with 50,000 distinct parameters took seconds when every name was compared with every
    /// other; now it is read like any other (no timing asserted: the fuzz targets' timeouts
    /// catch a slow path).
    #[test]
    fn many_parameters_are_read_in_linear_time() {
        let mut url = alloc::string::String::from("https://app.example/cb?code=c&state=af0ifjsldkj");
        for index in 0..50_000u64 {
            url.push_str("&p");
            crate::encoding::push_decimal(&mut url, index);
            url.push_str("=v");
        }
        let callback = parse_callback(&url, &CallbackExpectation { issuer: None, ..expect() }).unwrap();
        assert_eq!(callback.params().len(), 50_002);
        url.push_str("&p49999=again");
        let error = parse_callback(&url, &CallbackExpectation { issuer: None, ..expect() }).unwrap_err();
        assert_eq!(error.code(), ErrorCode::DuplicateParameter);
        assert!(error.message().contains("\"p49999\""), "{}", error.message());
    }

    #[test]
    fn authorization_error_carries_provider_fields() {
        let error =
            code_of("https://c/cb?error=access_denied&error_description=The+user+said+no&error_uri=https%3A%2F%2Fe%2Fx&state=wrong").unwrap_err();
        assert_eq!(error.code(), ErrorCode::AuthorizationError);
        let provider = error.provider().unwrap();
        assert_eq!(provider.error, "access_denied");
        assert_eq!(provider.error_description.as_deref(), Some("The user said no"));
        assert_eq!(provider.error_uri.as_deref(), Some("https://e/x"));
        assert!(error.message().ends_with("access_denied"));
        // Even an empty error is an error.
        assert_eq!(code_of("https://c/cb?error=&code=a&state=af0ifjsldkj").unwrap_err().code(), ErrorCode::AuthorizationError);
    }

    #[test]
    fn state_mismatch() {
        for url in ["https://c/cb?code=a", "https://c/cb?code=a&state=", "https://c/cb?code=a&state=af0ifjsldkJ", "https://c/cb"] {
            assert_eq!(code_of(url).unwrap_err().code(), ErrorCode::StateMismatch, "{url}");
        }
    }

    #[test]
    fn issuer_mismatch() {
        for iss in ["https://evil.example.com", "", "https://server.example.com/"] {
            let url = format!("https://c/cb?code=a&state=af0ifjsldkj&iss={iss}");
            assert_eq!(code_of(&url).unwrap_err().code(), ErrorCode::IssuerMismatch, "{iss}");
        }
        // Expected issuer given and iss absent: passes (RFC 9207 support is the server's choice)
        // unless the issuer says it always sends iss.
        assert!(code_of("https://c/cb?code=a&state=af0ifjsldkj").is_ok());
        let sends_iss = CallbackExpectation { iss_required: true, ..expect() };
        assert_eq!(parse_callback("https://c/cb?code=a&state=af0ifjsldkj", &sends_iss).unwrap_err().code(), ErrorCode::IssuerMismatch);
        assert!(parse_callback("https://c/cb?code=a&state=af0ifjsldkj&iss=https%3A%2F%2Fserver.example.com", &sends_iss).is_ok());
        // No expected issuer: iss is returned unchecked.
        let unchecked = CallbackExpectation { issuer: None, ..expect() };
        let callback = parse_callback("https://c/cb?code=a&state=af0ifjsldkj&iss=anything", &unchecked).unwrap();
        assert_eq!(callback.iss(), Some("anything"));
    }

    #[test]
    fn missing_code() {
        for url in ["https://c/cb?state=af0ifjsldkj", "https://c/cb?state=af0ifjsldkj&code="] {
            assert_eq!(code_of(url).unwrap_err().code(), ErrorCode::MissingCode, "{url}");
        }
    }

    #[test]
    fn invalid_callback() {
        for url in [
            "https://c/cb?code=a&state=af0ifjsldkj&id_token=x",
            "https://c/cb?code=a&state=af0ifjsldkj&access_token=x",
            "https://c/cb?code=a&state=af0ifjsldkj&token=x",
            "https://c/cb?code=a&state=af0ifjsldkj&response=x",
            "not a url",
            "",
        ] {
            assert_eq!(code_of(url).unwrap_err().code(), ErrorCode::InvalidCallback, "{url}");
        }
    }

    #[test]
    fn empty_expected_state_is_a_config_error() {
        let careless = CallbackExpectation { state: "", ..expect() };
        assert_eq!(parse_callback("https://c/cb?code=a&state=", &careless).unwrap_err().code(), ErrorCode::InvalidConfig);
    }

    #[test]
    fn messages_hold_no_secret() {
        let secret_code = "Zm9vYmFyLXNlY3JldC1jb2Rl";
        for url in [
            format!("https://c/cb?code={secret_code}&state=other"),
            format!("https://c/cb?code={secret_code}&code={secret_code}&state=af0ifjsldkj"),
            format!("https://c/cb?code={secret_code}&state=af0ifjsldkj&iss=x"),
            format!("https://c/cb?code={secret_code}&state=af0ifjsldkj&access_token={secret_code}"),
        ] {
            let error = code_of(&url).unwrap_err();
            assert!(!error.message().contains(secret_code) && !error.message().contains(STATE), "{}", error.message());
        }
    }

    #[test]
    fn crafted_error_values_stay_out_of_the_message() {
        let error = code_of("https://c/cb?error=%22%3E%3Cscript%3E").unwrap_err();
        assert_eq!(error.message(), "the authorization server refused the request");
        assert_eq!(error.provider().unwrap().error, "\"><script>");
    }
}
