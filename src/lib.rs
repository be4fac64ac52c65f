//! oauth-connect: OAuth 2.0 connect flows for the browser.
//!
//! This file is the wasm-bindgen surface only: each export reads its JS arguments, calls the
//! pure core, and shapes the result. The core (`error`, `encoding`, `random`, `pkce`, `state`,
//! `url`, `authorize`, `callback`) has no `JsValue` and is tested with plain `cargo test`;
//! `browser` holds everything that touches JavaScript values or the page.

extern crate alloc;

pub mod authorize;
pub mod browser;
pub mod button;
pub mod button_state;
pub mod callback;
pub mod config;
pub mod encoding;
pub mod error;
pub mod fields;
pub mod flow;
pub mod id_token;
pub mod pkce;
pub mod random;
pub mod secret;
pub mod state;
pub mod token;
pub mod url;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::browser::js;
use crate::callback::{CallbackExpectation, ResponseMode};
use crate::error::{ConnectError, ErrorCode};

type JsResult<T> = Result<T, JsValue>;

/// Called by the entry module's `init()` with its `ConnectError` class, so that errors made
/// here are instances of it. Not part of the public API.
#[wasm_bindgen(js_name = "__setErrorClass")]
pub fn set_error_class(class: Function) {
    browser::error::set_error_class(class);
}

/// `createPkce(): { verifier, challenge, method: "S256" }`
/// ([RFC 7636 §4.1–4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
#[wasm_bindgen(js_name = createPkce)]
pub fn create_pkce() -> JsResult<JsValue> {
    let pair = pkce::create_pkce()?;
    let result = js::object();
    js::set(&result, "verifier", pair.verifier.into_secret());
    js::set(&result, "challenge", pair.challenge);
    js::set(&result, "method", pkce::S256);
    Ok(result.into())
}

/// `pkceChallenge(verifier): string`, `invalid_verifier` unless RFC 7636 §4.1 grammar.
#[wasm_bindgen(js_name = pkceChallenge)]
pub fn pkce_challenge(verifier: JsValue) -> JsResult<String> {
    let verifier = verifier
        .as_string()
        .ok_or(ConnectError::new(ErrorCode::InvalidVerifier, "a PKCE code verifier must be a string"))?;
    Ok(pkce::pkce_challenge(&verifier)?)
}

/// `randomState(): string`: 256 CSPRNG bits, base64url.
#[wasm_bindgen(js_name = randomState)]
pub fn random_state() -> JsResult<String> {
    Ok(state::random_state()?)
}

/// `idempotencyKey(): string`: a random UUID v4.
#[wasm_bindgen(js_name = idempotencyKey)]
pub fn idempotency_key() -> JsResult<String> {
    Ok(state::idempotency_key()?)
}

/// `buildAuthorizeUrl(endpoint, params): string` ([RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1)).
#[wasm_bindgen(js_name = buildAuthorizeUrl)]
pub fn build_authorize_url(endpoint: JsValue, params: JsValue) -> JsResult<String> {
    let endpoint = js::required_string(&endpoint, "endpoint")?;
    let params = js::param_record(&params, "params")?;
    Ok(authorize::build_authorize_url(&endpoint, params)?)
}

/// `parseCallback(url, { state, issuer?, responseMode? }): { code, state, iss?, params }`
/// ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)).
#[wasm_bindgen(js_name = parseCallback)]
pub fn parse_callback(url: JsValue, expect: JsValue) -> JsResult<JsValue> {
    let url = url.as_string().ok_or(ConnectError::new(ErrorCode::InvalidCallback, "the callback URL must be a string"))?;
    if !expect.is_object() {
        return Err(ConnectError::new(ErrorCode::InvalidConfig, "expect must be an object with the state that was sent").into());
    }
    let expected_state = js::required_string(&js::get(&expect, "state"), "expect.state")?;
    let issuer = js::optional_string_field(&expect, "issuer")?;
    let response_mode = match js::optional_string_field(&expect, "responseMode")?.as_deref() {
        None | Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some(_) => return Err(ConnectError::new(ErrorCode::InvalidConfig, "expect.responseMode must be \"query\" or \"fragment\"").into()),
    };
    let expectation = CallbackExpectation { state: &expected_state, issuer: issuer.as_deref(), response_mode };
    let (code, state, iss, params) = callback::parse_callback(&url, &expectation)?.into_parts();
    let result = js::object();
    js::set(&result, "code", code.into_secret());
    js::set(&result, "state", state);
    if let Some(iss) = iss {
        js::set(&result, "iss", iss);
    }
    js::set(&result, "params", js::record_from_pairs(&params));
    Ok(result.into())
}

/// `handleCallback(url?, options?)`: run on the `redirectUri` page, on every load.
/// `options.onEvent` receives the redirect flow's events.
#[wasm_bindgen(js_name = handleCallback)]
pub fn handle_callback(url: JsValue, options: JsValue) -> js_sys::Promise {
    browser::callback_page::handle_callback(url, options)
}

/// `widgetIdentity(result)`: the identity a Liquid widget takes,
/// `{ user_session: { session_id, session_secret } }`, from a Liquid `ConnectResult`.
#[wasm_bindgen(js_name = widgetIdentity)]
pub fn widget_identity(result: JsValue) -> JsResult<JsValue> {
    let session = js::get(&result, "session");
    let (Some(id), Some(secret)) = (js::get(&session, "sessionId").as_string(), js::get(&session, "sessionSecret").as_string()) else {
        return Err(ConnectError::new(ErrorCode::InvalidConfig, "widgetIdentity needs the result of a Liquid connection (with session)").into());
    };
    let user_session = js::object();
    js::set(&user_session, "session_id", id);
    js::set(&user_session, "session_secret", secret);
    let identity = js::object();
    js::set(&identity, "user_session", user_session);
    Ok(identity.into())
}
