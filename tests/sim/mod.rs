//! A deterministic simulated browser for `oauth_connect::machine::Tab`, used by the native flow
//! tests (`mod sim;`). It plays every part the JS runner and the browser play:
//!
//! - pages (tabs, and the callback pages that load inside popups), each a `Tab` with its own
//!   `sessionStorage`, sharing one `localStorage` (one origin);
//! - popups: opened (or blocked by the blocker), navigated, closed by the user, cut by COOP
//!   (`closed` reads true while the page lives on), showing a foreign origin;
//! - `postMessage` to the opener (with the sender's origin), `BroadcastChannel` (asynchronous, in
//!   order, to every *other* listening page), Web Locks (FIFO per name; a grant after a release
//!   is an event of its own), a virtual clock with timers, and a scripted network.
//!
//! Query effects (`OpenWindow`, `AdoptWindow`, `PollWindow`, `ReadStorage`, a free
//! `RequestLock`) are answered at once, inside the same turn, as the JS runner does: an answer's
//! effects are carried out before the next effect of the event that asked (depth first).
//! Every event reaches its page's `Tab` as the runner's JSON array (`Tab::handle` writes it with
//! `wire::encode_event`), so the wire's reading is part of every flow tested here.
//!
//! Fakes for the other side: an OAuth 2.0 / OIDC authorization server (codes bound to PKCE,
//! rotating refresh tokens with reuse detection, unsigned JWT ID tokens, discovery), and the
//! backends of Torque, Turnqey and Liquid.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use base64::Engine as _;
use oauth_connect::effect::{Area, ButtonCallback, Call, Drawing, Effect, Event, EventMeta, HttpAnswer, HttpRequest, Id, Listener, PopupOptions, Source};
use oauth_connect::error::{ConnectError, ErrorCode};
use oauth_connect::fields::Value;
use oauth_connect::machine::Tab;

pub const ORIGIN: &str = "http://localhost:8080";
pub const CALLBACK: &str = "http://localhost:8080/callback";
/// The virtual clock starts here (epoch ms, 2027).
pub const START: f64 = 1_800_000_000_000.0;

pub type PageId = usize;
pub type PopupId = usize;

// ---------------------------------------------------------------------------------------------
// JSON and URL helpers

pub fn json(text: &str) -> Value {
    oauth_connect::json::parse(text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// `value["a"]["b"]…` by a dotted path; `Value::Absent` when missing.
pub fn at(value: &Value, path: &str) -> Value {
    let mut current = value.clone();
    for name in path.split('.') {
        current = match current {
            Value::Record(pairs) => pairs.into_iter().find(|(key, _)| key == name).map(|(_, v)| v).unwrap_or(Value::Absent),
            _ => Value::Absent,
        };
    }
    current
}

pub fn text_at(value: &Value, path: &str) -> Option<String> {
    match at(value, path) {
        Value::Text(text) => Some(text),
        _ => None,
    }
}

pub fn str_value(text: &str) -> Value {
    Value::Text(text.to_string())
}

/// The query (then fragment) parameters of a URL.
pub fn params(url: &str) -> Vec<(String, String)> {
    let (_, query, fragment) = oauth_connect::url::split_query_fragment(url);
    let mut all = Vec::new();
    for part in [query, fragment].into_iter().flatten() {
        all.extend(oauth_connect::encoding::form_parse(part));
    }
    all
}

pub fn param(url: &str, name: &str) -> Option<String> {
    params(url).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    oauth_connect::encoding::form_serialize(&owned)
}

/// `base` with `pairs` added to its query.
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{}", form(pairs))
}

fn origin_of(url: &str) -> String {
    match oauth_connect::url::WebUrl::parse(url) {
        Ok(parsed) => parsed.origin(),
        Err(_) => String::from("null"),
    }
}

fn body_of(request: &HttpRequest) -> &str {
    request.body.as_ref().map(|(_, body)| body.as_str()).unwrap_or("")
}

pub fn form_body(request: &HttpRequest) -> Vec<(String, String)> {
    oauth_connect::encoding::form_parse(body_of(request))
}

pub fn form_field(request: &HttpRequest, name: &str) -> Option<String> {
    form_body(request).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

pub fn json_body(request: &HttpRequest) -> Value {
    json(body_of(request))
}

pub fn ok(body: &str) -> HttpAnswer {
    HttpAnswer::Response { status: 200, body: body.to_string() }
}

pub fn status(status: u16, body: &str) -> HttpAnswer {
    HttpAnswer::Response { status, body: body.to_string() }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An unsigned JWT (`header.payload.signature`): the core checks claims only.
pub fn jwt(claims: &str) -> String {
    format!("{}.{}.{}", b64(br#"{"alg":"RS256","typ":"JWT"}"#), b64(claims.as_bytes()), b64(b"not-a-signature"))
}

fn s256(verifier: &str) -> String {
    oauth_connect::pkce::pkce_challenge(verifier).expect("a valid verifier")
}

// ---------------------------------------------------------------------------------------------
// Configs

pub const AS: &str = "https://as.example";
pub const IDP: &str = "https://id.example";
pub const LIQUID: &str = "https://liquid.example";
pub const TURNQEY: &str = "https://turnqey.example/authorize";

pub fn oauth2_token_config(extra: &str) -> String {
    format!(
        r#"{{"kind":"oauth2","authorizationEndpoint":"{AS}/authorize","tokenEndpoint":"{AS}/token","clientId":"app","redirectUri":"{CALLBACK}","scope":"read write","issuer":"{AS}"{extra}}}"#
    )
}

pub fn oauth2_exchange_config(extra: &str) -> String {
    format!(r#"{{"kind":"oauth2","authorizationEndpoint":"{AS}/authorize","exchangeEndpoint":"/api/exchange","clientId":"app","redirectUri":"{CALLBACK}"{extra}}}"#)
}

pub fn oauth2_code_config(extra: &str) -> String {
    format!(r#"{{"kind":"oauth2","authorizationEndpoint":"{AS}/authorize","clientId":"app","redirectUri":"{CALLBACK}"{extra}}}"#)
}

pub fn oidc_config(extra: &str) -> String {
    format!(r#"{{"kind":"oidc","issuer":"{IDP}","clientId":"app","redirectUri":"{CALLBACK}","scope":"profile"{extra}}}"#)
}

pub fn torque_config(extra: &str) -> String {
    format!(
        r#"{{"kind":"torque","sessionEndpoint":"/api/torque/session","exchangeEndpoint":"/api/torque/exchange","redirectUri":"{CALLBACK}","externalUserId":"user-42","scope":["accounts:read","transfers:execute"]{extra}}}"#
    )
}

pub fn turnqey_config(extra: &str) -> String {
    format!(
        r#"{{"kind":"turnqey","authorizeUrl":"{TURNQEY}","client":"acme","platform":"gemini","identity":"user-42","checksumEndpoint":"/api/turnqey/checksum"{extra}}}"#
    )
}

pub fn liquid_return_config(extra: &str) -> String {
    format!(r#"{{"kind":"liquid","baseUrl":"{LIQUID}","publicApiKey":"pk_test_1","returnUrl":"{CALLBACK}","verifyEndpoint":"/api/liquid/verify"{extra}}}"#)
}

pub fn liquid_close_config(extra: &str) -> String {
    format!(r#"{{"kind":"liquid","baseUrl":"{LIQUID}","publicApiKey":"pk_test_1","verifyEndpoint":"/api/liquid/verify"{extra}}}"#)
}

// ---------------------------------------------------------------------------------------------
// The browser

/// How an app's call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Resolved(String),
    Rejected(ConnectError),
}

pub struct Page {
    pub tab: Tab,
    pub session: BTreeMap<String, String>,
    pub href: String,
    /// Bumped by a reload: tasks for an older generation are dropped.
    pub generation: u32,
    pub alive: bool,
    pub listening_messages: bool,
    pub listening_channel: bool,
    /// `document.hasFocus()`.
    pub focused: bool,
    /// This page loaded in a popup.
    pub in_popup: Option<PopupId>,
    /// `location.assign(url)` was called: the page is leaving for `url`.
    pub navigated: Option<String>,
    /// The app's `popup({ window })`: `Some(true)` a window, `Some(false)` null.
    pub adopt: Option<bool>,
    /// window id → popup.
    windows: Vec<(Id, PopupId)>,
}

pub struct Popup {
    pub opener: PageId,
    pub opener_generation: u32,
    pub window: Id,
    pub location: String,
    /// Really open (the user has not closed it, nor has it closed itself).
    pub open: bool,
    /// COOP cut the opener's link: the opener reads `closed`, the page has no `opener`.
    pub cut: bool,
    pub navigations: Vec<String>,
    /// The callback page that loaded in it.
    pub page: Option<PageId>,
}

enum Task {
    Channel { to: PageId, generation: u32, data: String },
    Message { to: PageId, generation: u32, origin: String, data: String },
    Lock { to: PageId, generation: u32, lock: Id },
    Http { to: PageId, generation: u32, request: Id, answer: HttpAnswer },
}

struct Timer {
    page: PageId,
    generation: u32,
    timer: Id,
    due: f64,
    seq: u64,
}

#[derive(Default)]
struct LockQueue {
    holder: Option<(PageId, u32, Id)>,
    waiting: VecDeque<(PageId, u32, Id)>,
}

pub struct Request {
    pub page: PageId,
    pub generation: u32,
    pub request: HttpRequest,
    pub answered: bool,
    pub at: f64,
}

type Handler = Box<dyn FnMut(&HttpRequest) -> Option<HttpAnswer>>;

/// A connection made in a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    pub page: PageId,
    pub id: Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonRef {
    pub page: PageId,
    pub id: Id,
}

pub struct Sim {
    pub now: f64,
    pub pages: Vec<Page>,
    pub local: BTreeMap<String, String>,
    pub popups: Vec<Popup>,
    /// The popup blocker refuses every `window.open`.
    pub blocker: bool,
    /// Navigating a popup to a URL starting with one of these cuts the opener (COOP).
    pub coop: Vec<String>,
    /// Hold back channel messages (other tasks go on) until cleared.
    pub hold_channel: bool,
    /// Hold back every task (messages, grants, responses) until cleared; timers still fire.
    pub hold_all: bool,
    pub requests: Vec<Request>,
    handlers: Vec<(String, Handler)>,
    tasks: VecDeque<Task>,
    timers: Vec<Timer>,
    timer_seq: u64,
    locks: BTreeMap<String, LockQueue>,
    lock_names: BTreeMap<(PageId, u32, Id), String>,
    next_id: Id,
    /// Every effect, in order, with its page.
    pub log: Vec<(PageId, Effect)>,
    /// What the app's listeners do when told: (page, listener, event name or status, the call
    /// they make into the library), each once (see `on_told`).
    reactions: Vec<(PageId, Listener, &'static str, Id, Call)>,
    pub settled: BTreeMap<Id, Vec<Settled>>,
    /// Every value that must never leak (codes, verifiers, tokens, session secrets, checksums).
    pub secrets: Rc<RefCell<Vec<String>>>,
    clock: Rc<RefCell<f64>>,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    pub fn new() -> Sim {
        Sim {
            now: START,
            pages: Vec::new(),
            local: BTreeMap::new(),
            popups: Vec::new(),
            blocker: false,
            coop: Vec::new(),
            hold_channel: false,
            hold_all: false,
            requests: Vec::new(),
            handlers: Vec::new(),
            tasks: VecDeque::new(),
            timers: Vec::new(),
            timer_seq: 0,
            locks: BTreeMap::new(),
            lock_names: BTreeMap::new(),
            next_id: 1000,
            log: Vec::new(),
            reactions: Vec::new(),
            settled: BTreeMap::new(),
            secrets: Rc::new(RefCell::new(Vec::new())),
            clock: Rc::new(RefCell::new(START)),
        }
    }

    fn id(&mut self) -> Id {
        self.next_id += 1;
        self.next_id
    }

    /// A new tab of the app at `href`.
    pub fn open_tab(&mut self) -> PageId {
        self.new_page(format!("{ORIGIN}/"), BTreeMap::new(), None)
    }

    fn new_page(&mut self, href: String, session: BTreeMap<String, String>, in_popup: Option<PopupId>) -> PageId {
        self.pages.push(Page {
            tab: Tab::new(ORIGIN),
            session,
            href,
            generation: 0,
            alive: true,
            listening_messages: false,
            listening_channel: false,
            focused: true,
            in_popup,
            navigated: None,
            adopt: None,
            windows: Vec::new(),
        });
        self.pages.len() - 1
    }

    /// The page unloads: its timers, tasks and locks go with it.
    fn unload(&mut self, page: PageId) {
        let generation = self.pages[page].generation;
        self.timers.retain(|timer| !(timer.page == page && timer.generation == generation));
        let names: Vec<String> = self.locks.keys().cloned().collect();
        for name in names {
            let queue = self.locks.get_mut(&name).unwrap();
            queue.waiting.retain(|(p, g, _)| !(*p == page && *g == generation));
            if queue.holder.is_some_and(|(p, g, _)| p == page && g == generation) {
                queue.holder = None;
                self.grant_next(&name);
            }
        }
        let p = &mut self.pages[page];
        p.alive = false;
        p.listening_channel = false;
        p.listening_messages = false;
    }

    /// Reload (or navigate within the app): a new `Tab` in the same page, the same
    /// `sessionStorage`, at `href`.
    pub fn reload(&mut self, page: PageId, href: &str) {
        self.unload(page);
        let p = &mut self.pages[page];
        p.tab = Tab::new(ORIGIN);
        p.generation += 1;
        p.alive = true;
        p.href = href.to_string();
        p.navigated = None;
        p.windows.clear();
        p.adopt = None;
    }

    // -- the app's calls ----------------------------------------------------------------------

    /// Feed one event to a page and carry out every effect, answering queries in the same turn.
    pub fn feed(&mut self, page: PageId, event: Event) {
        assert!(self.pages[page].alive, "page {page} is gone");
        *self.clock.borrow_mut() = self.now;
        let from = self.log.len();
        self.feed_now(page, event);
        // The app's functions run once the feed is over (pkg-template/index.js `callApp`), in
        // the order they were told: a reaction calls back into the library then, and what it
        // causes is told after what came before it.
        let mut index = from;
        while index < self.log.len() {
            if let (told, Effect::Emit { to, name, .. }) = &self.log[index] {
                let (told, to, name) = (*told, *to, *name);
                if let Some(at) = self.reactions.iter().position(|r| (r.0, r.1, r.2) == (told, to, name)) {
                    let (_, _, _, call, what) = self.reactions.remove(at);
                    let connection = match to {
                        Listener::Connection(id) | Listener::Status(id) => id,
                        _ => panic!("a reaction calls a Connect: tell it through its listeners"),
                    };
                    self.feed_now(told, Event::Call { call, connection, what });
                }
            }
            index += 1;
        }
    }

    /// When `conn`'s listener `to` is told `name` (an event, or a status for
    /// `Listener::Status`), the app calls `what` on `conn` from inside it, once; the call's id.
    pub fn on_told(&mut self, conn: Conn, to: Listener, name: &'static str, what: Call) -> Id {
        let call = self.id();
        self.reactions.push((conn.page, to, name, call, what));
        call
    }

    /// As the runner does (pkg-template/index.js `feed`): an effect answered at once (a window
    /// opened or blocked, storage read) feeds its answer right then, and that event's effects
    /// are all carried out before the next effect of the first: depth first, not queued.
    fn feed_now(&mut self, page: PageId, event: Event) {
        let effects = self.pages[page].tab.handle(self.now, event);
        for effect in effects {
            self.log.push((page, effect.clone()));
            if let Some(answer) = self.carry_out(page, effect) {
                self.feed_now(page, answer);
            }
        }
    }

    pub fn try_connect(&mut self, page: PageId, config: &str) -> Result<Conn, ConnectError> {
        let (call, id) = (self.id(), self.id());
        self.feed(page, Event::NewConnect { call, connection: id, config: config.to_string() });
        match self.settled(call) {
            Some(Settled::Resolved(_)) => Ok(Conn { page, id }),
            Some(Settled::Rejected(error)) => Err(error),
            None => panic!("new Connect did not answer in its turn"),
        }
    }

    pub fn connect(&mut self, page: PageId, config: &str) -> Conn {
        let conn = self.try_connect(page, config).unwrap_or_else(|error| panic!("config refused: {error:?}"));
        self.run();
        conn
    }

    pub fn call(&mut self, conn: Conn, what: Call) -> Id {
        let call = self.id();
        self.feed(conn.page, Event::Call { call, connection: conn.id, what });
        call
    }

    /// `popup()` as a click handler calls it.
    pub fn popup(&mut self, conn: Conn) -> Id {
        self.call(conn, Call::Popup(PopupOptions { screen: [0.0, 0.0, 1280.0, 800.0], ..PopupOptions::default() }))
    }

    pub fn popup_with(&mut self, conn: Conn, options: PopupOptions) -> Id {
        if options.window.is_some() {
            self.pages[conn.page].adopt = options.window;
        }
        self.call(conn, Call::Popup(options))
    }

    pub fn redirect(&mut self, conn: Conn, return_to: Option<&str>) -> Id {
        let return_to = return_to.map(str_value).unwrap_or(Value::Absent);
        self.call(conn, Call::Redirect { return_to })
    }

    pub fn access_token(&mut self, conn: Conn) -> Id {
        self.call(conn, Call::AccessToken)
    }

    pub fn refresh(&mut self, conn: Conn) -> Id {
        self.call(conn, Call::Refresh)
    }

    pub fn disconnect(&mut self, conn: Conn) -> Id {
        self.call(conn, Call::Disconnect)
    }

    pub fn abort(&mut self, page: PageId, call: Id) {
        self.feed(page, Event::Aborted { call });
    }

    /// `handleCallback(url)` on a page whose address is `href`.
    pub fn handle_callback_at(&mut self, page: PageId, url: &str, href: &str) -> Id {
        let call = self.id();
        let has_opener = match self.pages[page].in_popup {
            Some(popup) => !self.popups[popup].cut && self.pages[self.popups[popup].opener].alive,
            None => false,
        };
        self.feed(page, Event::HandleCallback { call, url: url.to_string(), href: href.to_string(), has_opener });
        call
    }

    /// `handleCallback()` with the page's own address.
    pub fn handle_callback(&mut self, page: PageId) -> Id {
        let href = self.pages[page].href.clone();
        self.handle_callback_at(page, &href, &href)
    }

    pub fn status(&self, conn: Conn) -> &'static str {
        self.pages[conn.page].tab.status(conn.id)
    }

    pub fn tokens(&self, conn: Conn) -> Option<Value> {
        self.pages[conn.page].tab.tokens(conn.id).map(|text| json(&text))
    }

    pub fn access_token_now(&self, conn: Conn) -> Option<String> {
        self.tokens(conn).and_then(|tokens| text_at(&tokens, "accessToken"))
    }

    // -- answers ------------------------------------------------------------------------------

    pub fn settled(&self, call: Id) -> Option<Settled> {
        let all = self.settled.get(&call)?;
        assert_eq!(all.len(), 1, "call {call} settled {} times: {all:?}", all.len());
        all.first().cloned()
    }

    pub fn settle_count(&self, call: Id) -> usize {
        self.settled.get(&call).map_or(0, Vec::len)
    }

    pub fn result(&self, call: Id) -> Value {
        match self.settled(call) {
            Some(Settled::Resolved(text)) => json(&text),
            other => panic!("call {call} did not resolve: {other:?}"),
        }
    }

    pub fn error(&self, call: Id) -> ConnectError {
        match self.settled(call) {
            Some(Settled::Rejected(error)) => error,
            other => panic!("call {call} did not reject: {other:?}"),
        }
    }

    pub fn code(&self, call: Id) -> ErrorCode {
        self.error(call).code()
    }

    /// Every `onEvent` name sent to a listener, in order.
    pub fn events(&self, page: PageId, to: Listener) -> Vec<&'static str> {
        self.emits(page, to).into_iter().map(|(name, _)| name).collect()
    }

    pub fn emits(&self, page: PageId, to: Listener) -> Vec<(&'static str, EventMeta)> {
        self.log
            .iter()
            .filter_map(|(p, effect)| match effect {
                Effect::Emit { to: listener, name, meta } if *p == page && *listener == to => Some((*name, meta.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn conn_events(&self, conn: Conn) -> Vec<&'static str> {
        self.events(conn.page, Listener::Connection(conn.id))
    }

    pub fn effects_of(&self, page: PageId) -> Vec<Effect> {
        self.log.iter().filter(|(p, _)| *p == page).map(|(_, effect)| effect.clone()).collect()
    }

    pub fn count(&self, pick: impl Fn(&Effect) -> bool) -> usize {
        self.log.iter().filter(|(_, effect)| pick(effect)).count()
    }

    // -- time, tasks -------------------------------------------------------------------------

    /// Deliver every queued message, grant and response, in order, until none is left.
    pub fn run(&mut self) {
        let mut guard = 0;
        while self.step() {
            guard += 1;
            assert!(guard < 100_000, "the simulation does not settle");
        }
    }

    /// Deliver one queued task; `false` when there was none.
    pub fn step(&mut self) -> bool {
        if self.hold_all {
            return false;
        }
        let hold_channel = self.hold_channel;
        let Some(index) = self.tasks.iter().position(|task| !(hold_channel && matches!(task, Task::Channel { .. }))) else { return false };
        let task = self.tasks.remove(index).unwrap();
        match task {
            Task::Channel { to, generation, data } => {
                if self.current(to, generation) && self.pages[to].listening_channel {
                    self.feed(to, Event::ChannelMessage { data: Some(data) });
                }
            }
            Task::Message { to, generation, origin, data } => {
                if self.current(to, generation) && self.pages[to].listening_messages {
                    self.feed(to, Event::WindowMessage { origin, data: Some(data) });
                }
            }
            Task::Lock { to, generation, lock } => {
                if self.current(to, generation) {
                    self.feed(to, Event::LockGranted { lock });
                }
            }
            Task::Http { to, generation, request, answer } => {
                if self.current(to, generation) {
                    self.feed(to, Event::Http { request, answer });
                }
            }
        }
        true
    }

    /// Lose every channel message not delivered yet.
    pub fn drop_channel(&mut self) -> usize {
        let before = self.tasks.len();
        self.tasks.retain(|task| !matches!(task, Task::Channel { .. }));
        before - self.tasks.len()
    }

    fn current(&self, page: PageId, generation: u32) -> bool {
        self.pages[page].alive && self.pages[page].generation == generation
    }

    /// Let `ms` pass: every due timer fires in order (each followed by the tasks it caused).
    pub fn advance(&mut self, ms: f64) {
        self.run();
        let end = self.now + ms;
        loop {
            let next = self.timers.iter().enumerate().filter(|(_, t)| t.due <= end).min_by(|(_, a), (_, b)| a.due.total_cmp(&b.due).then(a.seq.cmp(&b.seq))).map(|(i, _)| i);
            let Some(index) = next else { break };
            let timer = self.timers.remove(index);
            self.now = self.now.max(timer.due);
            if self.current(timer.page, timer.generation) {
                self.feed(timer.page, Event::TimerFired { timer: timer.timer });
            }
            self.run();
        }
        self.now = end;
    }

    pub fn pending_timers(&self, page: PageId) -> usize {
        let generation = self.pages[page].generation;
        self.timers.iter().filter(|t| t.page == page && t.generation == generation).count()
    }

    // -- network -------------------------------------------------------------------------------

    /// Answer requests whose URL starts with `prefix` with `handler` (`None`: leave it pending).
    pub fn on(&mut self, prefix: &str, handler: impl FnMut(&HttpRequest) -> Option<HttpAnswer> + 'static) {
        self.handlers.push((prefix.to_string(), Box::new(handler)));
    }

    /// The requests not answered yet.
    pub fn pending_requests(&self) -> Vec<usize> {
        (0..self.requests.len()).filter(|&i| !self.requests[i].answered).collect()
    }

    pub fn requests_to(&self, prefix: &str) -> Vec<&HttpRequest> {
        self.requests.iter().filter(|r| r.request.url.starts_with(prefix)).map(|r| &r.request).collect()
    }

    /// The pending request to `prefix` (exactly one).
    pub fn pending_to(&self, prefix: &str) -> usize {
        let found: Vec<usize> = self.pending_requests().into_iter().filter(|&i| self.requests[i].request.url.starts_with(prefix)).collect();
        assert_eq!(found.len(), 1, "pending requests to {prefix}: {found:?}");
        found[0]
    }

    /// Answer a pending request now (one turn), then deliver what it caused.
    pub fn answer(&mut self, index: usize, answer: HttpAnswer) {
        let r = &mut self.requests[index];
        assert!(!r.answered, "request {index} was answered already");
        r.answered = true;
        let (page, generation, request) = (r.page, r.generation, r.request.id);
        if self.current(page, generation) {
            self.feed(page, Event::Http { request, answer });
        }
        self.run();
    }

    // -- popups -------------------------------------------------------------------------------

    /// The popup `page` opened last.
    pub fn last_popup(&self, page: PageId) -> PopupId {
        self.popups.iter().rposition(|p| p.opener == page).expect("no popup was opened")
    }

    pub fn popup_count(&self) -> usize {
        self.popups.len()
    }

    /// The user closes the popup: focus returns to the opener.
    pub fn user_closes(&mut self, popup: PopupId) {
        self.popups[popup].open = false;
        if let Some(page) = self.popups[popup].page {
            self.unload(page);
        }
        let opener = self.popups[popup].opener;
        self.pages[opener].focused = true;
    }

    /// A provider page sent COOP: the opener's link is cut, the window stays open.
    pub fn cut(&mut self, popup: PopupId) {
        self.popups[popup].cut = true;
    }

    /// The provider sends the popup to `url` (the app's callback page): the page loads and calls
    /// `handleCallback()`. Returns the callback page.
    pub fn popup_lands(&mut self, popup: PopupId, url: &str) -> PageId {
        assert!(self.popups[popup].open, "the popup is closed");
        self.popups[popup].location = url.to_string();
        self.popups[popup].navigations.push(url.to_string());
        let opener = self.popups[popup].opener;
        let session = self.pages[opener].session.clone();
        let page = self.new_page(url.to_string(), session, Some(popup));
        self.popups[popup].page = Some(page);
        self.handle_callback(page);
        page
    }

    // -- buttons ------------------------------------------------------------------------------

    pub fn mount_button(&mut self, conn: Conn, options: &str, in_app_browser: bool) -> ButtonRef {
        let (call, id) = (self.id(), self.id());
        self.feed(conn.page, Event::MountButton { call, button: id, connection: conn.id, options: options.to_string(), in_app_browser, return_to: String::from("/account?tab=1") });
        assert!(matches!(self.settled(call), Some(Settled::Resolved(_))), "mount refused: {:?}", self.settled(call));
        ButtonRef { page: conn.page, id }
    }

    pub fn click(&mut self, button: ButtonRef) {
        self.feed(button.page, Event::ButtonClicked { button: button.id, screen: [0.0, 0.0, 1280.0, 800.0] });
    }

    pub fn cancel(&mut self, button: ButtonRef) {
        self.feed(button.page, Event::CancelClicked { button: button.id });
    }

    pub fn drawing(&self, button: ButtonRef) -> Drawing {
        self.log
            .iter()
            .rev()
            .find_map(|(p, effect)| match effect {
                Effect::Draw { button: b, drawing } if *p == button.page && *b == button.id => Some(drawing.clone()),
                _ => None,
            })
            .expect("the button was never drawn")
    }

    pub fn button_state(&self, button: ButtonRef) -> &'static str {
        self.pages[button.page].tab.button_state(button.id)
    }

    pub fn button_calls(&self, button: ButtonRef) -> Vec<(ButtonCallback, Option<String>, Option<ConnectError>)> {
        self.log
            .iter()
            .filter_map(|(p, effect)| match effect {
                Effect::CallButton { button: b, callback, json, error } if *p == button.page && *b == button.id => Some((*callback, json.clone(), error.clone())),
                _ => None,
            })
            .collect()
    }

    // -- the effects ----------------------------------------------------------------------------

    fn carry_out(&mut self, page: PageId, effect: Effect) -> Option<Event> {
        let generation = self.pages[page].generation;
        let effect_kind = match &effect {
            Effect::Listen(_) => Some(true),
            Effect::Unlisten(_) => Some(false),
            _ => None,
        };
        match effect {
            Effect::OpenWindow { window, .. } => Some(self.open_window(page, window, !self.blocker)),
            Effect::AdoptWindow { window, .. } => {
                let given = self.pages[page].adopt.take() == Some(true);
                Some(self.open_window(page, window, given))
            }
            Effect::NavigateWindow { window, url } => {
                if let Some(popup) = self.popup_of(page, window) {
                    if self.popups[popup].open {
                        if self.coop.iter().any(|prefix| url.starts_with(prefix.as_str())) {
                            self.popups[popup].cut = true;
                        }
                        self.popups[popup].location = url.clone();
                        self.popups[popup].navigations.push(url);
                    }
                }
                None
            }
            Effect::PollWindow { window } => {
                let focused = self.pages[page].focused;
                let (closed, foreign) = match self.popup_of(page, window) {
                    Some(popup) => {
                        let p = &self.popups[popup];
                        let closed = !p.open || p.cut;
                        let foreign = !closed && p.location != "about:blank" && origin_of(&p.location) != ORIGIN;
                        (closed, foreign)
                    }
                    None => (true, false),
                };
                Some(Event::WindowState { window, closed, foreign, opener_focused: focused })
            }
            Effect::CloseWindow { window } => {
                if let Some(popup) = self.popup_of(page, window) {
                    if self.popups[popup].open {
                        self.popups[popup].open = false;
                        if let Some(inner) = self.popups[popup].page {
                            if self.pages[inner].alive {
                                self.unload(inner);
                            }
                        }
                    }
                }
                self.pages[page].windows.retain(|(id, _)| *id != window);
                None
            }
            Effect::Fetch(request) => {
                self.note_secrets_in_request(&request);
                self.requests.push(Request { page, generation, request: request.clone(), answered: false, at: self.now });
                let index = self.requests.len() - 1;
                let mut answer = None;
                for (prefix, handler) in self.handlers.iter_mut().rev() {
                    if request.url.starts_with(prefix.as_str()) {
                        answer = handler(&request);
                        break;
                    }
                }
                if let Some(answer) = answer {
                    self.requests[index].answered = true;
                    self.tasks.push_back(Task::Http { to: page, generation, request: request.id, answer });
                }
                None
            }
            Effect::ReadStorage { read, area, prefix } => {
                let store = match area {
                    Area::Session => &self.pages[page].session,
                    Area::Local => &self.local,
                };
                let entries = store.iter().filter(|(key, _)| key.starts_with(prefix.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
                Some(Event::StorageEntries { read, entries })
            }
            Effect::WriteStorage { area, key, value } => {
                if area == Area::Session {
                    if let Some(verifier) = text_at(&oauth_connect::json::parse(&value).unwrap_or(Value::Other), "verifier") {
                        self.secrets.borrow_mut().push(verifier);
                    }
                    self.pages[page].session.insert(key, value);
                } else {
                    self.local.insert(key, value);
                }
                None
            }
            Effect::RemoveStorage { area, key } => {
                match area {
                    Area::Session => self.pages[page].session.remove(&key),
                    Area::Local => self.local.remove(&key),
                };
                None
            }
            Effect::Listen(source) | Effect::Unlisten(source) => {
                let on = matches!(effect_kind, Some(true));
                match source {
                    Source::WindowMessages => self.pages[page].listening_messages = on,
                    Source::Channel => self.pages[page].listening_channel = on,
                }
                None
            }
            Effect::Broadcast { message } => {
                for to in 0..self.pages.len() {
                    if to != page && self.pages[to].alive && self.pages[to].listening_channel {
                        let generation = self.pages[to].generation;
                        self.tasks.push_back(Task::Channel { to, generation, data: message.clone() });
                    }
                }
                None
            }
            Effect::PostToOpener { message } => {
                if let Some(popup) = self.pages[page].in_popup {
                    let p = &self.popups[popup];
                    if !p.cut {
                        let (to, generation) = (p.opener, p.opener_generation);
                        self.tasks.push_back(Task::Message { to, generation, origin: ORIGIN.to_string(), data: message });
                    }
                }
                None
            }
            Effect::CloseSelf => {
                if let Some(popup) = self.pages[page].in_popup {
                    self.popups[popup].open = false;
                    self.pages[page].alive = false;
                    self.pages[page].listening_channel = false;
                    self.pages[page].listening_messages = false;
                }
                None
            }
            Effect::RequestLock { lock, name } => {
                self.lock_names.insert((page, generation, lock), name.clone());
                let queue = self.locks.entry(name).or_default();
                if queue.holder.is_none() && queue.waiting.is_empty() {
                    queue.holder = Some((page, generation, lock));
                    Some(Event::LockGranted { lock })
                } else {
                    queue.waiting.push_back((page, generation, lock));
                    None
                }
            }
            Effect::ReleaseLock { lock } => {
                if let Some(name) = self.lock_names.get(&(page, generation, lock)).cloned() {
                    let queue = self.locks.get_mut(&name).unwrap();
                    if queue.holder == Some((page, generation, lock)) {
                        queue.holder = None;
                        self.grant_next(&name);
                    } else {
                        queue.waiting.retain(|entry| *entry != (page, generation, lock));
                    }
                }
                None
            }
            Effect::StartTimer { timer, ms } => {
                self.timer_seq += 1;
                self.timers.push(Timer { page, generation, timer, due: self.now + f64::from(ms), seq: self.timer_seq });
                None
            }
            Effect::CancelTimer { timer } => {
                self.timers.retain(|t| !(t.page == page && t.generation == generation && t.timer == timer));
                None
            }
            Effect::ReplaceUrl { url } => {
                self.pages[page].href = url;
                None
            }
            Effect::NavigateSelf { url } => {
                self.pages[page].navigated = Some(url);
                None
            }
            Effect::Resolve { call, json } => {
                self.settled.entry(call).or_default().push(Settled::Resolved(json));
                None
            }
            Effect::Reject { call, error } => {
                self.settled.entry(call).or_default().push(Settled::Rejected(error));
                None
            }
            Effect::Emit { .. } | Effect::CreateButton { .. } | Effect::Draw { .. } | Effect::CallButton { .. } | Effect::RemoveButton { .. } => None,
        }
    }

    fn grant_next(&mut self, name: &str) {
        let queue = self.locks.get_mut(name).unwrap();
        while let Some((page, generation, lock)) = queue.waiting.pop_front() {
            if self.pages[page].alive && self.pages[page].generation == generation {
                queue.holder = Some((page, generation, lock));
                self.tasks.push_back(Task::Lock { to: page, generation, lock });
                return;
            }
        }
    }

    /// Who holds the lock `name` now.
    pub fn lock_holder(&self, name_prefix: &str) -> Option<PageId> {
        self.locks.iter().find(|(name, _)| name.starts_with(name_prefix)).and_then(|(_, q)| q.holder.map(|(page, _, _)| page))
    }

    fn open_window(&mut self, page: PageId, window: Id, opens: bool) -> Event {
        if !opens {
            return Event::WindowBlocked { window };
        }
        let opener_generation = self.pages[page].generation;
        self.popups.push(Popup {
            opener: page,
            opener_generation,
            window,
            location: String::from("about:blank"),
            open: true,
            cut: false,
            navigations: Vec::new(),
            page: None,
        });
        let popup = self.popups.len() - 1;
        self.pages[page].windows.push((window, popup));
        Event::WindowOpened { window, closed: false }
    }

    fn popup_of(&self, page: PageId, window: Id) -> Option<PopupId> {
        self.pages[page].windows.iter().find(|(id, _)| *id == window).map(|(_, popup)| *popup)
    }

    fn note_secrets_in_request(&mut self, request: &HttpRequest) {
        let mut secrets = self.secrets.borrow_mut();
        for name in ["code_verifier", "code", "refresh_token"] {
            if let Some(value) = form_field(request, name) {
                secrets.push(value);
            }
        }
        if let Some(("application/json", body)) = request.body.as_ref().map(|(kind, body)| (*kind, body.as_str())) {
            let value = oauth_connect::json::parse(body).unwrap_or(Value::Other);
            for name in ["code", "codeVerifier"] {
                if let Some(secret) = text_at(&value, name) {
                    secrets.push(secret);
                }
            }
        }
    }

    // -- leaks ----------------------------------------------------------------------------------

    /// No secret in any event, error, button drawing, `localStorage` write, or channel message
    /// other than a token share (and a relay, which carries the callback URL by design but never
    /// a verifier or a token).
    pub fn assert_no_leaks(&self) {
        let secrets: Vec<String> = self.secrets.borrow().iter().filter(|s| s.len() >= 6).cloned().collect();
        let leaks = |text: &str, allowed: &dyn Fn(&str) -> bool| -> Option<String> { secrets.iter().find(|s| text.contains(s.as_str()) && !allowed(s)).cloned() };
        let none = |_: &str| false;
        for (page, effect) in &self.log {
            let found = match effect {
                Effect::Emit { meta, .. } => leaks(&format!("{meta:?}"), &none),
                Effect::Reject { error, .. } => leaks(&format!("{} {:?}", error.message(), error.provider()), &none),
                Effect::CallButton { error: Some(error), .. } => leaks(&format!("{} {:?}", error.message(), error.provider()), &none),
                Effect::Draw { drawing, .. } => leaks(&format!("{drawing:?}"), &none),
                Effect::WriteStorage { area: Area::Local, key, value } => leaks(&format!("{key} {value}"), &none),
                Effect::Broadcast { message } => {
                    let value = json(message);
                    match text_at(&value, "type").as_deref() {
                        // Access and ID tokens may go to the app's other tabs; refresh tokens
                        // ("rt-…") never leave the tab that got them.
                        Some("oauth-connect:tokens") => leaks(message, &|s: &str| !s.starts_with("rt-")),
                        Some("oauth-connect:callback") => {
                            let url = text_at(&value, "url").unwrap_or_default();
                            let codes = params(&url).into_iter().map(|(_, v)| v).collect::<Vec<_>>();
                            leaks(message, &|s: &str| codes.iter().any(|c| c == s))
                        }
                        _ => leaks(message, &none),
                    }
                }
                _ => None,
            };
            if let Some(secret) = found {
                panic!("secret {secret:?} leaked on page {page} in {effect:?}");
            }
        }
    }

    pub fn add_secret(&self, secret: &str) {
        self.secrets.borrow_mut().push(secret.to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// The other side: an authorization server

#[derive(Debug, Clone)]
struct Code {
    challenge: String,
    redirect_uri: String,
    client_id: String,
    nonce: Option<String>,
    used: bool,
}

#[derive(Debug, Clone)]
struct Grant {
    /// The refresh token valid now.
    current: String,
    /// Refresh tokens spent (a reuse revokes the grant).
    spent: Vec<String>,
    revoked: bool,
    nonce: Option<String>,
}

/// An OAuth 2.0 / OIDC authorization server with rotating refresh tokens and reuse detection.
pub struct AuthServer {
    pub issuer: String,
    pub oidc: bool,
    pub expires_in: u64,
    pub rotate: bool,
    pub sub: String,
    /// Add `iss` to callbacks (RFC 9207).
    pub send_iss: bool,
    codes: BTreeMap<String, Code>,
    grants: Vec<Grant>,
    counter: u32,
    pub code_exchanges: u32,
    pub refreshes: u32,
    /// Answer the next N token requests with 503.
    pub fail_next: u32,
    /// Put this nonce in ID tokens instead of the request's (a replay).
    pub forged_nonce: Option<String>,
    /// Put this `sub` in refreshed ID tokens.
    pub refreshed_sub: Option<String>,
    secrets: Rc<RefCell<Vec<String>>>,
    clock: Rc<RefCell<f64>>,
}

pub type Shared<T> = Rc<RefCell<T>>;

impl AuthServer {
    fn new_token(&mut self, kind: &str) -> String {
        self.counter += 1;
        let token = format!("{kind}-{}-{:04}", self.issuer.len(), self.counter);
        self.secrets.borrow_mut().push(token.clone());
        token
    }

    /// The user approves at the authorization URL: the callback URL the provider redirects to.
    pub fn approve(&mut self, authorize_url: &str) -> String {
        let state = param(authorize_url, "state").unwrap_or_default();
        let redirect_uri = param(authorize_url, "redirect_uri").expect("redirect_uri");
        let code = self.new_token("code");
        self.codes.insert(
            code.clone(),
            Code {
                challenge: param(authorize_url, "code_challenge").expect("code_challenge"),
                redirect_uri: redirect_uri.clone(),
                client_id: param(authorize_url, "client_id").unwrap_or_default(),
                nonce: param(authorize_url, "nonce"),
                used: false,
            },
        );
        let mut pairs = vec![("code", code.as_str()), ("state", state.as_str())];
        let issuer = self.issuer.clone();
        if self.send_iss {
            pairs.push(("iss", issuer.as_str()));
        }
        with_query(&redirect_uri, &pairs)
    }

    /// The user denies.
    pub fn deny(&mut self, authorize_url: &str) -> String {
        let state = param(authorize_url, "state").unwrap_or_default();
        let redirect_uri = param(authorize_url, "redirect_uri").expect("redirect_uri");
        with_query(&redirect_uri, &[("error", "access_denied"), ("error_description", "The user said no"), ("state", &state)])
    }

    fn id_token(&self, nonce: Option<&str>, sub: &str, now_ms: f64) -> String {
        let exp = (now_ms / 1000.0) as u64 + 3600;
        let nonce = self.forged_nonce.as_deref().or(nonce).map(|n| format!(r#","nonce":"{n}""#)).unwrap_or_default();
        jwt(&format!(r#"{{"iss":"{}","aud":"app","sub":"{sub}","exp":{exp},"iat":{}{nonce}}}"#, self.issuer, exp - 3600))
    }

    fn tokens(&mut self, grant: usize, refresh_token: &str, now_ms: f64, refreshed: bool) -> HttpAnswer {
        let access = self.new_token("at");
        let id_token = if self.oidc {
            let nonce = if refreshed { None } else { self.grants[grant].nonce.clone() };
            let sub = if refreshed { self.refreshed_sub.clone().unwrap_or(self.sub.clone()) } else { self.sub.clone() };
            format!(r#","id_token":"{}""#, self.id_token(nonce.as_deref(), &sub, now_ms))
        } else {
            String::new()
        };
        ok(&format!(
            r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{},"refresh_token":"{refresh_token}","scope":"read write"{id_token}}}"#,
            self.expires_in
        ))
    }

    /// `POST {issuer}/token`.
    pub fn token(&mut self, request: &HttpRequest) -> HttpAnswer {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return status(503, r#"{"error":"temporarily_unavailable"}"#);
        }
        let now = *self.clock.borrow();
        let invalid_grant = || status(400, r#"{"error":"invalid_grant","error_description":"the grant is not valid"}"#);
        match form_field(request, "grant_type").as_deref() {
            Some("authorization_code") => {
                self.code_exchanges += 1;
                let code = form_field(request, "code").unwrap_or_default();
                let verifier = form_field(request, "code_verifier").unwrap_or_default();
                let Some(entry) = self.codes.get_mut(&code) else { return invalid_grant() };
                if entry.used || s256(&verifier) != entry.challenge || form_field(request, "redirect_uri").as_deref() != Some(entry.redirect_uri.as_str()) || form_field(request, "client_id").as_deref() != Some(entry.client_id.as_str()) {
                    entry.used = true;
                    return invalid_grant();
                }
                entry.used = true;
                let nonce = entry.nonce.clone();
                let refresh = self.new_token("rt");
                self.grants.push(Grant { current: refresh.clone(), spent: Vec::new(), revoked: false, nonce });
                let grant = self.grants.len() - 1;
                self.tokens(grant, &refresh, now, false)
            }
            Some("refresh_token") => {
                self.refreshes += 1;
                let presented = form_field(request, "refresh_token").unwrap_or_default();
                let Some(grant) = self.grants.iter().position(|g| g.current == presented || g.spent.contains(&presented)) else { return invalid_grant() };
                if self.grants[grant].revoked {
                    return invalid_grant();
                }
                if self.grants[grant].spent.contains(&presented) {
                    // Reuse of a rotated refresh token: revoke the whole grant.
                    self.grants[grant].revoked = true;
                    return invalid_grant();
                }
                let next = if self.rotate {
                    let next = self.new_token("rt");
                    self.grants[grant].spent.push(presented);
                    self.grants[grant].current = next.clone();
                    next
                } else {
                    presented
                };
                self.tokens(grant, &next, now, true)
            }
            _ => status(400, r#"{"error":"unsupported_grant_type"}"#),
        }
    }

    /// Revoke every grant (the user revoked the app at the provider).
    pub fn revoke_all(&mut self) {
        for grant in &mut self.grants {
            grant.revoked = true;
        }
    }

    pub fn grant_revoked(&self) -> bool {
        self.grants.iter().any(|g| g.revoked)
    }
}

/// A browser with the OAuth 2.0 server at `AS` and one tab holding a `Connect` of `config`,
/// before any flow: how most tests begin.
pub fn oauth2_tab(config: &str) -> (Sim, Shared<AuthServer>, Conn) {
    let mut sim = Sim::new();
    let server = sim.oauth2_server();
    let tab = sim.open_tab();
    let conn = sim.connect(tab, config);
    (sim, server, conn)
}

impl Sim {
    /// An OAuth 2.0 server at `AS` (token endpoint `AS/token`).
    pub fn oauth2_server(&mut self) -> Shared<AuthServer> {
        self.auth_server(AS, false)
    }

    /// An OpenID provider at `IDP` with discovery.
    pub fn oidc_server(&mut self) -> Shared<AuthServer> {
        let server = self.auth_server(IDP, true);
        let document = format!(
            r#"{{"issuer":"{IDP}","authorization_endpoint":"{IDP}/authorize","token_endpoint":"{IDP}/token","code_challenge_methods_supported":["S256"]}}"#
        );
        self.on(&format!("{IDP}/.well-known/openid-configuration"), move |_| Some(ok(&document)));
        server
    }

    fn auth_server(&mut self, issuer: &str, oidc: bool) -> Shared<AuthServer> {
        let clock = self.clock.clone();
        let server = Rc::new(RefCell::new(AuthServer {
            issuer: issuer.to_string(),
            oidc,
            expires_in: 3600,
            rotate: true,
            sub: String::from("alice"),
            send_iss: true,
            codes: BTreeMap::new(),
            grants: Vec::new(),
            counter: 0,
            code_exchanges: 0,
            refreshes: 0,
            fail_next: 0,
            forged_nonce: None,
            refreshed_sub: None,
            secrets: self.secrets.clone(),
            clock,
        }));
        let handle = server.clone();
        self.on(&format!("{issuer}/token"), move |request| Some(handle.borrow_mut().token(request)));
        server
    }

    /// Keep the servers' clock in step (ID token `exp`).
    pub fn sync_clock(&self, _server: &Shared<AuthServer>) {
        *self.clock.borrow_mut() = self.now;
    }

    /// The popup shows the provider; the user approves there and it lands on the callback.
    pub fn approve_in_popup(&mut self, server: &Shared<AuthServer>, popup: PopupId) -> PageId {
        self.sync_clock(server);
        let url = self.popups[popup].location.clone();
        let callback = server.borrow_mut().approve(&url);
        let page = self.popup_lands(popup, &callback);
        self.run();
        page
    }

    /// The user approves and the popup lands on the callback page, but every task it causes
    /// (its relay by message and channel, any request) is held until `hold_all` is cleared.
    pub fn approve_with_tasks_held(&mut self, server: &Shared<AuthServer>, popup: PopupId) -> PageId {
        self.hold_all = true;
        let url = self.popups[popup].location.clone();
        let back = server.borrow_mut().approve(&url);
        self.popup_lands(popup, &back)
    }

    /// The provider's first page is seen open by the opener's polls (its location unreadable,
    /// in two polls in a row).
    pub fn provider_page_seen(&mut self) {
        self.advance(f64::from(2 * oauth_connect::flow::POPUP_POLL_MS));
    }

    /// A popup that read `closed` is acted on: the grace for a relay on its way has passed.
    pub fn close_grace_passes(&mut self) {
        self.advance(f64::from(oauth_connect::flow::CLOSE_GRACE_MS));
    }

    /// `popup()` until the provider's page is seen open in the window: the call and the popup.
    pub fn popup_until_provider(&mut self, conn: Conn) -> (Id, PopupId) {
        let call = self.popup(conn);
        self.run();
        self.provider_page_seen();
        (call, self.last_popup(conn.page))
    }

    /// A whole popup flow: popup(), the provider page seen, approve, relay.
    pub fn popup_flow(&mut self, server: &Shared<AuthServer>, conn: Conn) -> Id {
        let call = self.popup(conn);
        self.run();
        self.provider_page_seen();
        let popup = self.last_popup(conn.page);
        self.approve_in_popup(server, popup);
        self.run();
        call
    }

    /// A redirect flow up to the callback page: `redirect()`, the page leaves for the provider,
    /// the provider sends it back (`callback` made from the authorization URL), the app loads
    /// again in the same tab and calls `handleCallback()`.
    pub fn redirect_and_return(&mut self, conn: Conn, return_to: Option<&str>, callback: impl FnOnce(&str) -> String) -> Id {
        let call = self.redirect(conn, return_to);
        self.run();
        assert!(matches!(self.settled(call), Some(Settled::Resolved(_))), "redirect() did not resolve: {:?}", self.settled(call));
        let url = self.pages[conn.page].navigated.clone().expect("the page did not leave for the provider");
        let back = callback(&url);
        self.reload(conn.page, &back);
        let handled = self.handle_callback(conn.page);
        self.run();
        handled
    }
}

// ---------------------------------------------------------------------------------------------
// The app's backends for Torque, Turnqey and Liquid

/// Torque behind the app's backend: `sessionEndpoint` opens a session, the consent screen
/// redirects with a code, `exchangeEndpoint` redeems it with the verifier.
pub struct Torque {
    sessions: BTreeMap<String, (String, String, String)>,
    codes: BTreeMap<String, (String, bool)>,
    counter: u32,
    pub exchanges: u32,
    pub session_requests: Vec<Value>,
    secrets: Rc<RefCell<Vec<String>>>,
}

impl Torque {
    /// Approve on the hosted consent screen.
    pub fn approve(&mut self, authorize_url: &str) -> String {
        let session = param(authorize_url, "session").expect("session");
        let (challenge, state, redirect_uri) = self.sessions.remove(&session).expect("unknown session");
        self.counter += 1;
        let code = format!("torque-code-{:04}", self.counter);
        self.secrets.borrow_mut().push(code.clone());
        self.codes.insert(code.clone(), (challenge, false));
        with_query(&redirect_uri, &[("code", &code), ("state", &state)])
    }

    pub fn deny(&mut self, authorize_url: &str) -> String {
        let session = param(authorize_url, "session").expect("session");
        let (_, state, redirect_uri) = self.sessions.remove(&session).expect("unknown session");
        with_query(&redirect_uri, &[("error", "access_denied"), ("error_description", "denied"), ("state", &state)])
    }
}

pub struct Turnqey {
    pub checksum_requests: Vec<Value>,
    pub collections: u32,
    secrets: Rc<RefCell<Vec<String>>>,
}

impl Turnqey {
    fn checksum(request: &Value) -> String {
        let mut canonical = String::new();
        for name in ["client", "platform", "collection", "state", "identity"] {
            if let Some(value) = text_at(request, name) {
                canonical.push_str(&format!("{name}={value}&"));
            }
        }
        format!("cs{:016x}", canonical.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3)))
    }

    /// Approve: back to the registered return URL (the app's callback page).
    pub fn approve(&mut self, authorize_url: &str) -> String {
        let get = |name| param(authorize_url, name).unwrap_or_default();
        let mut request = Vec::new();
        for name in ["client", "platform", "collection", "state", "identity"] {
            if let Some(value) = param(authorize_url, name) {
                request.push((name.to_string(), Value::Text(value)));
            }
        }
        if Turnqey::checksum(&Value::Record(request)) != get("checksum") {
            return with_query(CALLBACK, &[("error", "invalid_checksum"), ("error_description", "the checksum does not match"), ("state", &get("state"))]);
        }
        let collection = match param(authorize_url, "collection") {
            Some(collection) => collection,
            None => {
                self.collections += 1;
                format!("7f0c0a10-0000-4000-8000-{:012}", self.collections)
            }
        };
        with_query(CALLBACK, &[("state", &get("state")), ("collection", &collection), ("identity", &get("identity")), ("platform", &get("platform")), ("status", "connected")])
    }

    pub fn deny(&mut self, authorize_url: &str) -> String {
        with_query(CALLBACK, &[("error", "access_denied"), ("state", &param(authorize_url, "state").unwrap_or_default())])
    }
}

pub struct Liquid {
    /// id → (secret, return_url, approved)
    sessions: BTreeMap<String, (String, Option<String>, bool)>,
    counter: u32,
    pub verify_requests: u32,
    pub session_requests: Vec<Value>,
    secrets: Rc<RefCell<Vec<String>>>,
}

impl Liquid {
    fn session_of(url: &str) -> String {
        url.split("/api/v1/session/").nth(1).and_then(|rest| rest.split('/').next()).expect("a Liquid session URL").to_string()
    }

    /// Approve on Liquid's page: the return URL with the session id (`None`: the
    /// close-this-window page).
    pub fn approve(&mut self, page_url: &str) -> Option<String> {
        let id = Liquid::session_of(page_url);
        let session = self.sessions.get_mut(&id).expect("unknown session");
        session.2 = true;
        session.1.as_ref().map(|back| with_query(back, &[("session_id", &id)]))
    }

    pub fn deny(&mut self, page_url: &str) -> Option<String> {
        let id = Liquid::session_of(page_url);
        let session = self.sessions.get(&id).expect("unknown session");
        session.1.as_ref().map(|back| with_query(back, &[("error", "access_denied"), ("session_id", &id)]))
    }
}

impl Sim {
    pub fn torque_backend(&mut self) -> Shared<Torque> {
        let torque = Rc::new(RefCell::new(Torque { sessions: BTreeMap::new(), codes: BTreeMap::new(), counter: 0, exchanges: 0, session_requests: Vec::new(), secrets: self.secrets.clone() }));
        let handle = torque.clone();
        self.on("/api/torque/session", move |request| {
            let body = json_body(request);
            let mut t = handle.borrow_mut();
            t.session_requests.push(body.clone());
            t.counter += 1;
            let session = format!("sess{:04}", t.counter);
            let entry = (text_at(&body, "codeChallenge")?, text_at(&body, "state")?, text_at(&body, "redirectUri")?);
            t.sessions.insert(session.clone(), entry);
            Some(ok(&format!(r#"{{"authorizeUrl":"https://torque.example/connect/authorize?session={session}"}}"#)))
        });
        let handle = torque.clone();
        self.on("/api/torque/exchange", move |request| {
            let body = json_body(request);
            let mut t = handle.borrow_mut();
            t.exchanges += 1;
            let code = text_at(&body, "code").unwrap_or_default();
            let verifier = text_at(&body, "codeVerifier").unwrap_or_default();
            let refused = status(400, r#"{"error":"invalid_grant","error_description":"code or verifier refused"}"#);
            let Some((challenge, used)) = t.codes.get_mut(&code) else { return Some(refused) };
            if *used || s256(&verifier) != *challenge {
                return Some(refused);
            }
            *used = true;
            t.secrets.borrow_mut().push(String::from("torque-jwt-secret-part"));
            Some(ok(r#"{"accessToken":"eyJ.torque-jwt-secret-part.sig","expiresIn":900,"tokenType":"Bearer","scope":"accounts:read transfers:execute"}"#))
        });
        torque
    }

    pub fn turnqey_backend(&mut self) -> Shared<Turnqey> {
        let turnqey = Rc::new(RefCell::new(Turnqey { checksum_requests: Vec::new(), collections: 0, secrets: self.secrets.clone() }));
        let handle = turnqey.clone();
        self.on("/api/turnqey/checksum", move |request| {
            let body = json_body(request);
            let checksum = Turnqey::checksum(&body);
            let t = handle.borrow_mut();
            t.secrets.borrow_mut().push(checksum.clone());
            drop(t);
            handle.borrow_mut().checksum_requests.push(body);
            Some(ok(&format!(r#"{{"checksum":"{checksum}"}}"#)))
        });
        turnqey
    }

    pub fn liquid_backend(&mut self) -> Shared<Liquid> {
        let liquid = Rc::new(RefCell::new(Liquid { sessions: BTreeMap::new(), counter: 0, verify_requests: 0, session_requests: Vec::new(), secrets: self.secrets.clone() }));
        let handle = liquid.clone();
        self.on(&format!("{LIQUID}/api/v1/session"), move |request| {
            let body = json_body(request);
            let mut l = handle.borrow_mut();
            l.session_requests.push(body.clone());
            if text_at(&body, "public_api_key").as_deref() != Some("pk_test_1") {
                return Some(status(401, r#"{"success":false,"message":"unknown key"}"#));
            }
            l.counter += 1;
            let id = format!("ls-{:04}", l.counter);
            let secret = format!("liquid-session-secret-{:04}", l.counter);
            l.secrets.borrow_mut().push(secret.clone());
            l.sessions.insert(id.clone(), (secret.clone(), text_at(&body, "return_url"), false));
            Some(ok(&format!(
                r#"{{"success":true,"environment":"sandbox","message":"ok","payload":{{"public_api_key":"pk_test_1","session_id":"{id}","session_secret":"{secret}","environment":"sandbox"}}}}"#
            )))
        });
        let handle = liquid.clone();
        self.on("/api/liquid/verify", move |request| {
            let body = json_body(request);
            let mut l = handle.borrow_mut();
            l.verify_requests += 1;
            let id = text_at(&body, "sessionId").unwrap_or_default();
            match l.sessions.get(&id) {
                Some((_, _, true)) => Some(ok(r#"{"approved":true,"accounts":[{"currency":"USD","balance":"10.00"}]}"#)),
                _ => Some(status(403, r#"{"approved":false}"#)),
            }
        });
        liquid
    }
}

/// `Effect` predicates for `Sim::count`.
pub fn is_open_window(effect: &Effect) -> bool {
    matches!(effect, Effect::OpenWindow { .. } | Effect::AdoptWindow { .. })
}

pub fn fetches_to<'a>(prefix: &'a str) -> impl Fn(&Effect) -> bool + 'a {
    move |effect| matches!(effect, Effect::Fetch(request) if request.url.starts_with(prefix))
}
