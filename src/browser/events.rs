//! `onEvent(name, meta)`: the app's window on a flow. `meta` holds `provider`, `mode` and, for
//! failures, `code`: never a token, code, verifier or secret. An exception thrown by the app's
//! handler is its own business and does not break the flow.
//!
//! Rust observers (the connect button) can watch the same events: `observe` returns a guard
//! that stops watching when dropped.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
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

type Observer = Rc<dyn Fn(&str, &JsValue)>;

#[derive(Default)]
struct Observers {
    list: RefCell<Vec<(u32, Observer)>>,
    next_id: Cell<u32>,
}

#[derive(Clone)]
pub struct Events {
    handler: Option<Function>,
    provider: &'static str,
    observers: Rc<Observers>,
}

/// Watching a connection's events; dropped, it stops.
#[must_use = "the observation ends when dropped"]
pub struct Observation {
    observers: Rc<Observers>,
    id: u32,
}

impl Drop for Observation {
    fn drop(&mut self) {
        self.observers.list.borrow_mut().retain(|(id, _)| *id != self.id);
    }
}

impl Events {
    /// Read `onEvent` from a config or options object.
    pub fn from_object(object: &JsValue, provider: &'static str) -> Events {
        let handler = js::get(object, "onEvent").dyn_into::<Function>().ok();
        Events { handler, provider, observers: Rc::default() }
    }

    /// Also call `observer(name, meta)` for every event, until the observation is dropped.
    pub fn observe(&self, observer: impl Fn(&str, &JsValue) + 'static) -> Observation {
        let id = self.observers.next_id.get() + 1;
        self.observers.next_id.set(id);
        self.observers.list.borrow_mut().push((id, Rc::new(observer)));
        Observation { observers: self.observers.clone(), id }
    }

    pub fn emit(&self, name: &str, mode: Option<Mode>, code: Option<ErrorCode>) {
        if self.handler.is_none() && self.observers.list.borrow().is_empty() {
            return;
        }
        let meta = js::object();
        js::set(&meta, "provider", self.provider);
        if let Some(mode) = mode {
            js::set(&meta, "mode", mode.as_str());
        }
        if let Some(code) = code {
            js::set(&meta, "code", code.as_str());
        }
        let meta: JsValue = meta.into();
        if let Some(handler) = &self.handler {
            let _ = handler.call2(&JsValue::UNDEFINED, &JsValue::from_str(name), &meta);
        }
        // Cloned first: an observer may stop observing while it runs.
        let observers: Vec<Observer> = self.observers.list.borrow().iter().map(|(_, observer)| observer.clone()).collect();
        for observer in observers {
            observer(name, &meta);
        }
    }
}
