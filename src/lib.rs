//! oauth-connect: OAuth 2.0 connect flows for the browser.
//!
//! This file is the wasm boundary only. Everything else is plain Rust with no JS type, run
//! natively by `cargo test`: the protocol pieces (`pkce`, `state`, `authorize`, `callback`,
//! `token`, `id_token`, `url`, `encoding`, `json`), the provider kinds (`providers/`), and the
//! tab as a sans-IO state machine (`machine/`) that speaks `effect.rs`'s events and effects,
//! carried across as JSON text (`wire.rs`) by the runner in `pkg-template/index.js`.
//!
//! Every export takes and returns strings (plain C-ABI exports, no wasm-bindgen: see `boundary`);
//! the only import is `env.oc_random` (`random.rs`). The primitives answer `{"ok": value}` or
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
    //! The exports, plain C ABI (no wasm-bindgen): the runner's loader in `pkg-template/index.js`
    //! is their only caller.
    //!
    //! Strings cross as UTF-8 bytes in the wasm memory. The loader gets a buffer of exactly
    //! `len` bytes from `oc_alloc(len)`, writes a string there and passes `(ptr, len)` to an
    //! export, which takes it over and frees it. An export's answer is kept in `OUTPUT` (the
    //! previous answer is freed then); it returns where it starts, and `oc_len()` its length. The
    //! loader decodes it right away, before it calls anything else.
    use alloc::boxed::Box;
    use alloc::string::String;
    use core::cell::RefCell;

    use crate::machine::Tab;
    use crate::wire::{decode_event, encode_effects, Decoded};

    thread_local! {
        /// The page's one tab.
        static PAGE: RefCell<Option<Tab>> = const { RefCell::new(None) };
        /// The last answer, until the next one.
        static OUTPUT: RefCell<String> = const { RefCell::new(String::new()) };
    }

    /// A buffer of exactly `len` bytes for the loader to write a string to; the export it is
    /// passed to frees it.
    #[no_mangle]
    pub extern "C" fn oc_alloc(len: usize) -> *mut u8 {
        Box::into_raw(alloc::vec![0u8; len].into_boxed_slice()).cast()
    }

    /// The length of the last answer.
    #[no_mangle]
    pub extern "C" fn oc_len() -> usize {
        OUTPUT.with(|output| output.borrow().len())
    }

    /// Take over a buffer from `oc_alloc` that the loader has filled with UTF-8 (`TextEncoder`
    /// writes nothing else; anything else reads as empty).
    fn input(ptr: *mut u8, len: usize) -> String {
        // SAFETY: `ptr` and `len` are an `oc_alloc(len)` buffer, passed to one export only.
        let bytes = unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, len)) };
        String::from_utf8(bytes.into_vec()).unwrap_or_default()
    }

    /// Keep `answer` as the last answer and return where it starts.
    fn output(answer: String) -> *const u8 {
        OUTPUT.with(|output| {
            let mut output = output.borrow_mut();
            *output = answer;
            output.as_ptr()
        })
    }

    /// Start the page's tab (`location.origin`). Called once by `init()`.
    #[no_mangle]
    pub extern "C" fn tab_open(ptr: *mut u8, len: usize) {
        let origin = input(ptr, len);
        PAGE.with(|page| *page.borrow_mut() = Some(Tab::new(&origin)));
    }

    /// Feed one event (JSON) that happened at `now` (epoch ms); the effects as a JSON array.
    #[no_mangle]
    pub extern "C" fn tab_handle(now: f64, ptr: *mut u8, len: usize) -> *const u8 {
        let event = input(ptr, len);
        output(PAGE.with(|page| {
            let mut page = page.borrow_mut();
            let Some(tab) = page.as_mut() else { return String::from("[]") };
            let effects = match decode_event(&event) {
                Decoded::Event(event) => tab.handle(now, event),
                Decoded::Refused(effect) => alloc::vec![effect],
                Decoded::Nothing => alloc::vec::Vec::new(),
            };
            encode_effects(&effects)
        }))
    }

    /// `connect.status`.
    #[no_mangle]
    pub extern "C" fn tab_status(connection: u32) -> *const u8 {
        output(PAGE.with(|page| String::from(page.borrow().as_ref().map(|tab| tab.status(connection)).unwrap_or("idle"))))
    }

    /// `connect.tokens()` as JSON (`null` when none).
    #[no_mangle]
    pub extern "C" fn tab_tokens(connection: u32) -> *const u8 {
        output(PAGE.with(|page| page.borrow().as_ref().and_then(|tab| tab.tokens(connection)).unwrap_or_else(|| String::from("null"))))
    }

    /// `button.state`.
    #[no_mangle]
    pub extern "C" fn tab_button_state(button: u32) -> *const u8 {
        output(PAGE.with(|page| String::from(page.borrow().as_ref().map(|tab| tab.button_state(button)).unwrap_or("idle"))))
    }

    /// A primitive (`createPkce`, `parseCallback`, ...) by name, with its arguments as a JSON
    /// array; `{"ok": value}` or `{"error": {...}}`.
    #[no_mangle]
    pub extern "C" fn primitive(name_ptr: *mut u8, name_len: usize, args_ptr: *mut u8, args_len: usize) -> *const u8 {
        let name = input(name_ptr, name_len);
        let args = input(args_ptr, args_len);
        output(crate::primitives::call(&name, &args))
    }
}
