//! `kind: "oidc"`: OpenID Connect. Endpoints come from the issuer's discovery document
//! ([Discovery §4](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)),
//! fetched once per connection; the flow adds a nonce; the ID token received from the token
//! endpoint is checked (iss, aud, azp, nonce, exp: [Core §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)),
//! and a refreshed one must name the same `sub` (§12.2).

use alloc::string::String;
use alloc::vec::Vec;

use super::{Endpoints, Fetch, Flow, Memory, Pending, Prepared, RefreshRoute, Response, Step};
use crate::config::{discovery_endpoints, discovery_url};
use crate::config::UrlField;
use crate::fields::Reader;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::Record;
use crate::id_token::{check_claims, jwt_payload, IdTokenExpectation};
use crate::secret::Secret;
use crate::token::TokenSet;

/// `kind: "oidc"`: endpoints from discovery, `openid` always in scope, a nonce, ID token checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub extra_params: Vec<(String, String)>,
}

pub fn parse(fields: &Record) -> Result<OidcConfig> {
    let mut read = Reader::new(fields, ErrorCode::InvalidConfig);
    let config = read_config(&mut read);
    read.finish(config)
}

/// The fields of `kind: "oidc"`, in the order they are checked.
pub(crate) fn read_config(read: &mut Reader<'_>) -> OidcConfig {
    let issuer = read.required_url("issuer", UrlField::Required);
    if crate::encoding::has_byte(&issuer, b'?') {
        read.invalid("issuer must not have a ?query");
    }
    let mut scope = read.scope();
    if !scope.iter().any(|item| item == "openid") {
        // Built anew rather than `insert(0, ..)`, whose bounds check keeps a panic location.
        let mut with_openid = alloc::vec![String::from("openid")];
        with_openid.append(&mut scope);
        scope = with_openid;
    }
    OidcConfig { issuer, client_id: read.req("clientId"), redirect_uri: read.required_url("redirectUri", UrlField::Required), scope, extra_params: read.extra_params() }
}

pub fn prepare(config: &OidcConfig, memory: &Memory, pending: &Pending) -> Result<Step<Prepared, ()>> {
    match &memory.endpoints {
        Some(endpoints) => url(config, endpoints, pending).map(Step::Done),
        None => Ok(Step::Fetch(Fetch::get(discovery_url(&config.issuer)), ())),
    }
}

pub fn prepare_answered(config: &OidcConfig, memory: &mut Memory, pending: &Pending, response: Response) -> Result<Prepared> {
    let endpoints = remember_endpoints(config, memory, response)?;
    url(config, endpoints, pending)
}

/// Read the discovery document and keep its endpoints for the connection's next flows; they
/// are handed back borrowed from `memory`, not as a copy.
pub fn remember_endpoints<'m>(config: &OidcConfig, memory: &'m mut Memory, response: Response) -> Result<&'m Endpoints> {
    let document = match (response.ok(), response.object()) {
        (true, Some(document)) => document,
        _ => return Err(ConnectError::new(ErrorCode::InvalidConfig, "the discovery document could not be read").with_status(response.status)),
    };
    let (authorization, token, iss_required) = discovery_endpoints(document, &config.issuer)?;
    Ok(memory.endpoints.insert(Endpoints { authorization, token: Some(token), iss_required }))
}

fn url(config: &OidcConfig, endpoints: &Endpoints, pending: &Pending) -> Result<Prepared> {
    let url = super::oauth2::authorization_url(
        &endpoints.authorization,
        &config.client_id,
        &config.redirect_uri,
        &config.scope,
        &config.extra_params,
        crate::callback::ResponseMode::Query,
        pending,
    )?;
    Ok(Prepared { url, token_endpoint: endpoints.token.clone(), liquid_session: None, iss_required: endpoints.iss_required })
}

pub fn refresh_route(config: &OidcConfig, memory: &Memory) -> RefreshRoute {
    match memory.endpoints.as_ref().and_then(|endpoints| endpoints.token.clone()) {
        Some(token_endpoint) => RefreshRoute::Endpoint { token_endpoint, issuer: Some(config.issuer.clone()) },
        None => RefreshRoute::Discover(Fetch::get(discovery_url(&config.issuer))),
    }
}

/// The ID token of a code exchange: required, and checked with the flow's nonce. Returns `sub`.
pub fn check_new_id_token(config: &OidcConfig, flow: &Flow<'_>, tokens: &TokenSet) -> Result<String> {
    let id_token = tokens
        .id_token
        .as_ref()
        .ok_or_else(|| ConnectError::new(ErrorCode::InvalidIdToken, "token response: no id_token (openid was asked)"))?;
    check_id_token(id_token, &config.issuer, &config.client_id, flow.pending.nonce.as_deref(), None, flow.now_ms)
}

/// Check an ID token's claims (OIDC Core §3.1.3.7); returns its `sub`.
pub fn check_id_token(id_token: &Secret, issuer: &str, client_id: &str, nonce: Option<&str>, subject: Option<&str>, now_ms: f64) -> Result<String> {
    let payload = jwt_payload(id_token.expose())?;
    let claims = crate::encoding::utf8(&payload)
        .ok()
        .and_then(|text| crate::json::parse(text).ok())
        .and_then(|value| match value {
            // A claim given twice could be read either way: refused.
            crate::fields::Value::Record(record) if crate::json::duplicate_key(&record).is_none() => Some(record),
            _ => None,
        })
        .ok_or_else(|| ConnectError::new(ErrorCode::InvalidIdToken, "ID token: payload not a JSON object (each claim once)"))?;
    check_claims(&claims, &IdTokenExpectation { issuer, client_id, nonce, now_seconds: now_ms / 1000.0, subject })
}
