//! `onEvent(name, meta)`: the app's window on a flow. `meta` holds `provider`, `mode` and, for
//! failures, `code`: never a token, code, verifier or secret. An exception thrown by the app's
//! handler is its own business and does not break the flow.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::browser::js;
use crate::error::ErrorCode;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Popup,
    Redirect,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Popup => "popup",
            Mode::Redirect => "redirect",
        }
    }
}

#[derive(Clone)]
pub struct Events {
    handler: Option<Function>,
    provider: &'static str,
}

impl Events {
    /// Read `onEvent` from a config or options object.
    pub fn from_object(object: &JsValue, provider: &'static str) -> Events {
        let handler = js::get(object, "onEvent").dyn_into::<Function>().ok();
        Events { handler, provider }
    }

    pub fn emit(&self, name: &str, mode: Option<Mode>, code: Option<ErrorCode>) {
        let Some(handler) = &self.handler else { return };
        let meta = js::object();
        js::set(&meta, "provider", self.provider);
        if let Some(mode) = mode {
            js::set(&meta, "mode", mode.as_str());
        }
        if let Some(code) = code {
            js::set(&meta, "code", code.as_str());
        }
        let _ = handler.call2(&JsValue::UNDEFINED, &JsValue::from_str(name), &meta);
    }
}
