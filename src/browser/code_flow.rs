//! The parts of a code flow that popup and redirect share: finding the endpoints (OIDC
//! discovery), the authorization URL, and completing a validated callback: the token exchange
//! in the browser, the exchange by the app's backend, or handing the code to the app.

use alloc::rc::Rc;
use alloc::string::String;
use wasm_bindgen::prelude::*;

use crate::authorize::{code_flow_url, CodeFlowRequest};
use crate::browser::events::{Events, Mode};
use crate::browser::http;
use crate::browser::js::{self, JsFields};
use crate::browser::timers::now_ms;
use crate::browser::tokens::{token_set_to_js, Slot};
use crate::callback::Callback;
use crate::config::{discovery_endpoints, discovery_url, CodeHandling, ConnectConfig, ProviderConfig};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::Fields;
use crate::id_token::{check_claims, jwt_payload, IdTokenExpectation};
use crate::pkce::{create_pkce, PkceVerifier};
use crate::secret::Secret;
use crate::state::random_state;
use crate::token;

/// The authorization and token endpoints of a config (the token endpoint only where the
/// browser redeems the code).
#[derive(Clone)]
pub struct Endpoints {
    pub authorization: String,
    pub token: Option<String>,
}

/// Endpoints from the config, or from the provider's discovery document for OIDC.
pub async fn endpoints(config: &ConnectConfig) -> Result<Endpoints> {
    match &config.provider {
        ProviderConfig::OAuth2(oauth2) => Ok(Endpoints {
            authorization: oauth2.authorization_endpoint.clone(),
            token: match &oauth2.code_handling {
                CodeHandling::TokenEndpoint(endpoint) => Some(endpoint.clone()),
                _ => None,
            },
        }),
        ProviderConfig::Oidc(oidc) => {
            let response = http::get_json(&discovery_url(&oidc.issuer)).await?;
            let document = response
                .object()
                .filter(|_| response.ok())
                .ok_or_else(|| ConnectError::new(ErrorCode::InvalidConfig, "the provider's discovery document could not be read").with_status(response.status))?;
            let (authorization, token) = discovery_endpoints(&document, &oidc.issuer)?;
            Ok(Endpoints { authorization, token: Some(token) })
        }
    }
}

/// What one authorization request generated and its completion needs.
pub struct Pending {
    pub state: String,
    pub verifier: PkceVerifier,
    pub nonce: Option<String>,
}

impl Pending {
    pub fn new(config: &ConnectConfig) -> Result<Pending> {
        let nonce = match config.provider {
            ProviderConfig::Oidc(_) => Some(random_state()?),
            ProviderConfig::OAuth2(_) => None,
        };
        let pair = create_pkce()?;
        Ok(Pending { state: random_state()?, verifier: pair.verifier, nonce })
    }
}

/// The authorization URL for `pending`.
pub fn authorization_url(config: &ConnectConfig, endpoints: &Endpoints, pending: &Pending) -> Result<String> {
    let (scope, extra_params) = match &config.provider {
        ProviderConfig::OAuth2(oauth2) => (&oauth2.scope, &oauth2.extra_params),
        ProviderConfig::Oidc(oidc) => (&oidc.scope, &oidc.extra_params),
    };
    code_flow_url(&CodeFlowRequest {
        endpoint: &endpoints.authorization,
        client_id: config.client_id(),
        redirect_uri: config.redirect_uri(),
        scope,
        state: &pending.state,
        code_challenge: &pending.verifier.challenge(),
        nonce: pending.nonce.as_deref(),
        response_mode: config.response_mode(),
        extra_params,
    })
}

/// Check an ID token's claims (OIDC Core §3.1.3.7); returns its `sub`.
pub fn check_id_token(id_token: &Secret, issuer: &str, client_id: &str, nonce: Option<&str>, subject: Option<&str>) -> Result<String> {
    let payload = jwt_payload(id_token.expose())?;
    let claims = core::str::from_utf8(&payload)
        .ok()
        .and_then(js::parse_json)
        .filter(|json| json.is_object())
        .ok_or(ConnectError::new(ErrorCode::InvalidIdToken, "the ID token's payload is not a JSON object"))?;
    check_claims(&JsFields(claims), &IdTokenExpectation { issuer, client_id, nonce, now_seconds: now_ms() / 1000.0, subject })
}

/// Everything `complete` needs besides the callback.
pub struct Completion<'a> {
    pub config: &'a ConnectConfig,
    pub token_endpoint: Option<&'a str>,
    pub pending: Pending,
    pub events: &'a Events,
    pub mode: Mode,
    pub slot: Rc<Slot>,
    pub return_to: Option<String>,
}

/// Turn a validated callback into the contract's `ConnectResult`.
pub async fn complete(callback: Callback, done: Completion<'_>) -> Result<JsValue> {
    let config = done.config;
    let (code, state, _iss, params) = callback.into_parts();
    let result = js::object();
    js::set(&result, "provider", config.kind());
    js::set(&result, "state", state.as_str());
    let params_without_code: alloc::vec::Vec<(String, String)> = params.iter().filter(|(name, _)| name != "code").cloned().collect();

    let handling = match &config.provider {
        ProviderConfig::OAuth2(oauth2) => oauth2.code_handling.clone(),
        ProviderConfig::Oidc(_) => CodeHandling::TokenEndpoint(String::new()),
    };
    match handling {
        CodeHandling::TokenEndpoint(configured) => {
            let endpoint = done.token_endpoint.unwrap_or(&configured);
            let body = token::authorization_code_body(&code, config.redirect_uri(), config.client_id(), &done.pending.verifier);
            let response = http::post_form(endpoint, &body).await?;
            let tokens = match (response.ok(), response.object()) {
                (true, Some(body)) => token::token_set_from_response(&body, now_ms(), None)?,
                (_, body) => return Err(token::token_error(response.status, body.as_ref().map(|body| body as &dyn Fields))),
            };
            let subject = match &config.provider {
                ProviderConfig::Oidc(oidc) => {
                    let id_token = tokens
                        .id_token
                        .as_ref()
                        .ok_or(ConnectError::new(ErrorCode::InvalidIdToken, "the token response has no id_token although openid was requested"))?;
                    Some(check_id_token(id_token, &oidc.issuer, &oidc.client_id, done.pending.nonce.as_deref(), None)?)
                }
                ProviderConfig::OAuth2(_) => None,
            };
            done.events.emit("exchange", Some(done.mode), None);
            js::set(&result, "tokens", token_set_to_js(&tokens));
            done.slot.store(tokens, subject);
            js::set(&result, "params", js::record_from_pairs(&params_without_code));
        }
        CodeHandling::ExchangeEndpoint(endpoint) => {
            let request = js::object();
            js::set(&request, "code", code.secret());
            js::set(&request, "codeVerifier", done.pending.verifier.secret());
            js::set(&request, "redirectUri", config.redirect_uri());
            js::set(&request, "state", state.as_str());
            let response = http::post_json(&endpoint, &request).await?;
            if !response.ok() {
                return Err(token::token_error(response.status, response.object().as_ref().map(|body| body as &dyn Fields)));
            }
            done.events.emit("exchange", Some(done.mode), None);
            js::set(&result, "exchange", response.json.unwrap_or(JsValue::NULL));
            js::set(&result, "params", js::record_from_pairs(&params_without_code));
        }
        CodeHandling::ReturnCode => {
            js::set(&result, "code", code.into_secret());
            js::set(&result, "codeVerifier", done.pending.verifier.into_secret());
            js::set(&result, "params", js::record_from_pairs(&params));
        }
    }
    if let Some(return_to) = done.return_to {
        js::set(&result, "returnTo", return_to);
    }
    Ok(result.into())
}
