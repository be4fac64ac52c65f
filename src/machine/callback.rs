//! `handleCallback(url?)`: the `redirectUri` page. Safe on every load: without an authorization
//! response it answers `null`.
//!
//! - In a popup (a popup marker for the state exists, or `window.opener` is set and this tab
//!   has no transaction for it) it relays the URL to the opener by `postMessage` (target: this
//!   origin) and over the channel (which still works when COOP cut the opener), closes the
//!   window and answers `null`. The code is redeemed by the opener, which holds the verifier.
//! - After a redirect it takes the transaction out of `sessionStorage` (single use: the same
//!   URL again is `already_handled`; a state with no transaction is `unknown_state`), validates
//!   the response, completes the flow and answers the result.
//!
//! Either way the authorization response leaves the address bar, the app's own parameters stay.
//! Every call for the same URL gets the same answer (React's StrictMode runs effects twice).

use alloc::string::String;
use alloc::vec::Vec;

use super::flow::Stage;
use super::{entry, key, Caller, Mode, Tab, Wait, HANDLED_PREFIX, POPUP_MARKER_PREFIX, TRANSACTION_PREFIX};
use crate::config::ConnectConfig;
use crate::effect::{Area, Effect, Id, Listener};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::flow::{callback_state, strip_oauth_params, strip_params, Transaction, CALLBACK_MESSAGE_TYPE};
use crate::providers::{self, Arrival};

/// One URL's answer: still being worked out (the calls waiting for it), or given.
enum Answer {
    Pending { calls: Vec<Id>, page: Page },
    Given(Result<String>),
}

/// What the callback page works its answer out from.
#[derive(Default)]
struct Page {
    state: String,
    /// The page's address (without the authorization response when it was in the address bar).
    href: String,
    in_address_bar: bool,
    has_opener: bool,
    /// `sessionStorage`, once read.
    session: Option<Vec<(String, String)>>,
}

/// How many handled URLs' answers a page remembers.
const REMEMBERED_ANSWERS: usize = 4;

#[derive(Default)]
pub(crate) struct Callbacks {
    answers: Vec<(String, Answer)>,
}

impl Tab {
    pub(crate) fn handle_callback(&mut self, call: Id, url: String, mut href: String, has_opener: bool) {
        if let Some((_, answer)) = self.callbacks.answers.iter_mut().find(|(seen, _)| *seen == url) {
            match answer {
                Answer::Pending { calls, .. } => calls.push(call),
                Answer::Given(outcome) => {
                    let outcome = outcome.clone();
                    self.settle(call, outcome);
                }
            }
            return;
        }
        // Nothing to handle: `null`, as it would be every time (not remembered).
        let Some(state) = callback_state(&url) else { return self.resolve_null(call) };
        let in_address_bar = href == url;
        if in_address_bar {
            if let Some(cleaned) = strip_oauth_params(&href) {
                self.effects.push(Effect::ReplaceUrl { url: cleaned.clone() });
                href = cleaned;
            }
        }
        self.read_storage(Wait::Callback(call), Area::Session, String::from("oauth-connect:"));
        let page = Page { state, href, in_address_bar, has_opener, session: None };
        self.callbacks.answers.push((url, Answer::Pending { calls: alloc::vec![call], page }));
    }

    /// The page's storage, first `sessionStorage` then the popup markers of `localStorage`.
    pub(crate) fn callback_read(&mut self, call: Id, entries: Vec<(String, String)>) {
        let Some(index) = self.answer_index(call) else { return };
        let (url, Answer::Pending { page, .. }) = &mut self.callbacks.answers[index] else { return };
        if page.session.is_none() {
            page.session = Some(entries);
            let marker = super::popup_marker_key(&page.state);
            self.read_storage(Wait::Callback(call), Area::Local, marker);
            return;
        }
        // Only `calls` is read once the answer is worked out: take the rest.
        let Page { state, href, in_address_bar, has_opener, session } = core::mem::take(page);
        let (url, session) = (url.clone(), session.unwrap_or_default());
        let transaction = entry(&session, TRANSACTION_PREFIX, &state);
        let handled = entry(&session, HANDLED_PREFIX, &state).is_some();
        // The marker of exactly this state: a read by prefix also finds longer keys, and a
        // response without a state is no popup's.
        let popup_marker = !state.is_empty() && entry(&entries, POPUP_MARKER_PREFIX, &super::popup_marker_name(&state)).is_some();
        if popup_marker || (has_opener && transaction.is_none()) {
            let mut message = String::new();
            let mut w = crate::json::JsonWriter::new(&mut message);
            w.begin_object();
            super::put(&mut w, "type", CALLBACK_MESSAGE_TYPE);
            super::put(&mut w, "url", &url);
            w.end_object();
            self.effects.push(Effect::PostToOpener { message: message.clone() });
            self.effects.push(Effect::Broadcast { message });
            self.effects.push(Effect::CloseSelf);
            return self.callback_ended(call, Ok(String::from("null")));
        }
        let Some(stored) = transaction else {
            let error = if state.is_empty() || !handled {
                ConnectError::new(ErrorCode::UnknownState, "this callback's state matches no flow started in this tab (expired, another tab, or forged)")
            } else {
                ConnectError::new(ErrorCode::AlreadyHandled, "this callback was handled already: an authorization response is used once")
            };
            return self.callback_failed(call, "oauth2", error);
        };
        // Single use: gone before anything else can fail.
        self.effects.push(Effect::RemoveStorage { area: Area::Session, key: key(TRANSACTION_PREFIX, &state) });
        self.write_now(Area::Session, key(HANDLED_PREFIX, &state));
        match read_transaction(stored) {
            Ok((transaction, config)) => {
                if in_address_bar {
                    if let Some(cleaned) = strip_params(&href, providers::response_params(&config)) {
                        self.effects.push(Effect::ReplaceUrl { url: cleaned });
                    }
                }
                self.complete_transaction(call, url, transaction, config);
            }
            Err(error) => self.callback_failed(call, "oauth2", error),
        }
    }

    fn complete_transaction(&mut self, call: Id, url: String, transaction: Transaction, config: ConnectConfig) {
        if transaction.is_expired(self.now_ms) {
            let error = ConnectError::new(ErrorCode::TransactionExpired, "the sign-in took longer than 10 minutes: start again");
            return self.callback_failed(call, config.kind(), error);
        }
        self.slot_for(&config);
        self.new_job(None, Listener::Call(call), config, Caller::Callback(call), Mode::Redirect, transaction.pending);
        let index = self.jobs.len() - 1;
        let j = &mut self.jobs[index];
        j.prepared = transaction.prepared;
        j.return_to = transaction.return_to;
        j.stage = Stage::Completing;
        self.arrived(index, Arrival::Callback(url));
    }

    /// The callback page's flow failed before a job took it over: tell `onEvent`, answer
    /// every call.
    fn callback_failed(&mut self, call: Id, provider: &'static str, error: ConnectError) {
        self.emit(Listener::Call(call), provider, "error", Some(Mode::Redirect), Some(error.code()));
        self.callback_ended(call, Err(error));
    }

    /// `any` rather than `contains`: the slice search `contains` brings for `u32` is an
    /// unrolled loop of its own (16 bytes more brotli).
    #[allow(clippy::manual_contains)]
    fn answer_index(&self, call: Id) -> Option<usize> {
        self.callbacks.answers.iter().position(|(_, answer)| matches!(answer, Answer::Pending { calls, .. } if calls.iter().any(|&waiting| waiting == call)))
    }

    /// The answer for every call that asked about this URL.
    pub(crate) fn callback_ended(&mut self, call: Id, outcome: Result<String>) {
        let Some(index) = self.answer_index(call) else { return };
        let Answer::Pending { calls, .. } = core::mem::replace(&mut self.callbacks.answers[index].1, Answer::Given(outcome.clone())) else { return };
        for call in calls {
            self.settle(call, outcome.clone());
        }
        // Only the last few answers are remembered (a page calls handleCallback() for its own
        // address, a few times at most): an app that passes many URLs does not grow the tab's
        // memory, and an answer holding tokens is not kept longer than that. An answer
        // forgotten is worked out again: `already_handled` for a redirect that was handled.
        let given = |answers: &[(String, Answer)]| answers.iter().filter(|(_, answer)| matches!(answer, Answer::Given(_))).count();
        while given(&self.callbacks.answers) > REMEMBERED_ANSWERS {
            let Some(oldest) = self.callbacks.answers.iter().position(|(_, answer)| matches!(answer, Answer::Given(_))) else { break };
            self.callbacks.answers.remove(oldest);
        }
    }
}

/// A stored transaction and the config it carries, validated again before use.
#[inline(never)]
fn read_transaction(stored: &str) -> Result<(Transaction, ConnectConfig)> {
    let damaged = || ConnectError::new(ErrorCode::UnknownState, "the stored transaction is damaged");
    let Ok(crate::fields::Value::Record(record)) = crate::json::parse(stored) else { return Err(damaged()) };
    let transaction = Transaction::from_fields(&record)?;
    // There: `from_fields` checked it.
    let Some(crate::fields::Value::Record(config)) = crate::fields::Fields::field(&record, "config") else { return Err(damaged()) };
    let config = ConnectConfig::parse(config)?;
    Ok((transaction, config))
}
