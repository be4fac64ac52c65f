//! oauth-connect: OAuth 2.0 connect flows for the browser.
//!
//! This file is the wasm boundary only. Everything else is plain Rust with no JS type, run
//! natively by `cargo test`: the protocol pieces (`pkce`, `state`, `authorize`, `callback`,
//! `token`, `id_token`, `url`, `encoding`, `json`), the provider kinds (`providers/`), and the
//! tab as a sans-IO state machine (`machine/`) that speaks `effect.rs`'s events and effects,
//! carried across as JSON text (`wire.rs`) by the runner in `pkg-template/index.js`.
//!
//! Every export takes and returns strings (plain C-ABI exports, no wasm-bindgen: see `boundary`);
//! the only import is `oc_random` (`random.rs`). The primitives answer `{"ok": value}` or
//! `{"error": [code, message, ...]}` (`wire::write_error`), which the entry module turns into a
//! value or a thrown `ConnectError`.

extern crate alloc;

// The wasm's allocator; natively only its tests (the native code uses the system's).
#[cfg(any(target_arch = "wasm32", test))]
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

/// A global of the page. The wasm runs on one thread (the target has no atomics, and the
/// loader makes one instance), so a `RefCell` in a plain `static` is enough: cheaper than
/// `thread_local!`'s lazy keys, and a reentrant call still fails its `borrow_mut` (a trap) or
/// its `try_borrow_mut`.
#[cfg(target_arch = "wasm32")]
pub(crate) struct Global<T>(pub(crate) core::cell::RefCell<T>);
// SAFETY: wasm32-unknown-unknown without the `atomics` feature has one thread.
#[cfg(target_arch = "wasm32")]
unsafe impl<T> Sync for Global<T> {}

#[cfg(target_arch = "wasm32")]
mod boundary {
    //! The exports, plain C ABI (no wasm-bindgen): the runner's loader in `pkg-template/index.js`
    //! is their only caller.
    //!
    //! Their names in the wasm are one letter each (`export_name`), and so is the import's
    //! (`e.r`, `random.rs`): a private interface between this file and the loader, whose names
    //! would otherwise be kept whole in the wasm and in the minified entry (91 B brotli of the
    //! two, 2026-12-02). The loader names each at its call:
    //!
    //! | export | function |
    //! |---|---|
    //! | `i` | `oc_input` |
    //! | `l` | `oc_len` |
    //! | `o` | `tab_open` |
    //! | `h` | `tab_handle` |
    //! | `s` | `tab_status` |
    //! | `t` | `tab_tokens` |
    //! | `b` | `tab_button_state` |
    //! | `p` | `primitive` |
    //! | `q` | `primitive_bare` |
    //!
    //! Strings cross as UTF-8 bytes in the wasm memory. The loader asks `oc_input(capacity)` for
    //! the one input buffer, encodes a string into it and passes the byte length to an export,
    //! which copies it out first. An export's answer is kept in `OUTPUT` (the previous answer is
    //! freed then); it returns where it starts, and `oc_len()` its length. The loader decodes it
    //! right away, before it calls anything else. No allocation per call is left to the loader.
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    use crate::machine::Tab;
    use crate::wire::encode_effects;

    use crate::Global;

    /// The page's one tab.
    static PAGE: Global<Option<Tab>> = Global(RefCell::new(None));
    /// Where the loader writes the next input.
    static INPUT: Global<Vec<u8>> = Global(RefCell::new(Vec::new()));
    /// The last answer, until the next one.
    static OUTPUT: Global<String> = Global(RefCell::new(String::new()));

    /// An input buffer able to hold `capacity` bytes, for the loader to encode a string into.
    #[export_name = "i"]
    pub extern "C" fn oc_input(capacity: usize) -> *mut u8 {
        let mut input = INPUT.0.borrow_mut();
        input.clear();
        // No memory for it: a null pointer, and the loader passes nothing.
        match input.try_reserve(capacity) {
            Ok(()) => input.as_mut_ptr(),
            Err(_) => core::ptr::null_mut(),
        }
    }

    /// The length of the last answer.
    #[export_name = "l"]
    pub extern "C" fn oc_len() -> usize {
        OUTPUT.0.borrow().len()
    }

    /// The first `len` bytes of the input buffer as a string (`TextEncoder` writes nothing but
    /// UTF-8; anything else reads as empty). A buffer a huge input grew is let go.
    fn input(len: usize) -> String {
        let mut input = INPUT.0.borrow_mut();
        // SAFETY: the loader wrote `len` bytes, at most the capacity `oc_input` reserved, at
        // the buffer's start (the spare capacity it returned the pointer to).
        let written = len.min(input.capacity());
        unsafe { input.set_len(written) };
        let text = String::from(crate::encoding::utf8(&input).unwrap_or_default());
        if input.capacity() > 65_536 {
            *input = Vec::new();
        }
        text
    }

    /// Keep `answer` as the last answer and return where it starts.
    fn output(answer: String) -> *const u8 {
        let mut output = OUTPUT.0.borrow_mut();
        *output = answer;
        output.as_ptr()
    }

    /// Start the page's tab (`location.origin`). Called once by `init()`; a second call keeps
    /// the tab there is (a page's origin does not change), so no tab is ever dropped: the wasm
    /// carries no code to drop one (a few hundred bytes).
    #[export_name = "o"]
    pub extern "C" fn tab_open(len: usize) {
        let origin = input(len);
        let mut page = PAGE.0.borrow_mut();
        if page.is_none() {
            // What `replace` hands back is that `None`: forgotten rather than dropped, so that
            // the compiler keeps no code to drop a tab.
            core::mem::forget(page.replace(Tab::new(&origin)));
        }
    }

    /// Feed one event (JSON) that happened at `now` (epoch ms); the effects as a JSON array.
    #[export_name = "h"]
    pub extern "C" fn tab_handle(now: f64, len: usize) -> *const u8 {
        output(handle(now, &input(len)))
    }

    fn handle(now: f64, event: &str) -> String {
        let mut page = PAGE.0.borrow_mut();
        let Some(tab) = page.as_mut() else { return String::from("[]") };
        match tab.feed(now, event) {
            Some(effects) => encode_effects(&effects),
            // `null`: the runner rejects the call the event was for.
            None => String::from("null"),
        }
    }

    /// `connect.status`.
    #[export_name = "s"]
    pub extern "C" fn tab_status(connection: u32) -> *const u8 {
        output(String::from(PAGE.0.borrow().as_ref().map(|tab| tab.status(connection)).unwrap_or("idle")))
    }

    /// `connect.tokens()` as JSON (`null` when none).
    #[export_name = "t"]
    pub extern "C" fn tab_tokens(connection: u32) -> *const u8 {
        output(PAGE.0.borrow().as_ref().and_then(|tab| tab.tokens(connection)).unwrap_or_else(|| String::from("null")))
    }

    /// `button.state`.
    #[export_name = "b"]
    pub extern "C" fn tab_button_state(button: u32) -> *const u8 {
        output(String::from(PAGE.0.borrow().as_ref().map(|tab| tab.button_state(button)).unwrap_or("idle")))
    }

    /// A primitive (`createPkce`, `parseCallback`, ...) as a JSON array of its name and its
    /// arguments; `{"ok": value}` or `{"error": [code, message, ...]}`.
    #[export_name = "p"]
    pub extern "C" fn primitive(len: usize) -> *const u8 {
        output(crate::primitives::call(&input(len)))
    }

    /// A primitive without arguments (`createPkce`, `randomState`, `idempotencyKey`: 0 to 2) by
    /// its index, with no input: the loader then encodes nothing for it (that took about a
    /// microsecond in Chromium, a third of a `randomState()`), and there is no call to parse.
    #[export_name = "q"]
    pub extern "C" fn primitive_bare(index: u32) -> *const u8 {
        output(crate::primitives::call_bare(index))
    }
}
