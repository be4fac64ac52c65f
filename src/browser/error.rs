//! `ConnectError` as a JS `Error`: an instance of the `ConnectError` class that the package's
//! entry module registers at `init()` (so `instanceof` works), with `name === "ConnectError"`,
//! the stable `code`, and the provider's `error`, `errorDescription`, `errorUri` and the HTTP
//! `status` where they exist.

use core::cell::RefCell;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::ConnectError;

thread_local! {
    /// The entry module's `ConnectError` class. Until it is registered (e.g. in the
    /// wasm-bindgen test runner), errors are plain `Error`s with the same name and fields.
    static ERROR_CLASS: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Register the JS class whose instances errors become; the entry module calls it in `init()`.
pub fn set_error_class(class: Function) {
    ERROR_CLASS.with(|slot| *slot.borrow_mut() = Some(class));
}

impl From<ConnectError> for JsValue {
    fn from(error: ConnectError) -> JsValue {
        to_js_error(&error)
    }
}

/// Build the JS error for `error`.
pub fn to_js_error(error: &ConnectError) -> JsValue {
    let code = JsValue::from_str(error.code().as_str());
    let message = JsValue::from_str(error.message());
    let constructed = ERROR_CLASS.with(|slot| {
        slot.borrow().as_ref().and_then(|class| Reflect::construct(class, &Array::of2(&code, &message)).ok())
    });
    let object: Object = match constructed {
        Some(instance) => instance.unchecked_into(),
        None => {
            let plain = js_sys::Error::new(error.message());
            plain.set_name("ConnectError");
            plain.unchecked_into()
        }
    };
    // Reflect::set only fails on frozen or exotic objects, which these are not.
    let _ = Reflect::set(&object, &"code".into(), &code);
    if let Some(provider) = error.provider() {
        let _ = Reflect::set(&object, &"error".into(), &JsValue::from_str(&provider.error));
        if let Some(description) = &provider.error_description {
            let _ = Reflect::set(&object, &"errorDescription".into(), &JsValue::from_str(description));
        }
        if let Some(uri) = &provider.error_uri {
            let _ = Reflect::set(&object, &"errorUri".into(), &JsValue::from_str(uri));
        }
    }
    if let Some(status) = error.status() {
        let _ = Reflect::set(&object, &"status".into(), &JsValue::from(status));
    }
    object.into()
}
