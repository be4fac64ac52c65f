//! Provider configs (`shared/API.md`, "Provider configs"): validated once, when a `Connect` is
//! made, into types the flows can trust. Anything that belongs on a server (a client secret, a
//! secret key, the client-credentials grant, plain `http:` off this machine) is refused as
//! `insecure_config` before anything else is looked at.

use alloc::string::String;
use alloc::vec::Vec;

use crate::callback::ResponseMode;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::{any_string, opt_str, opt_string_list, Fields, Reader, Record, Value};
use crate::url::WebUrl;
use crate::providers::{liquid, oauth2, oidc, torque, turnqey};
pub use crate::providers::liquid::{LiquidConfig, LIQUID_DEFAULT_BASE_URL};
pub use crate::providers::oauth2::{CodeHandling, OAuth2Config};
pub use crate::providers::oidc::OidcConfig;
pub use crate::providers::torque::TorqueConfig;
pub use crate::providers::turnqey::{TurnqeyConfig, TURNQEY_PRODUCTION, TURNQEY_SANDBOX};








#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderConfig {
    OAuth2(OAuth2Config),
    Oidc(OidcConfig),
    Torque(TorqueConfig),
    Turnqey(TurnqeyConfig),
    Liquid(LiquidConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStorage {
    /// Tokens live in this page's memory only (shared with other tabs of the app over
    /// `BroadcastChannel`, never written to storage).
    Memory,
    /// Tokens are also kept in `sessionStorage`, so they survive a reload of the tab.
    Session,
}

/// A validated config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectConfig {
    /// Shared: a config is cloned into every job and refresh of its connection, and never changes.
    pub provider: alloc::rc::Rc<ProviderConfig>,
    pub timeout_ms: u32,
    pub refresh_skew_ms: u32,
    /// The longest any one HTTP request (discovery, token endpoint, the app's backend) may
    /// wait for its answer; past it the request fails as `network`.
    pub request_timeout_ms: u32,
    pub token_storage: TokenStorage,
    /// [`ConnectConfig::connection_key`], made once by `parse` (it is asked for on every status).
    key: alloc::rc::Rc<String>,
}

pub const DEFAULT_TIMEOUT_MS: u32 = 300_000;
/// `requestTimeoutMs` when not given.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 30_000;
pub const DEFAULT_REFRESH_SKEW_MS: u32 = 60_000;

/// The `kind`s, in the order of [`ProviderConfig`]'s variants.
const KINDS: [&str; 5] = ["oauth2", "oidc", "torque", "turnqey", "liquid"];

/// Parameters the library sets itself; `extraParams` may not override them.
const RESERVED_PARAMS: [&str; 9] =
    ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "nonce", "response_mode"];

/// What a config's URL field takes, and whether it must be there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlField {
    /// An absolute `https:` URL (plain `http:` only on loopback), without a fragment.
    Optional,
    Required,
    /// The app's backend: such a URL, or a path on the app's origin (`/api/exchange`).
    Backend,
    RequiredBackend,
}

/// The config-only reads of a [`Reader`]: URLs, scope and extra parameters.
impl Reader<'_> {
    /// A URL field ([`url_field`]); `None` when absent or refused (the problem is kept).
    #[inline(never)]
    pub(crate) fn url(&mut self, name: &'static str, kind: UrlField) -> Option<String> {
        let value = url_field(self.fields, name, kind);
        self.take(value)
    }

    /// A URL field that must be there ([`UrlField::Required`], [`UrlField::RequiredBackend`]);
    /// empty when absent or refused (the problem is kept). One call where each field had its
    /// own `unwrap_or_default`.
    #[inline(never)]
    pub(crate) fn required_url(&mut self, name: &'static str, kind: UrlField) -> String {
        self.url(name, kind).unwrap_or_default()
    }

    /// [`scope_field`].
    #[inline(never)]
    pub fn scope(&mut self) -> Vec<String> {
        let value = scope_field(self.fields);
        self.take(value)
    }

    /// [`extra_params_field`].
    #[inline(never)]
    pub fn extra_params(&mut self) -> Vec<(String, String)> {
        let value = extra_params_field(self.fields);
        self.take(value)
    }
}

impl ConnectConfig {
    /// Validate an app's config object.
    pub fn parse(fields: &Record) -> Result<Self> {
        refuse_server_side_material(fields)?;
        let mut read = Reader::new(fields, ErrorCode::InvalidConfig);
        let kind = opt_str(fields, "kind", ErrorCode::InvalidConfig)?;
        // One comparison loop instead of one comparison per arm.
        let provider = alloc::rc::Rc::new(match kind.and_then(|kind| KINDS.iter().position(|known| *known == kind)) {
            Some(0) => ProviderConfig::OAuth2(oauth2::read_config(&mut read)),
            Some(1) => ProviderConfig::Oidc(oidc::read_config(&mut read)),
            Some(2) => ProviderConfig::Torque(torque::read_config(&mut read)),
            Some(3) => ProviderConfig::Turnqey(turnqey::read_config(&mut read)),
            Some(4) => ProviderConfig::Liquid(liquid::read_config(&mut read)),
            _ => {
                return Err(ConnectError::new(
                    ErrorCode::InvalidConfig,
                    "kind must be \"oauth2\", \"oidc\", \"torque\", \"turnqey\" or \"liquid\"",
                ))
            }
        });
        let timeout_ms = bounded_ms(&mut read, "timeoutMs", DEFAULT_TIMEOUT_MS, 1);
        let refresh_skew_ms = bounded_ms(&mut read, "refreshSkewMs", DEFAULT_REFRESH_SKEW_MS, 0);
        let request_timeout_ms = bounded_ms(&mut read, "requestTimeoutMs", DEFAULT_REQUEST_TIMEOUT_MS, 1);
        let token_storage = match read.choice("tokenStorage", &["memory", "session"], "tokenStorage must be \"memory\" or \"session\"") {
            1 => TokenStorage::Session,
            _ => TokenStorage::Memory,
        };
        let key = alloc::rc::Rc::new(make_connection_key(&provider));
        read.finish(ConnectConfig { provider, timeout_ms, refresh_skew_ms, request_timeout_ms, token_storage, key })
    }

    /// The contract's `provider` name of the result.
    pub fn kind(&self) -> &'static str {
        KINDS[match *self.provider {
            ProviderConfig::OAuth2(_) => 0,
            ProviderConfig::Oidc(_) => 1,
            ProviderConfig::Torque(_) => 2,
            ProviderConfig::Turnqey(_) => 3,
            ProviderConfig::Liquid(_) => 4,
        }]
    }

    /// The OAuth client id (empty for the kinds whose backend holds the client).
    pub fn client_id(&self) -> &str {
        match &*self.provider {
            ProviderConfig::OAuth2(config) => &config.client_id,
            ProviderConfig::Oidc(config) => &config.client_id,
            _ => "",
        }
    }

    /// Where the provider sends the user back (empty where the provider has it registered).
    pub fn redirect_uri(&self) -> &str {
        match &*self.provider {
            ProviderConfig::OAuth2(config) => &config.redirect_uri,
            ProviderConfig::Oidc(config) => &config.redirect_uri,
            ProviderConfig::Torque(config) => &config.redirect_uri,
            _ => "",
        }
    }

    /// The issuer whose `iss` the callback must carry, when known.
    pub fn issuer(&self) -> Option<&str> {
        match &*self.provider {
            ProviderConfig::OAuth2(config) => config.issuer.as_deref(),
            ProviderConfig::Oidc(config) => Some(&config.issuer),
            _ => None,
        }
    }

    pub fn response_mode(&self) -> ResponseMode {
        match &*self.provider {
            ProviderConfig::OAuth2(config) => config.response_mode,
            _ => ResponseMode::Query,
        }
    }

    /// Identifies one connection: the same account at the same provider for the same client.
    /// Tabs share tokens, refresh locks and stored token sets under this key.
    pub fn connection_key(&self) -> String {
        String::from(self.connection_key_str())
    }

    /// [`ConnectConfig::connection_key`], borrowed.
    pub fn connection_key_str(&self) -> &str {
        &self.key
    }
}

/// `kind server client`: see [`ConnectConfig::connection_key`].
#[inline(never)]
fn make_connection_key(provider: &ProviderConfig) -> String {
    let (kind, server, client) = match provider {
        ProviderConfig::OAuth2(config) => (
            "oauth2",
            match &config.code_handling {
                CodeHandling::TokenEndpoint(endpoint) => endpoint.as_str(),
                _ => config.authorization_endpoint.as_str(),
            },
            config.client_id.as_str(),
        ),
        ProviderConfig::Oidc(config) => ("oidc", config.issuer.as_str(), config.client_id.as_str()),
        ProviderConfig::Torque(config) => ("torque", config.session_endpoint.as_str(), config.external_user_id.as_deref().unwrap_or("")),
        ProviderConfig::Turnqey(config) => ("turnqey", config.authorize_url.as_str(), config.identity.as_str()),
        ProviderConfig::Liquid(config) => ("liquid", config.base_url.as_str(), config.public_api_key.as_str()),
    };
    let mut key = String::from(kind);
    key.push(' ');
    key.push_str(server);
    key.push(' ');
    key.push_str(client);
    key
}

fn insecure(message: &'static str) -> ConnectError {
    ConnectError::new(ErrorCode::InsecureConfig, message)
}

/// Client secrets, secret keys and the client-credentials grant belong on a server: a browser
/// app is a public client ([RFC 6749 §2.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.1)),
/// and anything shipped to it is readable by every user.
fn refuse_server_side_material(fields: &Record) -> Result<()> {
    if fields.field("clientSecret").is_some() || fields.field("client_secret").is_some() {
        return Err(insecure(
            "clientSecret is public in a browser: keep it on your server (exchangeEndpoint)",
        ));
    }
    if opt_str(fields, "grant", ErrorCode::InvalidConfig)? == Some("client_credentials") {
        return Err(insecure(
            "client_credentials needs a secret: run it on your server",
        ));
    }
    if fields.entries().iter().any(|(_, value)| any_string(value, is_secret_key)) {
        return Err(insecure(
            "a secret key (sk_...) is public in a browser: keep it on your server",
        ));
    }
    Ok(())
}

/// `sk_` after any leading whitespace (`trim_start().starts_with("sk_")`, without core's
/// pattern searcher, `char` decoding or Unicode table: 480 bytes of wasm that way). Unicode's
/// White_Space, which `trim_start` skips, as the UTF-8 bytes of its 25 characters.
fn is_secret_key(text: &str) -> bool {
    let mut rest = text.as_bytes();
    loop {
        let skip = match rest {
            [b'\t'..=b'\r' | b' ', ..] => 1,
            // U+0085, U+00A0
            [0xc2, 0x85 | 0xa0, ..] => 2,
            // U+1680; U+2000 to U+200A, U+2028, U+2029, U+202F; U+205F; U+3000
            [0xe1, 0x9a, 0x80, ..] | [0xe2, 0x80, 0x80..=0x8a | 0xa8 | 0xa9 | 0xaf, ..] | [0xe2, 0x81, 0x9f, ..] | [0xe3, 0x80, 0x80, ..] => 3,
            _ => return rest.starts_with(b"sk_"),
        };
        rest = rest.get(skip..).unwrap_or_default();
    }
}

/// A URL field of `kind`. The whitespace `check_url` lets through at the ends is cut off.
pub(crate) fn url_field(fields: &Record, name: &'static str, kind: UrlField) -> Result<Option<String>> {
    let backend = matches!(kind, UrlField::Backend | UrlField::RequiredBackend);
    let Some(text) = opt_str(fields, name, ErrorCode::InvalidConfig)? else {
        return match kind {
            UrlField::Optional | UrlField::Backend => Ok(None),
            UrlField::Required => Err(ConnectError::field(ErrorCode::InvalidConfig, name, "is required (an https: URL)")),
            UrlField::RequiredBackend => Err(ConnectError::field(ErrorCode::InvalidConfig, name, "is required (a URL or /path)")),
        };
    };
    if backend && text.starts_with("/") && !text.starts_with("//") && !crate::encoding::has_byte(text, b'#') && !text.bytes().any(|b| b <= b' ') {
        return Ok(Some(String::from(text)));
    }
    check_url(text, name)?;
    // `check_url` refused any other whitespace at the ends (`WebUrl::parse` trims ASCII only).
    Ok(Some(String::from(text.trim_ascii())))
}

pub(crate) fn check_url(text: &str, name: &str) -> Result<()> {
    let url = WebUrl::parse(text).map_err(|problem| ConnectError::field(ErrorCode::InvalidConfig, name, problem.describe()))?;
    if !url.is_secure_or_loopback() {
        return Err(ConnectError::field(ErrorCode::InsecureConfig, name, crate::url::HTTPS_ONLY));
    }
    if url.fragment.is_some() {
        return Err(ConnectError::field(ErrorCode::InvalidConfig, name, crate::url::NO_FRAGMENT));
    }
    Ok(())
}

pub(crate) fn scope_field(fields: &Record) -> Result<Vec<String>> {
    Ok(opt_string_list(fields, "scope", true, ErrorCode::InvalidConfig)?.unwrap_or_default())
}

pub(crate) fn extra_params_field(fields: &Record) -> Result<Vec<(String, String)>> {
    let pairs = match fields.field("extraParams") {
        None => return Ok(Vec::new()),
        Some(Value::Record(pairs)) => pairs,
        Some(_) => return Err(ConnectError::new(ErrorCode::InvalidConfig, "extraParams must be an object of strings")),
    };
    let mut params = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        if RESERVED_PARAMS.contains(&name.as_str()) {
            return Err(ConnectError::field(
                ErrorCode::InvalidConfig,
                &crate::authorize::quote_name(name),
                "is set by the library, not extraParams",
            ));
        }
        match value {
            Value::Absent => {}
            Value::Text(text) => params.push((name.clone(), text.clone())),
            _ => return Err(ConnectError::new(ErrorCode::InvalidConfig, "extraParams must be an object of strings")),
        }
    }
    Ok(params)
}



/// A millisecond option: a whole number from `min` to 2^31 - 1 (the largest `setTimeout` delay).
#[inline(never)]
fn bounded_ms(read: &mut Reader<'_>, name: &'static str, default: u32, min: u32) -> u32 {
    match read.number(name) {
        None => default,
        Some(ms) if ms >= f64::from(min) && ms <= 2_147_483_647.0 && ms.fract() == 0.0 => ms as u32,
        Some(_) => {
            read.fail(ConnectError::field(ErrorCode::InvalidConfig, name, "must be a whole number of milliseconds"));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{record, text};
    use alloc::vec;

    fn oauth2() -> Vec<(String, Value)> {
        record(&[
            ("kind", text("oauth2")),
            ("authorizationEndpoint", text("https://as.example/authorize")),
            ("tokenEndpoint", text("https://as.example/token")),
            ("clientId", text("app")),
            ("redirectUri", text("https://app.example/callback")),
            ("scope", Value::List(vec![text("read"), text("write")])),
        ])
    }

    fn with(mut base: Vec<(String, Value)>, name: &str, value: Value) -> Vec<(String, Value)> {
        base.retain(|(key, _)| key != name);
        base.push((String::from(name), value));
        base
    }

    fn code_of(fields: Vec<(String, Value)>) -> ErrorCode {
        ConnectConfig::parse(&fields).unwrap_err().code()
    }

    #[test]
    fn parses_oauth2() {
        let config = ConnectConfig::parse(&oauth2()).unwrap();
        let ProviderConfig::OAuth2(oauth2) = &*config.provider else { panic!() };
        assert_eq!(oauth2.code_handling, CodeHandling::TokenEndpoint("https://as.example/token".into()));
        assert_eq!(oauth2.scope, vec!["read", "write"]);
        assert_eq!((config.timeout_ms, config.refresh_skew_ms, config.token_storage), (300_000, 60_000, TokenStorage::Memory));
        assert_eq!(config.request_timeout_ms, 30_000);
        assert_eq!(config.connection_key(), "oauth2 https://as.example/token app");
    }

    #[test]
    fn oidc_always_asks_for_openid() {
        let fields = record(&[
            ("kind", text("oidc")),
            ("issuer", text("https://id.example")),
            ("clientId", text("app")),
            ("redirectUri", text("http://localhost:8080/cb")),
            ("scope", text("profile email")),
        ]);
        let config = ConnectConfig::parse(&fields).unwrap();
        let ProviderConfig::Oidc(oidc) = &*config.provider else { panic!() };
        assert_eq!(oidc.scope, vec!["openid", "profile", "email"]);
        assert_eq!(config.issuer(), Some("https://id.example"));
    }

    #[test]
    fn secret_keys_are_found_as_trim_start_finds_them() {
        for text in ["sk_1", " \u{a0}\u{3000}\tsk_", "sk", "s k_", "xsk_", "", "\u{85}sk_x", " ś"] {
            assert_eq!(is_secret_key(text), text.trim_start().starts_with("sk_"), "{text:?}");
        }
        // Every character, once and twice before `sk_`, and alone.
        for character in (0..=0x10ffff).filter_map(char::from_u32) {
            for text in [format!("{character}sk_"), format!("{character}{character}sk_x"), format!("{character}")] {
                assert_eq!(is_secret_key(&text), text.trim_start().starts_with("sk_"), "{text:?}");
            }
        }
    }

    #[test]
    fn server_side_material_is_insecure() {
        assert_eq!(code_of(with(oauth2(), "clientSecret", text("s3cr3t"))), ErrorCode::InsecureConfig);
        assert_eq!(code_of(with(oauth2(), "grant", text("client_credentials"))), ErrorCode::InsecureConfig);
        assert_eq!(code_of(with(oauth2(), "clientId", text("sk_live_abc"))), ErrorCode::InsecureConfig);
        let nested = Value::Record(vec![(String::from("key"), text("sk_test_123"))]);
        assert_eq!(code_of(with(oauth2(), "extraParams", nested)), ErrorCode::InsecureConfig);
        assert_eq!(code_of(with(oauth2(), "tokenEndpoint", text("http://as.example/token"))), ErrorCode::InsecureConfig);
        // Checked before anything else: an insecure config with a missing field is still insecure.
        assert_eq!(code_of(record(&[("clientSecret", text("x"))])), ErrorCode::InsecureConfig);
        let error = ConnectConfig::parse(&with(oauth2(), "clientSecret", text("s3cr3t"))).unwrap_err();
        assert!(!error.message().contains("s3cr3t") && error.message().contains("server"));
    }

    #[test]
    fn invalid_fields_are_named() {
        for (name, value, fragment) in [
            ("kind", text("saml"), "kind"),
            ("clientId", Value::Number(3), "clientId"),
            ("redirectUri", text("/relative"), "redirectUri"),
            ("redirectUri", text("https://app.example/cb#x"), "redirectUri"),
            ("authorizationEndpoint", Value::Absent, "authorizationEndpoint"),
            ("timeoutMs", Value::Number(-1), "timeoutMs"),
            ("tokenStorage", text("local"), "tokenStorage"),
            ("exchangeEndpoint", text("/api/exchange"), "not both"),
            ("extraParams", Value::Record(vec![(String::from("state"), text("x"))]), "\"state\""),
        ] {
            let error = ConnectConfig::parse(&with(oauth2(), name, value)).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidConfig, "{name}");
            assert!(error.message().contains(fragment), "{name}: {}", error.message());
        }
    }

    #[test]
    fn parses_the_seed_kinds() {
        let torque = record(&[
            ("kind", text("torque")),
            ("sessionEndpoint", text("/api/torque/session")),
            ("exchangeEndpoint", text("/api/torque/exchange")),
            ("redirectUri", text("https://app.example/torque/connect/callback")),
            ("scope", text("wallet:read transfers:execute")),
        ]);
        let ProviderConfig::Torque(config) = ConnectConfig::parse(&torque).unwrap().provider.as_ref().clone() else { panic!() };
        assert_eq!(config.scope, vec!["wallet:read", "transfers:execute"]);
        let turnqey = |env: Value, url: Value| {
            record(&[
                ("kind", text("turnqey")),
                ("environment", env),
                ("authorizeUrl", url),
                ("client", text("c")),
                ("platform", text("coinbase")),
                ("identity", text("u")),
                ("checksumEndpoint", text("/api/turnqey/checksum")),
            ])
        };
        let ProviderConfig::Turnqey(config) = ConnectConfig::parse(&turnqey(text("sandbox"), Value::Absent)).unwrap().provider.as_ref().clone() else { panic!() };
        assert_eq!(config.authorize_url, TURNQEY_SANDBOX);
        assert_eq!(code_of(turnqey(text("sandbox"), text("https://t.example/authorize"))), ErrorCode::InvalidConfig);
        assert_eq!(code_of(turnqey(text("staging"), Value::Absent)), ErrorCode::InvalidConfig);
        assert_eq!(code_of(turnqey(Value::Absent, Value::Absent)), ErrorCode::InvalidConfig);
        let liquid = |key: &str| record(&[("kind", text("liquid")), ("publicApiKey", text(key)), ("verifyEndpoint", text("/api/liquid/verify"))]);
        let ProviderConfig::Liquid(config) = ConnectConfig::parse(&liquid("pk_1")).unwrap().provider.as_ref().clone() else { panic!() };
        assert_eq!(config.base_url, LIQUID_DEFAULT_BASE_URL);
        assert_eq!(code_of(liquid("key")), ErrorCode::InvalidConfig);
        assert_eq!(code_of(liquid("sk_live_1")), ErrorCode::InsecureConfig);
    }

    #[test]
    fn code_handling_variants() {
        let backend = with(with(oauth2(), "tokenEndpoint", Value::Absent), "exchangeEndpoint", text("/api/exchange"));
        let ProviderConfig::OAuth2(config) = ConnectConfig::parse(&backend).unwrap().provider.as_ref().clone() else { panic!() };
        assert_eq!(config.code_handling, CodeHandling::ExchangeEndpoint("/api/exchange".into()));
        let neither = with(oauth2(), "tokenEndpoint", Value::Absent);
        let ProviderConfig::OAuth2(config) = ConnectConfig::parse(&neither).unwrap().provider.as_ref().clone() else { panic!() };
        assert_eq!(config.code_handling, CodeHandling::ReturnCode);
    }

    #[test]
    fn extra_params_are_kept_in_order() {
        let extras = Value::Record(vec![(String::from("access_type"), text("offline")), (String::from("prompt"), text("consent"))]);
        let ProviderConfig::OAuth2(config) = ConnectConfig::parse(&with(oauth2(), "extraParams", extras)).unwrap().provider.as_ref().clone() else { panic!() };
        assert_eq!(config.extra_params, vec![("access_type".into(), "offline".into()), ("prompt".into(), "consent".into())]);
    }
}

/// The endpoints of an OpenID provider from its discovery document
/// ([OpenID Connect Discovery §3, §4.3](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation)):
/// the document's `issuer` must be exactly the configured one, or it must not be used.
/// The authorization and token endpoints of a discovery document, and whether the issuer sends
/// `iss` with every authorization response (`authorization_response_iss_parameter_supported`,
/// [RFC 9207 §3](https://www.rfc-editor.org/rfc/rfc9207#section-3)).
pub fn discovery_endpoints(document: &Record, issuer: &str) -> Result<(String, String, bool)> {
    let code = ErrorCode::InvalidConfig;
    let mut read = Reader::new(document, code);
    if read.str("issuer") != Some(issuer) {
        read.invalid("discovery: issuer is not the configured one");
    }
    let authorization = read.req("authorization_endpoint");
    let token = read.req("token_endpoint");
    // Checked once both are read, so that a missing one is the problem reported.
    let checked = check_url(&authorization, "authorization_endpoint").and_then(|()| check_url(&token, "token_endpoint"));
    read.take(checked);
    let methods = opt_string_list(document, "code_challenge_methods_supported", false, code);
    if read.take(methods).is_some_and(|methods| !methods.iter().any(|method| method == crate::pkce::S256)) {
        read.invalid("discovery: no PKCE S256 support");
    }
    let iss_required = matches!(document.field("authorization_response_iss_parameter_supported"), Some(Value::Bool(true)));
    read.finish((authorization, token, iss_required))
}

/// The discovery document's URL: `{issuer}/.well-known/openid-configuration`.
pub fn discovery_url(issuer: &str) -> String {
    let mut url = String::from(crate::encoding::trim_end_byte(issuer, b'/'));
    url.push_str("/.well-known/openid-configuration");
    url
}

#[cfg(test)]
mod discovery_tests {
    use super::*;
    use crate::fields::{record, text};
    use alloc::vec;

    #[test]
    fn reads_discovery() {
        let document = record(&[
            ("issuer", text("https://id.example")),
            ("authorization_endpoint", text("https://id.example/auth")),
            ("token_endpoint", text("https://id.example/token")),
            ("code_challenge_methods_supported", Value::List(vec![text("S256")])),
        ]);
        assert_eq!(discovery_endpoints(&document, "https://id.example").unwrap().1, "https://id.example/token");
        assert_eq!(discovery_endpoints(&document, "https://id.example/").unwrap_err().code(), ErrorCode::InvalidConfig);
        assert_eq!(discovery_url("https://id.example/"), "https://id.example/.well-known/openid-configuration");
        let plain = record(&[
            ("issuer", text("https://id.example")),
            ("authorization_endpoint", text("https://id.example/auth")),
            ("token_endpoint", text("https://id.example/token")),
            ("code_challenge_methods_supported", Value::List(vec![text("plain")])),
        ]);
        assert!(discovery_endpoints(&plain, "https://id.example").is_err());
    }
}
