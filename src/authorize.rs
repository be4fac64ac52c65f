//! Authorization request URLs
//! ([RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1),
//! [§3.1](https://www.rfc-editor.org/rfc/rfc6749#section-3.1)).

use alloc::string::String;
use alloc::vec::Vec;

use crate::encoding::{form_parse, form_serialize_into};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::url::WebUrl;

/// A parameter's value: one string, or a list sent space-separated (as `scope` is,
/// [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    One(String),
    Many(Vec<String>),
}

impl ParamValue {
    fn into_text(self) -> String {
        match self {
            ParamValue::One(text) => text,
            ParamValue::Many(items) => crate::encoding::join_spaced(&items),
        }
    }
}

impl From<&str> for ParamValue {
    fn from(text: &str) -> Self {
        ParamValue::One(String::from(text))
    }
}

/// `buildAuthorizeUrl(endpoint, params)`: the endpoint's own query first (RFC 6749 §3.1: it
/// "MUST be retained"), then `params` in order, all form-urlencoded as `URLSearchParams`
/// serializes them, so the result equals what `new URL(endpoint)` + `searchParams.append`
/// gives in a browser.
///
/// `invalid_config` when the endpoint has a fragment (§3.1 forbids it), is not `https:` (plain
/// `http:` only on `localhost`, `127.0.0.1`, `[::1]`), or when a parameter would be sent twice
/// (§3.1: "Request and response parameters MUST NOT be included more than once").
pub fn build_authorize_url(endpoint: &str, params: Vec<(String, ParamValue)>) -> Result<String> {
    let mut texts = Vec::with_capacity(params.len());
    for (name, value) in params {
        texts.push((name, value.into_text()));
    }
    build_authorize_url_str(endpoint, &borrow_pairs(&texts))
}

/// [`build_authorize_url`] for parameters that are one borrowed string each: what the flows
/// build, with no owned copy made before the URL itself.
#[inline(never)]
pub fn build_authorize_url_str(endpoint: &str, params: &[(&str, &str)]) -> Result<String> {
    const ENDPOINT: &str = "the authorization endpoint";
    let url = WebUrl::parse(endpoint).map_err(|problem| ConnectError::field(ErrorCode::InvalidConfig, ENDPOINT, problem.describe()))?;
    let problem = if url.fragment.is_some() {
        Some(crate::url::NO_FRAGMENT)
    } else if !url.is_secure_or_loopback() {
        Some(crate::url::HTTPS_ONLY)
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(ConnectError::field(ErrorCode::InvalidConfig, ENDPOINT, problem));
    }
    let query = form_parse(url.query.unwrap_or(""));
    let mut pairs = borrow_pairs(&query);
    // A push loop rather than `extend_from_slice`, a specialized copier of its own.
    for &pair in params {
        pairs.push(pair);
    }
    if let Some(name) = first_repeated(&pairs) {
        return Err(ConnectError::field(ErrorCode::InvalidConfig, &quote_name(name), REPEATED));
    }
    let mut built = url.origin_and_path();
    if url.query.is_some() || !pairs.is_empty() {
        built.push('?');
        form_serialize_into(&mut built, &pairs);
    }
    Ok(built)
}

/// Owned pairs, borrowed.
#[inline(never)]
pub(crate) fn borrow_pairs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut borrowed = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        borrowed.push((name.as_str(), value.as_str()));
    }
    borrowed
}

/// A name that appears twice among the pairs ([`crate::json::duplicate_name`]: `O(n log n)`, so
/// a callback with 50,000 parameters is checked as fast as it is read).
fn first_repeated<'a>(pairs: &[(&'a str, &str)]) -> Option<&'a str> {
    let mut names = Vec::with_capacity(pairs.len());
    for (name, _) in pairs {
        names.push(*name);
    }
    crate::json::duplicate_name(names)
}

/// Why a repeated parameter is refused ([RFC 6749 §3.1](https://www.rfc-editor.org/rfc/rfc6749#section-3.1)).
pub(crate) const REPEATED: &str = "is given more than once";

/// [`first_repeated`] over owned pairs.
pub(crate) fn first_repeated_name(pairs: &[(String, String)]) -> Option<&str> {
    let mut names = Vec::with_capacity(pairs.len());
    for (name, _) in pairs {
        names.push(name.as_str());
    }
    crate::json::duplicate_name(names)
}

/// A parameter name for a message: quoted when short and plain, otherwise described, so that a
/// crafted name cannot fill a message with arbitrary text.
pub(crate) fn quote_name(name: &str) -> String {
    let plain = !name.is_empty() && name.len() <= 40 && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    let mut quoted = String::from("parameter ");
    if plain {
        quoted.push('"');
        quoted.push_str(name);
        quoted.push('"');
    } else {
        quoted.push_str("(unprintable name)");
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn params(list: &[(&str, &str)]) -> Vec<(String, ParamValue)> {
        list.iter().map(|(k, v)| (k.to_string(), ParamValue::from(*v))).collect()
    }

    #[test]
    fn builds_the_whole_url() {
        let mut list = params(&[("response_type", "code"), ("client_id", "s6BhdRkqt3"), ("redirect_uri", "https://client.example.com/cb")]);
        list.push(("scope".to_string(), ParamValue::Many(vec!["openid".to_string(), "profile email".to_string()])));
        list.push(("state".to_string(), "xyz/+=~ é&#".into()));
        assert_eq!(
            build_authorize_url("https://server.example.com/authorize", list).unwrap(),
            "https://server.example.com/authorize?response_type=code&client_id=s6BhdRkqt3\
             &redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb&scope=openid+profile+email\
             &state=xyz%2F%2B%3D%7E+%C3%A9%26%23"
        );
    }

    #[test]
    fn keeps_the_endpoint_query_first() {
        assert_eq!(
            build_authorize_url("https://idp.example/oauth2/auth?tenant=a%20b&x", params(&[("client_id", "c")])).unwrap(),
            "https://idp.example/oauth2/auth?tenant=a+b&x=&client_id=c"
        );
    }

    #[test]
    fn normalizes_endpoint_like_url() {
        assert_eq!(build_authorize_url("HTTPS://IdP.Example:443", vec![]).unwrap(), "https://idp.example/");
        assert_eq!(build_authorize_url("http://127.0.0.1:9000/auth?", vec![]).unwrap(), "http://127.0.0.1:9000/auth?");
        assert_eq!(build_authorize_url("http://localhost/auth", params(&[("a", "")])).unwrap(), "http://localhost/auth?a=");
        assert_eq!(build_authorize_url("http://[::1]:1/auth", vec![]).unwrap(), "http://[::1]:1/auth");
    }

    #[test]
    fn refuses_fragment_plain_http_and_repeats() {
        for (endpoint, list) in [
            ("https://idp.example/auth#frag", vec![]),
            ("https://idp.example/auth#", vec![]),
            ("http://idp.example/auth", vec![]),
            ("http://127.0.0.2/auth", vec![]),
            ("https://idp.example/auth?client_id=a", params(&[("client_id", "b")])),
            ("https://idp.example/auth", params(&[("scope", "a"), ("scope", "b")])),
            ("https://idp.example/auth?a=1&a=2", vec![]),
            ("javascript:alert(1)", vec![]),
            ("", vec![]),
        ] {
            assert_eq!(build_authorize_url(endpoint, list).unwrap_err().code(), ErrorCode::InvalidConfig, "{endpoint}");
        }
    }

    #[test]
    fn repeated_name_message_names_it() {
        let error = build_authorize_url("https://idp.example/auth?state=a", params(&[("state", "b")])).unwrap_err();
        assert!(error.message().starts_with("parameter \"state\" is given more than once"), "{}", error.message());
    }
}

/// Everything an authorization code + PKCE request sends.
pub struct CodeFlowRequest<'a> {
    pub endpoint: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a [String],
    pub state: &'a str,
    pub code_challenge: &'a str,
    /// OpenID Connect's replay check ([Core §3.1.2.1](https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest)).
    pub nonce: Option<&'a str>,
    pub response_mode: crate::callback::ResponseMode,
    /// Provider extras (`access_type=offline`, `prompt=consent`, ...), sent last.
    pub extra_params: &'a [(String, String)],
}

/// The authorization URL of a code flow with PKCE S256
/// ([RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1),
/// [RFC 7636 §4.3](https://www.rfc-editor.org/rfc/rfc7636#section-4.3)).
pub fn code_flow_url(request: &CodeFlowRequest<'_>) -> Result<String> {
    let scope = crate::encoding::join_spaced(request.scope);
    let mut params = alloc::vec![("response_type", "code"), ("client_id", request.client_id), ("redirect_uri", request.redirect_uri)];
    if !request.scope.is_empty() {
        params.push(("scope", &scope));
    }
    params.push(("state", request.state));
    params.push(("code_challenge", request.code_challenge));
    params.push(("code_challenge_method", crate::pkce::S256));
    if let Some(nonce) = request.nonce {
        params.push(("nonce", nonce));
    }
    if request.response_mode == crate::callback::ResponseMode::Fragment {
        params.push(("response_mode", "fragment"));
    }
    for (name, value) in request.extra_params {
        params.push((name, value));
    }
    build_authorize_url_str(request.endpoint, &params)
}

#[cfg(test)]
mod code_flow_tests {
    use super::*;
    use crate::callback::ResponseMode;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn code_flow_url_has_every_parameter_in_order() {
        let scope = vec!["openid".to_string(), "profile".to_string()];
        let extras = vec![("access_type".to_string(), "offline".to_string()), ("prompt".to_string(), "consent".to_string())];
        let url = code_flow_url(&CodeFlowRequest {
            endpoint: "https://id.example/auth?tenant=t",
            client_id: "app",
            redirect_uri: "https://app.example/cb",
            scope: &scope,
            state: "st",
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            nonce: Some("n"),
            response_mode: ResponseMode::Fragment,
            extra_params: &extras,
        })
        .unwrap();
        assert_eq!(
            url,
            "https://id.example/auth?tenant=t&response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb\
             &scope=openid+profile&state=st&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&nonce=n&response_mode=fragment&access_type=offline&prompt=consent"
        );
    }
}
