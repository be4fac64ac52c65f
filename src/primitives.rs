//! The synchronous primitives of the contract (`createPkce`, `randomState`, `idempotencyKey`,
//! `pkceChallenge`, `buildAuthorizeUrl`, `parseCallback`, `widgetIdentity`, called by their
//! index in that order: names would be strings kept and compared in the wasm), with their
//! arguments as JSON and their answer as `{"ok": value}` or `{"error": [code, message, ...]}`: how they cross
//! the wasm boundary with one string each way.

use alloc::string::String;
use alloc::vec::Vec;

use crate::authorize::{borrow_pairs, build_authorize_url_str, quote_name};
use crate::callback::{parse_callback, CallbackExpectation, ResponseMode};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::{Fields, Value};
use crate::json::JsonWriter;
use crate::providers::{put, put_text, Record};

fn invalid(message: &'static str) -> ConnectError {
    ConnectError::new(ErrorCode::InvalidConfig, message)
}

/// What a missing argument or field reads as.
static ABSENT: Value = Value::Absent;

fn field<'a>(record: &'a Record, name: &str) -> &'a Value {
    record.field(name).unwrap_or(&ABSENT)
}

fn required_string<'a>(value: &'a Value, name: &str) -> Result<&'a str> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(ConnectError::field(ErrorCode::InvalidConfig, name, "must be a string")),
    }
}

/// A `Record<string, string | string[]>` as ordered pairs of text; a list is joined with
/// spaces. Owned copies: pairs of `String` are a type the flows use already, where borrowed
/// texts next to joined ones were a `Cow` with drop glue of its own.
fn param_record(value: &Value, name: &str) -> Result<Vec<(String, String)>> {
    let record = match value {
        Value::Absent | Value::Other => return Ok(Vec::new()),
        Value::Record(record) => record,
        _ => return Err(ConnectError::field(ErrorCode::InvalidConfig, name, "must be an object of strings")),
    };
    let not_string = |key: &str| ConnectError::field(ErrorCode::InvalidConfig, &quote_name(key), "must be a string or an array of strings");
    let mut params = Vec::with_capacity(record.len());
    for (key, value) in record {
        let param = match value {
            Value::Text(text) => text.clone(),
            Value::List(items) => {
                let mut joined = String::new();
                for (index, item) in items.iter().enumerate() {
                    let Value::Text(text) = item else { return Err(not_string(key)) };
                    if index > 0 {
                        joined.push(' ');
                    }
                    joined.push_str(text);
                }
                joined
            }
            _ => return Err(not_string(key)),
        };
        params.push((key.clone(), param));
    }
    Ok(params)
}

fn create_pkce() -> Result<Value> {
    let pair = crate::pkce::create_pkce()?;
    let mut result = Record::new();
    put(&mut result, "verifier", Value::Text(pair.verifier.into_secret()));
    put(&mut result, "challenge", Value::Text(pair.challenge));
    put_text(&mut result, "method", crate::pkce::S256);
    Ok(Value::Record(result))
}

fn parse(args: &[Value]) -> Result<Value> {
    let url = match args.first() {
        Some(Value::Text(url)) => url,
        _ => return Err(ConnectError::new(ErrorCode::InvalidCallback, "the callback URL must be a string")),
    };
    let Some(Value::Record(expect)) = args.get(1) else {
        return Err(invalid("expect must be an object with the state that was sent"));
    };
    let state = required_string(field(expect, "state"), "expect.state")?;
    let issuer = match field(expect, "issuer") {
        Value::Absent => None,
        other => Some(required_string(other, "issuer")?),
    };
    let response_mode = match field(expect, "responseMode") {
        Value::Absent => ResponseMode::Query,
        Value::Text(mode) if mode == "query" => ResponseMode::Query,
        Value::Text(mode) if mode == "fragment" => ResponseMode::Fragment,
        _ => return Err(invalid("expect.responseMode must be \"query\" or \"fragment\"")),
    };
    let expectation = CallbackExpectation { state, issuer, iss_required: false, response_mode };
    let callback = parse_callback(url, &expectation)?;
    let mut result = Record::new();
    put_text(&mut result, "code", callback.code().secret());
    put_text(&mut result, "state", callback.state());
    if let Some(iss) = callback.iss() {
        put_text(&mut result, "iss", iss);
    }
    put(&mut result, "params", crate::providers::params_record(callback.params()));
    Ok(Value::Record(result))
}

fn widget_identity(args: &[Value]) -> Result<Value> {
    let refused = || invalid("widgetIdentity needs the result of a Liquid connection (with session)");
    let Some(Value::Record(result)) = args.first() else { return Err(refused()) };
    let Value::Record(session) = field(result, "session") else { return Err(refused()) };
    let (Value::Text(id), Value::Text(secret)) = (field(session, "sessionId"), field(session, "sessionSecret")) else { return Err(refused()) };
    let mut user_session = Record::new();
    put_text(&mut user_session, "session_id", id);
    put_text(&mut user_session, "session_secret", secret);
    let mut identity = Record::new();
    put(&mut identity, "user_session", Value::Record(user_session));
    Ok(Value::Record(identity))
}

/// The primitives by index, as `pkg-template/index.js` calls them: the three without arguments
/// first (`primitive_bare` in `src/lib.rs` takes those alone).
fn run(index: u32, args: &[Value]) -> Result<Value> {
    let arg = |index: usize| args.get(index).unwrap_or(&ABSENT);
    match index {
        0 => create_pkce(),
        1 => crate::state::random_state().map(Value::Text),
        2 => crate::state::idempotency_key().map(Value::Text),
        3 => match arg(0) {
            Value::Text(verifier) => crate::pkce::pkce_challenge(verifier).map(Value::Text),
            _ => Err(ConnectError::new(ErrorCode::InvalidVerifier, "a PKCE code verifier must be a string")),
        },
        4 => {
            let endpoint = required_string(arg(0), "endpoint")?;
            let params = param_record(arg(1), "params")?;
            build_authorize_url_str(endpoint, &borrow_pairs(&params)).map(Value::Text)
        }
        5 => parse(args),
        6 => widget_identity(args),
        _ => Err(invalid("no such function")),
    }
}

/// Run the primitive whose index comes first in `call` (a JSON array) on the arguments after
/// it; see [`answer`].
pub fn call(call: &str) -> String {
    let list = match crate::json::parse(call) {
        Ok(Value::List(list)) => list,
        _ => Vec::new(),
    };
    // No whole index in `u32`'s range: no function, whatever the arguments (`run` refuses the
    // indexes past its last).
    let (index, args) = match list.split_first() {
        Some((Value::Number(index), args)) => (u32::try_from(*index).unwrap_or(u32::MAX), args),
        _ => (u32::MAX, &list[..]),
    };
    answer(run(index, args))
}

/// A primitive without arguments (0 to 2), with no call text to read.
pub fn call_bare(index: u32) -> String {
    answer(run(if index < 3 { index } else { u32::MAX }, &[]))
}

/// `{"ok": value}`, `{"error": [code, message, ...]}` (see `wire::write_error`), or for a
/// string answer `"` and the string as it is.
fn answer(result: Result<Value>) -> String {
    let mut out = String::new();
    match result {
        // A string answer crosses as itself, after a `"`: no JSON to write or parse for the
        // primitives a connect click calls most (state, challenge, URL).
        Ok(Value::Text(text)) => {
            out.reserve(text.len() + 1);
            out.push('"');
            out.push_str(&text);
        }
        Ok(value) => {
            let mut w = JsonWriter::new(&mut out);
            w.begin_object();
            w.key("ok");
            w.value(&value);
            w.end_object();
        }
        Err(error) => {
            let mut w = JsonWriter::new(&mut out);
            w.begin_object();
            w.key("error");
            crate::wire::write_error(&mut w, &error);
            w.end_object();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_SUCH_FUNCTION: &str = r#"{"error":["invalid_config","no such function"]}"#;

    #[test]
    fn primitives_are_called_by_a_whole_index_and_nothing_else() {
        // A string answer is `"` and the string: a state is 43 base64url characters.
        assert_eq!(call("[1]").len(), 44);
        assert_eq!(call_bare(1).len(), 44);
        assert!(call_bare(0).starts_with(r#"{"ok":{"verifier":"#));
        assert!(call("[3]").contains("invalid_verifier"), "pkceChallenge without its verifier");
        for text in ["[7]", "[-1]", "[1.5]", r#"["randomState"]"#, "[]", "{}", "[null]", "nope", "[4294967296]"] {
            assert_eq!(call(text), NO_SUCH_FUNCTION, "{text}");
        }
        for index in [3, 6, 7, u32::MAX] {
            assert_eq!(call_bare(index), NO_SUCH_FUNCTION, "bare {index}");
        }
    }
}
