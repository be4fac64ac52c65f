//! Token sets, one slot per connection (see `ConnectConfig::connection_key`), shared by every
//! `Connect` of the tab with the same config and, over the channel, with the app's other tabs.
//! Refresh ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)) is single-flight
//! in the tab (every caller waits for the one refresh) and across tabs (a Web Lock per
//! connection; a tab that waited for the lock takes the set another tab just got instead of
//! spending its own, now rotated, refresh token).

use alloc::string::String;
use alloc::vec::Vec;

use super::{entry, key, Tab, Wait};
use crate::config::{ConnectConfig, TokenStorage};
use crate::effect::{Area, Effect, HttpAnswer, Id, Listener};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::{Fields, Value};
use crate::json::JsonWriter;
use crate::providers::{self, RefreshRoute, Response};
use crate::secret::Secret;
use crate::token::{self, TokenSet};

const TOKENS_MESSAGE: &str = "oauth-connect:tokens";
const TOKENS_REQUEST: &str = "oauth-connect:tokens?";
const STORED_TOKENS_PREFIX: &str = "oauth-connect:tokens:";
const FINGERPRINT_PREFIX: &str = "oauth-connect:rt:";
const LOCK_PREFIX: &str = "oauth-connect refresh ";

/// How long a tab that finds its refresh token rotated by another tab waits for that tab's
/// broadcast before trying its own; half-way it asks for it again.
const ROTATED_WAIT_MS: u32 = 2_000;

/// Who waits for a refresh, and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Waiter {
    call: Id,
    /// `refresh()` wants the token set; `accessToken()` the access token.
    wants_set: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshStage {
    Locking,
    ReadingFingerprint,
    /// Another tab rotated the refresh token: its broadcast should be on the way.
    AwaitingRotated { half: Id, end: Id },
    Requesting,
    Retrying,
}

struct Refresh {
    waiters: Vec<Waiter>,
    /// The refresh token this refresh spends (the slot's when it began), and its fingerprint:
    /// a slot whose token has another fingerprint was refreshed elsewhere meanwhile.
    refresh_token: Secret,
    fingerprint: String,
    token_endpoint: String,
    client_id: String,
    /// OIDC: a refreshed ID token is checked against it.
    issuer: Option<String>,
    listener: Listener,
    provider: &'static str,
    lock: Option<Id>,
    stage: RefreshStage,
    attempt: usize,
    pending: Option<Id>,
}

pub struct Slot {
    pub(crate) key: String,
    storage: TokenStorage,
    pub(crate) tokens: Option<TokenSet>,
    pub(crate) reconnect_required: bool,
    /// The OIDC `sub` of the connection: a refreshed ID token must name the same user.
    subject: Option<String>,
    refresh: Option<alloc::boxed::Box<Refresh>>,
}

fn fingerprint_of(tokens: &TokenSet) -> Option<String> {
    tokens.refresh_token.as_ref().map(token::fingerprint)
}

const NOT_CONNECTED: &str = "there is no connection: connect first";

impl Tab {
    pub(crate) fn slot_of(&self, config: &ConnectConfig) -> Option<&Slot> {
        self.slots.get(self.slot_index(config)?)
    }

    /// A connection of the app and the index of its slot (made with it, never removed).
    #[inline(always)]
    fn connection_slot(&self, connection: Id) -> Option<(&super::Connection, usize)> {
        let connection = self.connection(connection)?;
        Some((connection, self.slot_index(&connection.config)?))
    }

    fn slot_index(&self, config: &ConnectConfig) -> Option<usize> {
        self.slot_by_key(config.connection_key_str())
    }

    fn slot_by_key(&self, key: &str) -> Option<usize> {
        self.slots.iter().position(|slot| slot.key == key)
    }

    /// The slot of a connection, made (and filled from `sessionStorage` or another tab) on
    /// first use.
    pub(crate) fn slot_for(&mut self, config: &ConnectConfig) -> usize {
        if let Some(index) = self.slot_index(config) {
            if config.token_storage == TokenStorage::Session && self.slots[index].storage != TokenStorage::Session {
                self.slots[index].storage = TokenStorage::Session;
                self.persist(index);
            }
            return index;
        }
        let connection_key = config.connection_key();
        self.slots.push(Slot {
            key: connection_key.clone(),
            storage: config.token_storage,
            tokens: None,
            reconnect_required: false,
            subject: None,
            refresh: None,
        });
        let index = self.slots.len() - 1;
        self.update_listening();
        match config.token_storage {
            TokenStorage::Session => {
                self.read_storage(Wait::Restore(index), Area::Session, key(STORED_TOKENS_PREFIX, &connection_key));
            }
            TokenStorage::Memory => self.ask_other_tabs(index),
        }
        index
    }

    fn ask_other_tabs(&mut self, index: usize) {
        self.broadcast(index, TOKENS_REQUEST, false);
    }

    /// The token set this tab kept in `sessionStorage` (before a reload).
    pub(crate) fn restore(&mut self, index: usize, entries: Vec<(String, String)>) {
        let Some(slot) = self.slots.get_mut(index) else { return };
        let tokens = entry(&entries, STORED_TOKENS_PREFIX, &slot.key).and_then(|text| match crate::json::parse(text) {
            Ok(Value::Record(record)) => TokenSet::from_contract_fields(&record).ok(),
            _ => None,
        });
        match tokens {
            Some(tokens) => slot.tokens = Some(tokens),
            None => self.ask_other_tabs(index),
        }
    }

    /// Tell the other tabs about this slot: a `TOKENS_REQUEST` (type and key only), or a
    /// `TOKENS_MESSAGE` with what the slot holds now.
    fn broadcast(&mut self, index: usize, kind: &'static str, reconnect: bool) {
        let slot = &self.slots[index];
        let mut message = String::new();
        let mut w = JsonWriter::new(&mut message);
        w.begin_object();
        w.key("type");
        w.string(kind);
        w.key("key");
        w.string(&slot.key);
        if kind == TOKENS_MESSAGE {
            w.key("tokens");
            match &slot.tokens {
                Some(tokens) => w.value(&providers::token_set_record(tokens)),
                None => w.null(),
            }
            if reconnect {
                w.key("reconnect");
                w.bool(true);
            }
            if let Some(sub) = &slot.subject {
                super::put(&mut w, "sub", sub);
            }
        }
        w.end_object();
        self.effects.push(Effect::Broadcast { message });
    }

    /// Tell the other tabs what this slot holds now.
    fn share(&mut self, index: usize, reconnect: bool) {
        self.broadcast(index, TOKENS_MESSAGE, reconnect);
    }

    /// Keep `sessionStorage` in step with the slot (or clear it).
    fn persist(&mut self, index: usize) {
        let slot = &self.slots[index];
        let stored = key(STORED_TOKENS_PREFIX, &slot.key);
        let effect = match (slot.storage, &slot.tokens) {
            (TokenStorage::Session, Some(tokens)) => {
                Effect::WriteStorage { area: Area::Session, key: stored, value: crate::json::to_string(&providers::token_set_record(tokens)) }
            }
            _ => Effect::RemoveStorage { area: Area::Session, key: stored },
        };
        self.effects.push(effect);
    }

    /// A new token set from a connect or a refresh of this tab: keep it, tell the other tabs.
    pub(crate) fn store_tokens(&mut self, config: &ConnectConfig, tokens: TokenSet, subject: Option<String>) {
        let index = self.slot_for(config);
        self.store_in(index, tokens, subject);
    }

    fn store_in(&mut self, index: usize, tokens: TokenSet, subject: Option<String>) {
        if let Some(fingerprint) = fingerprint_of(&tokens) {
            let name = key(FINGERPRINT_PREFIX, &self.slots[index].key);
            self.effects.push(Effect::WriteStorage { area: Area::Local, key: name, value: fingerprint });
        }
        let slot = &mut self.slots[index];
        if subject.is_some() {
            slot.subject = subject;
        }
        slot.reconnect_required = false;
        slot.tokens = Some(tokens);
        self.persist(index);
        self.share(index, false);
    }

    /// A flow of a kind without tokens succeeded: the connection stands again.
    pub(crate) fn slot_connected(&mut self, config: &ConnectConfig) {
        if let Some(index) = self.slot_index(config) {
            self.slots[index].reconnect_required = false;
        }
    }

    /// The provider refused the refresh token, or the app learned the authorization is gone:
    /// every tab must connect again.
    pub(crate) fn require_reconnect(&mut self, connection: Id) {
        let Some((c, index)) = self.connection_slot(connection) else { return };
        let provider = c.config.kind();
        self.reconnect_slot(index);
        self.emit(Listener::Connection(connection), provider, "reconnect_required", None, Some(ErrorCode::ReconnectRequired));
    }

    fn reconnect_slot(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.reconnect_required = true;
        slot.tokens = None;
        self.persist(index);
        self.share(index, true);
    }

    /// `disconnect()`: end a flow in flight and forget the connection in every tab.
    pub(crate) fn disconnect(&mut self, connection: Id) {
        self.abort_connection_job(connection);
        let Some((_, index)) = self.connection_slot(connection) else { return };
        if let Some(connection) = self.connection_mut(connection) {
            connection.status = super::Status::Idle;
        }
        let slot = &mut self.slots[index];
        slot.reconnect_required = false;
        slot.tokens = None;
        slot.subject = None;
        let name = key(FINGERPRINT_PREFIX, &slot.key);
        self.effects.push(Effect::RemoveStorage { area: Area::Local, key: name });
        self.persist(index);
        self.share(index, false);
    }

    /// A message on the channel: a relayed callback, or tokens of another tab.
    pub(crate) fn channel_message(&mut self, data: Option<&str>) {
        let Some(Ok(Value::Record(message))) = data.map(crate::json::parse) else { return };
        if let Some(url) = super::flow::callback_url(&message) {
            return self.callback_relayed(url, None);
        }
        let Some(Value::Text(slot_key)) = message.field("key") else { return };
        let Some(index) = self.slot_by_key(slot_key) else { return };
        match message.field("type") {
            Some(Value::Text(kind)) if kind == TOKENS_REQUEST => {
                let slot = &self.slots[index];
                if slot.tokens.is_some() && !slot.reconnect_required {
                    self.share(index, false);
                }
            }
            Some(Value::Text(kind)) if kind == TOKENS_MESSAGE => {
                let slot = &mut self.slots[index];
                match (message.field("reconnect"), message.field("tokens")) {
                    (Some(Value::Bool(true)), _) => {
                        slot.reconnect_required = true;
                        slot.tokens = None;
                    }
                    (_, Some(Value::Other)) => {
                        // Another tab disconnected: a connection of this tab that connected by
                        // its own flow is no longer connected either.
                        slot.tokens = None;
                        for connection in self.connections.iter_mut().filter(|c| c.config.connection_key_str() == slot.key) {
                            if connection.status == super::Status::Connected {
                                connection.status = super::Status::Idle;
                            }
                        }
                    }
                    (_, Some(Value::Record(shared))) => {
                        let Ok(tokens) = TokenSet::from_contract_fields(shared) else { return };
                        slot.reconnect_required = false;
                        if let Some(Value::Text(sub)) = message.field("sub") {
                            slot.subject = Some(sub.clone());
                        }
                        slot.tokens = Some(tokens);
                    }
                    _ => return,
                }
                self.persist(index);
                self.rotated_arrived(index);
            }
            _ => {}
        }
    }

    /// `accessToken()` (`wants_set: false`) and `refresh()` (`true`, always refreshes).
    pub(crate) fn fresh_tokens(&mut self, connection: Id, call: Id, force: bool) {
        let Some((c, index)) = self.connection_slot(connection) else { return };
        let (skew, provider) = (c.config.refresh_skew_ms, c.config.kind());
        let route = providers::refresh_route(&c.config, &c.memory);
        let slot = &self.slots[index];
        let refused = if matches!(route, RefreshRoute::NotHere) {
            Some((ErrorCode::InvalidConfig, "this connection has no tokenEndpoint: its tokens, if any, are kept by your backend"))
        } else if slot.reconnect_required {
            Some((ErrorCode::ReconnectRequired, "the provider revoked this connection: connect again"))
        } else if let Some(current) = &slot.tokens {
            let no_refresh_token = current.refresh_token.is_none();
            if !force && (!current.needs_refresh(self.now_ms, skew) || (no_refresh_token && !current.is_expired(self.now_ms))) {
                return self.answer_tokens(call, index, force);
            }
            no_refresh_token.then_some((ErrorCode::ReconnectRequired, "the access token expired and there is no refresh token: connect again"))
        } else {
            Some((ErrorCode::ReconnectRequired, NOT_CONNECTED))
        };
        if let Some((code, message)) = refused {
            return self.reject(call, ConnectError::new(code, message));
        }
        let waiter = Waiter { call, wants_set: force };
        if let Some(refresh) = &mut self.slots[index].refresh {
            return refresh.waiters.push(waiter);
        }
        let (token_endpoint, issuer) = match route {
            RefreshRoute::Endpoint { token_endpoint, issuer } => (token_endpoint, issuer),
            RefreshRoute::Discover(fetch) => {
                self.fetch(Wait::Discover(connection, call, force), fetch);
                return;
            }
            RefreshRoute::NotHere => return,
        };
        let Some(c) = self.connection(connection) else { return };
        let client_id = String::from(c.config.client_id());
        let lock = self.wait_for(Wait::Refresh(index));
        let slot = &mut self.slots[index];
        let name = key(LOCK_PREFIX, &slot.key);
        let Some(refresh_token) = slot.tokens.as_ref().and_then(|tokens| tokens.refresh_token.clone()) else { return };
        let fingerprint = token::fingerprint(&refresh_token);
        slot.refresh = Some(alloc::boxed::Box::new(Refresh {
            waiters: alloc::vec![waiter],
            refresh_token,
            fingerprint,
            token_endpoint,
            client_id,
            issuer,
            listener: Listener::Connection(connection),
            provider,
            lock: Some(lock),
            stage: RefreshStage::Locking,
            attempt: 0,
            pending: Some(lock),
        }));
        self.effects.push(Effect::RequestLock { lock, name });
    }

    /// OIDC discovery before a refresh came back: try the call again.
    pub(crate) fn discovered(&mut self, connection: Id, call: Id, force: bool, answer: HttpAnswer) {
        let Some(index) = self.connection_index(connection) else { return };
        let c = &mut self.connections[index];
        let outcome = Self::read_answer(answer).and_then(|response| providers::discovered(&c.config, &mut c.memory, response));
        match outcome {
            Ok(()) => self.fresh_tokens(connection, call, force),
            Err(error) => self.reject(call, error),
        }
    }

    /// Answer `call` with the slot's token set (`wants_set`) or its access token.
    fn answer_tokens(&mut self, call: Id, index: usize, wants_set: bool) {
        let Some(tokens) = &self.slots[index].tokens else { return };
        let mut json = String::new();
        let mut w = JsonWriter::new(&mut json);
        if wants_set {
            w.value(&providers::token_set_record(tokens));
        } else {
            w.string(tokens.access_token.expose());
        }
        self.effects.push(Effect::Resolve { call, json });
    }

    /// The refresh holds the lock. Another tab may have refreshed while this one waited: its
    /// broadcast set is newer than the one this refresh started from.
    pub(crate) fn lock_granted(&mut self, index: usize, lock: Id) {
        let Some(refresh) = self.slots.get_mut(index).and_then(|slot| slot.refresh.as_mut()) else {
            return self.effects.push(Effect::ReleaseLock { lock });
        };
        refresh.pending = None;
        if self.taken_elsewhere(index) {
            return self.finish_refresh(index, Ok(false));
        }
        // The lock holder stores the new fingerprint before releasing; its broadcast may still
        // be on the way. Read the fingerprint rather than spend a rotated refresh token, which a
        // server with reuse detection answers by revoking the whole grant.
        let prefix = key(FINGERPRINT_PREFIX, &self.slots[index].key);
        let read = self.read_storage(Wait::Refresh(index), Area::Local, prefix);
        if let Some(refresh) = self.slots[index].refresh.as_mut() {
            refresh.stage = RefreshStage::ReadingFingerprint;
            refresh.pending = Some(read);
        }
    }

    /// Another tab refreshed since this refresh began: the slot holds a newer, live set.
    fn taken_elsewhere(&self, index: usize) -> bool {
        let slot = &self.slots[index];
        let (Some(refresh), Some(tokens)) = (&slot.refresh, &slot.tokens) else { return false };
        fingerprint_of(tokens).as_ref() != Some(&refresh.fingerprint) && !tokens.is_expired(self.now_ms)
    }

    pub(crate) fn fingerprint_read(&mut self, index: usize, entries: Vec<(String, String)>) {
        let Some(slot) = self.slots.get(index) else { return };
        let Some(refresh) = &slot.refresh else { return };
        let marker = entry(&entries, FINGERPRINT_PREFIX, &slot.key);
        if marker.is_some_and(|marker| marker != refresh.fingerprint) {
            let half = self.start_timer(Wait::Refresh(index), ROTATED_WAIT_MS / 2);
            let end = self.start_timer(Wait::Refresh(index), ROTATED_WAIT_MS);
            if let Some(refresh) = self.slots[index].refresh.as_mut() {
                refresh.stage = RefreshStage::AwaitingRotated { half, end };
                refresh.pending = None;
            }
            return;
        }
        self.request_refresh(index);
    }

    /// A token set arrived from another tab: a refresh waiting for it is done.
    fn rotated_arrived(&mut self, index: usize) {
        let waiting = matches!(self.slots[index].refresh.as_ref().map(|r| r.stage), Some(RefreshStage::AwaitingRotated { .. }));
        if waiting && self.taken_elsewhere(index) {
            self.finish_refresh(index, Ok(false));
        }
    }

    pub(crate) fn refresh_timer(&mut self, index: usize, timer: Id) {
        let Some(refresh) = self.slots.get(index).and_then(|slot| slot.refresh.as_ref()) else { return };
        match refresh.stage {
            RefreshStage::AwaitingRotated { half, .. } if half == timer => self.ask_other_tabs(index),
            RefreshStage::AwaitingRotated { end, .. } if end == timer => self.request_refresh(index),
            RefreshStage::Retrying => self.request_refresh(index),
            _ => {}
        }
    }

    fn request_refresh(&mut self, index: usize) {
        let Some(refresh) = self.slots[index].refresh.as_ref() else { return };
        if let RefreshStage::AwaitingRotated { half, end } = refresh.stage {
            self.cancel_timer(Some(half));
            self.cancel_timer(Some(end));
        }
        let Some(refresh) = self.slots[index].refresh.as_ref() else { return };
        let body = token::refresh_body(&refresh.refresh_token, &refresh.client_id);
        let fetch = providers::Fetch::post_form(&refresh.token_endpoint, body);
        let request = self.fetch(Wait::Refresh(index), fetch);
        if let Some(refresh) = self.slots[index].refresh.as_mut() {
            refresh.stage = RefreshStage::Requesting;
            refresh.pending = Some(request);
        }
    }

    pub(crate) fn refresh_answered(&mut self, index: usize, answer: HttpAnswer) {
        let Some(Slot { subject: known_subject, refresh: Some(refresh), .. }) = self.slots.get_mut(index) else { return };
        refresh.pending = None;
        let outcome = Self::read_answer(answer)
            .and_then(Response::into_object)
            .and_then(|body| token::token_set_from_response(&body, self.now_ms, Some(&refresh.refresh_token)));
        match outcome {
            Ok(tokens) => {
                let subject = match (&tokens.id_token, &refresh.issuer) {
                    (Some(id_token), Some(issuer)) => {
                        match providers::oidc::check_id_token(id_token, issuer, &refresh.client_id, None, known_subject.as_deref(), self.now_ms) {
                            Ok(sub) => Some(sub),
                            Err(error) => return self.finish_refresh(index, Err(error)),
                        }
                    }
                    _ => None,
                };
                self.store_in(index, tokens, subject);
                self.finish_refresh(index, Ok(true));
            }
            Err(error) if token::is_invalid_grant(&error) => {
                let mut reconnect = ConnectError::new(ErrorCode::ReconnectRequired, "the provider no longer accepts this connection's refresh token: connect again");
                if let Some(provider) = error.provider() {
                    reconnect = reconnect.with_provider(provider.clone());
                }
                self.reconnect_slot(index);
                self.finish_refresh(index, Err(reconnect));
            }
            Err(error) if token::is_retryable(&error) && refresh.attempt < token::REFRESH_RETRY_DELAYS_MS.len() => {
                let delay = token::REFRESH_RETRY_DELAYS_MS[refresh.attempt];
                refresh.attempt += 1;
                refresh.stage = RefreshStage::Retrying;
                let timer = self.start_timer(Wait::Refresh(index), delay);
                if let Some(refresh) = self.slots[index].refresh.as_mut() {
                    refresh.pending = Some(timer);
                }
            }
            Err(error) => self.finish_refresh(index, Err(error)),
        }
    }

    /// The refresh is over: release the lock, answer every waiter, tell the app.
    fn finish_refresh(&mut self, index: usize, outcome: Result<bool>) {
        let Some(refresh) = self.slots[index].refresh.take() else { return };
        if let Some(pending) = refresh.pending {
            if self.take_wait(pending).is_some() && refresh.stage == RefreshStage::Retrying {
                self.effects.push(Effect::CancelTimer { timer: pending });
            }
        }
        if let RefreshStage::AwaitingRotated { half, end } = refresh.stage {
            self.cancel_timer(Some(half));
            self.cancel_timer(Some(end));
        }
        if let Some(lock) = refresh.lock {
            if self.take_wait(lock).is_none() {
                self.effects.push(Effect::ReleaseLock { lock });
            }
        }
        let code = outcome.as_ref().err().map(ConnectError::code);
        let name = match outcome {
            Ok(_) if self.slots[index].tokens.is_none() => return,
            Ok(refreshed) => refreshed.then_some("refresh"),
            Err(_) if code == Some(ErrorCode::ReconnectRequired) => Some("reconnect_required"),
            Err(_) => Some("error"),
        };
        if let Some(name) = name {
            self.emit(refresh.listener, refresh.provider, name, None, code);
        }
        for waiter in &refresh.waiters {
            match &outcome {
                Ok(_) => self.answer_tokens(waiter.call, index, waiter.wants_set),
                Err(error) => self.reject(waiter.call, error.clone()),
            }
        }
    }
}
