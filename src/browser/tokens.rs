//! Token sets of this page, one slot per connection (see `ConnectConfig::connection_key`),
//! shared by every `Connect` of the page with the same config and, over the channel, with the
//! app's other tabs. Refresh is single-flight in the tab (one promise that every caller awaits)
//! and across tabs (a Web Lock per connection; a tab that waited for the lock takes the set
//! another tab just got instead of spending its own, now rotated, refresh token).

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::browser::channel::{self, Subscription};
use crate::browser::events::Events;
use crate::browser::storage::{self, Area};
use crate::browser::timers::{now_ms, sleep};
use crate::browser::{http, js, locks};
use crate::config::TokenStorage;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::secret::Secret;
use crate::token::{self, TokenSet};

const TOKENS_MESSAGE: &str = "oauth-connect:tokens";
const TOKENS_REQUEST: &str = "oauth-connect:tokens?";
const STORED_TOKENS_PREFIX: &str = "oauth-connect:tokens:";
const FINGERPRINT_PREFIX: &str = "oauth-connect:rt:";

/// How long a tab that finds its refresh token rotated by another tab waits for that tab's
/// broadcast before trying its own.
const ROTATED_WAIT_MS: u32 = 2_000;

pub struct Slot {
    pub key: String,
    storage: Cell<TokenStorage>,
    tokens: RefCell<Option<TokenSet>>,
    reconnect_required: Cell<bool>,
    /// The OIDC `sub` of the connection: a refreshed ID token must name the same user.
    subject: RefCell<Option<String>>,
    /// The refresh in flight in this tab, awaited by every caller.
    inflight: RefCell<Option<Promise>>,
    subscription: RefCell<Option<Subscription>>,
}

thread_local! {
    static SLOTS: RefCell<Vec<Rc<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// The slot of a connection, made (and filled from `sessionStorage` or another tab) on first use.
pub fn slot(key: &str, token_storage: TokenStorage) -> Rc<Slot> {
    if let Some(existing) = SLOTS.with(|slots| slots.borrow().iter().find(|slot| slot.key == key).cloned()) {
        if token_storage == TokenStorage::Session {
            existing.storage.set(TokenStorage::Session);
            existing.persist();
        }
        return existing;
    }
    let slot = Rc::new(Slot {
        key: String::from(key),
        storage: Cell::new(token_storage),
        tokens: RefCell::new(None),
        reconnect_required: Cell::new(false),
        subject: RefCell::new(None),
        inflight: RefCell::new(None),
        subscription: RefCell::new(None),
    });
    if token_storage == TokenStorage::Session {
        let stored = storage::get(Area::Session, &storage::key(STORED_TOKENS_PREFIX, key));
        if let Some(tokens) = stored.and_then(|text| js::parse_json(&text)).and_then(|json| TokenSet::from_contract_fields(&js::JsFields(json)).ok()) {
            *slot.tokens.borrow_mut() = Some(tokens);
        }
    }
    let weak: Weak<Slot> = Rc::downgrade(&slot);
    *slot.subscription.borrow_mut() = channel::subscribe(move |message| {
        if let Some(slot) = weak.upgrade() {
            slot.on_message(message);
        }
    });
    if slot.tokens.borrow().is_none() {
        channel::post(&slot.message(TOKENS_REQUEST));
    }
    SLOTS.with(|slots| slots.borrow_mut().push(slot.clone()));
    slot
}

impl Slot {
    pub fn tokens(&self) -> Option<TokenSet> {
        self.tokens.borrow().clone()
    }

    pub fn is_reconnect_required(&self) -> bool {
        self.reconnect_required.get()
    }

    pub fn subject(&self) -> Option<String> {
        self.subject.borrow().clone()
    }

    fn message(&self, kind: &str) -> js_sys::Object {
        let message = js::object();
        js::set(&message, "type", kind);
        js::set(&message, "key", self.key.as_str());
        message
    }

    fn on_message(&self, message: &JsValue) {
        if js::get(message, "key").as_string().as_deref() != Some(self.key.as_str()) {
            return;
        }
        match js::get(message, "type").as_string().as_deref() {
            Some(TOKENS_REQUEST) => {
                if let (Some(tokens), false) = (self.tokens(), self.is_reconnect_required()) {
                    self.broadcast(Some(&tokens), false);
                }
            }
            Some(TOKENS_MESSAGE) => {
                let shared = js::get(message, "tokens");
                if js::get(message, "reconnect").is_truthy() {
                    self.reconnect_required.set(true);
                    *self.tokens.borrow_mut() = None;
                } else if shared.is_null() {
                    *self.tokens.borrow_mut() = None;
                } else if let Ok(tokens) = TokenSet::from_contract_fields(&js::JsFields(shared)) {
                    self.reconnect_required.set(false);
                    if let Some(sub) = js::get(message, "sub").as_string() {
                        *self.subject.borrow_mut() = Some(sub);
                    }
                    *self.tokens.borrow_mut() = Some(tokens);
                } else {
                    return;
                }
                self.persist();
            }
            _ => {}
        }
    }

    fn broadcast(&self, tokens: Option<&TokenSet>, reconnect: bool) {
        let message = self.message(TOKENS_MESSAGE);
        js::set(&message, "tokens", tokens.map(|tokens| JsValue::from(token_set_to_js(tokens))).unwrap_or(JsValue::NULL));
        if reconnect {
            js::set(&message, "reconnect", true);
        }
        if let Some(sub) = self.subject() {
            js::set(&message, "sub", sub);
        }
        channel::post(&message);
    }

    fn persist(&self) {
        let key = storage::key(STORED_TOKENS_PREFIX, &self.key);
        match (self.storage.get(), self.tokens()) {
            (TokenStorage::Session, Some(tokens)) => {
                if let Some(text) = js::to_json(&token_set_to_js(&tokens)) {
                    storage::set(Area::Session, &key, &text);
                }
            }
            _ => storage::remove(Area::Session, &key),
        }
    }

    /// A new token set from a connect or a refresh of this tab: keep it, tell the other tabs.
    pub fn store(&self, tokens: TokenSet, subject: Option<String>) {
        if let Some(refresh_token) = &tokens.refresh_token {
            storage::set(Area::Local, &storage::key(FINGERPRINT_PREFIX, &self.key), &token::fingerprint(refresh_token));
        }
        if subject.is_some() {
            *self.subject.borrow_mut() = subject;
        }
        self.reconnect_required.set(false);
        *self.tokens.borrow_mut() = Some(tokens.clone());
        self.persist();
        self.broadcast(Some(&tokens), false);
    }

    /// A flow of a kind without tokens succeeded: the connection stands again.
    pub fn connected(&self) {
        self.reconnect_required.set(false);
    }

    /// The server refused the refresh token, or the app learned the authorization is gone:
    /// every tab must connect again.
    pub fn require_reconnect(&self) {
        self.reconnect_required.set(true);
        *self.tokens.borrow_mut() = None;
        self.persist();
        self.broadcast(None, true);
    }

    /// Forget the connection in every tab.
    pub fn clear(&self) {
        self.reconnect_required.set(false);
        *self.tokens.borrow_mut() = None;
        *self.subject.borrow_mut() = None;
        storage::remove(Area::Local, &storage::key(FINGERPRINT_PREFIX, &self.key));
        self.persist();
        self.broadcast(None, false);
    }
}

/// The contract's `TokenSet` object.
pub fn token_set_to_js(tokens: &TokenSet) -> js_sys::Object {
    let object = js::object();
    js::set(&object, "accessToken", tokens.access_token.expose());
    js::set(&object, "tokenType", tokens.token_type.as_str());
    if let Some(expires_at) = tokens.expires_at_ms {
        js::set(&object, "expiresAt", expires_at.floor());
    }
    if let Some(refresh_token) = &tokens.refresh_token {
        js::set(&object, "refreshToken", refresh_token.expose());
    }
    if let Some(scope) = &tokens.scope {
        js::set(&object, "scope", scope.as_str());
    }
    if let Some(id_token) = &tokens.id_token {
        js::set(&object, "idToken", id_token.expose());
    }
    object
}

/// How to refresh one connection.
pub struct RefreshPlan {
    pub token_endpoint: String,
    pub client_id: String,
    /// Set for OIDC: a refreshed ID token is checked against it.
    pub issuer: Option<String>,
    pub events: Events,
}

fn not_connected() -> ConnectError {
    ConnectError::new(ErrorCode::ReconnectRequired, "there is no connection: connect first")
}

/// A token set that is valid for at least `skew_ms` more (refreshed when needed), or with
/// `force`, a freshly refreshed one.
pub async fn fresh_tokens(slot: Rc<Slot>, plan: Rc<RefreshPlan>, skew_ms: u32, force: bool) -> core::result::Result<TokenSet, JsValue> {
    if slot.is_reconnect_required() {
        return Err(ConnectError::new(ErrorCode::ReconnectRequired, "the provider revoked this connection: connect again").into());
    }
    let current = slot.tokens().ok_or_else(not_connected)?;
    if !force && !current.needs_refresh(now_ms(), skew_ms) {
        return Ok(current);
    }
    if current.refresh_token.is_none() {
        if !force && !current.is_expired(now_ms()) {
            return Ok(current);
        }
        return Err(ConnectError::new(ErrorCode::ReconnectRequired, "the access token expired and there is no refresh token: connect again").into());
    }
    let existing = slot.inflight.borrow().clone();
    let promise = match existing {
        Some(promise) => promise,
        None => {
            let promise = future_to_promise(refresh_once(slot.clone(), plan, current));
            *slot.inflight.borrow_mut() = Some(promise.clone());
            promise
        }
    };
    let shared = JsFuture::from(promise).await?;
    TokenSet::from_contract_fields(&js::JsFields(shared)).map_err(JsValue::from)
}

async fn refresh_once(slot: Rc<Slot>, plan: Rc<RefreshPlan>, started_with: TokenSet) -> core::result::Result<JsValue, JsValue> {
    let lock = locks::refresh_lock_name(&slot.key);
    let outcome = locks::with_lock(&lock, || refresh_holding_lock(slot.clone(), plan, started_with)).await;
    *slot.inflight.borrow_mut() = None;
    outcome.map(|tokens| token_set_to_js(&tokens).into()).map_err(JsValue::from)
}

fn fingerprint_of(tokens: &TokenSet) -> Option<String> {
    tokens.refresh_token.as_ref().map(token::fingerprint)
}

async fn refresh_holding_lock(slot: Rc<Slot>, plan: Rc<RefreshPlan>, started_with: TokenSet) -> Result<TokenSet> {
    let started_fingerprint = fingerprint_of(&started_with);
    // Another tab may have refreshed while this one waited for the lock: its broadcast set is
    // newer than the one this refresh started from.
    let taken_elsewhere = |slot: &Slot| slot.tokens().filter(|tokens| fingerprint_of(tokens) != started_fingerprint && !tokens.is_expired(now_ms()));
    if let Some(tokens) = taken_elsewhere(&slot) {
        return Ok(tokens);
    }
    // The lock holder stores the new fingerprint before releasing; its broadcast may still be
    // on the way. Wait for it rather than spend a rotated refresh token, which a server with
    // reuse detection answers by revoking the whole grant.
    let marker = storage::get(Area::Local, &storage::key(FINGERPRINT_PREFIX, &slot.key));
    if marker.is_some() && marker != started_fingerprint {
        let mut waited = 0;
        while waited < ROTATED_WAIT_MS {
            if let Some(tokens) = taken_elsewhere(&slot) {
                return Ok(tokens);
            }
            if waited == ROTATED_WAIT_MS / 2 {
                channel::post(&slot.message(TOKENS_REQUEST));
            }
            sleep(50).await;
            waited += 50;
        }
    }
    let refresh_token = started_with.refresh_token.clone().ok_or_else(not_connected)?;
    let mut attempt = 0;
    loop {
        match request_refresh(&plan, &refresh_token).await {
            Ok(tokens) => {
                let subject = match (&tokens.id_token, &plan.issuer) {
                    (Some(id_token), Some(issuer)) => {
                        let sub = slot.subject();
                        Some(crate::browser::flows::check_id_token(id_token, issuer, &plan.client_id, None, sub.as_deref())?)
                    }
                    _ => None,
                };
                slot.store(tokens.clone(), subject);
                plan.events.emit("refresh", None, None);
                return Ok(tokens);
            }
            Err(error) if token::is_invalid_grant(&error) => {
                slot.require_reconnect();
                plan.events.emit("reconnect_required", None, Some(ErrorCode::ReconnectRequired));
                let mut reconnect = ConnectError::new(ErrorCode::ReconnectRequired, "the provider no longer accepts this connection's refresh token: connect again");
                if let Some(provider) = error.provider() {
                    reconnect = reconnect.with_provider(provider.clone());
                }
                return Err(reconnect);
            }
            Err(error) if token::is_retryable(&error) && attempt < token::REFRESH_RETRY_DELAYS_MS.len() => {
                sleep(token::REFRESH_RETRY_DELAYS_MS[attempt]).await;
                attempt += 1;
            }
            Err(error) => {
                plan.events.emit("error", None, Some(error.code()));
                return Err(error);
            }
        }
    }
}

async fn request_refresh(plan: &RefreshPlan, refresh_token: &Secret) -> Result<TokenSet> {
    let response = http::post_form(&plan.token_endpoint, &token::refresh_body(refresh_token, &plan.client_id)).await?;
    token::token_set_from_response(&response.into_object()?, now_ms(), Some(refresh_token))
}
