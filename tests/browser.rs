//! The wasm exports as JavaScript sees them, in real Chromium (`wasm-pack test --headless
//! --chrome`): the CSPRNG source, the RFC 7636 vector, URLs equal to the browser's own
//! `URLSearchParams`, and errors as JS `Error` objects with stable codes.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect};
use oauth_connect::error::ErrorCode;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
let zeroCalls = 0;
export function installZeroRandom() {
  zeroCalls = 0;
  crypto.getRandomValues = function (array) { zeroCalls++; array.fill(0); return array; };
}
export function restoreRandom() {
  delete crypto.getRandomValues; // back to Crypto.prototype.getRandomValues
  return zeroCalls;
}
export function browserAuthorizeUrl(endpoint, entries) {
  const url = new URL(endpoint);
  for (const [name, value] of entries) url.searchParams.append(name, Array.isArray(value) ? value.join(" ") : value);
  return url.href;
}
export function errorClass() {
  return class TestConnectError extends Error { constructor(code, message) { super(message); this.name = "ConnectError"; this.code = code; } };
}
export function isInstance(value, klass) { return value instanceof klass; }
export function ownKeys(object) { return Object.keys(object); }
export function protoOf(object) { return Object.getPrototypeOf(object); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = installZeroRandom)]
    fn install_zero_random();
    #[wasm_bindgen(js_name = restoreRandom)]
    fn restore_random() -> u32;
    #[wasm_bindgen(js_name = browserAuthorizeUrl)]
    fn browser_authorize_url(endpoint: &str, entries: &Array) -> String;
    #[wasm_bindgen(js_name = errorClass)]
    fn error_class() -> Function;
    #[wasm_bindgen(js_name = isInstance)]
    fn is_instance(value: &JsValue, class: &Function) -> bool;
    #[wasm_bindgen(js_name = ownKeys)]
    fn own_keys(object: &JsValue) -> Vec<String>;
    #[wasm_bindgen(js_name = protoOf)]
    fn proto_of(object: &JsValue) -> JsValue;
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

fn get_string(object: &JsValue, key: &str) -> String {
    get(object, key).as_string().unwrap_or_else(|| panic!("{key} is not a string"))
}

/// The error a call threw: a JS `Error` named `ConnectError` with the expected code.
fn assert_connect_error(result: Result<impl core::fmt::Debug, JsValue>, code: ErrorCode) -> JsValue {
    let error = result.expect_err("the call should have thrown");
    assert!(error.is_instance_of::<js_sys::Error>(), "not an Error: {error:?}");
    assert_eq!(get_string(&error, "name"), "ConnectError");
    assert_eq!(get_string(&error, "code"), code.as_str());
    assert!(!get_string(&error, "message").is_empty());
    error
}

fn params(list: &[(&str, &str)]) -> JsValue {
    let object = Object::new();
    for (key, value) in list {
        Reflect::set(&object, &(*key).into(), &(*value).into()).unwrap();
    }
    object.into()
}

fn expect(state: &str, issuer: Option<&str>) -> JsValue {
    let object = params(&[("state", state)]);
    if let Some(issuer) = issuer {
        Reflect::set(&object, &"issuer".into(), &issuer.into()).unwrap();
    }
    object
}

#[wasm_bindgen_test]
fn create_pkce_gives_a_consistent_s256_pair() {
    let pair = oauth_connect::create_pkce().unwrap();
    let verifier = get_string(&pair, "verifier");
    assert_eq!(verifier.len(), 43);
    assert_eq!(get_string(&pair, "method"), "S256");
    assert_eq!(oauth_connect::pkce_challenge(verifier.clone().into()).unwrap(), get_string(&pair, "challenge"));
    assert_ne!(get_string(&oauth_connect::create_pkce().unwrap(), "verifier"), verifier);
}

#[wasm_bindgen_test]
fn randomness_comes_from_crypto_get_random_values() {
    install_zero_random();
    let pair = oauth_connect::create_pkce();
    let state = oauth_connect::random_state();
    let key = oauth_connect::idempotency_key();
    let calls = restore_random();
    let (pair, state, key) = (pair.unwrap(), state.unwrap(), key.unwrap());
    assert!(calls >= 3, "crypto.getRandomValues was called {calls} times");
    // 32 zero bytes in base64url, and the UUID of 16 zero bytes with its version and variant set.
    assert_eq!(get_string(&pair, "verifier"), "A".repeat(43));
    assert_eq!(state, "A".repeat(43));
    assert_eq!(key, "00000000-0000-4000-8000-000000000000");
    // And with the real source again, values differ.
    assert_ne!(oauth_connect::random_state().unwrap(), "A".repeat(43));
}

#[wasm_bindgen_test]
fn rfc7636_appendix_b_vector_in_the_browser() {
    assert_eq!(
        oauth_connect::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into()).unwrap(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[wasm_bindgen_test]
fn pkce_challenge_rejects_bad_verifiers() {
    for bad in [JsValue::from("short"), JsValue::from("a".repeat(129)), JsValue::from(&format!("{}!", "a".repeat(43))), JsValue::UNDEFINED, 42.into()] {
        assert_connect_error(oauth_connect::pkce_challenge(bad), ErrorCode::InvalidVerifier);
    }
}

#[wasm_bindgen_test]
fn random_state_and_idempotency_key_shapes() {
    let state = oauth_connect::random_state().unwrap();
    assert_eq!(state.len(), 43);
    assert!(state.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let key = oauth_connect::idempotency_key().unwrap();
    assert_eq!(key.len(), 36);
    assert_eq!(&key[14..15], "4");
}

#[wasm_bindgen_test]
fn authorize_urls_equal_the_browsers_own() {
    let tricky = ["a b", "c+d", "e&f=g", "é€😀", "~!'()*-._", "%41", "#?/:@", "\u{0}\u{7f}", "", "line\nbreak"];
    let endpoints = ["https://as.example/authorize", "https://AS.example:443/o/auth?tenant=x%20y&flag", "http://127.0.0.1:9000/auth", "http://[::1]:8443/a"];
    for endpoint in endpoints {
        let list = Array::new();
        let object = Object::new();
        for (index, text) in tricky.iter().enumerate() {
            let name = format!("p{index}{text}");
            list.push(&Array::of2(&name.clone().into(), &(*text).into()));
            Reflect::set(&object, &name.into(), &(*text).into()).unwrap();
        }
        let scope: Array = ["openid", "profile email"].iter().map(|s| JsValue::from(*s)).collect();
        list.push(&Array::of2(&"scope".into(), &scope));
        Reflect::set(&object, &"scope".into(), &scope).unwrap();
        let built = oauth_connect::build_authorize_url(endpoint.into(), object.into()).unwrap();
        assert_eq!(built, browser_authorize_url(endpoint, &list), "{endpoint}");
    }
}

#[wasm_bindgen_test]
fn authorize_url_input_errors() {
    let ok = params(&[("client_id", "c")]);
    for endpoint in ["https://as.example/auth#x", "http://as.example/auth", "not a url", "https://as.example/auth?client_id=a"] {
        assert_connect_error(oauth_connect::build_authorize_url(endpoint.into(), ok.clone()), ErrorCode::InvalidConfig);
    }
    assert_connect_error(oauth_connect::build_authorize_url(42.into(), ok.clone()), ErrorCode::InvalidConfig);
    assert_connect_error(oauth_connect::build_authorize_url("https://as.example/".into(), "client_id=c".into()), ErrorCode::InvalidConfig);
    let numeric = Object::new();
    Reflect::set(&numeric, &"max_age".into(), &3600.into()).unwrap();
    let error = assert_connect_error(oauth_connect::build_authorize_url("https://as.example/".into(), numeric.into()), ErrorCode::InvalidConfig);
    assert!(get_string(&error, "message").contains("\"max_age\""));
    // `undefined` values are left out rather than sent as "undefined".
    let optional = params(&[("client_id", "c")]);
    Reflect::set(&optional, &"prompt".into(), &JsValue::UNDEFINED).unwrap();
    assert_eq!(oauth_connect::build_authorize_url("https://as.example/a".into(), optional).unwrap(), "https://as.example/a?client_id=c");
}

#[wasm_bindgen_test]
fn parse_callback_returns_code_state_iss_and_params() {
    let url = "http://localhost:8080/cb?app=1&code=abc&state=s1&iss=https%3A%2F%2Fas.example&__proto__=x";
    let result = oauth_connect::parse_callback(url.into(), expect("s1", Some("https://as.example"))).unwrap();
    assert_eq!(get_string(&result, "code"), "abc");
    assert_eq!(get_string(&result, "state"), "s1");
    assert_eq!(get_string(&result, "iss"), "https://as.example");
    let params = get(&result, "params");
    assert_eq!(own_keys(&params), ["app", "code", "state", "iss", "__proto__"]);
    assert_eq!(get_string(&params, "__proto__"), "x");
    assert_eq!(proto_of(&params), proto_of(&Object::new()));
    // No iss: the key is absent, not undefined-valued.
    let result = oauth_connect::parse_callback("http://localhost/cb?code=abc&state=s1".into(), expect("s1", None)).unwrap();
    assert!(!own_keys(&result).contains(&"iss".to_string()));
}

#[wasm_bindgen_test]
fn parse_callback_error_codes_reach_js() {
    let cases = [
        ("http://l/cb?code=a&code=b&state=s1", ErrorCode::DuplicateParameter),
        ("http://l/cb?error=access_denied&state=s1", ErrorCode::AuthorizationError),
        ("http://l/cb?code=a&state=other", ErrorCode::StateMismatch),
        ("http://l/cb?code=a&state=s1&iss=https%3A%2F%2Fevil.example", ErrorCode::IssuerMismatch),
        ("http://l/cb?state=s1", ErrorCode::MissingCode),
        ("http://l/cb?code=a&state=s1&id_token=x", ErrorCode::InvalidCallback),
        ("nonsense", ErrorCode::InvalidCallback),
    ];
    for (url, code) in cases {
        let error = assert_connect_error(oauth_connect::parse_callback(url.into(), expect("s1", Some("https://as.example"))), code);
        assert!(!get_string(&error, "message").contains("code=a"));
    }
    let error = assert_connect_error(
        oauth_connect::parse_callback(
            "http://l/cb?error=access_denied&error_description=No+thanks&error_uri=https%3A%2F%2Fas.example%2Fe&state=s1".into(),
            expect("s1", None),
        ),
        ErrorCode::AuthorizationError,
    );
    assert_eq!(get_string(&error, "error"), "access_denied");
    assert_eq!(get_string(&error, "errorDescription"), "No thanks");
    assert_eq!(get_string(&error, "errorUri"), "https://as.example/e");
    // Fragment mode.
    let fragment = expect("s1", None);
    Reflect::set(&fragment, &"responseMode".into(), &"fragment".into()).unwrap();
    let result = oauth_connect::parse_callback("http://l/cb#code=f&state=s1".into(), fragment).unwrap();
    assert_eq!(get_string(&result, "code"), "f");
}

#[wasm_bindgen_test]
fn parse_callback_argument_errors() {
    assert_connect_error(oauth_connect::parse_callback(JsValue::UNDEFINED, expect("s1", None)), ErrorCode::InvalidCallback);
    assert_connect_error(oauth_connect::parse_callback("http://l/cb?code=a&state=s1".into(), JsValue::UNDEFINED), ErrorCode::InvalidConfig);
    assert_connect_error(oauth_connect::parse_callback("http://l/cb?code=a&state=s1".into(), params(&[])), ErrorCode::InvalidConfig);
    assert_connect_error(oauth_connect::parse_callback("http://l/cb?code=a&state=".into(), expect("", None)), ErrorCode::InvalidConfig);
    let bad_mode = expect("s1", None);
    Reflect::set(&bad_mode, &"responseMode".into(), &"form_post".into()).unwrap();
    assert_connect_error(oauth_connect::parse_callback("http://l/cb?code=a&state=s1".into(), bad_mode), ErrorCode::InvalidConfig);
}

#[wasm_bindgen_test]
fn errors_are_instances_of_the_registered_class() {
    let class = error_class();
    oauth_connect::set_error_class(class.clone());
    let error = oauth_connect::pkce_challenge("short".into()).unwrap_err();
    assert!(is_instance(&error, &class));
    assert!(error.is_instance_of::<js_sys::Error>());
    assert_eq!(get_string(&error, "code"), "invalid_verifier");
}

fn config(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &(*key).into(), value).unwrap();
    }
    object.into()
}

fn oauth2_config(extra: &[(&str, JsValue)]) -> JsValue {
    let mut pairs = vec![
        ("kind", JsValue::from("oauth2")),
        ("authorizationEndpoint", "https://as.example/authorize".into()),
        ("tokenEndpoint", "https://as.example/token".into()),
        ("clientId", "app".into()),
        ("redirectUri", "http://localhost:8080/callback".into()),
    ];
    pairs.extend(extra.iter().cloned());
    config(&pairs)
}

#[wasm_bindgen_test]
fn connect_validates_its_config_synchronously() {
    use oauth_connect::browser::connect::Connect;
    assert!(Connect::new(oauth2_config(&[])).is_ok());
    for bad in [JsValue::UNDEFINED, JsValue::NULL, "oauth2".into(), config(&[("kind", "saml".into())])] {
        assert_connect_error(Connect::new(bad).map(|_| ()), ErrorCode::InvalidConfig);
    }
    let error = assert_connect_error(Connect::new(oauth2_config(&[("clientId", 42.into())])).map(|_| ()), ErrorCode::InvalidConfig);
    assert!(get_string(&error, "message").contains("clientId"));
    for insecure in [
        oauth2_config(&[("clientSecret", "s3cr3t-value".into())]),
        oauth2_config(&[("grant", "client_credentials".into())]),
        oauth2_config(&[("extraParams", config(&[("key", "sk_live_123".into())]))]),
        oauth2_config(&[("tokenEndpoint", "http://as.example/token".into())]),
    ] {
        let error = assert_connect_error(Connect::new(insecure).map(|_| ()), ErrorCode::InsecureConfig);
        let message = get_string(&error, "message");
        assert!(!message.contains("s3cr3t-value") && !message.contains("sk_live_123"), "{message}");
    }
    let liquid = config(&[("kind", "liquid".into()), ("publicApiKey", "not-a-public-key".into())]);
    assert_connect_error(Connect::new(liquid).map(|_| ()), ErrorCode::InvalidConfig);
}

#[wasm_bindgen_test]
async fn handle_callback_without_a_response_is_null() {
    let promise = oauth_connect::handle_callback("http://localhost:8080/page?tab=1".into(), JsValue::UNDEFINED);
    let value = wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
    assert!(value.is_null());
    let promise = oauth_connect::handle_callback(42.into(), JsValue::UNDEFINED);
    let error = wasm_bindgen_futures::JsFuture::from(promise).await;
    assert_connect_error(error, ErrorCode::InvalidCallback);
}

#[wasm_bindgen_test]
async fn handle_callback_with_an_unknown_state_is_refused() {
    let promise = oauth_connect::handle_callback("http://localhost:8080/callback?code=c&state=never-sent".into(), JsValue::UNDEFINED);
    let error = wasm_bindgen_futures::JsFuture::from(promise).await;
    let error = assert_connect_error(error, ErrorCode::UnknownState);
    assert!(!get_string(&error, "message").contains("never-sent"));
}

#[wasm_bindgen_test]
fn widget_identity_shapes_a_liquid_result() {
    let session = config(&[("sessionId", "id-1".into()), ("sessionSecret", "secret-1".into())]);
    let identity = oauth_connect::widget_identity(config(&[("session", session)])).unwrap();
    let user_session = get(&identity, "user_session");
    assert_eq!(get_string(&user_session, "session_id"), "id-1");
    assert_eq!(get_string(&user_session, "session_secret"), "secret-1");
    assert_connect_error(oauth_connect::widget_identity(JsValue::NULL), ErrorCode::InvalidConfig);
}
