//! One tab of the app as a state machine: [`Tab::feed`] takes an event as the runner sends it
//! (read by `wire::decode_event` into a call of the tab's [`Handler`] methods) and returns the
//! [`Effect`]s to carry out, with no I/O and no clock of its own (the runner passes the time with
//! each event). Everything the library decides in a page is here: the flows of every
//! `Connect` (`flow.rs`), the callback page (`callback.rs`), the token sets shared between tabs
//! and their refresh (`tokens.rs`), and the connect buttons (`button.rs`).
//!
//! The same code runs in the browser (driven by the JS runner through `lib.rs`) and natively
//! under `cargo test` (driven by the simulated browser in `tests/sim/`).

mod button;
mod callback;
mod flow;
mod tokens;

use alloc::string::String;
use alloc::vec::Vec;

use crate::config::ConnectConfig;
use crate::effect::{Area, Call, Effect, Event, EventMeta, Handler, HttpAnswer, Id, Listener, Source};
use crate::error::{ConnectError, ErrorCode};
use crate::fields::Value;
use crate::json::JsonWriter;
use crate::providers::Memory;

pub use button::Button;
pub use flow::Job;
pub use tokens::Slot;

/// `sessionStorage` keys of redirect transactions: prefix + state.
pub const TRANSACTION_PREFIX: &str = "oauth-connect:tx:";
/// `sessionStorage` keys that remember handled callbacks: prefix + state.
pub const HANDLED_PREFIX: &str = "oauth-connect:done:";
/// `localStorage` keys of popup markers: prefix + [`popup_marker_name`] of the state.
/// Verifier-free: they only tell the callback page that its flow runs in a popup, even when COOP
/// has nulled `window.opener`.
pub const POPUP_MARKER_PREFIX: &str = "oauth-connect:popup:";

/// The name of a flow's popup marker: the SHA-256 of its state (base64url), never the state
/// itself. `localStorage` is read by every page of the origin; a page that learned a running
/// flow's state could forge its callback relay (with a code of its own) or replay it.
pub fn popup_marker_name(state: &str) -> String {
    crate::encoding::base64url(&crate::sha256::sha256(state.as_bytes()))
}

/// The `localStorage` key of the popup marker of `state`.
pub fn popup_marker_key(state: &str) -> String {
    key(POPUP_MARKER_PREFIX, &popup_marker_name(state))
}

/// `onEvent`'s `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// What a connection's last flow left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Idle,
    Connected,
    Error,
}

/// `connect.status`: what the app (and the connection's buttons) see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectStatus {
    Idle,
    Connecting,
    Connected,
    ReconnectRequired,
    Error,
}

impl ConnectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectStatus::Idle => "idle",
            ConnectStatus::Connecting => "connecting",
            ConnectStatus::Connected => "connected",
            ConnectStatus::ReconnectRequired => "reconnect_required",
            ConnectStatus::Error => "error",
        }
    }
}

/// A `Connect` of the app.
pub(crate) struct Connection {
    pub id: Id,
    pub config: ConnectConfig,
    /// The app's config as given (functions left out): stored with redirect transactions so
    /// the callback page can finish the flow.
    pub config_json: Value,
    pub memory: Memory,
    pub status: Status,
    /// A flow of this connection is running (a job whose `connection` is this one).
    pub busy: bool,
    /// The `status` its `onStatus` listeners last heard of (see `report_statuses`).
    pub reported: ConnectStatus,
}

/// Who waits for a job's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A promise of the app's (`popup()`, `redirect()`).
    App(Id),
    /// A connect button's click.
    Button(Id),
    /// `handleCallback()` on the callback page: answered to every call for the same URL.
    Callback(Id),
}

/// What an answer (by its id) goes on with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A job's window, request, poll or timer.
    Job(Id),
    /// A job's popup-marker prune read.
    PruneMarkers,
    /// The tab's first `Connect`: a read of `sessionStorage` to remove what earlier flows of
    /// this tab left past their lifetime.
    PruneSession,
    /// A redirect job's read of the transactions, before writing its own.
    PruneTransactions(Id),
    /// The callback page's reads.
    Callback(Id),
    /// A token slot's refresh (lock, fingerprint read, timers, request), by slot index.
    Refresh(usize),
    /// Reading the token set a `sessionStorage` connection kept, by slot index.
    Restore(usize),
    /// OIDC discovery before a refresh: `(connection, call, refresh?)`.
    Discover(Id, Id, bool),
    /// The `requestTimeoutMs` timer of a request, by the request's id.
    RequestTimeout(Id),
    /// A wait for another tab's fresh access token, by slot index.
    Borrow(usize),
}

/// A storage key or lock name: `prefix` + `name`.
pub(crate) fn key(prefix: &str, name: &str) -> String {
    let mut key = String::from(prefix);
    key.push_str(name);
    key
}

/// The value of `entries` stored under `prefix` + `name` (exactly: a read by prefix also
/// finds longer keys).
pub(crate) fn entry<'a>(entries: &'a [(String, String)], prefix: &str, name: &str) -> Option<&'a str> {
    entries.iter().find(|(stored, _)| stored.len() == prefix.len() + name.len() && stored.starts_with(prefix) && stored.ends_with(name)).map(|(_, value)| value.as_str())
}

/// A string member `"name": text` of the object `w` writes: one call where the machine writes
/// JSON (transactions, results, channel messages).
#[inline(never)]
pub(crate) fn put(w: &mut JsonWriter<'_>, name: &str, text: &str) {
    w.key(name);
    w.string(text);
}

/// One tab.
pub struct Tab {
    origin: String,
    now_ms: f64,
    next_id: Id,
    effects: Vec<Effect>,
    connections: Vec<Connection>,
    jobs: Vec<Job>,
    slots: Vec<Slot>,
    buttons: Vec<Button>,
    callbacks: callback::Callbacks,
    waits: Vec<(Id, Wait)>,
    listening_messages: bool,
    listening_channel: bool,
    /// `sessionStorage` was pruned once (at the first `Connect`).
    pruned_session: bool,
}

impl Tab {
    /// A tab of the app at `origin` (`location.origin`).
    pub fn new(origin: &str) -> Tab {
        Tab {
            origin: String::from(origin),
            now_ms: 0.0,
            next_id: 0,
            effects: Vec::new(),
            connections: Vec::new(),
            jobs: Vec::new(),
            slots: Vec::new(),
            buttons: Vec::new(),
            callbacks: callback::Callbacks::default(),
            waits: Vec::new(),
            listening_messages: false,
            listening_channel: false,
            pruned_session: false,
        }
    }

    /// Feed one event as the runner sends it (its JSON array, `wire.rs`) that happened at
    /// `now_ms` (epoch milliseconds); returns what to do, or `None` when the text is not an
    /// event the core can read (the runner rejects the call it was for).
    pub fn feed(&mut self, now_ms: f64, event: &str) -> Option<Vec<Effect>> {
        self.now_ms = now_ms;
        if !crate::wire::decode_event(event, self) {
            return None;
        }
        self.follow_status();
        self.report_statuses();
        Some(core::mem::take(&mut self.effects))
    }

    /// [`Tab::feed`] of an [`Event`], written as the runner would send it
    /// (`wire::encode_event`): how the simulated browser and the tests feed a tab, so that each
    /// event takes the same way in as in the browser.
    ///
    /// # Panics
    /// When the event cannot be read back: a `config` or `options` that is not JSON text (the
    /// runner always sends the app's object as JSON). A test that wants to see an unreadable
    /// event uses [`Tab::feed`].
    pub fn handle(&mut self, now_ms: f64, event: Event) -> Vec<Effect> {
        let text = crate::wire::encode_event(&event);
        self.feed(now_ms, &text).unwrap_or_else(|| panic!("an event the runner could not have sent: {text}"))
    }

    /// An HTTP answer (or its timeout) goes to what waits for the request, if anything still does.
    fn http_answered(&mut self, request: Id, answer: crate::effect::HttpAnswer) {
        match self.take_wait(request) {
            Some(Wait::Job(job)) => self.job_answered(job, answer),
            Some(Wait::Refresh(slot)) => self.refresh_answered(slot, answer),
            Some(Wait::Discover(connection, call, refresh)) => self.discovered(connection, call, refresh, answer),
            _ => {}
        }
    }

    /// `connect.status`.
    pub fn status(&self, connection: Id) -> &'static str {
        self.connect_status(connection).as_str()
    }

    /// Tell the `onStatus` listeners of every connection whose `status` changed while the
    /// event was handled (a flow started or ended, tokens came or went, here or in another
    /// tab), once. The reports come first among the event's effects: the runner feeds the
    /// answer to some effects (a window opened or blocked, storage read) while it carries them
    /// out, and a change that answer causes must be told after this one, not before.
    fn report_statuses(&mut self) {
        let mut reports = Vec::new();
        // By index: reporting neither adds nor removes a connection.
        for index in 0..self.connections.len() {
            let connection = &self.connections[index];
            let (id, reported) = (connection.id, connection.reported);
            let now = self.status_of(connection);
            if now != reported {
                let connection = &mut self.connections[index];
                connection.reported = now;
                let meta = EventMeta { provider: connection.config.kind(), mode: None, code: None };
                reports.push(Effect::Emit { to: Listener::Status(id), name: now.as_str(), meta });
            }
        }
        if !reports.is_empty() {
            // `append` moves the effects in one copy: 52 bytes less brotli than a push loop
            // (`splice`/`extend` bring specialized copiers of their own).
            reports.append(&mut self.effects);
            self.effects = reports;
        }
    }

    /// `connect.status`, as the button reads it.
    pub(crate) fn connect_status(&self, connection: Id) -> ConnectStatus {
        self.connection(connection).map_or(ConnectStatus::Idle, |connection| self.status_of(connection))
    }

    /// [`Tab::connect_status`] of a connection at hand (the runner's ids are unique): no
    /// second search for it where the caller holds it already.
    fn status_of(&self, connection: &Connection) -> ConnectStatus {
        if connection.busy {
            return ConnectStatus::Connecting;
        }
        match (self.slot_of(&connection.config), connection.status) {
            (Some(slot), _) if slot.reconnect_required => ConnectStatus::ReconnectRequired,
            (Some(slot), _) if slot.tokens.is_some() => ConnectStatus::Connected,
            (_, Status::Connected) => ConnectStatus::Connected,
            (_, Status::Error) => ConnectStatus::Error,
            (_, Status::Idle) => ConnectStatus::Idle,
        }
    }

    /// `connect.tokens()`: the token set as JSON, or `None`. Inlined into its one caller (the
    /// export): 45 bytes less (2026-12-01).
    #[inline(always)]
    pub fn tokens(&self, connection: Id) -> Option<String> {
        let connection = self.connection(connection)?;
        let tokens = self.slot_of(&connection.config)?.tokens.as_ref()?;
        Some(crate::json::to_string(&crate::providers::token_set_record(tokens, true)))
    }

    /// `button.state`.
    pub fn button_state(&self, button: Id) -> &'static str {
        self.button_index(button).map_or("idle", |index| self.buttons[index].state.as_str())
    }

    fn new_id(&mut self) -> Id {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// A new id whose answer goes on with `wait`.
    fn wait_for(&mut self, wait: Wait) -> Id {
        let id = self.new_id();
        self.waits.push((id, wait));
        id
    }

    /// Read the entries of `area` under `prefix`; the answer goes on with `wait`.
    fn read_storage(&mut self, wait: Wait, area: Area, prefix: String) -> Id {
        let read = self.wait_for(wait);
        self.effects.push(Effect::ReadStorage { read, area, prefix });
        read
    }

    fn take_wait(&mut self, id: Id) -> Option<Wait> {
        let index = self.waits.iter().position(|(waiting, _)| *waiting == id)?;
        Some(self.waits.swap_remove(index).1)
    }

    /// Forget a timer or request that no longer matters (and cancel the timer).
    fn cancel_timer(&mut self, timer: Option<Id>) {
        if let Some(timer) = timer {
            if self.take_wait(timer).is_some() {
                self.effects.push(Effect::CancelTimer { timer });
            }
        }
    }

    fn start_timer(&mut self, wait: Wait, ms: u32) -> Id {
        let timer = self.wait_for(wait);
        self.effects.push(Effect::StartTimer { timer, ms });
        timer
    }

    /// Where the connection `id` is in `connections`: the one search every lookup goes through.
    fn connection_index(&self, id: Id) -> Option<usize> {
        self.connections.iter().position(|connection| connection.id == id)
    }

    fn connection(&self, id: Id) -> Option<&Connection> {
        self.connection_index(id).map(|index| &self.connections[index])
    }

    fn connection_mut(&mut self, id: Id) -> Option<&mut Connection> {
        self.connection_index(id).map(|index| &mut self.connections[index])
    }

    /// Resolve a call with `null` (the calls that answer nothing).
    fn resolve_null(&mut self, call: Id) {
        self.effects.push(Effect::Resolve { call, json: String::from("null") });
    }

    /// Forget a request whose answer no longer matters: the answer, if it ever comes, finds no
    /// one, and its timeout timer goes.
    fn forget_request(&mut self, request: Id) {
        self.take_wait(request);
        self.cancel_request_timer(request);
    }

    /// Cancel the `requestTimeoutMs` timer of `request`, if it still runs.
    fn cancel_request_timer(&mut self, request: Id) {
        let timer = self.waits.iter().find(|(_, wait)| *wait == Wait::RequestTimeout(request)).map(|(timer, _)| *timer);
        self.cancel_timer(timer);
    }

    /// Send a request whose answer goes on with `wait`, or fails as `network` after
    /// `timeout_ms` (the connection's `requestTimeoutMs`) without one.
    fn fetch(&mut self, wait: Wait, fetch: crate::providers::Fetch, timeout_ms: u32) -> Id {
        let id = self.wait_for(wait);
        self.effects.push(Effect::Fetch(crate::effect::HttpRequest { id, method: fetch.method, url: fetch.url, body: fetch.body }));
        self.start_timer(Wait::RequestTimeout(id), timeout_ms);
        id
    }

    fn reject(&mut self, call: Id, error: ConnectError) {
        self.effects.push(Effect::Reject { call, error });
    }

    /// Answer `call`: resolve it with the JSON, or reject it.
    fn settle(&mut self, call: Id, outcome: crate::error::Result<String>) {
        self.effects.push(match outcome {
            Ok(json) => Effect::Resolve { call, json },
            Err(error) => Effect::Reject { call, error },
        });
    }

    /// Call `onEvent` of `to` (and of the buttons showing that connection).
    fn emit(&mut self, to: Listener, provider: &'static str, name: &'static str, mode: Option<Mode>, code: Option<ErrorCode>) {
        let meta = EventMeta { provider, mode: mode.map(Mode::as_str), code: code.map(ErrorCode::as_str) };
        if let Listener::Connection(connection) = to {
            // By index: redrawing a button neither adds nor removes one.
            for index in 0..self.buttons.len() {
                let button = &self.buttons[index];
                if button.connection != connection {
                    continue;
                }
                let button = button.id;
                if name == "popup_severed" {
                    self.button_severed(index);
                }
                self.effects.push(Effect::Emit { to: Listener::Button(button), name, meta: meta.clone() });
            }
        }
        self.effects.push(Effect::Emit { to, name, meta });
    }

    fn new_connect(&mut self, call: Id, id: Id, config_json: &str) {
        let parsed = match crate::json::parse(config_json) {
            Ok(Value::Record(record)) => Ok(record),
            _ => Err(ConnectError::new(ErrorCode::InvalidConfig, "the config must be an object with a kind")),
        };
        let config = parsed.and_then(|record| ConnectConfig::parse(&record).map(|config| (config, Value::Record(record))));
        match config {
            Ok((config, config_json)) => {
                // A redirect the user walked away from (Back, a closed tab restored) left its
                // transaction, verifier included: gone once its 10 minutes are over, at the
                // tab's first Connect, not only when another redirect starts.
                if !self.pruned_session {
                    self.pruned_session = true;
                    self.read_storage(Wait::PruneSession, Area::Session, String::from("oauth-connect:"));
                }
                let memory = crate::providers::initial_memory(&config);
                self.slot_for(&config);
                self.connections.push(Connection { id, config, config_json, memory, status: Status::Idle, busy: false, reported: ConnectStatus::Idle });
                // Another Connect of the same provider may hold tokens already: what the app
                // reads at once, not a change to report.
                let index = self.connections.len() - 1;
                self.connections[index].reported = self.status_of(&self.connections[index]);
                self.resolve_null(call);
            }
            Err(error) => self.reject(call, error),
        }
    }

    fn call(&mut self, call: Id, connection: Id, what: Call) {
        if self.connection(connection).is_none() {
            return self.reject(call, ConnectError::new(ErrorCode::InvalidConfig, "this Connect was not made"));
        }
        match what {
            Call::Popup(options) => self.start_popup(connection, Caller::App(call), options),
            Call::Redirect { return_to } => self.start_redirect(connection, Caller::App(call), return_to),
            Call::AccessToken => self.fresh_tokens(connection, call, false),
            Call::Refresh => self.fresh_tokens(connection, call, true),
            Call::RequireReconnect => {
                self.require_reconnect(connection);
                self.resolve_null(call);
            }
            Call::Disconnect => {
                self.disconnect(connection);
                self.resolve_null(call);
            }
        }
    }

    /// Forget a connection the app no longer holds; a flow of it ends as aborted.
    fn drop_connection(&mut self, connection: Id) {
        self.abort_connection_job(connection);
        if let Some(index) = self.connection_index(connection) {
            self.connections.swap_remove(index);
        }
    }

    /// End the flow of `connection` in flight, if any, as aborted.
    fn abort_connection_job(&mut self, connection: Id) {
        if let Some(index) = self.jobs.iter().position(|job| job.connection == Some(connection)) {
            self.end_job(index, Err(flow::aborted()));
        }
    }

    /// Keep listening to window messages only while a popup is watched, and to the channel
    /// while anything needs it (token slots, watched popups).
    fn update_listening(&mut self) {
        let watching = self.jobs.iter().any(Job::is_watching);
        if watching != self.listening_messages {
            self.listening_messages = watching;
            self.effects.push(if watching { Effect::Listen(Source::WindowMessages) } else { Effect::Unlisten(Source::WindowMessages) });
        }
        let channel = watching || !self.slots.is_empty();
        if channel != self.listening_channel {
            self.listening_channel = channel;
            self.effects.push(if channel { Effect::Listen(Source::Channel) } else { Effect::Unlisten(Source::Channel) });
        }
    }

    /// Remove the entries of `area` older than the transaction lifetime: the popup markers of
    /// `localStorage`, the transactions and handled marks of `sessionStorage` (a damaged one
    /// too; other keys stay). The entries by reference, a key copied for each removal: moving
    /// them out brought a consuming iterator and its drop (96 bytes more brotli).
    fn prune(&mut self, area: Area, entries: &[(String, String)]) {
        for (key, value) in entries {
            let created = if area == Area::Local || key.starts_with(HANDLED_PREFIX) {
                crate::encoding::parse_decimal(value).map(|ms| ms as f64)
            } else if key.starts_with(TRANSACTION_PREFIX) {
                match crate::json::parse(value) {
                    Ok(Value::Record(record)) => match crate::fields::Fields::field(&record, "createdAt") {
                        Some(Value::Number(created)) => Some(*created as f64),
                        _ => None,
                    },
                    _ => None,
                }
            } else {
                Some(f64::MAX)
            };
            if created.is_none_or(|created| self.now_ms - created > crate::flow::TRANSACTION_TTL_MS) {
                self.effects.push(Effect::RemoveStorage { area, key: key.clone() });
            }
        }
    }

    /// An HTTP answer as the kinds read it; a request that got no answer is `network`.
    fn read_answer(answer: crate::effect::HttpAnswer) -> crate::error::Result<crate::providers::Response> {
        match answer {
            crate::effect::HttpAnswer::Response { status, body } => Ok(crate::providers::Response::new(status, &body)),
            crate::effect::HttpAnswer::Failed => {
                Err(ConnectError::new(ErrorCode::Network, "the request could not be sent or got no answer (network error, CORS, or the server is down)"))
            }
            crate::effect::HttpAnswer::TimedOut => Err(ConnectError::new(ErrorCode::Network, "the server did not answer within requestTimeoutMs")),
        }
    }

    /// Store the time now (epoch milliseconds, as decimal text) under `key` of `area`.
    fn write_now(&mut self, area: Area, key: String) {
        let mut value = String::new();
        crate::encoding::push_decimal(&mut value, self.now_ms as u64);
        self.effects.push(Effect::WriteStorage { area, key, value });
    }
}

/// The events, each to its handler (`wire::decode_event` calls these). The answers that go on
/// with what waits for their id (`Wait`) are routed here.
impl Handler for Tab {
    fn on_new_connect(&mut self, call: Id, connection: Id, config: &str) {
        self.new_connect(call, connection, config);
    }

    fn on_call(&mut self, call: Id, connection: Id, what: Call) {
        self.call(call, connection, what);
    }

    fn on_aborted(&mut self, call: Id) {
        self.aborted(call);
    }

    fn on_handle_callback(&mut self, call: Id, url: String, href: String, has_opener: bool) {
        self.handle_callback(call, url, href, has_opener);
    }

    fn on_window_opened(&mut self, window: Id, closed: bool) {
        self.window_opened(window, closed);
    }

    fn on_window_blocked(&mut self, window: Id) {
        self.window_opened(window, true);
    }

    fn on_window_state(&mut self, window: Id, closed: bool, foreign: bool, opener_focused: bool) {
        self.window_state(window, closed, foreign, opener_focused);
    }

    fn on_http(&mut self, request: Id, answer: HttpAnswer) {
        // Answered in time: its timeout timer goes.
        self.cancel_request_timer(request);
        self.http_answered(request, answer);
    }

    fn on_storage_entries(&mut self, read: Id, entries: Vec<(String, String)>) {
        match self.take_wait(read) {
            Some(Wait::PruneMarkers) => self.prune(Area::Local, &entries),
            Some(Wait::PruneSession) => self.prune(Area::Session, &entries),
            Some(Wait::PruneTransactions(job)) => self.transactions_read(job, entries),
            Some(Wait::Callback(call)) => self.callback_read(call, entries),
            Some(Wait::Refresh(slot)) => self.fingerprint_read(slot, entries),
            Some(Wait::Restore(slot)) => self.restore(slot, entries),
            _ => {}
        }
    }

    fn on_lock_granted(&mut self, lock: Id) {
        if let Some(Wait::Refresh(slot)) = self.take_wait(lock) {
            self.lock_granted(slot, lock);
        } else {
            // Nobody waits for it any more (the refresh ended): give it back.
            self.effects.push(Effect::ReleaseLock { lock });
        }
    }

    fn on_timer_fired(&mut self, timer: Id) {
        match self.take_wait(timer) {
            Some(Wait::Job(job)) => self.job_timer(job, timer),
            Some(Wait::Refresh(slot)) => self.refresh_timer(slot, timer),
            Some(Wait::Borrow(slot)) => self.borrow_timer(slot, timer),
            // The request gets no answer now: whatever waited for it (a job, a refresh and
            // its Web Lock) goes on as after a network failure.
            Some(Wait::RequestTimeout(request)) => self.http_answered(request, HttpAnswer::TimedOut),
            _ => {}
        }
    }

    fn on_window_message(&mut self, origin: &str, data: Option<&str>) {
        self.window_message(origin, data);
    }

    fn on_channel_message(&mut self, data: Option<&str>) {
        self.channel_message(data);
    }

    fn on_mount_button(&mut self, call: Id, button: Id, connection: Id, options: &str, in_app_browser: bool, return_to: String) {
        self.mount_button(call, button, connection, options, in_app_browser, return_to);
    }

    fn on_button_clicked(&mut self, button: Id, screen: [f64; 4]) {
        self.button_clicked(button, screen);
    }

    fn on_cancel_clicked(&mut self, button: Id) {
        self.cancel_clicked(button);
    }

    fn on_set_button_state(&mut self, call: Id, button: Id, state: &str) {
        self.set_button_state(call, button, state);
    }

    fn on_destroy_button(&mut self, button: Id) {
        self.destroy_button(button);
    }

    fn on_drop_connection(&mut self, connection: Id) {
        self.drop_connection(connection);
    }

    fn on_refused(&mut self, call: Id, error: ConnectError) {
        self.reject(call, error);
    }
}
