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
    /// Not an event this core knows: nothing to do.
    Nothing,
    /// Not JSON it can read (nested past `json::MAX_DEPTH`, say): the runner rejects the call
    /// the event was for.
    Unreadable,
}

fn id(record: &Rec, name: &str) -> u32 {
    match record.field(name) {
        Some(Value::Number(n)) if *n >= 0.0 && *n <= u32::MAX as f64 => *n as u32,
        _ => 0,
    }
}

fn string(record: &Rec, name: &str) -> Option<String> {
    match record.field(name) {
        Some(Value::Text(text)) => Some(text.clone()),
        _ => None,
    }
}

fn text(record: &Rec, name: &str) -> String {
    string(record, name).unwrap_or_default()
}

fn flag(record: &Rec, name: &str) -> bool {
    matches!(record.field(name), Some(Value::Bool(true)))
}

fn json_text(record: &Rec, name: &str) -> String {
    crate::json::to_string(record.field(name).unwrap_or(&Value::Other))
}

fn screen(record: &Rec) -> [f64; 4] {
    let mut screen = [0.0; 4];
    if let Some(Value::List(items)) = record.field("screen") {
        for (slot, item) in screen.iter_mut().zip(items) {
            if let Value::Number(n) = item {
                *slot = *n;
            }
        }
    }
    screen
}

/// Read one event.
pub fn decode_event(json: &str) -> Decoded {
    let Ok(Value::Record(r)) = crate::json::parse(json) else { return Decoded::Unreadable };
    let Some(Value::Text(kind)) = r.field("k") else { return Decoded::Nothing };
    // The ids most events carry, read once (0 where absent).
    let (call, connection, window, button) = (id(&r, "call"), id(&r, "connection"), id(&r, "window"), id(&r, "button"));
    let event = match kind.as_str() {
        "newConnect" => Event::NewConnect { call, connection, config: json_text(&r, "config") },
        "call" => {
            let what = match string(&r, "op").as_deref() {
                Some("popup") => Call::Popup(PopupOptions {
                    window: match r.field("window") {
                        Some(Value::Bool(given)) => Some(*given),
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
            Event::Call { call, connection, what }
        }
        "aborted" => Event::Aborted { call },
        "handleCallback" => {
            let href = text(&r, "href");
            let url = match r.field("url") {
                Some(Value::Text(url)) => url.clone(),
                None | Some(Value::Other) => href.clone(),
                _ => {
                    return Decoded::Refused(Effect::Reject {
                        call,
                        error: ConnectError::new(ErrorCode::InvalidCallback, "the callback URL must be a string"),
                    })
                }
            };
            Event::HandleCallback { call, url, href, has_opener: flag(&r, "hasOpener"), listens: flag(&r, "listens") }
        }
        "opened" => Event::WindowOpened { window, closed: flag(&r, "closed") },
        "blocked" => Event::WindowBlocked { window },
        "windowState" => Event::WindowState {
            window,
            closed: flag(&r, "closed"),
            foreign: flag(&r, "foreign"),
            opener_focused: flag(&r, "focus"),
        },
        "http" => Event::Http {
            request: id(&r, "request"),
            answer: if flag(&r, "failed") {
                HttpAnswer::Failed
            } else {
                HttpAnswer::Response { status: id(&r, "status").min(999) as u16, body: text(&r, "body") }
            },
        },
        "entries" => {
            let mut entries = Vec::new();
            if let Some(Value::List(items)) = r.field("entries") {
                for item in items {
                    if let Value::List(pair) = item {
                        if let [Value::Text(key), Value::Text(value)] = pair.as_slice() {
                            entries.push((key.clone(), value.clone()));
                        }
                    }
                }
            }
            Event::StorageEntries { read: id(&r, "read"), entries }
        }
        "granted" => Event::LockGranted { lock: id(&r, "lock") },
        "fired" => Event::TimerFired { timer: id(&r, "timer") },
        "message" => Event::WindowMessage { origin: text(&r, "origin"), data: string(&r, "data") },
        "channel" => Event::ChannelMessage { data: string(&r, "data") },
        "mount" => Event::MountButton {
            call,
            button,
            connection,
            options: json_text(&r, "options"),
            in_app_browser: crate::button_state::is_in_app_browser(&text(&r, "userAgent")),
            return_to: text(&r, "returnTo"),
        },
        "click" => Event::ButtonClicked { button, screen: screen(&r) },
        "cancel" => Event::CancelClicked { button },
        "setState" => Event::SetButtonState { call, button, state: text(&r, "state") },
        "destroy" => Event::DestroyButton { button },
        "dropConnection" => Event::DropConnection { connection },
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
        w.integer(u64::from(status));
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
    w.integer(u64::from(value));
}

/// A field whose value is JSON text the core wrote (`json::to_string`): it goes in as it is.
fn field_raw(w: &mut JsonWriter<'_>, name: &str, json: &str) {
    w.key(name);
    w.raw(json);
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

#[cfg(test)]
mod tests {
    //! The wire format `pkg-template/index.js` reads, pinned byte for byte.
    use super::*;
    use crate::effect::{Area, ButtonCallback, Drawing, EventMeta, HttpRequest};
    use crate::error::ProviderError;
    use alloc::format;
    use alloc::vec;

    fn error() -> ConnectError {
        ConnectError::new(ErrorCode::Network, "m\"x")
            .with_provider(ProviderError { error: "bad".into(), error_description: Some("d".into()), error_uri: Some("u".into()) })
            .with_status(503)
    }

    #[test]
    fn every_effect_encodes_as_the_runner_reads_it() {
        let s = String::from;
        let effects = vec![
            Effect::OpenWindow { window: 1, features: s("f"), title: "Connecting…" },
            Effect::AdoptWindow { window: 2, call: 3 },
            Effect::NavigateWindow { window: 4, url: s("https://a/?b=\"c\"") },
            Effect::PollWindow { window: 4294967295 },
            Effect::CloseWindow { window: 0 },
            Effect::Fetch(HttpRequest { id: 5, method: "GET", url: s("u"), body: None }),
            Effect::Fetch(HttpRequest { id: 6, method: "POST", url: s("u"), body: Some(("application/x-www-form-urlencoded", s("a=b"))) }),
            Effect::ReadStorage { read: 7, area: Area::Local, prefix: s("p") },
            Effect::WriteStorage { area: Area::Session, key: s("k"), value: s("v\n") },
            Effect::RemoveStorage { area: Area::Local, key: s("k") },
            Effect::Listen(Source::Channel),
            Effect::Unlisten(Source::WindowMessages),
            Effect::Broadcast { message: s("{\"type\":\"t\",\"n\":1.5,\"l\":[null,true]}") },
            Effect::PostToOpener { message: s("{\"url\":\"x\"}") },
            Effect::CloseSelf,
            Effect::RequestLock { lock: 8, name: s("n") },
            Effect::ReleaseLock { lock: 8 },
            Effect::StartTimer { timer: 9, ms: 2000 },
            Effect::CancelTimer { timer: 9 },
            Effect::ReplaceUrl { url: s("r") },
            Effect::NavigateSelf { url: s("n") },
            Effect::Resolve { call: 10, json: s("null") },
            Effect::Resolve { call: 11, json: s("{\"a\":[1,-2.5e-7,1e21]}") },
            Effect::Reject { call: 12, error: error() },
            Effect::Reject { call: 12, error: ConnectError::new(ErrorCode::Busy, "b") },
            Effect::Emit { to: Listener::Connection(1), name: "open", meta: EventMeta { provider: "oidc", mode: Some("popup"), code: None } },
            Effect::Emit { to: Listener::Call(2), name: "error", meta: EventMeta { provider: "oauth2", mode: None, code: Some("busy") } },
            Effect::Emit { to: Listener::Button(3), name: "x", meta: EventMeta { provider: "p", mode: None, code: None } },
            Effect::CreateButton { button: 3 },
            Effect::Draw { button: 3, drawing: Drawing { state: "idle", label: s("L"), busy: true, inert: false, cancel_label: s("C"), cancel_shown: true, announcement: s("A") } },
            Effect::CallButton { button: 3, callback: ButtonCallback::Success, json: Some(s("{\"p\":1}")), error: None },
            Effect::CallButton { button: 3, callback: ButtonCallback::Error, json: None, error: Some(ConnectError::new(ErrorCode::Busy, "b")) },
            Effect::CallButton { button: 3, callback: ButtonCallback::Exit, json: None, error: None },
            Effect::RemoveButton { button: 3 },
        ];
        let text = encode_effects(&effects);
        let expected = [
            r#"{"k":"open","window":1,"features":"f","title":"Connecting…"}"#,
            r#"{"k":"adopt","window":2,"call":3}"#,
            r#"{"k":"navigate","window":4,"url":"https://a/?b=\"c\""}"#,
            r#"{"k":"poll","window":4294967295}"#,
            r#"{"k":"close","window":0}"#,
            r#"{"k":"fetch","request":5,"method":"GET","url":"u"}"#,
            r#"{"k":"fetch","request":6,"method":"POST","url":"u","type":"application/x-www-form-urlencoded","body":"a=b"}"#,
            r#"{"k":"read","read":7,"area":"local","prefix":"p"}"#,
            r#"{"k":"write","area":"session","key":"k","value":"v\u000a"}"#,
            r#"{"k":"remove","area":"local","key":"k"}"#,
            r#"{"k":"listen","source":"channel"}"#,
            r#"{"k":"unlisten","source":"messages"}"#,
            r#"{"k":"broadcast","message":{"type":"t","n":1.5,"l":[null,true]}}"#,
            r#"{"k":"toOpener","message":{"url":"x"}}"#,
            r#"{"k":"closeSelf"}"#,
            r#"{"k":"lock","lock":8,"name":"n"}"#,
            r#"{"k":"unlock","lock":8}"#,
            r#"{"k":"timer","timer":9,"ms":2000}"#,
            r#"{"k":"cancelTimer","timer":9}"#,
            r#"{"k":"replaceUrl","url":"r"}"#,
            r#"{"k":"navigateSelf","url":"n"}"#,
            r#"{"k":"resolve","call":10,"value":null}"#,
            r#"{"k":"resolve","call":11,"value":{"a":[1,-2.5e-7,1e21]}}"#,
            r#"{"k":"reject","call":12,"error":{"code":"network","message":"m\"x","error":"bad","errorDescription":"d","errorUri":"u","status":503}}"#,
            r#"{"k":"reject","call":12,"error":{"code":"busy","message":"b"}}"#,
            r#"{"k":"emit","to":"connection","id":1,"name":"open","meta":{"provider":"oidc","mode":"popup"}}"#,
            r#"{"k":"emit","to":"call","id":2,"name":"error","meta":{"provider":"oauth2","code":"busy"}}"#,
            r#"{"k":"emit","to":"button","id":3,"name":"x","meta":{"provider":"p"}}"#,
            r#"{"k":"createButton","button":3}"#,
            r#"{"k":"draw","button":3,"state":"idle","label":"L","busy":true,"inert":false,"cancelLabel":"C","cancelShown":true,"announcement":"A"}"#,
            r#"{"k":"callButton","button":3,"callback":"onSuccess","value":{"p":1}}"#,
            r#"{"k":"callButton","button":3,"callback":"onError","error":{"code":"busy","message":"b"}}"#,
            r#"{"k":"callButton","button":3,"callback":"onExit"}"#,
            r#"{"k":"removeButton","button":3}"#,
        ];
        assert_eq!(text, alloc::format!("[{}]", expected.join(",")));
        // No effects: an empty array.
        assert_eq!(encode_effects(&[]), "[]");
    }

    fn decoded(text: &str) -> String {
        match decode_event(text) {
            Decoded::Event(event) => format!("{event:?}"),
            Decoded::Refused(effect) => format!("refused {effect:?}"),
            Decoded::Nothing => String::from("nothing"),
            Decoded::Unreadable => String::from("unreadable"),
        }
    }

    #[test]
    fn every_event_decodes_as_the_runner_sends_it() {
        let cases = [
            r#"{"k":"newConnect","call":1,"connection":2,"config":{"kind":"oidc","n":1.5}}"#,
            r#"{"k":"newConnect","call":1,"connection":2}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"popup","window":false,"aborted":true,"timeoutMs":5,"screen":[1,2,3.5,"x",9]}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"popup"}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"redirect","returnTo":"/x"}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"accessToken"}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"refresh"}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"requireReconnect"}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"disconnect"}"#,
            r#"{"k":"call","call":1,"connection":2,"op":"nope"}"#,
            r#"{"k":"aborted","call":-1}"#,
            r#"{"k":"handleCallback","call":3,"url":"u","href":"h","hasOpener":true,"listens":true}"#,
            r#"{"k":"handleCallback","call":3,"href":"h"}"#,
            r#"{"k":"handleCallback","call":3,"url":null,"href":"h"}"#,
            r#"{"k":"handleCallback","call":3,"url":5,"href":"h"}"#,
            r#"{"k":"opened","window":4,"closed":true}"#,
            r#"{"k":"blocked","window":4}"#,
            r#"{"k":"windowState","window":4,"closed":false,"foreign":true,"focus":true}"#,
            r#"{"k":"http","request":5,"status":200,"body":"{}"}"#,
            r#"{"k":"http","request":5,"status":1200}"#,
            r#"{"k":"http","request":5,"failed":true,"status":200}"#,
            r#"{"k":"entries","read":6,"entries":[["a","b"],["c",1],"d",["e","f","g"],["h","i"]]}"#,
            r#"{"k":"granted","lock":7}"#,
            r#"{"k":"fired","timer":8.7}"#,
            r#"{"k":"message","origin":"o","data":"{}"}"#,
            r#"{"k":"message"}"#,
            r#"{"k":"channel","data":"d"}"#,
            r#"{"k":"mount","call":1,"button":2,"connection":3,"options":{"mode":"auto"},"userAgent":"Mozilla/5.0 Instagram 1","returnTo":"/r"}"#,
            r#"{"k":"mount","call":1,"button":2,"connection":3}"#,
            r#"{"k":"click","button":2,"screen":[1,2,3,4]}"#,
            r#"{"k":"cancel","button":2}"#,
            r#"{"k":"setState","call":1,"button":2,"state":"idle"}"#,
            r#"{"k":"destroy","button":2}"#,
            r#"{"k":"fired","timer":4294967296}"#,
            r#"{"k":"zzz"}"#,
            r#"{"k":1}"#,
            r#"[1]"#,
            r#"nope"#,
        ];
        let got: Vec<String> = cases.iter().map(|text| decoded(text)).collect();
        let expected = [
            r#"NewConnect { call: 1, connection: 2, config: "{\"kind\":\"oidc\",\"n\":1.5}" }"#,
            r#"NewConnect { call: 1, connection: 2, config: "null" }"#,
            r#"Call { call: 1, connection: 2, what: Popup(PopupOptions { window: Some(false), aborted: true, timeout_ms: Number(5.0), screen: [1.0, 2.0, 3.5, 0.0] }) }"#,
            r#"Call { call: 1, connection: 2, what: Popup(PopupOptions { window: None, aborted: false, timeout_ms: Absent, screen: [0.0, 0.0, 0.0, 0.0] }) }"#,
            r#"Call { call: 1, connection: 2, what: Redirect { return_to: Text("/x") } }"#,
            r#"Call { call: 1, connection: 2, what: AccessToken }"#,
            r#"Call { call: 1, connection: 2, what: Refresh }"#,
            r#"Call { call: 1, connection: 2, what: RequireReconnect }"#,
            r#"Call { call: 1, connection: 2, what: Disconnect }"#,
            r#"nothing"#,
            r#"Aborted { call: 0 }"#,
            r#"HandleCallback { call: 3, url: "u", href: "h", has_opener: true, listens: true }"#,
            r#"HandleCallback { call: 3, url: "h", href: "h", has_opener: false, listens: false }"#,
            r#"HandleCallback { call: 3, url: "h", href: "h", has_opener: false, listens: false }"#,
            r#"refused Reject { call: 3, error: ConnectError(Inner { code: InvalidCallback, message: "the callback URL must be a string", provider: None, status: None }) }"#,
            r#"WindowOpened { window: 4, closed: true }"#,
            r#"WindowBlocked { window: 4 }"#,
            r#"WindowState { window: 4, closed: false, foreign: true, opener_focused: true }"#,
            r#"Http { request: 5, answer: Response { status: 200, body: "{}" } }"#,
            r#"Http { request: 5, answer: Response { status: 999, body: "" } }"#,
            r#"Http { request: 5, answer: Failed }"#,
            r#"StorageEntries { read: 6, entries: [("a", "b"), ("h", "i")] }"#,
            r#"LockGranted { lock: 7 }"#,
            r#"TimerFired { timer: 8 }"#,
            r#"WindowMessage { origin: "o", data: Some("{}") }"#,
            r#"WindowMessage { origin: "", data: None }"#,
            r#"ChannelMessage { data: Some("d") }"#,
            r#"MountButton { call: 1, button: 2, connection: 3, options: "{\"mode\":\"auto\"}", in_app_browser: true, return_to: "/r" }"#,
            r#"MountButton { call: 1, button: 2, connection: 3, options: "null", in_app_browser: false, return_to: "" }"#,
            r#"ButtonClicked { button: 2, screen: [1.0, 2.0, 3.0, 4.0] }"#,
            r#"CancelClicked { button: 2 }"#,
            r#"SetButtonState { call: 1, button: 2, state: "idle" }"#,
            r#"DestroyButton { button: 2 }"#,
            r#"TimerFired { timer: 0 }"#,
            r#"nothing"#,
            r#"nothing"#,
            r#"nothing"#,
            r#"nothing"#,
        ];
        assert_eq!(got, expected);
    }
}
