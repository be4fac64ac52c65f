//! `Fields`: read access to a plain object (an app's config, a token response, a discovery
//! document, ID token claims) without naming where it came from. The browser implements it over
//! JS objects (`browser/js.rs`); tests implement it over a list of pairs. This keeps every check
//! on those objects in pure Rust.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{field_message, ConnectError, ErrorCode, Result};

/// A field's value, as far as the core cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Absent,
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<Value>),
    /// A nested object, as its own pairs.
    Record(Vec<(String, Value)>),
    /// `null`, a function, or anything else the core does not read.
    Other,
}

pub trait Fields {
    /// The value of `name`; `Value::Absent` when missing or `undefined`.
    fn get(&self, name: &str) -> Value;
    /// Every `(name, value)` pair, for scans over the whole object.
    fn pairs(&self) -> Vec<(String, Value)>;
}

/// `Fields` over a list of pairs: nested records and native tests.
impl Fields for Vec<(String, Value)> {
    fn get(&self, name: &str) -> Value {
        self.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()).unwrap_or(Value::Absent)
    }

    fn pairs(&self) -> Vec<(String, Value)> {
        self.clone()
    }
}

fn wrong_type(field: &str, expected: &str, code: ErrorCode) -> ConnectError {
    ConnectError::with_message(code, field_message(field, expected))
}

/// An optional string; present but not a string is an error with `code`.
pub fn opt_string(fields: &dyn Fields, name: &str, code: ErrorCode) -> Result<Option<String>> {
    match fields.get(name) {
        Value::Absent => Ok(None),
        Value::Text(text) => Ok(Some(text)),
        _ => Err(wrong_type(name, "must be a string", code)),
    }
}

/// A required, non-empty string.
pub fn req_string(fields: &dyn Fields, name: &str, code: ErrorCode) -> Result<String> {
    match opt_string(fields, name, code)? {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(wrong_type(name, "is required (a non-empty string)", code)),
    }
}

/// An optional finite number (a numeric string is accepted too: some servers send
/// `"expires_in": "3600"`).
pub fn opt_number(fields: &dyn Fields, name: &str, code: ErrorCode) -> Result<Option<f64>> {
    let number = match fields.get(name) {
        Value::Absent => return Ok(None),
        Value::Number(number) => number,
        Value::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.bytes().fold(0f64, |n, d| n * 10.0 + f64::from(d - b'0'))
        }
        _ => return Err(wrong_type(name, "must be a number", code)),
    };
    if number.is_finite() {
        Ok(Some(number))
    } else {
        Err(wrong_type(name, "must be a finite number", code))
    }
}

/// A string or a list of strings (`scope`, `aud`); a string is split on spaces when `split`.
pub fn opt_string_list(fields: &dyn Fields, name: &str, split: bool, code: ErrorCode) -> Result<Option<Vec<String>>> {
    match fields.get(name) {
        Value::Absent => Ok(None),
        Value::Text(text) if split => Ok(Some(text.split(' ').filter(|s| !s.is_empty()).map(String::from).collect())),
        Value::Text(text) => Ok(Some(alloc::vec![text])),
        Value::List(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Text(text) => Ok(text),
                _ => Err(wrong_type(name, "must hold only strings", code)),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        _ => Err(wrong_type(name, "must be a string or an array of strings", code)),
    }
}

/// Every string anywhere in a value, nested lists and records included.
pub fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Text(text) => out.push(text.clone()),
        Value::List(items) => items.iter().for_each(|item| collect_strings(item, out)),
        Value::Record(pairs) => pairs.iter().for_each(|(_, item)| collect_strings(item, out)),
        _ => {}
    }
}

#[cfg(test)]
pub(crate) fn record(list: &[(&str, Value)]) -> Vec<(String, Value)> {
    list.iter().map(|(key, value)| (String::from(*key), value.clone())).collect()
}

#[cfg(test)]
pub(crate) fn text(value: &str) -> Value {
    Value::Text(String::from(value))
}
