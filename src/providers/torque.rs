//! `kind: "torque"`: Torque Connect ([seed 000](../../../shared/seeds/000_2d7d7339d800e424.txt)).
//! The app's backend opens the authorize session with the business key
//! (`POST /connect/authorize/session`) and redeems the code; the browser makes PKCE and state.

use alloc::string::String;
use alloc::vec::Vec;

use super::{put, put_text, Completed, Fetch, Flow, Pending, Prepared, Record, Response, Step, Waiting};
use crate::config::check_url;
use crate::config::UrlField;
use crate::fields::Reader;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::opt_string;
use crate::pkce::S256;

/// `kind: "torque"`: Torque Connect (seed 000). The app's backend opens the authorize session
/// and redeems the code with the business key; the browser makes PKCE and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TorqueConfig {
    pub session_endpoint: String,
    pub exchange_endpoint: String,
    pub redirect_uri: String,
    pub external_user_id: Option<String>,
    pub scope: Vec<String>,
}

pub fn parse(fields: &Record) -> Result<TorqueConfig> {
    let mut read = Reader::new(fields, ErrorCode::InvalidConfig);
    let config = read_config(&mut read);
    read.finish(config)
}

/// The fields of `kind: "torque"`, in the order they are checked.
pub(crate) fn read_config(read: &mut Reader<'_>) -> TorqueConfig {
    TorqueConfig {
        session_endpoint: read.required_url("sessionEndpoint", UrlField::RequiredBackend),
        exchange_endpoint: read.required_url("exchangeEndpoint", UrlField::RequiredBackend),
        redirect_uri: read.required_url("redirectUri", UrlField::Required),
        external_user_id: read.opt("externalUserId"),
        scope: read.scope(),
    }
}

/// The backend's session request: `{ redirectUri, codeChallenge, codeChallengeMethod, state, externalUserId?, scope? }`.
pub fn prepare(config: &TorqueConfig, pending: &Pending) -> Step<Prepared, ()> {
    let mut request = Record::new();
    put_text(&mut request, "redirectUri", &config.redirect_uri);
    put(&mut request, "codeChallenge", crate::fields::Value::Text(pending.verifier.challenge()));
    put_text(&mut request, "codeChallengeMethod", S256);
    put_text(&mut request, "state", &pending.state);
    if let Some(user) = &config.external_user_id {
        put_text(&mut request, "externalUserId", user);
    }
    if !config.scope.is_empty() {
        put(&mut request, "scope", crate::fields::Value::Text(crate::encoding::join_spaced(&config.scope)));
    }
    Step::Fetch(Fetch::post_json(&config.session_endpoint, &request), ())
}

/// Torque's `authorizeUrl`, handed back by the backend.
pub fn prepare_answered(response: Response) -> Result<Prepared> {
    let answer = response.into_object()?;
    let url: String = opt_string(&answer, "authorizeUrl", ErrorCode::InvalidConfig)?
        .ok_or_else(|| ConnectError::new(ErrorCode::InvalidConfig, "sessionEndpoint: no authorizeUrl"))?;
    check_url(&url, "authorizeUrl")?;
    Ok(Prepared { url, token_endpoint: None, liquid_session: None, iss_required: false })
}

/// The backend redeems the code (`POST /connect/token` with the business key).
pub fn complete(config: &TorqueConfig, flow: &Flow<'_>, url: &str) -> Result<Step<Completed, Waiting>> {
    super::oauth2::complete_with_backend(flow, url, &config.exchange_endpoint, false)
}
