//! Cross-tab mutual exclusion with the Web Locks API (`navigator.locks.request`), where the
//! browser has it. Without it the caller's in-tab single-flight is all there is.

use alloc::string::String;
use core::future::Future;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::browser::js::deferred;

#[wasm_bindgen]
extern "C" {
    type LockManager;
    #[wasm_bindgen(method, catch)]
    fn request(this: &LockManager, name: &str, callback: &Function) -> Result<Promise, JsValue>;
}

fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Releases the lock when dropped, whatever happened to the work inside it.
struct Release(Function);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

/// Run `work` while holding the exclusive lock `name`, across every tab of the origin.
pub async fn with_lock<T, F: Future<Output = T>>(name: &str, work: impl FnOnce() -> F) -> T {
    let Some(locks) = lock_manager() else { return work().await };
    let (acquired, acquired_resolve) = deferred();
    let (held_until, release) = deferred();
    let grant = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = acquired_resolve.call0(&JsValue::UNDEFINED);
        held_until.into()
    });
    let _release = Release(release);
    if locks.request(name, grant.unchecked_ref()).is_err() {
        return work().await;
    }
    let _ = JsFuture::from(acquired).await;
    work().await
}

/// The lock that serializes refreshes of one connection.
pub fn refresh_lock_name(connection_key: &str) -> String {
    crate::browser::storage::key("oauth-connect refresh ", connection_key)
}
