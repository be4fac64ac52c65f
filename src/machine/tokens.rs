//! Token sets, one slot per connection (see `ConnectConfig::connection_key`), shared by every
//! `Connect` of the tab with the same config and, over the channel, with the app's other tabs.
//!
//! **The refresh token never leaves the tab that got it** (the contract's `tokenStorage` rule):
//! no channel message carries one, and a set from the channel is only ever taken as an access
//! token. The tab that holds the refresh token (the one that connected) refreshes for all: a
//! tab without one that needs a fresh access token asks the others, and the holder refreshes
//! (if its token is due) and shares the new access token. A tab takes a shared set only while
//! it holds no refresh token of its own, never one that names another `sub`.
//!
//! Refresh ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)) is single-flight
//! in the tab (every caller waits for the one refresh) and across tabs (a Web Lock per
//! connection). Two tabs may still hold the same refresh token (a tab duplicated with its
//! `sessionStorage`): a holder that finds the token rotated by another tab (its fingerprint in
//! `localStorage` changed) never spends its own, now stale, copy; it drops it and takes the
//! access token the other tab shares.

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
    /// The connection's `requestTimeoutMs`.
    request_timeout_ms: u32,
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
    /// A tab without the refresh token waits for the holder's fresh access token.
    borrow: Option<Borrow>,
    /// The set came from another tab that holds its refresh token (and refreshes for this one).
    refreshed_elsewhere: bool,
}

/// Callers waiting for another tab's fresh access token, and the timers of the wait (half-way
/// the request is sent again; at the end the wait gives up).
struct Borrow {
    waiters: Vec<Waiter>,
    half: Id,
    end: Id,
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
            borrow: None,
            refreshed_elsewhere: false,
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
        let stored = entry(&entries, STORED_TOKENS_PREFIX, &slot.key).and_then(|text| match crate::json::parse(text) {
            Ok(Value::Record(record)) => TokenSet::from_contract_fields(&record).ok().map(|tokens| (tokens, record)),
            _ => None,
        });
        match stored {
            Some((tokens, record)) => {
                // The OIDC `sub` is kept with the set, so a refreshed ID token is compared with
                // it after a reload too (OIDC Core §12.2).
                if let Some(Value::Text(sub)) = record.field("sub") {
                    slot.subject = Some(sub.clone());
                }
                slot.tokens = Some(tokens);
            }
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
        super::put(&mut w, "type", kind);
        super::put(&mut w, "key", &slot.key);
        if kind == TOKENS_MESSAGE {
            w.key("tokens");
            match &slot.tokens {
                // Every same-origin page can listen: the access token only.
                Some(tokens) => w.value(&providers::token_set_record(tokens, false)),
                None => w.null(),
            }
            if reconnect {
                w.key("reconnect");
                w.bool(true);
            }
            // This tab refreshes the set for the others.
            if slot.tokens.as_ref().is_some_and(|tokens| tokens.refresh_token.is_some()) {
                w.key("refreshable");
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
                let mut record = providers::token_set_record(tokens, true);
                if let (Value::Record(fields), Some(sub)) = (&mut record, &slot.subject) {
                    fields.push((String::from("sub"), Value::Text(sub.clone())));
                }
                Effect::WriteStorage { area: Area::Session, key: stored, value: crate::json::to_string(&record) }
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
        slot.refreshed_elsewhere = false;
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
        self.forget_tokens(index, true);
        self.emit(Listener::Connection(connection), provider, "reconnect_required", None, Some(ErrorCode::ReconnectRequired));
    }

    /// The slot holds no tokens now (`reconnect`: the app must connect again), here, in
    /// `sessionStorage`, and in the other tabs.
    fn forget_tokens(&mut self, index: usize, reconnect: bool) {
        let slot = &mut self.slots[index];
        slot.reconnect_required = reconnect;
        slot.tokens = None;
        self.persist(index);
        self.share(index, reconnect);
    }

    /// `disconnect()`: end a flow and a refresh in flight and forget the connection in every tab.
    pub(crate) fn disconnect(&mut self, connection: Id) {
        self.abort_connection_job(connection);
        let Some((_, index)) = self.connection_slot(connection) else { return };
        // A refresh in flight ends now (its callers get `aborted`, its lock goes): its answer
        // must not bring back the tokens this call forgets.
        self.finish_refresh(index, Err(super::flow::aborted()));
        if let Some(connection) = self.connection_mut(connection) {
            connection.status = super::Status::Idle;
        }
        let slot = &mut self.slots[index];
        slot.subject = None;
        let name = key(FINGERPRINT_PREFIX, &slot.key);
        self.effects.push(Effect::RemoveStorage { area: Area::Local, key: name });
        self.forget_tokens(index, false);
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
                    self.share_fresh(index);
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
                        let Ok(mut tokens) = TokenSet::from_contract_fields(shared) else { return };
                        // Never a refresh token from the channel, whatever a page sent.
                        tokens.refresh_token = None;
                        // A tab holding the refresh token keeps its own set, unless another tab
                        // rotated that token (its refresh waits for this set).
                        let holds = slot.tokens.as_ref().is_some_and(|own| own.refresh_token.is_some());
                        let rotated_elsewhere = matches!(slot.refresh.as_ref().map(|r| r.stage), Some(RefreshStage::AwaitingRotated { .. }));
                        let sub = match message.field("sub") {
                            Some(Value::Text(sub)) => Some(sub),
                            _ => None,
                        };
                        let another_user = slot.subject.as_ref().is_some_and(|known| sub != Some(known));
                        if (holds && !rotated_elsewhere) || another_user {
                            return;
                        }
                        slot.reconnect_required = false;
                        if let Some(sub) = sub {
                            slot.subject = Some(sub.clone());
                        }
                        slot.tokens = Some(tokens);
                        slot.refreshed_elsewhere = matches!(message.field("refreshable"), Some(Value::Bool(true)));
                        self.persist(index);
                        self.rotated_arrived(index);
                        return self.borrowed_arrived(index);
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
        let (skew, request_timeout_ms) = (c.config.refresh_skew_ms, c.config.request_timeout_ms);
        let route = providers::refresh_route(&c.config, &c.memory);
        let slot = &self.slots[index];
        let refused = if matches!(route, RefreshRoute::NotHere) {
            Some((ErrorCode::InvalidConfig, "this connection has no tokenEndpoint: its tokens, if any, are kept by your backend"))
        } else if slot.reconnect_required {
            Some((ErrorCode::ReconnectRequired, "the provider revoked this connection: connect again"))
        } else if let Some(current) = &slot.tokens {
            let no_refresh_token = current.refresh_token.is_none();
            if no_refresh_token && slot.refreshed_elsewhere {
                // Another tab holds the refresh token: ask it for a fresh access token.
                if force || current.needs_refresh(self.now_ms, skew) {
                    return self.borrow_fresh(index, Waiter { call, wants_set: force });
                }
            }
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
        if let RefreshRoute::Discover(fetch) = route {
            self.fetch(Wait::Discover(connection, call, force), fetch, request_timeout_ms);
            return;
        }
        self.start_refresh(connection, index, alloc::vec![waiter]);
    }

    /// Start the slot's refresh for `waiters` (none: for the other tabs, which the refresh's
    /// share answers). Where the token endpoint is not known yet (OIDC after a reload), what
    /// is here is shared instead.
    fn start_refresh(&mut self, connection: Id, index: usize, waiters: Vec<Waiter>) {
        let Some(c) = self.connection(connection) else { return };
        let (provider, request_timeout_ms) = (c.config.kind(), c.config.request_timeout_ms);
        let (token_endpoint, issuer) = match providers::refresh_route(&c.config, &c.memory) {
            RefreshRoute::Endpoint { token_endpoint, issuer } => (token_endpoint, issuer),
            RefreshRoute::Discover(_) | RefreshRoute::NotHere => return self.share(index, false),
        };
        let client_id = String::from(c.config.client_id());
        let lock = self.wait_for(Wait::Refresh(index));
        let slot = &mut self.slots[index];
        let name = key(LOCK_PREFIX, &slot.key);
        let Some(refresh_token) = slot.tokens.as_ref().and_then(|tokens| tokens.refresh_token.clone()) else { return };
        let fingerprint = token::fingerprint(&refresh_token);
        slot.refresh = Some(alloc::boxed::Box::new(Refresh {
            waiters,
            refresh_token,
            fingerprint,
            token_endpoint,
            client_id,
            request_timeout_ms,
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

    /// Wait for another tab's fresh access token (this tab holds no refresh token).
    fn borrow_fresh(&mut self, index: usize, waiter: Waiter) {
        if let Some(borrow) = &mut self.slots[index].borrow {
            return borrow.waiters.push(waiter);
        }
        let half = self.start_timer(Wait::Borrow(index), ROTATED_WAIT_MS / 2);
        let end = self.start_timer(Wait::Borrow(index), ROTATED_WAIT_MS);
        self.slots[index].borrow = Some(Borrow { waiters: alloc::vec![waiter], half, end });
        self.ask_other_tabs(index);
    }

    /// A set arrived from another tab: callers waiting for a fresh access token get it.
    fn borrowed_arrived(&mut self, index: usize) {
        let fresh = self.slots[index].tokens.as_ref().is_some_and(|tokens| !tokens.is_expired(self.now_ms));
        if fresh {
            self.end_borrow(index);
        }
    }

    pub(crate) fn borrow_timer(&mut self, index: usize, timer: Id) {
        let Some(borrow) = self.slots.get(index).and_then(|slot| slot.borrow.as_ref()) else { return };
        if timer == borrow.half {
            self.ask_other_tabs(index);
        } else if timer == borrow.end {
            self.end_borrow(index);
        }
    }

    /// The wait is over: the waiters get the access token this tab holds while it is still
    /// valid, or `reconnect_required` (no tab of the app holds the refresh token any more).
    fn end_borrow(&mut self, index: usize) {
        let Some(borrow) = self.slots[index].borrow.take() else { return };
        self.cancel_timer(Some(borrow.half));
        self.cancel_timer(Some(borrow.end));
        let outcome = self.valid_or_reconnect(index);
        self.answer_waiters(index, &borrow.waiters, outcome.err().as_ref());
    }

    /// Answer every waiter: the slot's tokens, or `error` when the wait failed. One loop for
    /// the end of a refresh and of a borrow wait.
    fn answer_waiters(&mut self, index: usize, waiters: &[Waiter], error: Option<&ConnectError>) {
        for waiter in waiters {
            match error {
                None => self.answer_tokens(waiter.call, index, waiter.wants_set),
                Some(error) => self.reject(waiter.call, error.clone()),
            }
        }
    }

    /// What a tab without a (usable) refresh token answers when no fresh set came from the tab
    /// that has one: its access token while it is valid, else `reconnect_required`.
    fn valid_or_reconnect(&self, index: usize) -> Result<()> {
        if self.slots[index].tokens.as_ref().is_some_and(|tokens| !tokens.is_expired(self.now_ms)) {
            Ok(())
        } else {
            Err(ConnectError::new(ErrorCode::ReconnectRequired, "the access token expired and no tab of this app holds its refresh token: connect again"))
        }
    }

    /// Another tab asked for the set: refresh first when the access token is due (this tab
    /// holds the refresh token; the refresh shares its result), else share what is here.
    fn share_fresh(&mut self, index: usize) {
        let slot = &self.slots[index];
        let holds = slot.tokens.as_ref().is_some_and(|tokens| tokens.refresh_token.is_some());
        let connection = self.connections.iter().find(|c| c.config.connection_key_str() == slot.key);
        let due = connection.is_some_and(|c| slot.tokens.as_ref().is_some_and(|tokens| tokens.needs_refresh(self.now_ms, c.config.refresh_skew_ms)));
        match connection.map(|c| c.id) {
            Some(connection) if holds && due => {
                if slot.refresh.is_none() {
                    self.start_refresh(connection, index, alloc::vec::Vec::new());
                }
            }
            _ => self.share(index, false),
        }
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
            w.value(&providers::token_set_record(tokens, true));
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

    /// Another tab rotated the refresh token this tab holds a copy of, and its set never came:
    /// the copy is stale (spending it would make a server with reuse detection revoke the
    /// grant), so it goes; the callers get the access token while it is valid.
    fn rotated_never_came(&mut self, index: usize) {
        if let Some(tokens) = self.slots[index].tokens.as_mut() {
            tokens.refresh_token = None;
        }
        self.persist(index);
        let outcome = self.valid_or_reconnect(index).map(|()| false);
        self.finish_refresh(index, outcome);
    }

    pub(crate) fn refresh_timer(&mut self, index: usize, timer: Id) {
        let Some(refresh) = self.slots.get(index).and_then(|slot| slot.refresh.as_ref()) else { return };
        match refresh.stage {
            RefreshStage::AwaitingRotated { half, .. } if half == timer => self.ask_other_tabs(index),
            RefreshStage::AwaitingRotated { end, .. } if end == timer => self.rotated_never_came(index),
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
        let timeout_ms = refresh.request_timeout_ms;
        let request = self.fetch(Wait::Refresh(index), fetch, timeout_ms);
        if let Some(refresh) = self.slots[index].refresh.as_mut() {
            refresh.stage = RefreshStage::Requesting;
            refresh.pending = Some(request);
        }
    }

    pub(crate) fn refresh_answered(&mut self, index: usize, answer: HttpAnswer) {
        let Some(Slot { subject: known_subject, refresh: Some(refresh), .. }) = self.slots.get_mut(index) else { return };
        refresh.pending = None;
        // A request that used all of requestTimeoutMs is not tried again: the lock and every
        // waiter have waited long enough.
        let timed_out = answer == HttpAnswer::TimedOut;
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
                self.forget_tokens(index, true);
                self.finish_refresh(index, Err(reconnect));
            }
            Err(error) if token::is_retryable(&error) && !timed_out && refresh.attempt < token::REFRESH_RETRY_DELAYS_MS.len() => {
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
            match refresh.stage {
                RefreshStage::Requesting => self.forget_request(pending),
                RefreshStage::Retrying => self.cancel_timer(Some(pending)),
                _ => {
                    self.take_wait(pending);
                }
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
            // `disconnect()` ended it: the app asked for that, no event.
            Err(_) if code == Some(ErrorCode::Aborted) => None,
            Err(_) => Some("error"),
        };
        if let Some(name) = name {
            self.emit(refresh.listener, refresh.provider, name, None, code);
        }
        self.answer_waiters(index, &refresh.waiters, outcome.as_ref().err());
    }
}
