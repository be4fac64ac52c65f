//! The one HTTP seam: `fetch`, with the body read as text and parsed as JSON by the browser.
//! A request that never got an answer is `network`; what an answer means is the caller's.

use alloc::string::String;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

use crate::browser::js;
use crate::error::{ConnectError, ErrorCode, Result};

/// An answer: its status and its body as JSON (`None` when empty or not JSON).
pub struct HttpResponse {
    pub status: u16,
    pub json: Option<JsValue>,
}

impl HttpResponse {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body when it is a JSON object.
    pub fn object(&self) -> Option<js::JsFields> {
        self.json.as_ref().filter(|json| json.is_object() && !js_sys::Array::is_array(json)).map(|json| js::JsFields(json.clone()))
    }

    /// The refusal this answer stands for: `token_error` with its status and, if the body is an
    /// OAuth-style error object, the server's `error` fields.
    pub fn refused(&self) -> ConnectError {
        crate::token::token_error(self.status, self.object().as_ref().map(|body| body as &dyn crate::fields::Fields))
    }

    /// A 2xx answer's JSON object, or [`refused`](Self::refused).
    pub fn into_object(self) -> Result<js::JsFields> {
        match (self.ok(), self.object()) {
            (true, Some(body)) => Ok(body),
            _ => Err(self.refused()),
        }
    }
}

fn network_error() -> ConnectError {
    ConnectError::new(ErrorCode::Network, "the request could not be sent or got no answer (network error, CORS, or the server is down)")
}

async fn send(url: &str, init: &RequestInit) -> Result<HttpResponse> {
    let window = web_sys::window().ok_or_else(network_error)?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, init)).await.map_err(|_| network_error())?.unchecked_into();
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|text| text.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok(HttpResponse { status, json: if text.is_empty() { None } else { js::parse_json(&text) } })
}

fn headers(content_type: Option<&str>) -> js_sys::Object {
    let headers = js::object();
    js::set(&headers, "accept", "application/json");
    if let Some(content_type) = content_type {
        js::set(&headers, "content-type", content_type);
    }
    headers
}

/// POST a form ([RFC 6749 §4.1.3](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3)): a
/// CORS-safelisted content type, so no preflight.
pub async fn post_form(url: &str, body: &str) -> Result<HttpResponse> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers(Some("application/x-www-form-urlencoded")));
    init.set_body(&JsValue::from_str(body));
    send(url, &init).await
}

/// POST JSON to the app's own backend.
pub async fn post_json(url: &str, body: &JsValue) -> Result<HttpResponse> {
    let text = js::to_json(body).ok_or_else(|| ConnectError::new(ErrorCode::InvalidConfig, "the request body cannot be sent as JSON"))?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers(Some("application/json")));
    init.set_body(&JsValue::from_str(&text));
    send(url, &init).await
}

/// GET a JSON document.
pub async fn get_json(url: &str) -> Result<HttpResponse> {
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers(None));
    send(url, &init).await
}
