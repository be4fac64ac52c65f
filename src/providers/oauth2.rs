//! `kind: "oauth2"`: the authorization code grant with PKCE S256 against endpoints the app
//! names ([RFC 6749 §4.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1),
//! [RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)). The code is redeemed by the browser as a
//! public client (`tokenEndpoint`), by the app's backend (`exchangeEndpoint`), or handed to the
//! app with its verifier (neither).

use alloc::string::String;
use alloc::vec::Vec;

use super::{params_record, put, put_text, Completed, Fetch, Flow, Pending, Prepared, Record, Step, Then, Waiting};
use crate::authorize::{code_flow_url, CodeFlowRequest};
use crate::callback::ResponseMode;
use crate::callback::parse_callback;
use crate::config::UrlField;
use crate::fields::Reader;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::Value;

/// What happens to the authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeHandling {
    /// The browser redeems it as a public client ([RFC 6749 §4.1.3](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3)).
    TokenEndpoint(String),
    /// The app's backend redeems it: `{ code, codeVerifier, redirectUri, state }` is POSTed there.
    ExchangeEndpoint(String),
    /// The result carries `code` and `codeVerifier` for the app to use.
    ReturnCode,
}

/// `kind: "oauth2"`: authorization code + PKCE against endpoints given explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Config {
    pub authorization_endpoint: String,
    pub code_handling: CodeHandling,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub extra_params: Vec<(String, String)>,
    pub response_mode: ResponseMode,
    pub issuer: Option<String>,
}

pub fn parse(fields: &Record) -> Result<OAuth2Config> {
    let mut read = Reader::new(fields, ErrorCode::InvalidConfig);
    let config = read_config(&mut read);
    read.finish(config)
}

/// The fields of `kind: "oauth2"`, in the order they are checked.
pub(crate) fn read_config(read: &mut Reader<'_>) -> OAuth2Config {
    let authorization_endpoint = read.required_url("authorizationEndpoint", UrlField::Required);
    let token_endpoint = read.url("tokenEndpoint", UrlField::Optional);
    let exchange_endpoint = read.url("exchangeEndpoint", UrlField::Backend);
    let code_handling = match (token_endpoint, exchange_endpoint) {
        (Some(_), Some(_)) => {
            read.invalid("give tokenEndpoint or exchangeEndpoint, not both");
            CodeHandling::ReturnCode
        }
        (Some(endpoint), None) => CodeHandling::TokenEndpoint(endpoint),
        (None, Some(endpoint)) => CodeHandling::ExchangeEndpoint(endpoint),
        (None, None) => CodeHandling::ReturnCode,
    };
    let response_mode = match read.choice("responseMode", &["query", "fragment"], "responseMode must be \"query\" or \"fragment\"") {
        1 => ResponseMode::Fragment,
        _ => ResponseMode::Query,
    };
    let issuer = read.opt("issuer");
    if issuer.as_deref() == Some("") {
        read.invalid("issuer must not be empty");
    }
    OAuth2Config {
        authorization_endpoint,
        code_handling,
        client_id: read.req("clientId"),
        redirect_uri: read.required_url("redirectUri", UrlField::Required),
        scope: read.scope(),
        extra_params: read.extra_params(),
        response_mode,
        issuer,
    }
}

pub fn token_endpoint(config: &OAuth2Config) -> Option<&str> {
    match &config.code_handling {
        CodeHandling::TokenEndpoint(endpoint) => Some(endpoint),
        CodeHandling::ExchangeEndpoint(_) | CodeHandling::ReturnCode => None,
    }
}

pub fn prepare(config: &OAuth2Config, pending: &Pending) -> Result<Prepared> {
    let url = authorization_url(&config.authorization_endpoint, &config.client_id, &config.redirect_uri, &config.scope, &config.extra_params, config.response_mode, pending)?;
    Ok(Prepared { url, token_endpoint: token_endpoint(config).map(String::from), liquid_session: None, iss_required: false })
}

/// The authorization request of a code flow ([RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1)).
pub(super) fn authorization_url(
    endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &[String],
    extra_params: &[(String, String)],
    response_mode: crate::callback::ResponseMode,
    pending: &Pending,
) -> Result<String> {
    code_flow_url(&CodeFlowRequest {
        endpoint,
        client_id,
        redirect_uri,
        scope,
        state: &pending.state,
        code_challenge: &pending.verifier.challenge(),
        nonce: pending.nonce.as_deref(),
        response_mode,
        extra_params,
    })
}

pub fn complete(config: &OAuth2Config, flow: &Flow<'_>, url: &str) -> Result<Step<Completed, Waiting>> {
    match &config.code_handling {
        CodeHandling::TokenEndpoint(_) => complete_with_token_endpoint(flow, url),
        CodeHandling::ExchangeEndpoint(endpoint) => complete_with_backend(flow, url, endpoint, true),
        CodeHandling::ReturnCode => {
            let (code, params) = parse_callback(url, &flow.expectation())?.into_code_and_params();
            let mut completed = Completed::default();
            put(&mut completed.result, "code", Value::Text(code.into_secret()));
            put_text(&mut completed.result, "codeVerifier", flow.pending.verifier.secret());
            put(&mut completed.result, "params", params_record(&params));
            Ok(Step::Done(completed))
        }
    }
}

/// The callback's code, and the result so far: its parameters less the code, which is redeemed.
fn redeemable(flow: &Flow<'_>, url: &str) -> Result<(crate::callback::AuthorizationCode, Completed)> {
    let (code, params) = parse_callback(url, &flow.expectation())?.into_code_and_params();
    let mut completed = Completed::default();
    put(&mut completed.result, "params", super::params_record_except(&params, "code"));
    Ok((code, completed))
}

/// Redeem the code at the token endpoint ([RFC 6749 §4.1.3](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3)).
pub(super) fn complete_with_token_endpoint(flow: &Flow<'_>, url: &str) -> Result<Step<Completed, Waiting>> {
    let (code, completed) = redeemable(flow, url)?;
    let endpoint = flow.prepared.token_endpoint.as_deref().ok_or_else(|| ConnectError::new(ErrorCode::InvalidConfig, "no token endpoint"))?;
    let body = crate::token::authorization_code_body(&code, flow.config.redirect_uri(), flow.config.client_id(), &flow.pending.verifier);
    Ok(Step::Fetch(Fetch::post_form(endpoint, body), Waiting { completed, then: Then::Tokens }))
}

/// The app's backend redeems the code: `{ code, codeVerifier, redirectUri, state? }` as JSON.
pub(super) fn complete_with_backend(flow: &Flow<'_>, url: &str, endpoint: &str, with_state: bool) -> Result<Step<Completed, Waiting>> {
    let (code, completed) = redeemable(flow, url)?;
    let mut request = Record::new();
    put(&mut request, "code", Value::Text(code.into_secret()));
    put_text(&mut request, "codeVerifier", flow.pending.verifier.secret());
    put_text(&mut request, "redirectUri", flow.config.redirect_uri());
    if with_state {
        put_text(&mut request, "state", &flow.pending.state);
    }
    Ok(Step::Fetch(Fetch::post_json(endpoint, &request), Waiting { completed, then: Then::Backend }))
}
