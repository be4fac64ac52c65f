//! The language the core and its runner speak (sans-IO, as in rustls or quinn-proto): the runner
//! feeds the core [`Event`]s (what the app asked, what the browser answered, what time it is)
//! and carries out the [`Effect`]s the core answers with, each with one browser call. Both are
//! plain data: a test lists every effect a flow produced and replays a race step by step.
//!
//! Ids (`Id`) name the things an effect starts and its answer refers to: a window, a request,
//! a timer, a lock, a storage read, a call of the app's (a promise it holds), a connection, a
//! button. The core hands them out; the runner only keeps a table from id to browser object.
//!
//! Queries are effects too (`ReadStorage`, `PollWindow`, `OpenWindow`): the runner answers each
//! at once, inside the same turn, so a click still opens its popup with no `await` in between.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ConnectError;
use crate::fields::Value;

pub type Id = u32;

/// The two Web Storage areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `sessionStorage`: this tab only, survives reloads.
    Session,
    /// `localStorage`: every tab of the origin.
    Local,
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Session => "session",
            Area::Local => "local",
        }
    }
}

/// An HTTP request (`fetch`). Every request accepts JSON back; bodies are sent as given.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub id: Id,
    pub method: &'static str,
    pub url: String,
    /// `(content type, body)`.
    pub body: Option<(&'static str, String)>,
}

/// What one HTTP request came back with. `body` is the response text.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAnswer {
    Response { status: u16, body: String },
    /// `fetch` rejected: network down, CORS, a refused connection.
    Failed,
    /// No answer within the connection's `requestTimeoutMs` (the core's own timer; an answer
    /// that comes later is ignored).
    TimedOut,
}

/// Where an event of a connection goes: the app's `onEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// `config.onEvent` of a `Connect`.
    Connection(Id),
    /// `options.onEvent` of one `handleCallback` call.
    Call(Id),
    /// `options.onEvent` of a button.
    Button(Id),
    /// The `onStatus` listeners of a `Connect`: the event's name is its new `status`.
    Status(Id),
}

/// The `meta` of an event (`shared/API.md`, "Events").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub provider: &'static str,
    pub mode: Option<&'static str>,
    pub code: Option<&'static str>,
}

/// How the button looks, all of it (the runner sets text and attributes, nothing else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawing {
    /// `data-state`.
    pub state: &'static str,
    pub label: String,
    /// `aria-busy="true"` and `disabled` while connecting.
    pub busy: bool,
    /// `aria-disabled="true"` when connected.
    pub inert: bool,
    pub cancel_label: String,
    pub cancel_shown: bool,
    /// The polite live region's text.
    pub announcement: String,
}

/// Which of the button's app callbacks to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonCallback {
    Success,
    Error,
    Exit,
}

impl ButtonCallback {
    pub fn as_str(self) -> &'static str {
        match self {
            ButtonCallback::Success => "onSuccess",
            ButtonCallback::Error => "onError",
            ButtonCallback::Exit => "onExit",
        }
    }
}

/// The two things the core listens to, each only while something needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `message` events of this window (a popup's callback page posting to its opener).
    WindowMessages,
    /// `BroadcastChannel("oauth-connect")`: relays when COOP cut the opener, and tokens
    /// between tabs.
    Channel,
}

/// What the core asks the runner to do. Each is one browser call.
#[derive(Debug, Clone, PartialEq)]
// A tag byte of its own (no niche in a `String`'s capacity): every effect made, matched and
// dropped is then a byte store or a `br_table` on it. 256 bytes less wasm (2026-12-01).
#[repr(u8)]
pub enum Effect {
    /// `window.open("", "_blank", features)`, then write `title` into the blank page. Answer
    /// at once: `WindowOpened` or `WindowBlocked`.
    OpenWindow { window: Id, features: String, title: &'static str },
    /// Take the window the app passed to `popup({ window })` as `window` (answered like
    /// `OpenWindow`; `null` there means the app's own `window.open` was blocked).
    AdoptWindow { window: Id, call: Id },
    NavigateWindow { window: Id, url: String },
    /// Answer at once with `WindowState`.
    PollWindow { window: Id },
    /// Close the window (if still open) and forget it.
    CloseWindow { window: Id },
    Fetch(HttpRequest),
    /// Every `(key, value)` of `area` whose key starts with `prefix`. Answer at once: `StorageEntries`.
    ReadStorage { read: Id, area: Area, prefix: String },
    WriteStorage { area: Area, key: String, value: String },
    RemoveStorage { area: Area, key: String },
    Listen(Source),
    Unlisten(Source),
    /// Post JSON on the channel (text written by `json::to_string`).
    Broadcast { message: String },
    /// `window.opener.postMessage(message, <this page's origin>)` when there is an opener.
    PostToOpener { message: String },
    /// `window.close()` of this page (a popup's callback page).
    CloseSelf,
    /// `navigator.locks.request(name, ...)`; answer `LockGranted` when held (at once where the
    /// browser has no Web Locks).
    RequestLock { lock: Id, name: String },
    ReleaseLock { lock: Id },
    StartTimer { timer: Id, ms: u32 },
    CancelTimer { timer: Id },
    /// `history.replaceState(null, "", url)`.
    ReplaceUrl { url: String },
    /// `location.assign(url)`.
    NavigateSelf { url: String },
    /// Resolve the app's promise (or return from its synchronous call) with this JSON (written by
    /// `json::to_string`: the wire carries it as it is).
    Resolve { call: Id, json: String },
    Reject { call: Id, error: ConnectError },
    /// Call an `onEvent`.
    Emit { to: Listener, name: &'static str, meta: EventMeta },
    /// Make the button's elements (a native `<button>`, a Cancel button, a live region) in
    /// the target the app gave with `MountButton`.
    CreateButton { button: Id },
    Draw { button: Id, drawing: Drawing },
    /// Call the button's `onSuccess` (with a result as JSON) / `onError` / `onExit`.
    CallButton { button: Id, callback: ButtonCallback, json: Option<String>, error: Option<ConnectError> },
    /// Remove the button's elements.
    RemoveButton { button: Id },
}

/// The options of `popup()` the core reads.
#[derive(Debug, Clone, PartialEq)]
pub struct PopupOptions {
    /// `options.window`: `None` when not given; `Some(false)` for `null` (the app's own
    /// `window.open` was blocked); `Some(true)` for a window.
    pub window: Option<bool>,
    /// `options.signal` was already aborted.
    pub aborted: bool,
    /// `options.timeoutMs` as given (checked by the core).
    pub timeout_ms: Value,
    /// The opener's `screenX`, `screenY`, `outerWidth`, `outerHeight`, to centre the popup.
    pub screen: [f64; 4],
}

impl Default for PopupOptions {
    fn default() -> Self {
        PopupOptions { window: None, aborted: false, timeout_ms: Value::Absent, screen: [0.0; 4] }
    }
}

/// What the app asked of a `Connect`.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Popup(PopupOptions),
    /// `options.returnTo` as given.
    Redirect { return_to: Value },
    AccessToken,
    Refresh,
    RequireReconnect,
    Disconnect,
}

/// What happened: the app's calls and the browser's answers, as values. The core reads them
/// from the wire as calls of a [`Handler`] (`wire::decode_event`), not as this enum; tests and
/// the simulated browser write them as the runner would (`wire::encode_event`) and feed them
/// through that same reading (`Tab::handle`).
#[derive(Debug, Clone, PartialEq)]
// A tag byte of its own, as `Effect`: 250 bytes less wasm in decoding and dispatch.
#[repr(u8)]
pub enum Event {
    /// `new Connect(config)`: `config` is the app's object as JSON (functions left out). Answered
    /// by `Resolve`/`Reject` of `call` before the constructor returns.
    NewConnect { call: Id, connection: Id, config: String },
    Call { call: Id, connection: Id, what: Call },
    /// The `AbortSignal` of a call fired.
    Aborted { call: Id },
    /// `handleCallback(url)`. `href` is the page's address now; `has_opener` whether
    /// `window.opener` is set.
    HandleCallback { call: Id, url: String, href: String, has_opener: bool },
    WindowOpened { window: Id, closed: bool },
    WindowBlocked { window: Id },
    /// A poll: `closed`, whether its location was unreadable (another origin's page), and
    /// whether this page has focus (`document.hasFocus()`).
    WindowState { window: Id, closed: bool, foreign: bool, opener_focused: bool },
    Http { request: Id, answer: HttpAnswer },
    StorageEntries { read: Id, entries: Vec<(String, String)> },
    LockGranted { lock: Id },
    TimerFired { timer: Id },
    /// A `message` event of this window: the sender's origin and the data as JSON (`None`
    /// when it was not JSON-able).
    WindowMessage { origin: String, data: Option<String> },
    ChannelMessage { data: Option<String> },
    /// `mountConnectButton(target, options)` on `connection` (made for it or the app's own).
    MountButton { call: Id, button: Id, connection: Id, options: String, in_app_browser: bool, return_to: String },
    ButtonClicked { button: Id, screen: [f64; 4] },
    CancelClicked { button: Id },
    SetButtonState { call: Id, button: Id, state: String },
    DestroyButton { button: Id },
    /// The app's `Connect` is gone (garbage-collected, or the button that made it destroyed):
    /// its flow ends and the tab forgets it.
    DropConnection { connection: Id },
}

/// What each kind of [`Event`] does, one method per variant (with the variant's fields):
/// `wire::decode_event` reads an event's array and calls the method of its kind, so an event goes
/// from the wire to its handler without being built as an `Event` first (607 bytes less wasm
/// than decoding into the enum and matching on it, 2026-12-02). The tab implements it; the
/// decoder's tests record the calls.
pub trait Handler {
    fn on_new_connect(&mut self, call: Id, connection: Id, config: &str);
    fn on_call(&mut self, call: Id, connection: Id, what: Call);
    fn on_aborted(&mut self, call: Id);
    fn on_handle_callback(&mut self, call: Id, url: String, href: String, has_opener: bool);
    fn on_window_opened(&mut self, window: Id, closed: bool);
    fn on_window_blocked(&mut self, window: Id);
    fn on_window_state(&mut self, window: Id, closed: bool, foreign: bool, opener_focused: bool);
    fn on_http(&mut self, request: Id, answer: HttpAnswer);
    fn on_storage_entries(&mut self, read: Id, entries: Vec<(String, String)>);
    fn on_lock_granted(&mut self, lock: Id);
    fn on_timer_fired(&mut self, timer: Id);
    fn on_window_message(&mut self, origin: &str, data: Option<&str>);
    fn on_channel_message(&mut self, data: Option<&str>);
    fn on_mount_button(&mut self, call: Id, button: Id, connection: Id, options: &str, in_app_browser: bool, return_to: String);
    fn on_button_clicked(&mut self, button: Id, screen: [f64; 4]);
    fn on_cancel_clicked(&mut self, button: Id);
    fn on_set_button_state(&mut self, call: Id, button: Id, state: &str);
    fn on_destroy_button(&mut self, button: Id);
    fn on_drop_connection(&mut self, connection: Id);
    /// The event's call had arguments the core refuses before anything else (a callback URL that
    /// is not a string): reject it at once.
    fn on_refused(&mut self, call: Id, error: ConnectError);
}
