//! `Fields`: read access to a plain object (an app's config, a token response, a discovery
//! document, ID token claims), parsed from JSON into a list of pairs ([`Record`]). This keeps
//! every check on those objects in pure Rust.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{ConnectError, ErrorCode, Result};

/// A field's value, as far as the core cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Absent,
    Text(String),
    /// A whole number: what the parser makes of one from -2^53 to 2^53 (every id, status, time
    /// and count), and the core's own (milliseconds). Written as its digits, which `JSON.parse`
    /// reads back exactly.
    Number(i64),
    /// Any other JSON number (a fraction, `-0`, more digits), as its text: it passes through
    /// unchanged, and reads as an `f64` where the core needs one ([`Value::as_f64`]).
    NumberText(String),
    Bool(bool),
    List(Vec<Value>),
    /// A nested object, as its own pairs.
    Record(Vec<(String, Value)>),
    /// `null`, a function, or anything else the core does not read.
    Other,
}

impl Value {
    /// A number as an `f64`: a `Number` exactly, a `NumberText` close (within some units in the
    /// last place: timeouts, expiries, screen positions); `None` for anything else.
    #[inline(never)]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(number) => Some(*number as f64),
            Value::NumberText(text) => Some(crate::json::approximate_number(text)),
            _ => None,
        }
    }
}

/// A JSON object as its pairs, in order. The readers take it as this type, not as
/// `&dyn Fields`: it is the one implementation, and static calls (no vtable, no indirect call)
/// made 290 bytes less wasm (2026-12-01).
pub type Record = Vec<(String, Value)>;

pub trait Fields {
    /// The value of `name`, borrowed; `None` when missing or `undefined`.
    fn field(&self, name: &str) -> Option<&Value>;
    /// Every `(name, value)` pair, borrowed, for scans over the whole object.
    fn entries(&self) -> &[(String, Value)];

    /// The value of `name`; `Value::Absent` when missing or `undefined`.
    fn get(&self, name: &str) -> Value {
        self.field(name).cloned().unwrap_or(Value::Absent)
    }
    /// Every `(name, value)` pair, for scans over the whole object.
    fn pairs(&self) -> Vec<(String, Value)> {
        self.entries().to_vec()
    }
}

/// `Fields` over a list of pairs: nested records and native tests.
impl Fields for Vec<(String, Value)> {
    fn field(&self, name: &str) -> Option<&Value> {
        self.iter().find(|(key, _)| key == name).map(|(_, value)| value).filter(|value| !matches!(value, Value::Absent))
    }

    fn entries(&self) -> &[(String, Value)] {
        self
    }
}

/// Reads an object's fields in order and keeps the first problem: every read answers a value
/// (empty after a problem) so that a parse is one straight line with one exit, instead of an
/// early return, with its own clean-up, after every field. Later problems never replace the
/// first, so a bad object gets the same error as with early returns.
pub struct Reader<'a> {
    pub fields: &'a Record,
    /// The code of every problem found by a read.
    pub code: ErrorCode,
    error: Option<ConnectError>,
}

impl<'a> Reader<'a> {
    pub fn new(fields: &'a Record, code: ErrorCode) -> Self {
        Reader { fields, code, error: None }
    }

    /// Keep `error` unless an earlier one is kept already.
    #[inline(never)]
    pub fn fail(&mut self, error: ConnectError) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Keep a fixed message, with the reader's code.
    #[inline(never)]
    pub fn invalid(&mut self, message: &'static str) {
        self.fail(ConnectError::new(self.code, message));
    }

    #[inline]
    pub(crate) fn take<T: Default>(&mut self, result: Result<T>) -> T {
        match result {
            Ok(value) => value,
            Err(error) => {
                self.fail(error);
                T::default()
            }
        }
    }

    /// The parsed value, or the first problem.
    pub fn finish<T>(self, value: T) -> Result<T> {
        match self.error {
            None => Ok(value),
            Some(error) => Err(error),
        }
    }

    /// [`opt_string`].
    #[inline(never)]
    pub fn opt(&mut self, name: &str) -> Option<String> {
        let value = opt_string(self.fields, name, self.code);
        self.take(value)
    }

    /// A string that must be there and not be empty (as [`req_string`]).
    #[inline(never)]
    pub fn req(&mut self, name: &str) -> String {
        let value = self.opt(name).unwrap_or_default();
        if value.is_empty() {
            // After "must be a string", this second problem is not kept.
            self.fail(wrong_type(name, REQUIRED, self.code));
        }
        value
    }

    /// [`opt_str`]: borrowed from the fields.
    #[inline(never)]
    pub fn str(&mut self, name: &str) -> Option<&'a str> {
        let value = opt_str(self.fields, name, self.code);
        self.take(value)
    }

    /// A string that must be there and not be empty; else `message`.
    #[inline(never)]
    pub fn nonempty(&mut self, name: &str, message: &'static str) -> String {
        let value = self.opt(name).unwrap_or_default();
        if value.is_empty() {
            self.invalid(message);
        }
        value
    }

    /// [`opt_number`].
    #[inline(never)]
    pub fn number(&mut self, name: &str) -> Option<f64> {
        let value = opt_number(self.fields, name, self.code);
        self.take(value)
    }

    /// One of `choices` (the first when absent), as its index; else `message`.
    #[inline(never)]
    pub fn choice(&mut self, name: &str, choices: &[&str], message: &'static str) -> usize {
        match opt_str(self.fields, name, self.code) {
            Ok(None) => 0,
            Ok(Some(text)) => match choices.iter().position(|choice| *choice == text) {
                Some(index) => index,
                None => {
                    self.invalid(message);
                    0
                }
            },
            Err(error) => {
                self.fail(error);
                0
            }
        }
    }
}

const REQUIRED: &str = "is required (a non-empty string)";

/// One out-of-line maker for every "field is the wrong type" error.
#[inline(never)]
fn wrong_type(field: &str, expected: &'static str, code: ErrorCode) -> ConnectError {
    ConnectError::field(code, field, expected)
}

/// An optional string, borrowed; present but not a string is an error with `code`.
#[inline(never)]
pub fn opt_str<'a>(fields: &'a Record, name: &str, code: ErrorCode) -> Result<Option<&'a str>> {
    match fields.field(name) {
        None => Ok(None),
        Some(Value::Text(text)) => Ok(Some(text)),
        Some(_) => Err(wrong_type(name, "must be a string", code)),
    }
}

/// An optional string; present but not a string is an error with `code`.
#[inline(never)]
pub fn opt_string(fields: &Record, name: &str, code: ErrorCode) -> Result<Option<String>> {
    opt_str(fields, name, code).map(|text| text.map(String::from))
}

/// A required, non-empty string.
#[inline(never)]
pub fn req_string(fields: &Record, name: &str, code: ErrorCode) -> Result<String> {
    match opt_str(fields, name, code)? {
        Some(text) if !text.is_empty() => Ok(String::from(text)),
        _ => Err(wrong_type(name, REQUIRED, code)),
    }
}

/// An optional finite number (a number kept as text is read close rather than exact; a
/// numeric string is accepted too: some servers send `"expires_in": "3600"`).
#[inline(never)]
pub fn opt_number(fields: &Record, name: &str, code: ErrorCode) -> Result<Option<f64>> {
    let Some(value) = fields.field(name) else { return Ok(None) };
    let number = match value {
        Value::Number(_) | Value::NumberText(_) => value.as_f64().unwrap_or_default(),
        Value::Text(text) if !text.is_empty() && text.as_bytes().iter().all(u8::is_ascii_digit) => {
            text.as_bytes().iter().fold(0f64, |n, d| n * 10.0 + f64::from(d - b'0'))
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
#[inline(never)]
pub fn opt_string_list(fields: &Record, name: &str, split: bool, code: ErrorCode) -> Result<Option<Vec<String>>> {
    let mut list = Vec::new();
    match fields.field(name) {
        None => return Ok(None),
        Some(Value::Text(text)) if split => {
            let mut rest = Some(text.as_str());
            while let Some(text) = rest {
                let (item, next) = crate::encoding::next_piece(text, b' ');
                rest = next;
                if !item.is_empty() {
                    list.push(String::from(item));
                }
            }
        }
        Some(Value::Text(text)) => list.push(text.clone()),
        Some(Value::List(items)) => {
            for item in items {
                match item {
                    Value::Text(text) => list.push(text.clone()),
                    _ => return Err(wrong_type(name, "must hold only strings", code)),
                }
            }
        }
        Some(_) => return Err(wrong_type(name, "must be a string or an array of strings", code)),
    }
    Ok(Some(list))
}

/// Whether any string anywhere in a value, nested lists and records included, matches `test`.
pub fn any_string(value: &Value, test: fn(&str) -> bool) -> bool {
    match value {
        Value::Text(text) => test(text),
        Value::List(items) => items.iter().any(|item| any_string(item, test)),
        Value::Record(pairs) => pairs.iter().any(|(_, item)| any_string(item, test)),
        _ => false,
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
