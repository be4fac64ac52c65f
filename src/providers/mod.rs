//! The provider kinds, one module each: how a kind prepares the URL the user is sent to (OIDC
//! discovery, Torque's session, Turnqey's checksum, Liquid's session) and how it completes when
//! the user comes back (the token exchange, the app's backend, Liquid's verification). Every
//! step is pure: one that needs the network answers [`Step::Fetch`] and is called again with the
//! response. The `match`es below list every kind with no catch-all, so a new kind is its module
//! plus the arms the compiler asks for.

pub mod liquid;
pub mod oauth2;
pub mod oidc;
pub mod torque;
pub mod turnqey;

use alloc::string::String;

use crate::callback::CallbackExpectation;
use crate::config::{ConnectConfig, ProviderConfig};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::Value;
use crate::pkce::PkceVerifier;
use crate::secret::Secret;
use crate::state::random_state;
use crate::token::TokenSet;

/// A JSON object as the core reads and writes it.
pub use crate::fields::Record;

pub fn text(value: &str) -> Value {
    Value::Text(String::from(value))
}

pub fn put(record: &mut Record, name: &str, value: Value) {
    record.push((String::from(name), value));
}

/// `put` of a string member: the copy into a `Value::Text` made here once, not at each of the
/// many call sites (requests, results, token sets).
#[inline(never)]
pub fn put_text(record: &mut Record, name: &str, value: &str) {
    put(record, name, text(value));
}

/// Parameters as a JSON object (`params` of a result).
pub fn params_record(params: &[(String, String)]) -> Value {
    params_record_except(params, "")
}

/// [`params_record`] without the parameter `except` (the code, which the result must not repeat
/// once it is redeemed).
#[inline(never)]
pub fn params_record_except(params: &[(String, String)], except: &str) -> Value {
    let mut record = Record::with_capacity(params.len());
    for (name, value) in params {
        if name != except {
            record.push((name.clone(), Value::Text(value.clone())));
        }
    }
    Value::Record(record)
}

/// The contract's `TokenSet` object; without its refresh token unless `with_refresh_token`
/// (what other tabs are sent).
pub fn token_set_record(tokens: &TokenSet, with_refresh_token: bool) -> Value {
    let mut record = Record::new();
    put_text(&mut record, "accessToken", tokens.access_token.expose());
    put_text(&mut record, "tokenType", &tokens.token_type);
    if let Some(expires_at) = tokens.expires_at_ms {
        // Whole milliseconds (`as` saturates: a hostile `expires_in` makes no larger number).
        put(&mut record, "expiresAt", Value::Number(expires_at as i64));
    }
    if let (Some(refresh_token), true) = (&tokens.refresh_token, with_refresh_token) {
        put_text(&mut record, "refreshToken", refresh_token.expose());
    }
    if let Some(scope) = &tokens.scope {
        put_text(&mut record, "scope", scope);
    }
    if let Some(id_token) = &tokens.id_token {
        put_text(&mut record, "idToken", id_token.expose());
    }
    Value::Record(record)
}

/// What one flow made in the browser before anything else: `state`, the PKCE verifier and, for
/// OIDC, a nonce.
pub struct Pending {
    pub state: String,
    pub verifier: PkceVerifier,
    pub nonce: Option<String>,
}

impl Pending {
    pub fn new(config: &ConnectConfig) -> Result<Pending> {
        let nonce = match *config.provider {
            ProviderConfig::Oidc(_) => Some(random_state()?),
            ProviderConfig::OAuth2(_) | ProviderConfig::Torque(_) | ProviderConfig::Turnqey(_) | ProviderConfig::Liquid(_) => None,
        };
        Ok(Pending { state: random_state()?, verifier: PkceVerifier::generate()?, nonce })
    }
}

/// A Liquid user session ([seed 003](../../../shared/seeds/003_b3d059c2a1e164d9.txt)).
#[derive(Debug, Clone, PartialEq)]
pub struct LiquidSession {
    pub id: String,
    pub secret: Secret,
}

/// Where the user goes, and what was learned on the way there.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prepared {
    pub url: String,
    /// OAuth 2.0 / OIDC: the token endpoint the browser redeems the code at.
    pub token_endpoint: Option<String>,
    pub liquid_session: Option<LiquidSession>,
    /// OIDC: discovery says the issuer sends `iss` with every response (RFC 9207).
    pub iss_required: bool,
}

/// The authorization and token endpoints of an OAuth 2.0 / OIDC connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints {
    pub authorization: String,
    pub token: Option<String>,
    /// The discovery document's `authorization_response_iss_parameter_supported`.
    pub iss_required: bool,
}

/// What a connection remembers between flows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Memory {
    /// OIDC: the discovery document's endpoints, fetched once per `Connect`.
    pub endpoints: Option<Endpoints>,
    /// Turnqey: the collection new flows connect into (the last result's, else the config's).
    pub collection: Option<String>,
}

/// A request a step needs before it can go on.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetch {
    pub method: &'static str,
    pub url: String,
    pub body: Option<(&'static str, String)>,
}

impl Fetch {
    pub fn get(url: String) -> Fetch {
        Fetch { method: "GET", url, body: None }
    }

    pub fn post_json(url: &str, body: &Record) -> Fetch {
        let mut text = String::new();
        crate::json::JsonWriter::new(&mut text).record(body);
        Fetch { method: "POST", url: String::from(url), body: Some(("application/json", text)) }
    }

    pub fn post_form(url: &str, body: String) -> Fetch {
        Fetch { method: "POST", url: String::from(url), body: Some(("application/x-www-form-urlencoded", body)) }
    }
}

/// A step's outcome: done, or a request to make first.
pub enum Step<T, W> {
    Done(T),
    /// Make this request, then call the kind's `…_answered` with `W` and the response.
    Fetch(Fetch, W),
}

/// An HTTP answer as the kinds read it.
pub struct Response {
    pub status: u16,
    /// The body, when it was JSON (an object with a key given twice is not: readers that take
    /// the last one, as `JSON.parse` does, would see other values than this library).
    pub json: Option<Value>,
    /// There was a body, but not one of those: an answer that is never taken as a yes.
    pub malformed: bool,
}

impl Response {
    pub fn new(status: u16, body: &str) -> Response {
        if body.is_empty() {
            return Response { status, json: None, malformed: false };
        }
        let json = crate::json::parse(body).ok().filter(|json| match json {
            Value::Record(record) => crate::json::duplicate_key(record).is_none(),
            _ => true,
        });
        Response { status, malformed: json.is_none(), json }
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body when it is a JSON object.
    pub fn object(&self) -> Option<&Record> {
        match &self.json {
            Some(Value::Record(record)) => Some(record),
            _ => None,
        }
    }

    /// The error for a refused request, with what the server said.
    pub fn refused(&self) -> ConnectError {
        crate::token::token_error(self.status, self.object())
    }

    /// The body of a successful answer that is a JSON object; else `refused()`.
    pub fn into_object(self) -> Result<Record> {
        if !self.ok() {
            return Err(self.refused());
        }
        match self.json {
            Some(Value::Record(record)) => Ok(record),
            _ => Err(self.refused()),
        }
    }
}

/// Prepare the URL of a flow.
pub fn prepare(config: &ConnectConfig, memory: &Memory, pending: &Pending) -> Result<Step<Prepared, ()>> {
    match &*config.provider {
        ProviderConfig::OAuth2(oauth2) => oauth2::prepare(oauth2, pending).map(Step::Done),
        ProviderConfig::Oidc(oidc) => oidc::prepare(oidc, memory, pending),
        ProviderConfig::Torque(torque) => Ok(torque::prepare(torque, pending)),
        ProviderConfig::Turnqey(turnqey) => Ok(turnqey::prepare(turnqey, memory, pending)),
        ProviderConfig::Liquid(liquid) => liquid::prepare(liquid, pending),
    }
}

/// Go on preparing with the answer to the request `prepare` asked for.
pub fn prepare_answered(config: &ConnectConfig, memory: &mut Memory, pending: &Pending, response: Response) -> Result<Prepared> {
    match &*config.provider {
        ProviderConfig::OAuth2(_) => Err(ConnectError::new(ErrorCode::InvalidConfig, "an oauth2 flow makes no request before the authorization URL")),
        ProviderConfig::Oidc(oidc) => oidc::prepare_answered(oidc, memory, pending, response),
        ProviderConfig::Torque(_) => torque::prepare_answered(response),
        ProviderConfig::Turnqey(turnqey) => turnqey::prepare_answered(turnqey, memory, pending, response),
        ProviderConfig::Liquid(liquid) => liquid::prepare_answered(liquid, response),
    }
}

/// How the user came back.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrival {
    /// The callback URL, for this flow's state.
    Callback(String),
    /// The user closed the popup (Liquid's "close this window and return to the app" ending).
    Closed,
}

pub fn popup_closed() -> ConnectError {
    ConnectError::new(ErrorCode::PopupClosed, "the popup was closed before the flow finished")
}

/// Everything a completion reads.
pub struct Flow<'a> {
    pub config: &'a ConnectConfig,
    pub pending: &'a Pending,
    pub prepared: &'a Prepared,
    /// Epoch milliseconds, for the ID token's `exp`.
    pub now_ms: f64,
}

impl Flow<'_> {
    pub fn expectation(&self) -> CallbackExpectation<'_> {
        CallbackExpectation {
            state: &self.pending.state,
            issuer: self.config.issuer(),
            iss_required: self.prepared.iss_required,
            response_mode: self.config.response_mode(),
        }
    }
}

/// A finished flow: the result object (less `provider`, `state` and `returnTo`, which the machine
/// adds), and what the connection keeps.
#[derive(Debug, Default)]
pub struct Completed {
    pub result: Record,
    /// Tokens the browser got, with the OIDC `sub`.
    pub tokens: Option<(TokenSet, Option<String>)>,
    /// A request was made to finish (the `exchange` event).
    pub exchanged: bool,
    /// Turnqey: the collection connected into.
    pub collection: Option<String>,
}

/// What a completion waits for while its request is out.
pub struct Waiting {
    pub completed: Completed,
    pub then: Then,
}

pub enum Then {
    /// The token endpoint's answer to the code exchange.
    Tokens,
    /// The app's backend redeemed the code: its JSON is `exchange`.
    Backend,
    /// Liquid's `verifyEndpoint` answered; `closed` when the user closed the window.
    LiquidVerified { closed: bool },
}

/// Complete a flow when the user came back.
pub fn complete(flow: &Flow<'_>, arrival: &Arrival) -> Result<Step<Completed, Waiting>> {
    let url = match (arrival, &*flow.config.provider) {
        (Arrival::Callback(url), _) => Some(url.as_str()),
        (Arrival::Closed, ProviderConfig::Liquid(_)) => None,
        (Arrival::Closed, ProviderConfig::OAuth2(_) | ProviderConfig::Oidc(_) | ProviderConfig::Torque(_) | ProviderConfig::Turnqey(_)) => {
            return Err(popup_closed())
        }
    };
    match &*flow.config.provider {
        ProviderConfig::OAuth2(oauth2) => oauth2::complete(oauth2, flow, url.unwrap_or_default()),
        ProviderConfig::Oidc(_) => oauth2::complete_with_token_endpoint(flow, url.unwrap_or_default()),
        ProviderConfig::Torque(torque) => torque::complete(torque, flow, url.unwrap_or_default()),
        ProviderConfig::Turnqey(turnqey) => turnqey::complete(turnqey, flow, url.unwrap_or_default()).map(Step::Done),
        ProviderConfig::Liquid(liquid) => liquid::complete(liquid, flow, url),
    }
}

/// Go on completing with the answer to the request `complete` asked for.
pub fn complete_answered(flow: &Flow<'_>, waiting: Waiting, response: Response) -> Result<Completed> {
    let Waiting { mut completed, then } = waiting;
    match then {
        Then::Tokens => {
            let body = response.into_object()?;
            let tokens = crate::token::token_set_from_response(&body, flow.now_ms, None)?;
            let subject = match &*flow.config.provider {
                ProviderConfig::Oidc(oidc) => Some(oidc::check_new_id_token(oidc, flow, &tokens)?),
                ProviderConfig::OAuth2(_) | ProviderConfig::Torque(_) | ProviderConfig::Turnqey(_) | ProviderConfig::Liquid(_) => None,
            };
            put(&mut completed.result, "tokens", token_set_record(&tokens, true));
            completed.tokens = Some((tokens, subject));
        }
        Then::Backend => {
            if !response.ok() || response.malformed {
                return Err(response.refused());
            }
            put(&mut completed.result, "exchange", response.json.unwrap_or(Value::Other));
        }
        Then::LiquidVerified { closed } => liquid::verified(flow, &mut completed, response, closed)?,
    }
    completed.exchanged = true;
    Ok(completed)
}

/// The parameters a kind's answer adds besides the OAuth ones (Turnqey's result, Liquid's
/// session id): they leave the address bar too.
pub fn response_params(config: &ConnectConfig) -> &'static [&'static str] {
    match *config.provider {
        ProviderConfig::Turnqey(_) => turnqey::RESPONSE_PARAMS,
        ProviderConfig::Liquid(_) => liquid::RESPONSE_PARAMS,
        ProviderConfig::OAuth2(_) | ProviderConfig::Oidc(_) | ProviderConfig::Torque(_) => &[],
    }
}

/// How a connection refreshes: `(token endpoint, issuer for OIDC)`, or why it cannot.
pub enum RefreshRoute {
    Endpoint { token_endpoint: String, issuer: Option<String> },
    /// OIDC before discovery: fetch the discovery document first.
    Discover(Fetch),
    /// The kind's tokens, if any, are the app's backend's.
    NotHere,
}

pub fn refresh_route(config: &ConnectConfig, memory: &Memory) -> RefreshRoute {
    match &*config.provider {
        ProviderConfig::OAuth2(oauth2) => match oauth2::token_endpoint(oauth2) {
            Some(endpoint) => RefreshRoute::Endpoint { token_endpoint: String::from(endpoint), issuer: None },
            None => RefreshRoute::NotHere,
        },
        ProviderConfig::Oidc(oidc) => oidc::refresh_route(oidc, memory),
        ProviderConfig::Torque(_) | ProviderConfig::Turnqey(_) | ProviderConfig::Liquid(_) => RefreshRoute::NotHere,
    }
}

/// Keep the discovery document's endpoints (OIDC) when a refresh had to discover them.
pub fn discovered(config: &ConnectConfig, memory: &mut Memory, response: Response) -> Result<()> {
    match &*config.provider {
        ProviderConfig::Oidc(oidc) => oidc::remember_endpoints(oidc, memory, response).map(|_| ()),
        ProviderConfig::OAuth2(_) | ProviderConfig::Torque(_) | ProviderConfig::Turnqey(_) | ProviderConfig::Liquid(_) => Ok(()),
    }
}

/// The Turnqey collection a config starts with.
pub fn initial_memory(config: &ConnectConfig) -> Memory {
    Memory {
        endpoints: None,
        collection: match &*config.provider {
            ProviderConfig::Turnqey(turnqey) => turnqey.collection.clone(),
            ProviderConfig::OAuth2(_) | ProviderConfig::Oidc(_) | ProviderConfig::Torque(_) | ProviderConfig::Liquid(_) => None,
        },
    }
}

/// A redirect flow cannot run for this config (Liquid without `returnUrl`).
pub fn check_redirect(config: &ConnectConfig) -> Result<()> {
    match &*config.provider {
        ProviderConfig::Liquid(liquid) => liquid::check_redirect(liquid),
        ProviderConfig::OAuth2(_) | ProviderConfig::Oidc(_) | ProviderConfig::Torque(_) | ProviderConfig::Turnqey(_) => Ok(()),
    }
}
