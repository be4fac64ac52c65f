//! Events and effects as JSON text, the way they cross the wasm boundary: the runner sends one
//! event as an object with a kind `k` and gets back an array of effects, each an object with a
//! kind `k`. JSON text was measured the cheapest crossing (one string each way, one
//! `JSON.parse` in JS, no glue per field); `docs/size.md` has the figures.

use alloc::string::String;
use alloc::vec::Vec;

use crate::effect::{Call, Effect, Event, HttpAnswer, Listener, PopupOptions, Source};
use crate::error::{ConnectError, ErrorCode};
use crate::fields::{Fields, Value};

type Rec = Vec<(String, Value)>;
use crate::json::JsonWriter;

/// An event the runner sent, or the answer to give when it was malformed.
pub enum Decoded {
    Event(Event),
    /// The call's arguments were wrong: reject it at once.
    Refused(Effect),
    /// Not an event at all: nothing to do.
    Nothing,
}

fn id(record: &Rec, name: &str) -> Option<u32> {
    match record.get(name) {
        Value::Number(n) if n >= 0.0 && n <= u32::MAX as f64 => Some(n as u32),
        _ => None,
    }
}

fn string(record: &Rec, name: &str) -> Option<String> {
    match record.get(name) {
        Value::Text(text) => Some(text),
        _ => None,
    }
}

fn flag(record: &Rec, name: &str) -> bool {
    matches!(record.get(name), Value::Bool(true))
}

fn json_text(record: &Rec, name: &str) -> String {
    crate::json::to_string(&match record.get(name) {
        Value::Absent => Value::Other,
        value => value,
    })
}

fn screen(record: &Rec) -> [f64; 4] {
    let mut screen = [0.0; 4];
    if let Value::List(items) = record.get("screen") {
        for (slot, item) in screen.iter_mut().zip(items) {
            if let Value::Number(n) = item {
                *slot = n;
            }
        }
    }
    screen
}


/// Read one event.
pub fn decode_event(text: &str) -> Decoded {
    let Ok(Value::Record(r)) = crate::json::parse(text) else { return Decoded::Nothing };
    let Some(kind) = string(&r, "k") else { return Decoded::Nothing };
    let call = id(&r, "call").unwrap_or(0);
    let event = match kind.as_str() {
        "newConnect" => Event::NewConnect { call, connection: id(&r, "connection").unwrap_or(0), config: json_text(&r, "config") },
        "call" => {
            let what = match string(&r, "op").as_deref() {
                Some("popup") => Call::Popup(PopupOptions {
                    window: match r.get("window") {
                        Value::Bool(given) => Some(given),
                        _ => None,
                    },
                    aborted: flag(&r, "aborted"),
                    timeout_ms: r.get("timeoutMs"),
                    screen: screen(&r),
                }),
                Some("redirect") => Call::Redirect { return_to: r.get("returnTo") },
                Some("accessToken") => Call::AccessToken,
                Some("refresh") => Call::Refresh,
                Some("requireReconnect") => Call::RequireReconnect,
                Some("disconnect") => Call::Disconnect,
                _ => return Decoded::Nothing,
            };
            Event::Call { call, connection: id(&r, "connection").unwrap_or(0), what }
        }
        "aborted" => Event::Aborted { call },
        "handleCallback" => {
            let href = string(&r, "href").unwrap_or_default();
            let url = match r.get("url") {
                Value::Text(url) => url,
                Value::Absent | Value::Other => href.clone(),
                _ => {
                    return Decoded::Refused(Effect::Reject {
                        call,
                        error: ConnectError::new(ErrorCode::InvalidCallback, "the callback URL must be a string"),
                    })
                }
            };
            Event::HandleCallback { call, url, href, has_opener: flag(&r, "hasOpener"), listens: flag(&r, "listens") }
        }
        "opened" => Event::WindowOpened { window: id(&r, "window").unwrap_or(0), closed: flag(&r, "closed") },
        "blocked" => Event::WindowBlocked { window: id(&r, "window").unwrap_or(0) },
        "windowState" => Event::WindowState {
            window: id(&r, "window").unwrap_or(0),
            closed: flag(&r, "closed"),
            foreign: flag(&r, "foreign"),
            opener_focused: flag(&r, "focus"),
        },
        "http" => Event::Http {
            request: id(&r, "request").unwrap_or(0),
            answer: if flag(&r, "failed") {
                HttpAnswer::Failed
            } else {
                HttpAnswer::Response { status: id(&r, "status").unwrap_or(0).min(999) as u16, body: string(&r, "body").unwrap_or_default() }
            },
        },
        "entries" => {
            let mut entries = Vec::new();
            if let Value::List(items) = r.get("entries") {
                for item in items {
                    if let Value::List(pair) = item {
                        if let [Value::Text(key), Value::Text(value)] = pair.as_slice() {
                            entries.push((key.clone(), value.clone()));
                        }
                    }
                }
            }
            Event::StorageEntries { read: id(&r, "read").unwrap_or(0), entries }
        }
        "granted" => Event::LockGranted { lock: id(&r, "lock").unwrap_or(0) },
        "fired" => Event::TimerFired { timer: id(&r, "timer").unwrap_or(0) },
        "message" => Event::WindowMessage { origin: string(&r, "origin").unwrap_or_default(), data: string(&r, "data") },
        "channel" => Event::ChannelMessage { data: string(&r, "data") },
        "mount" => Event::MountButton {
            call,
            button: id(&r, "button").unwrap_or(0),
            connection: id(&r, "connection").unwrap_or(0),
            options: json_text(&r, "options"),
            in_app_browser: crate::button_state::is_in_app_browser(&string(&r, "userAgent").unwrap_or_default()),
            return_to: string(&r, "returnTo").unwrap_or_default(),
        },
        "click" => Event::ButtonClicked { button: id(&r, "button").unwrap_or(0), screen: screen(&r) },
        "cancel" => Event::CancelClicked { button: id(&r, "button").unwrap_or(0) },
        "setState" => Event::SetButtonState { call, button: id(&r, "button").unwrap_or(0), state: string(&r, "state").unwrap_or_default() },
        "destroy" => Event::DestroyButton { button: id(&r, "button").unwrap_or(0) },
        _ => return Decoded::Nothing,
    };
    Decoded::Event(event)
}

/// A `ConnectError` as the JS `ConnectError`'s fields.
pub fn write_error(w: &mut JsonWriter<'_>, error: &ConnectError) {
    w.begin_object();
    w.key("code");
    w.string(error.code().as_str());
    w.key("message");
    w.string(error.message());
    if let Some(provider) = error.provider() {
        w.key("error");
        w.string(&provider.error);
        if let Some(description) = &provider.error_description {
            w.key("errorDescription");
            w.string(description);
        }
        if let Some(uri) = &provider.error_uri {
            w.key("errorUri");
            w.string(uri);
        }
    }
    if let Some(status) = error.status() {
        w.key("status");
        w.number(f64::from(status));
    }
    w.end_object();
}

/// Effects as a JSON array.
pub fn encode_effects(effects: &[Effect]) -> String {
    let mut out = String::new();
    let mut w = JsonWriter::new(&mut out);
    w.begin_array();
    for effect in effects {
        encode_effect(&mut w, effect);
    }
    w.end_array();
    out
}

fn field_str(w: &mut JsonWriter<'_>, name: &str, value: &str) {
    w.key(name);
    w.string(value);
}

fn field_num(w: &mut JsonWriter<'_>, name: &str, value: u32) {
    w.key(name);
    w.number(f64::from(value));
}

fn field_raw(w: &mut JsonWriter<'_>, name: &str, json: &str) {
    w.key(name);
    match crate::json::parse(json) {
        Ok(value) => w.value(&value),
        Err(_) => w.null(),
    }
}

fn encode_effect(w: &mut JsonWriter<'_>, effect: &Effect) {
    w.begin_object();
    let kind = |w: &mut JsonWriter<'_>, k: &str| field_str(w, "k", k);
    match effect {
        Effect::OpenWindow { window, features, title } => {
            kind(w, "open");
            field_num(w, "window", *window);
            field_str(w, "features", features);
            field_str(w, "title", title);
        }
        Effect::AdoptWindow { window, call } => {
            kind(w, "adopt");
            field_num(w, "window", *window);
            field_num(w, "call", *call);
        }
        Effect::NavigateWindow { window, url } => {
            kind(w, "navigate");
            field_num(w, "window", *window);
            field_str(w, "url", url);
        }
        Effect::PollWindow { window } => {
            kind(w, "poll");
            field_num(w, "window", *window);
        }
        Effect::CloseWindow { window } => {
            kind(w, "close");
            field_num(w, "window", *window);
        }
        Effect::Fetch(request) => {
            kind(w, "fetch");
            field_num(w, "request", request.id);
            field_str(w, "method", request.method);
            field_str(w, "url", &request.url);
            if let Some((content_type, body)) = &request.body {
                field_str(w, "type", content_type);
                field_str(w, "body", body);
            }
        }
        Effect::ReadStorage { read, area, prefix } => {
            kind(w, "read");
            field_num(w, "read", *read);
            field_str(w, "area", area.as_str());
            field_str(w, "prefix", prefix);
        }
        Effect::WriteStorage { area, key, value } => {
            kind(w, "write");
            field_str(w, "area", area.as_str());
            field_str(w, "key", key);
            field_str(w, "value", value);
        }
        Effect::RemoveStorage { area, key } => {
            kind(w, "remove");
            field_str(w, "area", area.as_str());
            field_str(w, "key", key);
        }
        Effect::Listen(source) | Effect::Unlisten(source) => {
            kind(w, if matches!(effect, Effect::Listen(_)) { "listen" } else { "unlisten" });
            field_str(w, "source", if *source == Source::Channel { "channel" } else { "messages" });
        }
        Effect::Broadcast { message } => {
            kind(w, "broadcast");
            field_raw(w, "message", message);
        }
        Effect::PostToOpener { message } => {
            kind(w, "toOpener");
            field_raw(w, "message", message);
        }
        Effect::CloseSelf => kind(w, "closeSelf"),
        Effect::RequestLock { lock, name } => {
            kind(w, "lock");
            field_num(w, "lock", *lock);
            field_str(w, "name", name);
        }
        Effect::ReleaseLock { lock } => {
            kind(w, "unlock");
            field_num(w, "lock", *lock);
        }
        Effect::StartTimer { timer, ms } => {
            kind(w, "timer");
            field_num(w, "timer", *timer);
            field_num(w, "ms", *ms);
        }
        Effect::CancelTimer { timer } => {
            kind(w, "cancelTimer");
            field_num(w, "timer", *timer);
        }
        Effect::ReplaceUrl { url } => {
            kind(w, "replaceUrl");
            field_str(w, "url", url);
        }
        Effect::NavigateSelf { url } => {
            kind(w, "navigateSelf");
            field_str(w, "url", url);
        }
        Effect::Resolve { call, json } => {
            kind(w, "resolve");
            field_num(w, "call", *call);
            field_raw(w, "value", json);
        }
        Effect::Reject { call, error } => {
            kind(w, "reject");
            field_num(w, "call", *call);
            w.key("error");
            write_error(w, error);
        }
        Effect::Emit { to, name, meta } => {
            kind(w, "emit");
            let (to, id) = match to {
                Listener::Connection(id) => ("connection", id),
                Listener::Call(id) => ("call", id),
                Listener::Button(id) => ("button", id),
            };
            field_str(w, "to", to);
            field_num(w, "id", *id);
            field_str(w, "name", name);
            w.key("meta");
            w.begin_object();
            field_str(w, "provider", meta.provider);
            if let Some(mode) = meta.mode {
                field_str(w, "mode", mode);
            }
            if let Some(code) = meta.code {
                field_str(w, "code", code);
            }
            w.end_object();
        }
        Effect::CreateButton { button } => {
            kind(w, "createButton");
            field_num(w, "button", *button);
        }
        Effect::Draw { button, drawing } => {
            kind(w, "draw");
            field_num(w, "button", *button);
            field_str(w, "state", drawing.state);
            field_str(w, "label", &drawing.label);
            w.key("busy");
            w.bool(drawing.busy);
            w.key("inert");
            w.bool(drawing.inert);
            field_str(w, "cancelLabel", &drawing.cancel_label);
            w.key("cancelShown");
            w.bool(drawing.cancel_shown);
            field_str(w, "announcement", &drawing.announcement);
        }
        Effect::CallButton { button, callback, json, error } => {
            kind(w, "callButton");
            field_num(w, "button", *button);
            field_str(w, "callback", callback.as_str());
            if let Some(json) = json {
                field_raw(w, "value", json);
            }
            if let Some(error) = error {
                w.key("error");
                write_error(w, error);
            }
        }
        Effect::RemoveButton { button } => {
            kind(w, "removeButton");
            field_num(w, "button", *button);
        }
    }
    w.end_object();
}
