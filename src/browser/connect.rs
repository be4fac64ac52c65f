//! `Connect`: one connection to one provider, as the contract's class. It validates its config
//! when made, runs popup and redirect flows, and keeps the connection's tokens valid.

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::{Cell, RefCell};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{AbortSignal, Window};

use crate::browser::flows::{self, popup_closed, Arrival, Completion, Endpoints, Pending};
use crate::browser::events::{Events, Mode};
use crate::browser::js::{self, JsFields};
use crate::browser::popup::{self, Finisher, Outcome, Watch};
use crate::browser::storage::{self, Area};
use crate::browser::timers::now_ms;
use crate::browser::tokens::{self, token_set_to_js, RefreshPlan, Slot};
use crate::config::{CodeHandling, ConnectConfig, ProviderConfig};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::flow::{check_return_to, TRANSACTION_TTL_MS};

/// `sessionStorage` keys of redirect transactions: prefix + state.
pub const TRANSACTION_PREFIX: &str = "oauth-connect:tx:";
/// `localStorage` keys of popup markers: prefix + state. Verifier-free: they only tell the
/// callback page that its flow runs in a popup, even when COOP has nulled `window.opener`.
pub const POPUP_MARKER_PREFIX: &str = "oauth-connect:popup:";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Idle,
    Connected,
    Error,
}

struct Inner {
    config: ConnectConfig,
    /// The app's config as JSON (functions left out), stored with redirect transactions so the
    /// callback page can finish the flow.
    stored_config: JsValue,
    events: Events,
    slot: Rc<Slot>,
    status: Cell<Status>,
    busy: Cell<bool>,
    endpoints: RefCell<Option<Endpoints>>,
    popup_finisher: RefCell<Option<Rc<Finisher>>>,
    /// Turnqey: the collection new flows connect into (the last result's, else the config's).
    collection: RefCell<Option<String>>,
}

/// `new Connect(config)`: see the contract.
#[wasm_bindgen]
pub struct Connect {
    inner: Rc<Inner>,
}

fn reject(error: ConnectError) -> Promise {
    Promise::reject(&error.into())
}

#[wasm_bindgen]
impl Connect {
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> core::result::Result<Connect, JsValue> {
        if !config.is_object() {
            return Err(ConnectError::new(ErrorCode::InvalidConfig, "the config must be an object with a kind").into());
        }
        let parsed = ConnectConfig::parse(&JsFields(config.clone()))?;
        let stored_config = js::to_json(&config).and_then(|text| js::parse_json(&text)).unwrap_or(JsValue::NULL);
        let events = Events::from_object(&config, parsed.kind());
        let slot = tokens::slot(&parsed.connection_key(), parsed.token_storage);
        let collection = match &parsed.provider {
            ProviderConfig::Turnqey(turnqey) => turnqey.collection.clone(),
            _ => None,
        };
        Ok(Connect {
            inner: Rc::new(Inner {
                config: parsed,
                stored_config,
                events,
                slot,
                status: Cell::new(Status::Idle),
                busy: Cell::new(false),
                endpoints: RefCell::new(None),
                popup_finisher: RefCell::new(None),
                collection: RefCell::new(collection),
            }),
        })
    }

    /// `"idle" | "connecting" | "connected" | "reconnect_required" | "error"`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        let inner = &self.inner;
        String::from(if inner.busy.get() {
            "connecting"
        } else if inner.slot.is_reconnect_required() {
            "reconnect_required"
        } else if inner.slot.tokens().is_some() || inner.status.get() == Status::Connected {
            "connected"
        } else if inner.status.get() == Status::Error {
            "error"
        } else {
            "idle"
        })
    }

    /// The current token set, or `null`.
    pub fn tokens(&self) -> JsValue {
        self.inner.slot.tokens().map(|tokens| token_set_to_js(&tokens).into()).unwrap_or(JsValue::NULL)
    }

    /// Start a popup flow. The window opens now, inside the caller's gesture; it is navigated
    /// to the provider once the URL is ready.
    pub fn popup(&self, options: JsValue) -> Promise {
        let inner = self.inner.clone();
        if inner.busy.get() {
            return reject(busy());
        }
        let signal = js::get(&options, "signal").dyn_into::<AbortSignal>().ok();
        if signal.as_ref().is_some_and(|signal| signal.aborted()) {
            return reject(aborted());
        }
        let timeout_ms = match timeout_option(&options, inner.config.timeout_ms) {
            Ok(ms) => ms,
            Err(error) => return reject(error),
        };
        let pending = match Pending::new(&inner.config) {
            Ok(pending) => pending,
            Err(error) => return reject(error),
        };
        let marker = storage::key(POPUP_MARKER_PREFIX, &pending.state);
        prune_popup_markers();
        storage::set(Area::Local, &marker, &now_text());
        // `window: null` means the app's own `window.open` was blocked.
        let given = js::get(&options, "window");
        let popup = if given.is_undefined() { popup::open_blank() } else { given.dyn_into::<Window>().ok() };
        let Some(popup) = popup else {
            storage::remove(Area::Local, &marker);
            inner.status.set(Status::Error);
            inner.events.emit("popup_blocked", Some(Mode::Popup), Some(ErrorCode::PopupBlocked));
            inner.events.emit("error", Some(Mode::Popup), Some(ErrorCode::PopupBlocked));
            return reject(ConnectError::new(ErrorCode::PopupBlocked, "the browser blocked the popup: call popup() directly in a click handler, or use redirect()"));
        };
        inner.busy.set(true);
        inner.events.emit("open", Some(Mode::Popup), None);
        future_to_promise(async move {
            let outcome = run_popup(&inner, &popup, pending, signal.as_ref(), timeout_ms).await;
            storage::remove(Area::Local, &marker);
            if !popup.closed().unwrap_or(true) {
                let _ = popup.close();
            }
            inner.busy.set(false);
            finish(&inner, outcome, Mode::Popup)
        })
    }

    /// Start a redirect flow: the transaction goes to `sessionStorage` and the page navigates
    /// to the provider. `returnTo` (a path or URL of this origin) comes back in the result.
    pub fn redirect(&self, options: JsValue) -> Promise {
        let inner = self.inner.clone();
        if inner.busy.get() {
            return reject(busy());
        }
        let return_to = match js::optional_string_field(&options, "returnTo") {
            Ok(return_to) => return_to,
            Err(error) => return reject(error),
        };
        if let Some(return_to) = &return_to {
            let origin = web_sys::window().and_then(|window| window.location().origin().ok()).unwrap_or_default();
            if let Err(error) = check_return_to(return_to, &origin) {
                return reject(error);
            }
        }
        inner.busy.set(true);
        future_to_promise(async move {
            let started = start_redirect(&inner, return_to).await;
            if let Err(error) = &started {
                inner.busy.set(false);
                inner.status.set(Status::Error);
                inner.events.emit("error", Some(Mode::Redirect), Some(error.code()));
            }
            started.map(|()| JsValue::UNDEFINED).map_err(JsValue::from)
        })
    }

    /// An access token that is valid for at least `refreshSkewMs` more, refreshed when needed.
    #[wasm_bindgen(js_name = accessToken)]
    pub fn access_token(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let plan = refresh_plan(&inner).await?;
            let tokens = tokens::fresh_tokens(inner.slot.clone(), plan, inner.config.refresh_skew_ms, false).await?;
            Ok(JsValue::from_str(tokens.access_token.expose()))
        })
    }

    /// Refresh now ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)) and return the new token set.
    pub fn refresh(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let plan = refresh_plan(&inner).await?;
            let tokens = tokens::fresh_tokens(inner.slot.clone(), plan, inner.config.refresh_skew_ms, true).await?;
            Ok(token_set_to_js(&tokens).into())
        })
    }

    /// The app learned that the provider revoked or expired the authorization (Turnqey's
    /// "reconnect" case): `status` becomes `reconnect_required`. Nothing retries on its own; the
    /// next `popup()` or `redirect()` is one fresh flow (into the same Turnqey collection).
    #[wasm_bindgen(js_name = requireReconnect)]
    pub fn require_reconnect(&self) {
        self.inner.slot.require_reconnect();
        self.inner.events.emit("reconnect_required", None, Some(ErrorCode::ReconnectRequired));
    }

    /// Forget the connection (in every tab) and end a popup flow in flight.
    pub fn disconnect(&self) {
        if let Some(finisher) = self.inner.popup_finisher.borrow().clone() {
            finisher.finish(Outcome::Aborted);
        }
        self.inner.slot.clear();
        self.inner.status.set(Status::Idle);
    }
}

impl Connect {
    /// Another handle on the same connection (the button keeps one).
    pub(crate) fn handle(&self) -> Connect {
        Connect { inner: self.inner.clone() }
    }

    /// The connection's events, for Rust observers.
    pub(crate) fn events(&self) -> &Events {
        &self.inner.events
    }
}

fn busy() -> ConnectError {
    ConnectError::new(ErrorCode::Busy, "a flow of this connection is already in progress")
}

fn aborted() -> ConnectError {
    ConnectError::new(ErrorCode::Aborted, "the flow was aborted")
}

pub(crate) fn now_text() -> String {
    let mut text = String::new();
    crate::encoding::push_decimal(&mut text, now_ms() as u64);
    text
}

/// Markers of popups that never came back (the tab was closed mid-flow) are removed after the
/// transaction lifetime.
fn prune_popup_markers() {
    for key in storage::keys_with_prefix(Area::Local, POPUP_MARKER_PREFIX) {
        let created = storage::get(Area::Local, &key).and_then(|text| crate::encoding::parse_decimal(&text)).unwrap_or(0);
        if now_ms() - created as f64 > TRANSACTION_TTL_MS {
            storage::remove(Area::Local, &key);
        }
    }
}

fn timeout_option(options: &JsValue, default: u32) -> Result<u32> {
    let value = js::get(options, "timeoutMs");
    if value.is_undefined() {
        return Ok(default);
    }
    match value.as_f64() {
        Some(ms) if ms >= 1.0 && ms <= 2_147_483_647.0 => Ok(ms as u32),
        _ => Err(ConnectError::new(ErrorCode::InvalidConfig, "timeoutMs must be a positive number of milliseconds")),
    }
}

async fn run_popup(inner: &Rc<Inner>, popup: &Window, pending: Pending, signal: Option<&AbortSignal>, timeout_ms: u32) -> Result<JsValue> {
    let collection = inner.collection.borrow().clone();
    let prepared = flows::prepare(&inner.config, &pending, &inner.endpoints, collection.as_deref()).await?;
    if popup.closed().unwrap_or(true) {
        return Err(popup_closed());
    }
    popup.location().set_href(&prepared.url).map_err(|_| popup_closed())?;
    let outcome = popup::watch(Watch {
        popup,
        state: &pending.state,
        timeout_ms,
        signal,
        events: &inner.events,
        finisher_slot: &inner.popup_finisher,
    })
    .await;
    let arrival = match outcome {
        Outcome::Callback(url) => Arrival::Callback(url),
        Outcome::Closed => Arrival::Closed,
        Outcome::Timeout => return Err(ConnectError::new(ErrorCode::Timeout, "the popup flow did not finish in time")),
        Outcome::Aborted => return Err(aborted()),
    };
    let completion = Completion {
        config: &inner.config,
        pending,
        prepared,
        events: &inner.events,
        mode: Mode::Popup,
        slot: inner.slot.clone(),
        return_to: None,
    };
    flows::complete(arrival, completion).await
}

/// Status and events at the end of a flow.
fn finish(inner: &Inner, outcome: Result<JsValue>, mode: Mode) -> core::result::Result<JsValue, JsValue> {
    match outcome {
        Ok(result) => {
            inner.status.set(Status::Connected);
            inner.slot.connected();
            if let Some(collection) = js::get(&result, "collection").as_string() {
                *inner.collection.borrow_mut() = Some(collection);
            }
            inner.events.emit("success", Some(mode), None);
            Ok(result)
        }
        Err(error) => {
            let code = error.code();
            if code == ErrorCode::PopupClosed {
                inner.status.set(Status::Idle);
                inner.events.emit("exit", Some(mode), Some(code));
            } else {
                inner.status.set(if code == ErrorCode::Aborted { Status::Idle } else { Status::Error });
                inner.events.emit("error", Some(mode), Some(code));
            }
            Err(error.into())
        }
    }
}

async fn start_redirect(inner: &Inner, return_to: Option<String>) -> Result<()> {
    if let ProviderConfig::Liquid(liquid) = &inner.config.provider {
        if liquid.return_url.is_none() {
            return Err(ConnectError::new(ErrorCode::InvalidConfig, "a Liquid redirect flow needs returnUrl: without it the flow ends in a window the user closes (use popup())"));
        }
    }
    let pending = Pending::new(&inner.config)?;
    let collection = inner.collection.borrow().clone();
    let prepared = flows::prepare(&inner.config, &pending, &inner.endpoints, collection.as_deref()).await?;
    crate::browser::callback_page::prune_transactions();
    let transaction = js::object();
    js::set(&transaction, "state", pending.state.as_str());
    js::set(&transaction, "verifier", pending.verifier.secret());
    if let Some(nonce) = &pending.nonce {
        js::set(&transaction, "nonce", nonce.as_str());
    }
    js::set(&transaction, "createdAt", now_ms());
    if let Some(return_to) = &return_to {
        js::set(&transaction, "returnTo", return_to.as_str());
    }
    if let Some(token_endpoint) = &prepared.token_endpoint {
        js::set(&transaction, "tokenEndpoint", token_endpoint.as_str());
    }
    if let Some(session) = &prepared.liquid_session {
        js::set(&transaction, "liquidSessionId", session.id.as_str());
        js::set(&transaction, "liquidSessionSecret", session.secret.expose());
    }
    js::set(&transaction, "config", inner.stored_config.clone());
    let stored = js::to_json(&transaction).is_some_and(|text| storage::set(Area::Session, &storage::key(TRANSACTION_PREFIX, &pending.state), &text));
    if !stored {
        return Err(ConnectError::new(ErrorCode::InvalidConfig, "sessionStorage is not available, so a redirect flow cannot keep its state: use popup()"));
    }
    inner.events.emit("redirect", Some(Mode::Redirect), None);
    let location = web_sys::window().map(|window| window.location());
    location
        .ok_or(ConnectError::new(ErrorCode::InvalidConfig, "no window to redirect"))?
        .assign(&prepared.url)
        .map_err(|_| ConnectError::new(ErrorCode::InvalidConfig, "the browser refused to navigate to the authorization URL"))
}

/// How this connection refreshes; `invalid_config` when its tokens are not the browser's.
async fn refresh_plan(inner: &Inner) -> Result<Rc<RefreshPlan>> {
    let no_tokens = || ConnectError::new(ErrorCode::InvalidConfig, "this connection has no tokenEndpoint: its tokens, if any, are kept by your backend");
    let connected = !inner.slot.is_reconnect_required() && inner.slot.tokens().is_some();
    let (token_endpoint, issuer) = match &inner.config.provider {
        ProviderConfig::OAuth2(oauth2) => match &oauth2.code_handling {
            CodeHandling::TokenEndpoint(endpoint) => (endpoint.clone(), None),
            _ => return Err(no_tokens()),
        },
        // Discovery is only worth a request when there is something to refresh.
        ProviderConfig::Oidc(oidc) if connected => {
            (flows::token_endpoint(&inner.config, &inner.endpoints).await?.unwrap_or_default(), Some(oidc.issuer.clone()))
        }
        ProviderConfig::Oidc(oidc) => (String::new(), Some(oidc.issuer.clone())),
        _ => return Err(no_tokens()),
    };
    Ok(Rc::new(RefreshPlan { token_endpoint, client_id: String::from(inner.config.client_id()), issuer, events: inner.events.clone() }))
}

/// The transaction of a redirect flow and completion on the callback page live in
/// `callback_page.rs`; this is what it needs from here.
pub fn completion_slot(config: &ConnectConfig) -> Rc<Slot> {
    tokens::slot(&config.connection_key(), config.token_storage)
}
