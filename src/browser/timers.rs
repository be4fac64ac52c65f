//! Timers as values: a `Timer` runs its callback once or on an interval and is cleared when
//! dropped, so a flow that ends for any reason leaves no timer behind.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[must_use = "a timer is cleared when dropped"]
pub struct Timer {
    id: i32,
    repeat: bool,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    pub fn once(ms: u32, callback: impl FnMut() + 'static) -> Option<Timer> {
        Self::start(ms, false, callback)
    }

    pub fn every(ms: u32, callback: impl FnMut() + 'static) -> Option<Timer> {
        Self::start(ms, true, callback)
    }

    fn start(ms: u32, repeat: bool, callback: impl FnMut() + 'static) -> Option<Timer> {
        let window = web_sys::window()?;
        let callback = Closure::<dyn FnMut()>::new(callback);
        let function: &Function = callback.as_ref().unchecked_ref();
        let delay = ms.min(i32::MAX as u32) as i32;
        let id = if repeat {
            window.set_interval_with_callback_and_timeout_and_arguments_0(function, delay)
        } else {
            window.set_timeout_with_callback_and_timeout_and_arguments_0(function, delay)
        }
        .ok()?;
        Some(Timer { id, repeat, _callback: callback })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            if self.repeat {
                window.clear_interval_with_handle(self.id);
            } else {
                window.clear_timeout_with_handle(self.id);
            }
        }
    }
}

/// Wait `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let (promise, resolve) = crate::browser::js::deferred();
    let timer = Timer::once(ms, move || {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    });
    if timer.is_some() {
        let _ = JsFuture::from(promise).await;
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
