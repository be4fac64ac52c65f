//! `kind: "turnqey"`: Turnqey read-only linking ([seed 002](../../../shared/seeds/002_09707a619ce7fbae.txt)).
//! The app's backend signs the exact request (`checksum`); the browser makes `state`. The answer
//! carries `collection`, `identity`, `platform` and `status`, every one of them in `params`.

use alloc::string::String;

use super::{params_record, put, put_text, Completed, Fetch, Flow, Memory, Pending, Prepared, Record, Response, Step};
use crate::authorize::build_authorize_url_str;
use crate::callback::check_response;
use crate::config::UrlField;
use crate::fields::Reader;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::opt_string;

pub const TURNQEY_PRODUCTION: &str = "https://api.turnqey.xyz/authorize";
pub const TURNQEY_SANDBOX: &str = "https://sandbox.turnqey.xyz/authorize";

/// `kind: "turnqey"`: Turnqey read-only linking (seed 002). The app's backend signs the exact
/// request (`checksum`); the browser makes `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnqeyConfig {
    pub authorize_url: String,
    pub client: String,
    pub platform: String,
    pub identity: String,
    pub collection: Option<String>,
    pub checksum_endpoint: String,
}

pub fn parse(fields: &Record) -> Result<TurnqeyConfig> {
    let mut read = Reader::new(fields, ErrorCode::InvalidConfig);
    let config = read_config(&mut read);
    read.finish(config)
}

/// The fields of `kind: "turnqey"`, in the order they are checked.
pub(crate) fn read_config(read: &mut Reader<'_>) -> TurnqeyConfig {
    // One of Turnqey's two servers by name, or any other by its URL.
    // Borrowed: only compared, never kept.
    let environment = read.str("environment");
    let authorize_url = match (environment, read.url("authorizeUrl", UrlField::Optional)) {
        (None, Some(url)) => url,
        (Some(name @ ("production" | "sandbox")), None) => String::from(if name == "sandbox" { TURNQEY_SANDBOX } else { TURNQEY_PRODUCTION }),
        _ => {
            read.invalid("give environment (\"production\" or \"sandbox\") or authorizeUrl");
            String::new()
        }
    };
    TurnqeyConfig {
        authorize_url,
        client: read.req("client"),
        platform: read.req("platform"),
        identity: read.req("identity"),
        collection: read.opt("collection").filter(|collection| !collection.is_empty()),
        checksum_endpoint: read.required_url("checksumEndpoint", UrlField::RequiredBackend),
    }
}

pub const RESPONSE_PARAMS: &[&str] = &["collection", "identity", "platform", "status"];

/// The backend's checksum request: exactly the parameters that will be sent.
pub fn prepare(config: &TurnqeyConfig, memory: &Memory, pending: &Pending) -> Step<Prepared, ()> {
    let mut request = Record::new();
    put_text(&mut request, "client", &config.client);
    put_text(&mut request, "platform", &config.platform);
    put_text(&mut request, "identity", &config.identity);
    if let Some(collection) = &memory.collection {
        put_text(&mut request, "collection", collection);
    }
    put_text(&mut request, "state", &pending.state);
    Step::Fetch(Fetch::post_json(&config.checksum_endpoint, &request), ())
}

/// `/authorize` with the parameters in the order of the document's example.
pub fn prepare_answered(config: &TurnqeyConfig, memory: &Memory, pending: &Pending, response: Response) -> Result<Prepared> {
    let answer = response.into_object()?;
    let checksum = opt_string(&answer, "checksum", ErrorCode::InvalidConfig)?
        .filter(|checksum| !checksum.is_empty())
        .ok_or_else(|| ConnectError::new(ErrorCode::InvalidConfig, "checksumEndpoint: no checksum"))?;
    let mut params = alloc::vec![("client", config.client.as_str()), ("platform", &config.platform)];
    if let Some(collection) = &memory.collection {
        params.push(("collection", collection));
    }
    params.push(("state", &pending.state));
    params.push(("identity", &config.identity));
    params.push(("checksum", &checksum));
    Ok(Prepared { url: build_authorize_url_str(&config.authorize_url, &params)?, token_endpoint: None, liquid_session: None, iss_required: false })
}

pub fn complete(config: &TurnqeyConfig, flow: &Flow<'_>, url: &str) -> Result<Completed> {
    let params = check_response(url, &flow.expectation())?;
    let get = |name: &str| crate::callback::param(&params, name);
    let collection = String::from(get("collection").unwrap_or_default());
    if collection.is_empty() {
        return Err(ConnectError::new(ErrorCode::InvalidCallback, "Turnqey's answer has no collection"));
    }
    // The answer must be for the identity and platform this flow asked for, and say
    // `connected`: a relayed callback (from any page of the origin that learned the state) that
    // names another user, or a status that is not success, never completes the flow.
    let matches = get("identity") == Some(config.identity.as_str())
        && get("platform").is_none_or(|platform| platform == config.platform)
        && get("status").is_none_or(|status| status == "connected");
    if !matches {
        return Err(ConnectError::new(ErrorCode::InvalidCallback, "Turnqey's answer is not this flow's (identity, platform or status)"));
    }
    let mut completed = Completed::default();
    put_text(&mut completed.result, "collection", &collection);
    put(&mut completed.result, "params", params_record(&params));
    completed.collection = Some(collection);
    Ok(completed)
}
