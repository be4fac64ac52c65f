//! What popup and redirect flows share, for every kind: preparing the URL the user is sent to
//! (OIDC discovery, Torque's authorize session, Turnqey's checksum, Liquid's session), and
//! completing the flow when the provider sends the user back (or, for Liquid, when the user
//! closes the window): the token exchange in the browser, the exchange by the app's backend,
//! or handing over what the provider returned.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

use crate::authorize::{build_authorize_url, code_flow_url, CodeFlowRequest, ParamValue};
use crate::browser::events::{Events, Mode};
use crate::browser::http;
use crate::browser::js::{self, JsFields};
use crate::browser::timers::now_ms;
use crate::browser::tokens::{token_set_to_js, Slot};
use crate::callback::{check_response, parse_callback, CallbackExpectation};
use crate::config::{check_url, discovery_endpoints, discovery_url, CodeHandling, ConnectConfig, LiquidConfig, ProviderConfig, TorqueConfig, TurnqeyConfig};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::opt_string;
use crate::id_token::{check_claims, jwt_payload, IdTokenExpectation};
use crate::pkce::{create_pkce, PkceVerifier, S256};
use crate::secret::Secret;
use crate::state::random_state;
use crate::token;

/// The authorization and token endpoints of an OAuth 2.0 / OIDC config (the token endpoint
/// only where the browser redeems the code).
#[derive(Clone)]
pub struct Endpoints {
    pub authorization: String,
    pub token: Option<String>,
}

/// What one flow generated in the browser before anything else: `state`, the PKCE verifier
/// (used by the kinds with a code) and, for OIDC, a nonce.
pub struct Pending {
    pub state: String,
    pub verifier: PkceVerifier,
    pub nonce: Option<String>,
}

impl Pending {
    pub fn new(config: &ConnectConfig) -> Result<Pending> {
        let nonce = match config.provider {
            ProviderConfig::Oidc(_) => Some(random_state()?),
            _ => None,
        };
        Ok(Pending { state: random_state()?, verifier: create_pkce()?.verifier, nonce })
    }
}

/// A Liquid user session ([seed 003](../../../shared/seeds/003_b3d059c2a1e164d9.txt)).
pub struct LiquidSession {
    pub id: String,
    pub secret: Secret,
}

/// Where the user goes, and what was learned on the way there.
pub struct Prepared {
    pub url: String,
    /// OAuth 2.0 / OIDC: the token endpoint the browser redeems the code at.
    pub token_endpoint: Option<String>,
    pub liquid_session: Option<LiquidSession>,
}

/// Prepare the URL of a flow. `collection` is Turnqey's collection to connect into.
pub async fn prepare(config: &ConnectConfig, pending: &Pending, cache: &RefCell<Option<Endpoints>>, collection: Option<&str>) -> Result<Prepared> {
    let prepared = |url| Prepared { url, token_endpoint: None, liquid_session: None };
    match &config.provider {
        ProviderConfig::OAuth2(_) | ProviderConfig::Oidc(_) => {
            let endpoints = endpoints(config, cache).await?;
            let url = authorization_url(config, &endpoints, pending)?;
            Ok(Prepared { url, token_endpoint: endpoints.token, liquid_session: None })
        }
        ProviderConfig::Torque(torque) => torque_authorize_url(torque, pending).await.map(prepared),
        ProviderConfig::Turnqey(turnqey) => turnqey_authorize_url(turnqey, pending, collection).await.map(prepared),
        ProviderConfig::Liquid(liquid) => liquid_session(liquid, pending).await,
    }
}

/// Endpoints from the config, or from the provider's discovery document for OIDC (fetched once
/// per `Connect`).
async fn endpoints(config: &ConnectConfig, cache: &RefCell<Option<Endpoints>>) -> Result<Endpoints> {
    if let Some(endpoints) = cache.borrow().clone() {
        return Ok(endpoints);
    }
    let endpoints = match &config.provider {
        ProviderConfig::Oidc(oidc) => {
            let response = http::get_json(&discovery_url(&oidc.issuer)).await?;
            let document = response
                .object()
                .filter(|_| response.ok())
                .ok_or_else(|| ConnectError::new(ErrorCode::InvalidConfig, "the provider's discovery document could not be read").with_status(response.status))?;
            let (authorization, token) = discovery_endpoints(&document, &oidc.issuer)?;
            Endpoints { authorization, token: Some(token) }
        }
        ProviderConfig::OAuth2(oauth2) => Endpoints {
            authorization: oauth2.authorization_endpoint.clone(),
            token: match &oauth2.code_handling {
                CodeHandling::TokenEndpoint(endpoint) => Some(endpoint.clone()),
                _ => None,
            },
        },
        _ => return Err(ConnectError::new(ErrorCode::InvalidConfig, "this kind has no OAuth endpoints")),
    };
    *cache.borrow_mut() = Some(endpoints.clone());
    Ok(endpoints)
}

/// The token endpoint of an OAuth 2.0 / OIDC config, for refresh.
pub async fn token_endpoint(config: &ConnectConfig, cache: &RefCell<Option<Endpoints>>) -> Result<Option<String>> {
    Ok(endpoints(config, cache).await?.token)
}

fn authorization_url(config: &ConnectConfig, endpoints: &Endpoints, pending: &Pending) -> Result<String> {
    let empty = (Vec::new(), Vec::new());
    let (scope, extra_params) = match &config.provider {
        ProviderConfig::OAuth2(oauth2) => (&oauth2.scope, &oauth2.extra_params),
        ProviderConfig::Oidc(oidc) => (&oidc.scope, &oidc.extra_params),
        _ => (&empty.0, &empty.1),
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

/// Torque: the app's backend opens the authorize session with the business key
/// (`POST /connect/authorize/session`) and hands back Torque's `authorizeUrl`.
async fn torque_authorize_url(torque: &TorqueConfig, pending: &Pending) -> Result<String> {
    let request = js::object();
    js::set(&request, "redirectUri", torque.redirect_uri.as_str());
    js::set(&request, "codeChallenge", pending.verifier.challenge());
    js::set(&request, "codeChallengeMethod", S256);
    js::set(&request, "state", pending.state.as_str());
    if let Some(user) = &torque.external_user_id {
        js::set(&request, "externalUserId", user.as_str());
    }
    if !torque.scope.is_empty() {
        js::set(&request, "scope", torque.scope.join(" "));
    }
    let answer = http::post_json(&torque.session_endpoint, &request).await?.into_object()?;
    let url = opt_string(&answer, "authorizeUrl", ErrorCode::InvalidConfig)?
        .ok_or(ConnectError::new(ErrorCode::InvalidConfig, "the sessionEndpoint's answer has no authorizeUrl"))?;
    check_url(&url, "authorizeUrl")?;
    Ok(url)
}

/// Turnqey: the app's backend signs the exact request (`checksum`); the parameters go in the
/// order of the document's example.
async fn turnqey_authorize_url(turnqey: &TurnqeyConfig, pending: &Pending, collection: Option<&str>) -> Result<String> {
    let request = js::object();
    js::set(&request, "client", turnqey.client.as_str());
    js::set(&request, "platform", turnqey.platform.as_str());
    js::set(&request, "identity", turnqey.identity.as_str());
    if let Some(collection) = collection {
        js::set(&request, "collection", collection);
    }
    js::set(&request, "state", pending.state.as_str());
    let answer = http::post_json(&turnqey.checksum_endpoint, &request).await?.into_object()?;
    let checksum = opt_string(&answer, "checksum", ErrorCode::InvalidConfig)?
        .filter(|checksum| !checksum.is_empty())
        .ok_or(ConnectError::new(ErrorCode::InvalidConfig, "the checksumEndpoint's answer has no checksum"))?;
    let one = |name: &str, value: &str| (String::from(name), ParamValue::One(String::from(value)));
    let mut params = alloc::vec![one("client", &turnqey.client), one("platform", &turnqey.platform)];
    if let Some(collection) = collection {
        params.push(one("collection", collection));
    }
    params.push(one("state", &pending.state));
    params.push(one("identity", &turnqey.identity));
    params.push(one("checksum", &checksum));
    build_authorize_url(&turnqey.authorize_url, params)
}

/// Liquid: a session made with the public key; the window then goes to its `liquid_oauth` page.
async fn liquid_session(liquid: &LiquidConfig, pending: &Pending) -> Result<Prepared> {
    let request = js::object();
    js::set(&request, "public_api_key", liquid.public_api_key.as_str());
    if let Some(return_url) = &liquid.return_url {
        // The return page is recognised, and matched to this flow, by its state.
        let with_state = build_authorize_url(return_url, alloc::vec![(String::from("state"), ParamValue::One(pending.state.clone()))])?;
        js::set(&request, "return_url", with_state);
    }
    let mut session_url = String::from(liquid.base_url.as_str());
    session_url.push_str("/api/v1/session");
    let response = http::post_json(&session_url, &request).await?;
    let refused = || ConnectError::new(ErrorCode::TokenError, "Liquid did not create a session").with_status(response.status);
    let body = response.object().filter(|_| response.ok()).ok_or_else(refused)?;
    if !js::get(&body.0, "success").is_truthy() {
        return Err(refused());
    }
    let payload = JsFields(js::get(&body.0, "payload"));
    let id = opt_string(&payload, "session_id", ErrorCode::TokenError)?.unwrap_or_default();
    let secret = opt_string(&payload, "session_secret", ErrorCode::TokenError)?.unwrap_or_default();
    // The id goes into a URL path: only an id's characters.
    if id.is_empty() || secret.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(refused());
    }
    let mut url = session_url;
    url.push('/');
    url.push_str(&id);
    url.push_str("/liquid_oauth");
    Ok(Prepared { url, token_endpoint: None, liquid_session: Some(LiquidSession { id, secret: Secret::new(secret) }) })
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

/// How the user came back.
pub enum Arrival {
    /// The callback URL, for this flow's state.
    Callback(String),
    /// The user closed the popup (Liquid's "close this window and return to the app" ending).
    Closed,
}

pub fn popup_closed() -> ConnectError {
    ConnectError::new(ErrorCode::PopupClosed, "the popup was closed before the flow finished")
}

/// Everything `complete` needs besides the arrival.
pub struct Completion<'a> {
    pub config: &'a ConnectConfig,
    pub pending: Pending,
    pub prepared: Prepared,
    pub events: &'a Events,
    pub mode: Mode,
    pub slot: Rc<Slot>,
    pub return_to: Option<String>,
}

/// Turn the user's return into the contract's `ConnectResult`.
pub async fn complete(arrival: Arrival, done: Completion<'_>) -> Result<JsValue> {
    let url = match (&arrival, &done.config.provider) {
        (Arrival::Callback(url), _) => Some(url.as_str()),
        (Arrival::Closed, ProviderConfig::Liquid(_)) => None,
        (Arrival::Closed, _) => return Err(popup_closed()),
    };
    if url.is_some() {
        done.events.emit("callback", Some(done.mode), None);
    }
    let result = js::object();
    js::set(&result, "provider", done.config.kind());
    js::set(&result, "state", done.pending.state.as_str());
    match &done.config.provider {
        ProviderConfig::OAuth2(_) | ProviderConfig::Oidc(_) | ProviderConfig::Torque(_) => {
            complete_code(url.unwrap_or_default(), &done, &result).await?;
        }
        ProviderConfig::Turnqey(_) => {
            let params = check_response(url.unwrap_or_default(), &expectation(&done))?;
            let collection = params.iter().find(|(name, _)| name == "collection").map(|(_, value)| value.clone()).unwrap_or_default();
            if collection.is_empty() {
                return Err(ConnectError::new(ErrorCode::InvalidCallback, "Turnqey's answer has no collection"));
            }
            js::set(&result, "collection", collection);
            js::set(&result, "params", js::record_from_pairs(&params));
        }
        ProviderConfig::Liquid(liquid) => complete_liquid(liquid, url, &done, &result).await?,
    }
    if let Some(return_to) = &done.return_to {
        js::set(&result, "returnTo", return_to.as_str());
    }
    Ok(result.into())
}

fn expectation<'a>(done: &'a Completion<'_>) -> CallbackExpectation<'a> {
    CallbackExpectation { state: &done.pending.state, issuer: done.config.issuer(), response_mode: done.config.response_mode() }
}

/// The kinds whose callback carries an authorization code.
async fn complete_code(url: &str, done: &Completion<'_>, result: &js_sys::Object) -> Result<()> {
    let config = done.config;
    let (code, _state, _iss, params) = parse_callback(url, &expectation(done))?.into_parts();
    let params_without_code: Vec<(String, String)> = params.iter().filter(|(name, _)| name != "code").cloned().collect();
    let backend = match &config.provider {
        ProviderConfig::OAuth2(oauth2) => match &oauth2.code_handling {
            CodeHandling::TokenEndpoint(_) => None,
            CodeHandling::ExchangeEndpoint(endpoint) => Some(endpoint.as_str()),
            CodeHandling::ReturnCode => {
                js::set(result, "code", code.secret());
                js::set(result, "codeVerifier", done.pending.verifier.secret());
                js::set(result, "params", js::record_from_pairs(&params));
                return Ok(());
            }
        },
        ProviderConfig::Torque(torque) => Some(torque.exchange_endpoint.as_str()),
        _ => None,
    };
    if let Some(endpoint) = backend {
        let request = js::object();
        js::set(&request, "code", code.secret());
        js::set(&request, "codeVerifier", done.pending.verifier.secret());
        js::set(&request, "redirectUri", config.redirect_uri());
        if matches!(config.provider, ProviderConfig::OAuth2(_)) {
            js::set(&request, "state", done.pending.state.as_str());
        }
        let response = http::post_json(endpoint, &request).await?;
        if !response.ok() {
            return Err(response.refused());
        }
        done.events.emit("exchange", Some(done.mode), None);
        js::set(result, "exchange", response.json.unwrap_or(JsValue::NULL));
        js::set(result, "params", js::record_from_pairs(&params_without_code));
        return Ok(());
    }
    let endpoint = done.prepared.token_endpoint.as_deref().ok_or(ConnectError::new(ErrorCode::InvalidConfig, "no token endpoint"))?;
    let body = token::authorization_code_body(&code, config.redirect_uri(), config.client_id(), &done.pending.verifier);
    let response = http::post_form(endpoint, &body).await?;
    let tokens = token::token_set_from_response(&response.into_object()?, now_ms(), None)?;
    let subject = match &config.provider {
        ProviderConfig::Oidc(oidc) => {
            let id_token = tokens
                .id_token
                .as_ref()
                .ok_or(ConnectError::new(ErrorCode::InvalidIdToken, "the token response has no id_token although openid was requested"))?;
            Some(check_id_token(id_token, &oidc.issuer, &oidc.client_id, done.pending.nonce.as_deref(), None)?)
        }
        _ => None,
    };
    done.events.emit("exchange", Some(done.mode), None);
    js::set(result, "tokens", token_set_to_js(&tokens));
    done.slot.store(tokens, subject);
    js::set(result, "params", js::record_from_pairs(&params_without_code));
    Ok(())
}

/// Liquid: the return page's answer (or the closed window), then the backend's confirmation.
async fn complete_liquid(liquid: &LiquidConfig, url: Option<&str>, done: &Completion<'_>, result: &js_sys::Object) -> Result<()> {
    let session = done.prepared.liquid_session.as_ref().ok_or(ConnectError::new(ErrorCode::UnknownState, "no Liquid session for this flow"))?;
    let params = match url {
        Some(url) => {
            let params = check_response(url, &expectation(done))?;
            if params.iter().any(|(name, value)| name == "session_id" && value != &session.id) {
                return Err(ConnectError::new(ErrorCode::InvalidCallback, "the return page names another Liquid session"));
            }
            params
        }
        None => Vec::new(),
    };
    if let Some(endpoint) = &liquid.verify_endpoint {
        let request = js::object();
        js::set(&request, "sessionId", session.id.as_str());
        let response = http::post_json(endpoint, &request).await?;
        let approved = response.ok() && !response.json.as_ref().is_some_and(|json| js::get(json, "approved") == JsValue::FALSE);
        if !approved {
            return Err(match url {
                None => ConnectError::new(ErrorCode::PopupClosed, "the window was closed before the Liquid session was approved"),
                Some(_) => response.refused(),
            });
        }
        done.events.emit("exchange", Some(done.mode), None);
        js::set(result, "exchange", response.json.unwrap_or(JsValue::NULL));
    }
    let session_object = js::object();
    js::set(&session_object, "sessionId", session.id.as_str());
    js::set(&session_object, "sessionSecret", session.secret.expose());
    js::set(result, "session", session_object);
    js::set(result, "params", js::record_from_pairs(&params));
    Ok(())
}

