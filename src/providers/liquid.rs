//! `kind: "liquid"`: a Liquid Quick Exchange user session ([seed 003](../../../shared/seeds/003_b3d059c2a1e164d9.txt)).
//! `POST {baseUrl}/api/v1/session` with the public key; the window goes to the session's
//! `liquid_oauth` page; the flow ends on the return page's message (with `returnUrl`) or when the
//! user closes the window, and the app's backend confirms the session (`verifyEndpoint`).

use alloc::string::String;
use alloc::vec::Vec;

use super::{params_record, put, put_text, Completed, Fetch, Flow, LiquidSession, Pending, Prepared, Record, Response, Step, Then, Waiting};
use crate::authorize::build_authorize_url_str;
use crate::callback::check_response;
use crate::config::UrlField;
use crate::fields::Reader;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::{opt_string, Value};
use crate::fields::Fields;
use crate::secret::Secret;

pub const LIQUID_DEFAULT_BASE_URL: &str = "https://partners.liquid.com";

/// `kind: "liquid"`: Liquid Quick Exchange user session (seed 003).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiquidConfig {
    pub base_url: String,
    pub public_api_key: String,
    pub return_url: Option<String>,
    pub verify_endpoint: Option<String>,
}

pub fn parse(fields: &Record) -> Result<LiquidConfig> {
    let mut read = Reader::new(fields, ErrorCode::InvalidConfig);
    let config = read_config(&mut read);
    read.finish(config)
}

/// The fields of `kind: "liquid"`, in the order they are checked.
pub(crate) fn read_config(read: &mut Reader<'_>) -> LiquidConfig {
    let public_api_key = read.req("publicApiKey");
    if !public_api_key.starts_with("pk_") {
        read.invalid("publicApiKey must be the public key (pk_...)");
    }
    let config = LiquidConfig {
        base_url: String::from(crate::encoding::trim_end_byte(read.url("baseUrl", UrlField::Optional).as_deref().unwrap_or(LIQUID_DEFAULT_BASE_URL), b'/')),
        public_api_key,
        return_url: read.url("returnUrl", UrlField::Optional),
        verify_endpoint: read.url("verifyEndpoint", UrlField::Backend),
    };
    // Without a return page the flow ends when the user closes the window, which says nothing
    // about consent: only the app's backend, asking Liquid, can tell an approved session from
    // one the user walked away from.
    if config.return_url.is_none() && config.verify_endpoint.is_none() {
        read.invalid("verifyEndpoint is required without returnUrl: a closed window does not say the user approved");
    }
    config
}

pub const RESPONSE_PARAMS: &[&str] = &["session_id"];

fn session_url(config: &LiquidConfig) -> String {
    let mut url = String::from(config.base_url.as_str());
    url.push_str("/api/v1/session");
    url
}

pub fn check_redirect(config: &LiquidConfig) -> Result<()> {
    match config.return_url {
        Some(_) => Ok(()),
        None => Err(ConnectError::new(
            ErrorCode::InvalidConfig,
            "a Liquid redirect flow needs returnUrl (or use popup())",
        )),
    }
}

pub fn prepare(config: &LiquidConfig, pending: &Pending) -> Result<Step<Prepared, ()>> {
    let mut request = Record::new();
    put_text(&mut request, "public_api_key", &config.public_api_key);
    if let Some(return_url) = &config.return_url {
        // The return page is recognised, and matched to this flow, by its state.
        let with_state = build_authorize_url_str(return_url, &[("state", &pending.state)])?;
        put(&mut request, "return_url", Value::Text(with_state));
    }
    Ok(Step::Fetch(Fetch::post_json(&session_url(config), &request), ()))
}

pub fn prepare_answered(config: &LiquidConfig, response: Response) -> Result<Prepared> {
    let refused = || ConnectError::new(ErrorCode::TokenError, "Liquid did not create a session").with_status(response.status);
    // One refusal for every way the answer is not a created session.
    let payload = match response.object() {
        Some(body) if response.ok() && matches!(body.field("success"), Some(Value::Bool(true))) => match body.field("payload") {
            Some(Value::Record(payload)) => Some(payload),
            _ => None,
        },
        _ => None,
    };
    let Some(payload) = payload else { return Err(refused()) };
    let id = opt_string(payload, "session_id", ErrorCode::TokenError)?.unwrap_or_default();
    let secret = opt_string(payload, "session_secret", ErrorCode::TokenError)?.unwrap_or_default();
    // The id goes into a URL path: only an id's characters.
    if id.is_empty() || secret.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(refused());
    }
    let mut url = session_url(config);
    url.push('/');
    url.push_str(&id);
    url.push_str("/liquid_oauth");
    Ok(Prepared { url, token_endpoint: None, liquid_session: Some(LiquidSession { id, secret: Secret::new(secret) }), iss_required: false })
}

fn session<'a>(flow: &Flow<'a>) -> Result<&'a LiquidSession> {
    flow.prepared.liquid_session.as_ref().ok_or_else(|| ConnectError::new(ErrorCode::UnknownState, "no Liquid session for this flow"))
}

/// The return page's answer (`url`), or the closed window (`None`).
pub fn complete(config: &LiquidConfig, flow: &Flow<'_>, url: Option<&str>) -> Result<Step<Completed, Waiting>> {
    let session = session(flow)?;
    let params = match url {
        Some(url) => {
            let params = check_response(url, &flow.expectation())?;
            // Liquid's return page names the session it approved: a relayed message without
            // this flow's session (from any page that learned the state) completes nothing.
            if crate::callback::param(&params, "session_id") != Some(session.id.as_str()) {
                return Err(ConnectError::new(ErrorCode::InvalidCallback, "the return page is not this Liquid session's"));
            }
            params
        }
        None => Vec::new(),
    };
    let mut completed = Completed::default();
    put(&mut completed.result, "params", params_record(&params));
    match &config.verify_endpoint {
        Some(endpoint) => {
            let mut request = Record::new();
            put_text(&mut request, "sessionId", &session.id);
            Ok(Step::Fetch(Fetch::post_json(endpoint, &request), Waiting { completed, then: Then::LiquidVerified { closed: url.is_none() } }))
        }
        None => {
            add_session(&mut completed, session);
            Ok(Step::Done(completed))
        }
    }
}

fn add_session(completed: &mut Completed, session: &LiquidSession) {
    let mut object = Record::new();
    put_text(&mut object, "sessionId", &session.id);
    put_text(&mut object, "sessionSecret", session.secret.expose());
    put(&mut completed.result, "session", Value::Record(object));
}

/// The backend's confirmation: approved unless it refused or said `approved: false`.
pub fn verified(flow: &Flow<'_>, completed: &mut Completed, response: Response, closed: bool) -> Result<()> {
    let denied = matches!(response.object().and_then(|body| body.field("approved")), Some(Value::Bool(false)));
    // Only a clear yes approves: a refusal, `approved: false`, or a body that cannot be read all
    // leave the session unapproved.
    if !response.ok() || denied || response.malformed {
        return Err(if closed {
            ConnectError::new(ErrorCode::PopupClosed, "the window closed before Liquid approved")
        } else {
            response.refused()
        });
    }
    put(&mut completed.result, "exchange", response.json.unwrap_or(Value::Other));
    add_session(completed, session(flow)?);
    Ok(())
}
