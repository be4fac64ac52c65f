//! `handleCallback(url?)`: the `redirectUri` page. Safe on every load: without an
//! authorization response it returns `null`.
//!
//! - In a popup (a popup marker for the state exists, or `window.opener` is set and this tab
//!   has no transaction for it) it relays the URL to the opener by `postMessage` (target: this
//!   origin) and by `BroadcastChannel` (which still works when COOP cut the opener), closes the
//!   window and returns `null`. The code is redeemed by the opener, which holds the verifier.
//! - After a redirect it takes the transaction out of `sessionStorage` (single use: the same
//!   URL again is `already_handled`; a state with no transaction is `unknown_state`), validates
//!   the response, completes the flow and returns the result.
//!
//! Either way the authorization response leaves the address bar (`history.replaceState`), the
//! app's own parameters stay.

use alloc::string::String;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::browser::flows::{self, Arrival, Completion, LiquidSession, Pending, Prepared};
use crate::browser::connect::{completion_slot, now_text, POPUP_MARKER_PREFIX, TRANSACTION_PREFIX};
use crate::browser::events::{Events, Mode};
use crate::browser::js::{self, JsFields};
use crate::browser::storage::{self, Area};
use crate::browser::timers::now_ms;
use crate::config::ConnectConfig;
use crate::encoding::parse_decimal;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::flow::{
    callback_state, provider_response_params, strip_params, Transaction, CALLBACK_MESSAGE_TYPE, OAUTH_RESPONSE_PARAMS, TRANSACTION_TTL_MS,
};

/// `sessionStorage` keys that remember handled callbacks: prefix + state.
const HANDLED_PREFIX: &str = "oauth-connect:done:";

thread_local! {
    /// The answers this page already gave, by URL: a second call for the same URL (React's
    /// StrictMode runs effects twice) gets the same promise instead of `already_handled`.
    static ANSWERED: core::cell::RefCell<alloc::vec::Vec<(String, Promise)>> = const { core::cell::RefCell::new(alloc::vec::Vec::new()) };
}

pub fn handle_callback(url: JsValue, options: JsValue) -> Promise {
    let Some(window) = web_sys::window() else { return Promise::resolve(&JsValue::NULL) };
    let url = match url.as_string() {
        Some(url) => url,
        None if url.is_undefined() || url.is_null() => window.location().href().unwrap_or_default(),
        None => return Promise::reject(&ConnectError::new(ErrorCode::InvalidCallback, "the callback URL must be a string").into()),
    };
    if let Some(answer) = ANSWERED.with(|answered| answered.borrow().iter().find(|(seen, _)| *seen == url).map(|(_, answer)| answer.clone())) {
        return answer;
    }
    let answer = answer_callback(&window, url.clone(), options);
    ANSWERED.with(|answered| answered.borrow_mut().push((url, answer.clone())));
    answer
}

fn answer_callback(window: &web_sys::Window, url: String, options: JsValue) -> Promise {
    let Some(state) = callback_state(&url) else { return Promise::resolve(&JsValue::NULL) };
    let in_address_bar = window.location().href().is_ok_and(|current| current == url);
    if in_address_bar {
        clean_address_bar(window, &OAUTH_RESPONSE_PARAMS);
    }

    let transaction_key = storage::key(TRANSACTION_PREFIX, &state);
    let has_transaction = storage::get(Area::Session, &transaction_key).is_some();
    let popup_marker = storage::get(Area::Local, &storage::key(POPUP_MARKER_PREFIX, &state)).is_some();
    let has_opener = window.opener().is_ok_and(|opener| opener.is_object());
    if popup_marker || (has_opener && !has_transaction) {
        relay_to_opener(window, &url);
        let _ = window.close();
        return Promise::resolve(&JsValue::NULL);
    }
    future_to_promise(async move { complete_redirect(url, state, options, in_address_bar).await.map_err(JsValue::from) })
}

/// Take `names` out of the address bar (`history.replaceState`); only when the callback being
/// handled is the page's own URL.
fn clean_address_bar(window: &web_sys::Window, names: &[&str]) {
    let current = window.location().href().unwrap_or_default();
    if let (Some(cleaned), Ok(history)) = (strip_params(&current, names), window.history()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&cleaned));
    }
}

fn relay_to_opener(window: &web_sys::Window, url: &str) {
    let message = js::object();
    js::set(&message, "type", CALLBACK_MESSAGE_TYPE);
    js::set(&message, "url", url);
    if let (Ok(opener), Ok(origin)) = (window.opener(), window.location().origin()) {
        if let Ok(opener) = opener.dyn_into::<web_sys::Window>() {
            // Target this origin only: a provider page that took over the opener gets nothing.
            let _ = opener.post_message(&message, &origin);
        }
    }
    crate::browser::channel::post(&message);
}

async fn complete_redirect(url: String, state: String, options: JsValue, in_address_bar: bool) -> Result<JsValue> {
    let transaction_key = storage::key(TRANSACTION_PREFIX, &state);
    let handled_key = storage::key(HANDLED_PREFIX, &state);
    let Some(stored) = storage::get(Area::Session, &transaction_key) else {
        let anonymous = Events::from_object(&options, "oauth2");
        let error = if state.is_empty() || storage::get(Area::Session, &handled_key).is_none() {
            ConnectError::new(ErrorCode::UnknownState, "this callback's state matches no flow started in this tab (expired, another tab, or forged)")
        } else {
            ConnectError::new(ErrorCode::AlreadyHandled, "this callback was handled already: an authorization response is used once")
        };
        anonymous.emit("error", Some(Mode::Redirect), Some(error.code()));
        return Err(error);
    };
    // Single use: gone before anything else can fail.
    storage::remove(Area::Session, &transaction_key);
    storage::set(Area::Session, &handled_key, &now_text());

    let stored = js::parse_json(&stored).ok_or(ConnectError::new(ErrorCode::UnknownState, "the stored transaction is damaged"))?;
    let transaction = Transaction::from_fields(&JsFields(stored))?;
    let config = ConnectConfig::parse(&transaction.config)?;
    if let (true, Some(window)) = (in_address_bar, web_sys::window()) {
        clean_address_bar(&window, provider_response_params(config.kind()));
    }
    let events = Events::from_object(&options, config.kind());
    let outcome = finish_transaction(&url, transaction, &config, &events).await;
    match &outcome {
        Ok(_) => events.emit("success", Some(Mode::Redirect), None),
        Err(error) => events.emit("error", Some(Mode::Redirect), Some(error.code())),
    }
    outcome
}

async fn finish_transaction(url: &str, transaction: Transaction, config: &ConnectConfig, events: &Events) -> Result<JsValue> {
    if transaction.is_expired(now_ms()) {
        return Err(ConnectError::new(ErrorCode::TransactionExpired, "the sign-in took longer than 10 minutes: start again"));
    }
    let pending = Pending { state: transaction.state, verifier: transaction.verifier, nonce: transaction.nonce };
    let prepared = Prepared {
        url: String::new(),
        token_endpoint: transaction.token_endpoint,
        liquid_session: transaction.liquid_session.map(|(id, secret)| LiquidSession { id, secret }),
    };
    let completion = Completion {
        config,
        pending,
        prepared,
        events,
        mode: Mode::Redirect,
        slot: completion_slot(config),
        return_to: transaction.return_to,
    };
    flows::complete(Arrival::Callback(String::from(url)), completion).await
}

/// Drop transactions and handled markers older than the transaction lifetime.
pub fn prune_transactions() {
    for prefix in [TRANSACTION_PREFIX, HANDLED_PREFIX] {
        for key in storage::keys_with_prefix(Area::Session, prefix) {
            let Some(text) = storage::get(Area::Session, &key) else { continue };
            let created = if prefix == HANDLED_PREFIX {
                parse_decimal(&text).map(|ms| ms as f64)
            } else {
                js::parse_json(&text).and_then(|json| js::get(&json, "createdAt").as_f64())
            };
            if created.is_none_or(|created| now_ms() - created > TRANSACTION_TTL_MS) {
                storage::remove(Area::Session, &key);
            }
        }
    }
}
