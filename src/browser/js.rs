//! Reading the plain objects apps pass in, and building the plain objects they get back.
//! Anything of the wrong type becomes `invalid_config` naming the field, never a `TypeError`.

use alloc::string::String;
use alloc::vec::Vec;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::authorize::ParamValue;
use crate::error::{field_message, ConnectError, ErrorCode, Result};

/// A required string argument.
pub fn required_string(value: &JsValue, name: &str) -> Result<String> {
    value.as_string().ok_or_else(|| ConnectError::with_message(ErrorCode::InvalidConfig, field_message(name, "must be a string")))
}

/// `object[key]`, `undefined` when `object` is not an object.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// An optional string field: `undefined` is `None`, anything else but a string is an error.
pub fn optional_string_field(object: &JsValue, key: &str) -> Result<Option<String>> {
    let value = get(object, key);
    if value.is_undefined() {
        return Ok(None);
    }
    required_string(&value, key).map(Some)
}

/// A `Record<string, string | string[]>` as ordered pairs; `undefined` values are skipped so that
/// `{ prompt: maybePrompt }` does what it reads as.
pub fn param_record(record: &JsValue, name: &str) -> Result<Vec<(String, ParamValue)>> {
    if record.is_undefined() || record.is_null() {
        return Ok(Vec::new());
    }
    if !record.is_object() || Array::is_array(record) {
        return Err(ConnectError::with_message(ErrorCode::InvalidConfig, field_message(name, "must be an object of strings")));
    }
    let mut params = Vec::new();
    for entry in Object::entries(record.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        let key = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1);
        let param = if value.is_undefined() {
            continue;
        } else if let Some(text) = value.as_string() {
            ParamValue::One(text)
        } else if Array::is_array(&value) {
            let items: Option<Vec<String>> = Array::from(&value).iter().map(|item| item.as_string()).collect();
            ParamValue::Many(items.ok_or_else(|| not_string_param(&key))?)
        } else {
            return Err(not_string_param(&key));
        };
        params.push((key, param));
    }
    Ok(params)
}

fn not_string_param(key: &str) -> ConnectError {
    ConnectError::with_message(
        ErrorCode::InvalidConfig,
        field_message(&crate::authorize::quote_name(key), "must be a string or an array of strings"),
    )
}

/// A fresh plain object.
pub fn object() -> Object {
    Object::new()
}

/// `object[key] = value` on an object this module made.
pub fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    // Cannot fail on a fresh ordinary object.
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

/// Pairs as an object made by `Object.fromEntries`, so that a parameter named `__proto__`
/// becomes an own property instead of changing the object's prototype.
pub fn record_from_pairs(pairs: &[(String, String)]) -> Object {
    let entries: Array = pairs.iter().map(|(key, value)| Array::of2(&JsValue::from_str(key), &JsValue::from_str(value))).collect();
    Object::from_entries(&entries).unwrap_or_else(|_| Object::new())
}

/// [`Fields`](crate::fields::Fields) over a JS object: how the core reads app configs, token
/// responses, discovery documents and claims.
pub struct JsFields(pub JsValue);

impl crate::fields::Fields for JsFields {
    fn get(&self, name: &str) -> crate::fields::Value {
        to_value(&get(&self.0, name), 0)
    }

    fn pairs(&self) -> Vec<(String, crate::fields::Value)> {
        object_pairs(&self.0, 0)
    }
}

/// Nesting deeper than this is not read (no config or response of the contract goes so deep).
const MAX_DEPTH: u8 = 4;

fn object_pairs(object: &JsValue, depth: u8) -> Vec<(String, crate::fields::Value)> {
    if !object.is_object() || depth > MAX_DEPTH {
        return Vec::new();
    }
    Object::entries(object.unchecked_ref())
        .iter()
        .map(|entry| {
            let entry: Array = entry.unchecked_into();
            (entry.get(0).as_string().unwrap_or_default(), to_value(&entry.get(1), depth + 1))
        })
        .collect()
}

fn to_value(value: &JsValue, depth: u8) -> crate::fields::Value {
    use crate::fields::Value;
    if value.is_undefined() {
        Value::Absent
    } else if let Some(text) = value.as_string() {
        Value::Text(text)
    } else if let Some(number) = value.as_f64() {
        Value::Number(number)
    } else if let Some(flag) = value.as_bool() {
        Value::Bool(flag)
    } else if Array::is_array(value) && depth <= MAX_DEPTH {
        Value::List(Array::from(value).iter().map(|item| to_value(&item, depth + 1)).collect())
    } else if value.is_object() && !value.is_function() && depth <= MAX_DEPTH {
        Value::Record(object_pairs(value, depth))
    } else {
        Value::Other
    }
}

/// `JSON.parse(text)`, `None` when it is not JSON.
pub fn parse_json(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

/// `JSON.stringify(value)`: functions (`onEvent`) are left out, which is what stored copies want.
pub fn to_json(value: &JsValue) -> Option<String> {
    js_sys::JSON::stringify(value).ok().and_then(|text| text.as_string())
}

/// A promise with its `resolve` function, for events that finish an `await`.
pub fn deferred() -> (js_sys::Promise, js_sys::Function) {
    let mut resolve_slot = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| resolve_slot = Some(resolve));
    // The executor runs synchronously, so the slot is always filled. The fallback no-op is a
    // closure, not `new Function("")`: that is eval, which a strict CSP and Trusted Types refuse.
    (promise, resolve_slot.unwrap_or_else(|| Closure::once_into_js(|| {}).unchecked_into()))
}
