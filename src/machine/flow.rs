//! Jobs: one flow each, from the click to the app's result. A popup job opens its window in the
//! same turn as the call, prepares the URL (the kind may need a request), navigates the window,
//! watches it (the relayed callback by message or channel, the user's close, a COOP cut, the
//! timeout, the app's abort) and completes. A redirect job prepares, stores its transaction and
//! leaves the page. The callback page's completions are jobs too (`callback.rs` starts them).

use alloc::string::String;

use super::{key, put, Caller, Mode, Status, Tab, Wait, POPUP_MARKER_PREFIX, TRANSACTION_PREFIX};
use crate::config::ConnectConfig;
use crate::effect::{Area, Effect, HttpAnswer, Id, Listener, PopupOptions};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::Value;
use crate::json::JsonWriter;
use crate::flow::{callback_state, check_return_to, judge_popup_closed, PopupClosed, PopupEvidence, CALLBACK_MESSAGE_TYPE, CLOSE_GRACE_MS, POPUP_POLL_MS};
use crate::providers::{self, Arrival, Completed, Fetch, Flow, Pending, Prepared, Step, Waiting};

const POPUP_WIDTH: f64 = 520.0;
const POPUP_HEIGHT: f64 = 680.0;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The window was asked for; its answer comes in this turn.
    Opening,
    /// The kind's request before the URL is out.
    Preparing,
    /// The URL is ready: is the window still open?
    Checking,
    /// The window shows the provider; waiting for the user to come back.
    Watching,
    /// A redirect job reads the old transactions before writing its own.
    Storing,
    /// The completion's request is out.
    Completing,
}

/// What a popup watch has seen.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    saw_foreign: bool,
    /// Polls in a row that found the popup on another origin's page.
    foreign_polls: u8,
    /// The close was judged a COOP cut: when the grace ends without a relay, `popup_severed`.
    severed: bool,
    timeout: Option<Id>,
    poll: Option<Id>,
    grace: Option<Id>,
}

pub struct Job {
    pub(crate) id: Id,
    pub(crate) connection: Option<Id>,
    pub(crate) caller: Caller,
    pub(crate) listener: Listener,
    pub(crate) mode: Mode,
    pub(crate) config: ConnectConfig,
    pub(crate) pending: Pending,
    pub(crate) prepared: Prepared,
    pub(crate) return_to: Option<String>,
    pub(crate) stage: Stage,
    pub(crate) window: Option<Id>,
    pub(crate) timeout_ms: u32,
    pub(crate) watch: Watch,
    /// A popup marker (`popup_marker_key` of the state) is in `localStorage`.
    pub(crate) marker: bool,
    /// What the completion's request will finish.
    pub(crate) waiting: Option<Waiting>,
    /// The request in flight.
    pub(crate) request: Option<Id>,
}

impl Job {
    pub(crate) fn is_watching(&self) -> bool {
        self.stage == Stage::Watching
    }

    fn provider(&self) -> &'static str {
        self.config.kind()
    }
}

fn busy() -> ConnectError {
    ConnectError::new(ErrorCode::Busy, "a flow of this connection is already in progress")
}

pub(crate) fn aborted() -> ConnectError {
    ConnectError::new(ErrorCode::Aborted, "the flow was aborted")
}

fn timeout_option(value: &Value, default: u32) -> Result<u32> {
    match (value, value.as_f64()) {
        (Value::Absent, _) => Ok(default),
        (_, Some(ms)) if (1.0..=2_147_483_647.0).contains(&ms) => Ok(ms as u32),
        _ => Err(ConnectError::new(ErrorCode::InvalidConfig, "timeoutMs must be a positive number of milliseconds")),
    }
}

/// `popup=yes,width=520,height=680,left=…,top=…`, centred over the opener.
fn window_features(screen: [f64; 4]) -> String {
    let [x, y, width, height] = screen;
    let left = x + (width - POPUP_WIDTH).max(0.0) / 2.0;
    let top = y + (height - POPUP_HEIGHT).max(0.0) / 2.0;
    let mut features = String::from("popup=yes,width=520,height=680,left=");
    crate::encoding::push_decimal(&mut features, left.clamp(0.0, 60_000.0) as u64);
    features.push_str(",top=");
    crate::encoding::push_decimal(&mut features, top.clamp(0.0, 60_000.0) as u64);
    features
}

impl Tab {
    fn job_index(&self, id: Id) -> Option<usize> {
        self.jobs.iter().position(|job| job.id == id)
    }

    /// Call the `onEvent` of the job at `index`.
    fn emit_job(&mut self, index: usize, name: &'static str, code: Option<ErrorCode>) {
        let job = &self.jobs[index];
        let (listener, provider, mode) = (job.listener, job.provider(), job.mode);
        self.emit(listener, provider, name, Some(mode), code);
    }

    /// A job of `connection`, which is now busy with it.
    /// The callback page's completions have no connection (`None`): they tell `listener`.
    /// The new job is the last of `jobs`.
    pub(crate) fn new_job(&mut self, connection: Option<Id>, listener: Listener, config: ConnectConfig, caller: Caller, mode: Mode, pending: Pending) -> Id {
        let id = self.new_id();
        if let Some(connection) = connection.and_then(|c| self.connection_mut(c)) {
            connection.busy = true;
        }
        let timeout_ms = config.timeout_ms;
        self.jobs.push(Job {
            id,
            connection,
            caller,
            listener,
            mode,
            config,
            pending,
            prepared: Prepared::default(),
            return_to: None,
            stage: Stage::Opening,
            window: None,
            timeout_ms,
            watch: Watch::default(),
            marker: false,
            waiting: None,
            request: None,
        });
        id
    }

    /// A flow that ends before it began (`busy`, a bad option): the caller hears of it, the
    /// connection is left as it was.
    fn refuse(&mut self, caller: Caller, error: ConnectError) {
        self.answer_caller(caller, Err(error));
    }

    /// Give `caller` the flow's result (JSON) or error.
    fn answer_caller(&mut self, caller: Caller, outcome: Result<String>) {
        match caller {
            Caller::App(call) => self.settle(call, outcome),
            Caller::Button(button) => self.button_flow_ended(button, outcome),
            Caller::Callback(call) => self.callback_ended(call, outcome),
        }
    }

    /// `popup()`: opens the window in this very turn.
    pub(crate) fn start_popup(&mut self, connection_id: Id, caller: Caller, options: PopupOptions) {
        let Some(connection) = self.connection(connection_id) else { return };
        if connection.busy {
            return self.refuse(caller, busy());
        }
        if options.aborted {
            return self.refuse(caller, aborted());
        }
        let timeout_ms = match timeout_option(&options.timeout_ms, connection.config.timeout_ms) {
            Ok(ms) => ms,
            Err(error) => return self.refuse(caller, error),
        };
        let pending = match Pending::new(&connection.config) {
            Ok(pending) => pending,
            Err(error) => return self.refuse(caller, error),
        };
        let marker = super::popup_marker_key(&pending.state);
        let job = self.new_job(Some(connection_id), Listener::Connection(connection_id), connection.config.clone(), caller, Mode::Popup, pending);
        self.read_storage(Wait::PruneMarkers, Area::Local, String::from(POPUP_MARKER_PREFIX));
        self.write_now(Area::Local, marker);
        let window = self.wait_for(Wait::Job(job));
        if let Some(j) = self.jobs.last_mut() {
            j.marker = true;
            j.window = Some(window);
            j.timeout_ms = timeout_ms;
        }
        match (options.window, caller) {
            (Some(_), Caller::App(call)) => self.effects.push(Effect::AdoptWindow { window, call }),
            _ => self.effects.push(Effect::OpenWindow { window, features: window_features(options.screen), title: "Connecting…" }),
        }
    }

    /// The answer to `OpenWindow`/`AdoptWindow`: `closed` also when the browser blocked it
    /// (some blockers hand back a window that is already closed).
    pub(crate) fn window_opened(&mut self, window: Id, closed: bool) {
        let Some(Wait::Job(job)) = self.take_wait(window) else { return };
        let Some(index) = self.job_index(job) else { return };
        if closed {
            self.jobs[index].window = None;
            let error = ConnectError::new(ErrorCode::PopupBlocked, "the browser blocked the popup: call popup() directly in a click handler, or use redirect()");
            self.emit_job(index, "popup_blocked", Some(ErrorCode::PopupBlocked));
            return self.end_job(index, Err(error));
        }
        self.emit_job(index, "open", None);
        self.prepare(index);
    }

    /// `redirect()`.
    pub(crate) fn start_redirect(&mut self, connection_id: Id, caller: Caller, return_to: Value) {
        let Some(connection) = self.connection(connection_id) else { return };
        if connection.busy {
            return self.refuse(caller, busy());
        }
        let return_to = match return_to {
            Value::Absent => None,
            Value::Text(text) => match check_return_to(&text, &self.origin) {
                Ok(()) => Some(text),
                Err(error) => return self.refuse(caller, error),
            },
            _ => return self.refuse(caller, ConnectError::new(ErrorCode::InvalidConfig, "returnTo must be a string")),
        };
        let config = connection.config.clone();
        let pending = match providers::check_redirect(&config).and_then(|()| Pending::new(&config)) {
            Ok(pending) => pending,
            Err(error) => {
                if let Some(connection) = self.connection_mut(connection_id) {
                    connection.status = Status::Error;
                }
                self.emit(Listener::Connection(connection_id), config.kind(), "error", Some(Mode::Redirect), Some(error.code()));
                return self.refuse(caller, error);
            }
        };
        self.new_job(Some(connection_id), Listener::Connection(connection_id), config, caller, Mode::Redirect, pending);
        let index = self.jobs.len() - 1;
        self.jobs[index].return_to = return_to;
        self.prepare(index);
    }

    /// Prepare the URL: at once, or after the kind's request.
    fn prepare(&mut self, index: usize) {
        let Some(connection) = self.jobs[index].connection.and_then(|id| self.connection(id)) else { return };
        let step = providers::prepare(&self.jobs[index].config, &connection.memory, &self.jobs[index].pending);
        match step {
            Ok(Step::Done(prepared)) => self.prepared(index, prepared),
            Ok(Step::Fetch(fetch, ())) => {
                self.jobs[index].stage = Stage::Preparing;
                self.fetch_for_job(index, fetch);
            }
            Err(error) => self.end_job(index, Err(error)),
        }
    }

    fn fetch_for_job(&mut self, index: usize, fetch: Fetch) {
        let request = self.fetch(Wait::Job(self.jobs[index].id), fetch, self.jobs[index].config.request_timeout_ms);
        self.jobs[index].request = Some(request);
    }

    fn prepared(&mut self, index: usize, prepared: Prepared) {
        self.jobs[index].prepared = prepared;
        match self.jobs[index].mode {
            Mode::Popup => {
                // The user may have closed the blank window while the URL was made.
                self.jobs[index].stage = Stage::Checking;
                self.poll_window(index);
            }
            Mode::Redirect => {
                self.jobs[index].stage = Stage::Storing;
                self.read_storage(Wait::PruneTransactions(self.jobs[index].id), Area::Session, String::from("oauth-connect:"));
            }
        }
    }

    /// The redirect job read the stored transactions: drop the stale ones, store its own, go.
    pub(crate) fn transactions_read(&mut self, job: Id, entries: alloc::vec::Vec<(String, String)>) {
        self.prune(Area::Session, &entries);
        let Some(index) = self.job_index(job) else { return };
        let j = &self.jobs[index];
        let Some(connection) = j.connection.and_then(|id| self.connection(id)) else { return };
        let mut json = String::new();
        let mut w = JsonWriter::new(&mut json);
        w.begin_object();
        put(&mut w, "state", &j.pending.state);
        put(&mut w, "verifier", j.pending.verifier.secret());
        if let Some(nonce) = &j.pending.nonce {
            put(&mut w, "nonce", nonce);
        }
        w.key("createdAt");
        w.integer(self.now_ms as u64);
        if let Some(return_to) = &j.return_to {
            put(&mut w, "returnTo", return_to);
        }
        if let Some(token_endpoint) = &j.prepared.token_endpoint {
            put(&mut w, "tokenEndpoint", token_endpoint);
        }
        if j.prepared.iss_required {
            w.key("issRequired");
            w.bool(true);
        }
        if let Some(session) = &j.prepared.liquid_session {
            put(&mut w, "liquidSessionId", &session.id);
            put(&mut w, "liquidSessionSecret", session.secret.expose());
        }
        w.key("config");
        w.value(&connection.config_json);
        w.end_object();
        let key = key(TRANSACTION_PREFIX, &j.pending.state);
        let url = j.prepared.url.clone();
        let (listener, provider, caller) = (j.listener, j.provider(), j.caller);
        self.effects.push(Effect::WriteStorage { area: Area::Session, key, value: json });
        self.emit(listener, provider, "redirect", Some(Mode::Redirect), None);
        self.effects.push(Effect::NavigateSelf { url });
        // The page is leaving: the job stays (the connection stays busy) until it has.
        if let Caller::App(call) = caller {
            self.resolve_null(call);
        }
    }

    /// A poll's answer: before navigating (`Checking`) or while watching.
    pub(crate) fn window_state(&mut self, window: Id, closed: bool, foreign: bool, opener_focused: bool) {
        let Some(Wait::Job(job)) = self.take_wait(window) else { return };
        let Some(index) = self.job_index(job) else { return };
        match self.jobs[index].stage {
            Stage::Checking if closed => return self.end_job(index, Err(providers::popup_closed())),
            Stage::Checking => {
                let url = self.jobs[index].prepared.url.clone();
                self.effects.push(Effect::NavigateWindow { window, url });
                self.jobs[index].stage = Stage::Watching;
                let timeout = self.start_timer(Wait::Job(job), self.jobs[index].timeout_ms);
                self.jobs[index].watch.timeout = Some(timeout);
                self.update_listening();
            }
            Stage::Watching => {
                let watch = &mut self.jobs[index].watch;
                if !closed {
                    // An unreadable location: the popup shows another origin's page. Seen in two
                    // polls in a row, not one: as a COOP page commits, a poll can catch the
                    // window on the provider's origin an instant before it reads `closed`, which
                    // would make a cut look like a close by the user.
                    watch.foreign_polls = if foreign { watch.foreign_polls.saturating_add(1) } else { 0 };
                    watch.saw_foreign |= watch.foreign_polls >= 2;
                } else {
                    // Judged now, from what the opener sees at this read, but acted on only after
                    // the grace: the callback page posts its relay and then closes itself, and a
                    // poll can read `closed` before the message's task runs. A relay within the
                    // grace completes the flow, and neither `exit` nor `popup_severed` is said.
                    let evidence = PopupEvidence { saw_provider_page_open: watch.saw_foreign, opener_has_focus: opener_focused };
                    watch.severed = judge_popup_closed(evidence) == PopupClosed::Severed;
                    let grace = self.start_timer(Wait::Job(job), CLOSE_GRACE_MS);
                    self.jobs[index].watch.grace = Some(grace);
                    return;
                }
            }
            Stage::Opening | Stage::Preparing | Stage::Storing | Stage::Completing => return,
        }
        let poll = self.start_timer(Wait::Job(job), POPUP_POLL_MS);
        self.jobs[index].watch.poll = Some(poll);
    }

    /// Ask whether the window of the job at `index` is still open (and where it is).
    fn poll_window(&mut self, index: usize) {
        if let Some(window) = self.jobs[index].window {
            self.waits.push((window, Wait::Job(self.jobs[index].id)));
            self.effects.push(Effect::PollWindow { window });
        }
    }

    /// A job's timer: the poll, the grace after a close, or the timeout.
    pub(crate) fn job_timer(&mut self, job: Id, timer: Id) {
        let Some(index) = self.job_index(job) else { return };
        let watch = &self.jobs[index].watch;
        if watch.timeout == Some(timer) {
            self.end_job(index, Err(ConnectError::new(ErrorCode::Timeout, "the popup flow did not finish in time")));
        } else if watch.grace == Some(timer) {
            if watch.severed {
                // The window is most likely still open, cut off: wait for the channel until the
                // timeout (or the app's abort).
                self.jobs[index].watch.grace = None;
                self.emit_job(index, "popup_severed", None);
            } else {
                self.arrived(index, Arrival::Closed);
            }
        } else if watch.poll == Some(timer) {
            self.jobs[index].watch.poll = None;
            self.poll_window(index);
        }
    }

    /// The app's `AbortSignal` fired: it ends a popup flow (a redirect has left the page).
    pub(crate) fn aborted(&mut self, call: Id) {
        self.abort_job_of(Caller::App(call), true);
    }

    /// End the job `caller` waits for (only a popup job when `popup_only`) as aborted.
    pub(crate) fn abort_job_of(&mut self, caller: Caller, popup_only: bool) {
        if let Some(index) = self.jobs.iter().position(|job| job.caller == caller && (!popup_only || job.mode == Mode::Popup)) {
            self.end_job(index, Err(aborted()));
        }
    }

    /// A relayed callback message (by `postMessage`): for a watched popup of this tab, from
    /// this origin, with its state. Anything else that claims to be a callback is noted.
    pub(crate) fn window_message(&mut self, origin: &str, data: Option<&str>) {
        if let Some(url) = relayed_url(data) {
            self.callback_relayed(url, Some(origin));
        }
    }

    /// A relayed callback URL: by `postMessage` (`from`: the sender's origin) or over the
    /// channel (`None`: the way that still works when COOP cut the opener). It completes the
    /// watched popup of this tab with its state. A message that claims to be a callback for
    /// another job, or from another origin, is noted; another tab's flow on the channel is not
    /// for this one, and not suspicious either.
    pub(crate) fn callback_relayed(&mut self, url: String, from: Option<&str>) {
        let state = callback_state(&url);
        let mut found = None;
        // By index: an event neither adds nor removes a job.
        for index in 0..self.jobs.len() {
            let job = &self.jobs[index];
            if !job.is_watching() {
                continue;
            }
            if found.is_none() && from.is_none_or(|origin| origin == self.origin) && state.as_deref() == Some(job.pending.state.as_str()) {
                found = Some(index);
            } else if from.is_some() {
                self.emit_job(index, "ignored_message", None);
            }
        }
        if let Some(index) = found {
            self.arrived(index, Arrival::Callback(url));
        }
    }

    /// The watch is over: stop its timers, close the window, forget the marker. The job stays
    /// at `index` (nothing here adds or removes a job).
    fn end_watch(&mut self, index: usize) {
        let j = &mut self.jobs[index];
        j.stage = Stage::Completing;
        let watch = core::mem::take(&mut j.watch);
        let window = j.window.take();
        let marker = core::mem::take(&mut j.marker).then(|| super::popup_marker_key(&j.pending.state));
        // By reference: an array by value brings an iterator of its own.
        for &timer in &[watch.timeout, watch.poll, watch.grace] {
            self.cancel_timer(timer);
        }
        if let Some(window) = window {
            self.take_wait(window);
            self.effects.push(Effect::CloseWindow { window });
        }
        if let Some(key) = marker {
            self.effects.push(Effect::RemoveStorage { area: Area::Local, key });
        }
        self.update_listening();
    }

    /// The user came back (or closed the window): complete the flow.
    pub(crate) fn arrived(&mut self, index: usize, arrival: Arrival) {
        self.end_watch(index);
        if matches!(arrival, Arrival::Callback(_)) {
            self.emit_job(index, "callback", None);
        }
        let j = &self.jobs[index];
        let flow = Flow { config: &j.config, pending: &j.pending, prepared: &j.prepared, now_ms: self.now_ms };
        match providers::complete(&flow, &arrival) {
            Ok(Step::Done(completed)) => self.end_job(index, Ok(completed)),
            Ok(Step::Fetch(fetch, waiting)) => {
                self.jobs[index].waiting = Some(waiting);
                self.fetch_for_job(index, fetch);
            }
            Err(error) => self.end_job(index, Err(error)),
        }
    }

    /// A job's request came back: the kind's preparation or completion goes on.
    pub(crate) fn job_answered(&mut self, job: Id, answer: HttpAnswer) {
        let Some(index) = self.job_index(job) else { return };
        self.jobs[index].request = None;
        let response = match Self::read_answer(answer) {
            Ok(response) => response,
            Err(error) => return self.end_job(index, Err(error)),
        };
        match self.jobs[index].stage {
            Stage::Preparing => {
                let connection = self.jobs[index].connection;
                let Some(connection_index) = connection.and_then(|id| self.connection_index(id)) else { return };
                let (jobs, connections) = (&self.jobs, &mut self.connections);
                let outcome = providers::prepare_answered(&jobs[index].config, &mut connections[connection_index].memory, &jobs[index].pending, response);
                match outcome {
                    Ok(prepared) => self.prepared(index, prepared),
                    Err(error) => self.end_job(index, Err(error)),
                }
            }
            Stage::Completing => {
                let Some(waiting) = self.jobs[index].waiting.take() else { return };
                let j = &self.jobs[index];
                let flow = Flow { config: &j.config, pending: &j.pending, prepared: &j.prepared, now_ms: self.now_ms };
                let outcome = providers::complete_answered(&flow, waiting, response);
                self.end_job(index, outcome);
            }
            Stage::Opening | Stage::Checking | Stage::Watching | Stage::Storing => {}
        }
    }

    /// The end of the job at `index`: the connection's status, the tokens, the events, and the caller's answer.
    pub(crate) fn end_job(&mut self, index: usize, outcome: Result<Completed>) {
        self.end_watch(index);
        let j = self.jobs.swap_remove(index);
        if let Some(request) = j.request {
            self.forget_request(request);
        }
        let provider = j.config.kind();
        let connection = j.connection.and_then(|id| self.connection_index(id));
        let (name, status, outcome) = match outcome {
            Ok(completed) => {
                if completed.exchanged {
                    self.emit(j.listener, provider, "exchange", Some(j.mode), None);
                }
                if let Some((tokens, subject)) = completed.tokens {
                    self.store_tokens(&j.config, tokens, subject);
                }
                let mut json = String::new();
                let mut w = JsonWriter::new(&mut json);
                w.begin_object();
                put(&mut w, "provider", provider);
                put(&mut w, "state", &j.pending.state);
                for (name, value) in &completed.result {
                    if !matches!(value, Value::Absent) {
                        w.key(name);
                        w.value(value);
                    }
                }
                if let Some(return_to) = &j.return_to {
                    put(&mut w, "returnTo", return_to);
                }
                w.end_object();
                if let (Some(index), Some(collection)) = (connection, completed.collection) {
                    self.connections[index].memory.collection = Some(collection);
                }
                self.slot_connected(&j.config);
                ("success", Status::Connected, Ok(json))
            }
            Err(error) => {
                let code = error.code();
                let (status, name) = match code {
                    ErrorCode::PopupClosed => (Status::Idle, "exit"),
                    ErrorCode::Aborted => (Status::Idle, "error"),
                    _ => (Status::Error, "error"),
                };
                (name, status, Err(error))
            }
        };
        if let Some(index) = connection {
            let connection = &mut self.connections[index];
            connection.status = status;
            connection.busy = false;
        }
        self.emit(j.listener, provider, name, Some(j.mode), outcome.as_ref().err().map(ConnectError::code));
        self.answer_caller(j.caller, outcome);
    }
}

/// The URL of a relayed callback message (`{ type: "oauth-connect:callback", url }`).
pub(crate) fn relayed_url(data: Option<&str>) -> Option<String> {
    let Ok(Value::Record(message)) = crate::json::parse(data?) else { return None };
    callback_url(&message)
}

/// [`relayed_url`] of a message already read.
pub(crate) fn callback_url(message: &alloc::vec::Vec<(String, Value)>) -> Option<String> {
    let get = |name| crate::fields::Fields::field(message, name);
    match (get("type"), get("url")) {
        (Some(Value::Text(kind)), Some(Value::Text(url))) if kind == CALLBACK_MESSAGE_TYPE => Some(url.clone()),
        _ => None,
    }
}
