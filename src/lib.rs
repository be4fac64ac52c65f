//! oauth-connect: OAuth 2.0 connect flows for the browser.
//!
//! This file is the wasm boundary only. Everything else is plain Rust with no JS type, run
//! natively by `cargo test`: the protocol pieces (`pkce`, `state`, `authorize`, `callback`,
//! `token`, `id_token`, `url`, `encoding`, `json`), the provider kinds (`providers/`), and the
//! tab as a sans-IO state machine (`machine/`) that speaks `effect.rs`'s events and effects,
//! carried across as JSON text (`wire.rs`) by the runner in `pkg-template/index.js`.
//!
//! Every export takes and returns strings: the primitives answer `{"ok": value}` or
//! `{"error": {code, message, ...}}`, which the entry module turns into a value or a thrown
//! `ConnectError`.

extern crate alloc;

mod allocator;
pub mod authorize;
pub mod button_state;
pub mod callback;
pub mod config;
pub mod effect;
pub mod encoding;
pub mod error;
pub mod fields;
pub mod flow;
pub mod id_token;
pub mod json;
pub mod machine;
pub mod pkce;
pub mod primitives;
pub mod providers;
pub mod random;
pub mod secret;
pub mod sha256;
pub mod state;
pub mod token;
pub mod url;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod boundary {
    use alloc::string::String;
    use core::cell::RefCell;
    use wasm_bindgen::prelude::*;

    use crate::machine::Tab;
    use crate::wire::{decode_event, encode_effects, Decoded};

    thread_local! {
        /// The page's one tab.
        static PAGE: RefCell<Option<Tab>> = const { RefCell::new(None) };
    }

    /// Start the page's tab (`location.origin`). Called once by `init()`.
    #[wasm_bindgen]
    pub fn tab_open(origin: &str) {
        PAGE.with(|page| *page.borrow_mut() = Some(Tab::new(origin)));
    }

    /// Feed one event (JSON) that happened at `now` (epoch ms); the effects as a JSON array.
    #[wasm_bindgen]
    pub fn tab_handle(now: f64, event: &str) -> String {
        PAGE.with(|page| {
            let mut page = page.borrow_mut();
            let Some(tab) = page.as_mut() else { return String::from("[]") };
            let effects = match decode_event(event) {
                Decoded::Event(event) => tab.handle(now, event),
                Decoded::Refused(effect) => alloc::vec![effect],
                Decoded::Nothing => alloc::vec::Vec::new(),
            };
            encode_effects(&effects)
        })
    }

    /// `connect.status`.
    #[wasm_bindgen]
    pub fn tab_status(connection: u32) -> String {
        PAGE.with(|page| String::from(page.borrow().as_ref().map(|tab| tab.status(connection)).unwrap_or("idle")))
    }

    /// `connect.tokens()` as JSON (`null` when none).
    #[wasm_bindgen]
    pub fn tab_tokens(connection: u32) -> String {
        PAGE.with(|page| page.borrow().as_ref().and_then(|tab| tab.tokens(connection)).unwrap_or_else(|| String::from("null")))
    }

    /// `button.state`.
    #[wasm_bindgen]
    pub fn tab_button_state(button: u32) -> String {
        PAGE.with(|page| String::from(page.borrow().as_ref().map(|tab| tab.button_state(button)).unwrap_or("idle")))
    }

    /// A primitive (`createPkce`, `parseCallback`, ...) by name, with its arguments as a JSON
    /// array; `{"ok": value}` or `{"error": {...}}`.
    #[wasm_bindgen]
    pub fn primitive(name: &str, args: &str) -> String {
        crate::primitives::call(name, args)
    }
}
