//! Events and effects as JSON text, the way they cross the wasm boundary. Each event and each
//! effect is a JSON array: its kind as a small integer first, then its fields in a fixed order
//! (the tables below and the constants at the top of `pkg-template/index.js` are the one
//! definition of that order). Arrays rather than keyed objects: no field name is written, read,
//! or kept in the wasm's data or in the minified runner, where names cannot be shortened.
//! JSON text was measured the cheapest crossing (one string each way, one `JSON.parse` in JS,
//! no glue per field); `docs/size.md` has the figures.
//!
//! Events the runner sends (`[kind, ...]`; `call` is always second when there is one):
//!
//! | kind | event | fields after the kind |
//! |---|---|---|
//! | 0 | `NewConnect` | call, connection, config (object) |
//! | 1 | `Call` | call, connection, op (0 popup, 1 redirect, 2 accessToken, 3 refresh, 4 requireReconnect, 5 disconnect), then for popup: screen, aborted, window (`true`/`false`/`null` not given), timeoutMs if given; for redirect: returnTo if given |
//! | 2 | `Aborted` | call |
//! | 3 | `HandleCallback` | call, href, hasOpener, url (`null`: the page's address) |
//! | 4 | `WindowOpened` | window, closed |
//! | 5 | `WindowBlocked` | window |
//! | 6 | `WindowState` | window, closed, foreign, focus |
//! | 7 | `Http` | request, then status and body (none: `fetch` failed) |
//! | 8 | `StorageEntries` | read, `[[key, value], ...]` |
//! | 9 | `LockGranted` | lock |
//! | 10 | `TimerFired` | timer |
//! | 11 | `WindowMessage` | origin, data (JSON text or `null`) |
//! | 12 | `ChannelMessage` | data |
//! | 13 | `MountButton` | call, button, connection, options (object), userAgent, returnTo |
//! | 14 | `ButtonClicked` | button, screen |
//! | 15 | `CancelClicked` | button |
//! | 16 | `SetButtonState` | call, button, state |
//! | 17 | `DestroyButton` | button |
//! | 18 | `DropConnection` | connection |
//!
//! Effects the core answers with (a JSON array of them; each `[kind, ...]`): in the order of
//! [`Effect`]'s variants, 0 `OpenWindow` to 26 `RemoveButton`; their fields are listed at
//! [`encode_effect`]. An area is 0 `sessionStorage`, 1 `localStorage`; a source 0 the window's
//! messages, 1 the channel; a listener 0 a connection, 1 a call, 2 a button. An error is
//! `[code, message]`, then, when the provider said why or there is an HTTP status,
//! `error, errorDescription, errorUri` (each `null` when absent) and the status if any.

use alloc::string::String;
use alloc::vec::Vec;

use crate::effect::{Call, Effect, Event, Handler, HttpAnswer, Listener, PopupOptions};
use crate::error::{ConnectError, ErrorCode};
use crate::fields::Value;
use crate::json::JsonWriter;
use crate::machine::put;

/// One event's array, its kind first; a field past the end reads as absent.
struct EventFields(Vec<Value>);

// The readers stay out of line: inlined at decode_event's ~50 call sites they cost about 330
// bytes more of wasm (twiggy, 2026-12-01).
impl EventFields {
    #[inline(never)]
    fn at(&self, index: usize) -> &Value {
        self.0.get(index).unwrap_or(&Value::Absent)
    }

    /// The value as given (`Absent` when the runner left it out), taken out of the array (each
    /// is read once): no copy.
    #[inline(never)]
    fn value(&mut self, index: usize) -> Value {
        self.0.get_mut(index).map_or(Value::Absent, |value| core::mem::replace(value, Value::Absent))
    }

    /// An id, a count or a status: 0 when not a whole number in `u32`'s range.
    #[inline(never)]
    fn id(&self, index: usize) -> u32 {
        match self.at(index) {
            Value::Number(n) => u32::try_from(*n).unwrap_or(0),
            _ => 0,
        }
    }

    /// The text at `index`, borrowed; `None` when it is not text.
    #[inline(never)]
    fn str(&self, index: usize) -> Option<&str> {
        match self.at(index) {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The text at `index`, copied; empty when it is not text.
    #[inline(never)]
    fn text(&self, index: usize) -> String {
        String::from(self.str(index).unwrap_or_default())
    }

    #[inline(never)]
    fn flag(&self, index: usize) -> bool {
        matches!(self.at(index), Value::Bool(true))
    }

    /// A value the core parses again (a config, the button's options) as JSON text.
    #[inline(never)]
    fn json(&self, index: usize) -> String {
        crate::json::to_string(self.at(index))
    }

    /// `screenX, screenY, outerWidth, outerHeight`; what is not a number is 0.
    #[inline(never)]
    fn screen(&self, index: usize) -> [f64; 4] {
        let mut screen = [0.0; 4];
        if let Value::List(items) = self.at(index) {
            for (slot, item) in screen.iter_mut().zip(items) {
                if let Some(n) = item.as_f64() {
                    *slot = n;
                }
            }
        }
        screen
    }
}

/// Read one event (the table at the top of this file) and call `handler`'s method for its kind.
/// False when the text is not JSON the core can read (nested past `json::MAX_DEPTH`, say): the
/// runner then rejects the call the event was for. An array of a kind or an operation this core
/// does not know calls nothing.
pub fn decode_event<H: Handler>(json: &str, handler: &mut H) -> bool {
    let Ok(Value::List(items)) = crate::json::parse(json) else { return false };
    let kind = match items.first() {
        // Past `u32` (or negative): a kind this core does not know.
        Some(Value::Number(kind)) => u32::try_from(*kind).unwrap_or(u32::MAX),
        _ => return true,
    };
    // The fields are read where they are, after the kind: index 1 is the first.
    let mut f = EventFields(items);
    match kind {
        0 => handler.on_new_connect(f.id(1), f.id(2), &f.json(3)),
        1 => {
            let what = match f.at(3) {
                Value::Number(op) => match *op {
                    0 => Call::Popup(PopupOptions {
                        screen: f.screen(4),
                        aborted: f.flag(5),
                        window: match f.at(6) {
                            Value::Bool(given) => Some(*given),
                            _ => None,
                        },
                        timeout_ms: f.value(7),
                    }),
                    1 => Call::Redirect { return_to: f.value(4) },
                    2 => Call::AccessToken,
                    3 => Call::Refresh,
                    4 => Call::RequireReconnect,
                    5 => Call::Disconnect,
                    _ => return true,
                },
                _ => return true,
            };
            handler.on_call(f.id(1), f.id(2), what)
        }
        2 => handler.on_aborted(f.id(1)),
        3 => {
            let href = f.text(2);
            let url = match f.at(4) {
                Value::Text(url) => url.clone(),
                Value::Absent | Value::Other => href.clone(),
                _ => {
                    handler.on_refused(f.id(1), ConnectError::new(ErrorCode::InvalidCallback, "the callback URL must be a string"));
                    return true;
                }
            };
            handler.on_handle_callback(f.id(1), url, href, f.flag(3))
        }
        4 => handler.on_window_opened(f.id(1), f.flag(2)),
        5 => handler.on_window_blocked(f.id(1)),
        6 => handler.on_window_state(f.id(1), f.flag(2), f.flag(3), f.flag(4)),
        7 => handler.on_http(
            f.id(1),
            match f.at(2) {
                Value::Number(_) => HttpAnswer::Response { status: f.id(2).min(999) as u16, body: f.text(3) },
                _ => HttpAnswer::Failed,
            },
        ),
        8 => {
            let mut entries = Vec::new();
            if let Value::List(items) = f.at(2) {
                for item in items {
                    if let Value::List(pair) = item {
                        if let [Value::Text(key), Value::Text(value)] = pair.as_slice() {
                            entries.push((key.clone(), value.clone()));
                        }
                    }
                }
            }
            handler.on_storage_entries(f.id(1), entries)
        }
        9 => handler.on_lock_granted(f.id(1)),
        10 => handler.on_timer_fired(f.id(1)),
        11 => handler.on_window_message(f.str(1).unwrap_or_default(), f.str(2)),
        12 => handler.on_channel_message(f.str(1)),
        13 => handler.on_mount_button(f.id(1), f.id(2), f.id(3), &f.json(4), crate::button_state::is_in_app_browser(f.str(5).unwrap_or_default()), f.text(6)),
        14 => handler.on_button_clicked(f.id(1), f.screen(2)),
        15 => handler.on_cancel_clicked(f.id(1)),
        16 => handler.on_set_button_state(f.id(1), f.id(2), f.str(3).unwrap_or_default()),
        17 => handler.on_destroy_button(f.id(1)),
        18 => handler.on_drop_connection(f.id(1)),
        _ => {}
    }
    true
}

/// An [`Event`] as the runner sends it (`feed` in `pkg-template/index.js`): the table at the top
/// of this file. What the simulated browser and the tests feed a tab (`Tab::handle`), so that
/// natively too every event crosses the reading the browser's do. Not used in the wasm.
pub fn encode_event(event: &Event) -> String {
    let mut out = String::new();
    let mut w = JsonWriter::new(&mut out);
    let id = |w: &mut JsonWriter<'_>, id: u32| w.integer(u64::from(id));
    let screen = |w: &mut JsonWriter<'_>, screen: &[f64; 4]| {
        w.begin_array();
        // Native only: `Display` writes an `f64` as the shortest text that reads back as it.
        for n in screen {
            w.raw(&alloc::format!("{n}"));
        }
        w.end_array();
    };
    let text_or_null = |w: &mut JsonWriter<'_>, text: &Option<String>| match text {
        Some(text) => w.string(text),
        None => w.null(),
    };
    w.begin_array();
    match event {
        Event::NewConnect { call, connection, config } => {
            w.integer(0);
            id(&mut w, *call);
            id(&mut w, *connection);
            w.raw(config);
        }
        Event::Call { call, connection, what } => {
            w.integer(1);
            id(&mut w, *call);
            id(&mut w, *connection);
            match what {
                Call::Popup(options) => {
                    w.integer(0);
                    screen(&mut w, &options.screen);
                    w.bool(options.aborted);
                    match options.window {
                        Some(given) => w.bool(given),
                        None => w.null(),
                    }
                    if !matches!(options.timeout_ms, Value::Absent) {
                        w.value(&options.timeout_ms);
                    }
                }
                Call::Redirect { return_to } => {
                    w.integer(1);
                    if !matches!(return_to, Value::Absent) {
                        w.value(return_to);
                    }
                }
                Call::AccessToken => w.integer(2),
                Call::Refresh => w.integer(3),
                Call::RequireReconnect => w.integer(4),
                Call::Disconnect => w.integer(5),
            }
        }
        Event::Aborted { call } => {
            w.integer(2);
            id(&mut w, *call);
        }
        Event::HandleCallback { call, url, href, has_opener } => {
            w.integer(3);
            id(&mut w, *call);
            w.string(href);
            w.bool(*has_opener);
            w.string(url);
        }
        Event::WindowOpened { window, closed } => {
            w.integer(4);
            id(&mut w, *window);
            w.bool(*closed);
        }
        Event::WindowBlocked { window } => {
            w.integer(5);
            id(&mut w, *window);
        }
        Event::WindowState { window, closed, foreign, opener_focused } => {
            w.integer(6);
            id(&mut w, *window);
            w.bool(*closed);
            w.bool(*foreign);
            w.bool(*opener_focused);
        }
        Event::Http { request, answer } => {
            w.integer(7);
            id(&mut w, *request);
            match answer {
                HttpAnswer::Response { status, body } => {
                    w.integer(u64::from(*status));
                    w.string(body);
                }
                // The runner sends a failed request as its id alone; a timeout is the core's own
                // timer, never an event, and reads the same here.
                HttpAnswer::Failed | HttpAnswer::TimedOut => {}
            }
        }
        Event::StorageEntries { read, entries } => {
            w.integer(8);
            id(&mut w, *read);
            w.begin_array();
            for (key, value) in entries {
                w.begin_array();
                w.string(key);
                w.string(value);
                w.end_array();
            }
            w.end_array();
        }
        Event::LockGranted { lock } => {
            w.integer(9);
            id(&mut w, *lock);
        }
        Event::TimerFired { timer } => {
            w.integer(10);
            id(&mut w, *timer);
        }
        Event::WindowMessage { origin, data } => {
            w.integer(11);
            w.string(origin);
            text_or_null(&mut w, data);
        }
        Event::ChannelMessage { data } => {
            w.integer(12);
            text_or_null(&mut w, data);
        }
        Event::MountButton { call, button, connection, options, in_app_browser, return_to } => {
            w.integer(13);
            id(&mut w, *call);
            id(&mut w, *button);
            id(&mut w, *connection);
            w.raw(options);
            // The user agent the runner reads: one the core takes for an in-app browser, or not.
            w.string(if *in_app_browser { "Mozilla/5.0 (iPhone) Instagram 300.0" } else { "Mozilla/5.0 (X11; Linux x86_64)" });
            w.string(return_to);
        }
        Event::ButtonClicked { button, screen: at } => {
            w.integer(14);
            id(&mut w, *button);
            screen(&mut w, at);
        }
        Event::CancelClicked { button } => {
            w.integer(15);
            id(&mut w, *button);
        }
        Event::SetButtonState { call, button, state } => {
            w.integer(16);
            id(&mut w, *call);
            id(&mut w, *button);
            w.string(state);
        }
        Event::DestroyButton { button } => {
            w.integer(17);
            id(&mut w, *button);
        }
        Event::DropConnection { connection } => {
            w.integer(18);
            id(&mut w, *connection);
        }
    }
    w.end_array();
    out
}

/// A `ConnectError` as `[code, message]`, then `error, errorDescription, errorUri` (each
/// `null` when absent) when the provider said why or there is a status, then the status.
pub fn write_error(w: &mut JsonWriter<'_>, error: &ConnectError) {
    w.begin_array();
    w.string(error.code().as_str());
    w.string(error.message());
    let provider = error.provider();
    if provider.is_some() || error.status().is_some() {
        let optional = |w: &mut JsonWriter<'_>, text: Option<&String>| match text {
            Some(text) => w.string(text),
            None => w.null(),
        };
        optional(w, provider.map(|p| &p.error));
        optional(w, provider.and_then(|p| p.error_description.as_ref()));
        optional(w, provider.and_then(|p| p.error_uri.as_ref()));
    }
    if let Some(status) = error.status() {
        w.integer(u64::from(status));
    }
    w.end_array();
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

/// One effect as `[kind, ...fields]`: the kind is the variant's place in [`Effect`], the
/// fields are those written after it here, in this order. Effects of the same shape share an
/// arm (one writer per shape rather than one per kind). Out of line: inlined into the loop of
/// `encode_effects` (and with it into `tab_handle`) it cost 339 bytes more (2026-12-01).
#[inline(never)]
fn encode_effect(w: &mut JsonWriter<'_>, effect: &Effect) {
    w.begin_array();
    w.integer(effect_kind(effect));
    match effect {
        Effect::OpenWindow { window, features, title } => {
            w.integer(u64::from(*window));
            w.string(features);
            w.string(title);
        }
        Effect::AdoptWindow { window: first, call: second } | Effect::StartTimer { timer: first, ms: second } => {
            w.integer(u64::from(*first));
            w.integer(u64::from(*second));
        }
        Effect::NavigateWindow { window: id, url: text } | Effect::RequestLock { lock: id, name: text } => {
            w.integer(u64::from(*id));
            w.string(text);
        }
        Effect::PollWindow { window: id }
        | Effect::CloseWindow { window: id }
        | Effect::ReleaseLock { lock: id }
        | Effect::CancelTimer { timer: id }
        | Effect::CreateButton { button: id }
        | Effect::RemoveButton { button: id } => w.integer(u64::from(*id)),
        Effect::Fetch(request) => {
            w.integer(u64::from(request.id));
            w.string(request.method);
            w.string(&request.url);
            if let Some((content_type, body)) = &request.body {
                w.string(content_type);
                w.string(body);
            }
        }
        Effect::ReadStorage { read, area, prefix } => {
            w.integer(u64::from(*read));
            w.integer(*area as u64);
            w.string(prefix);
        }
        Effect::WriteStorage { area, key, value } => {
            w.integer(*area as u64);
            w.string(key);
            w.string(value);
        }
        Effect::RemoveStorage { area, key } => {
            w.integer(*area as u64);
            w.string(key);
        }
        Effect::Listen(source) | Effect::Unlisten(source) => w.integer(*source as u64),
        Effect::Broadcast { message } | Effect::PostToOpener { message } => w.raw(message),
        Effect::CloseSelf => {}
        Effect::ReplaceUrl { url } | Effect::NavigateSelf { url } => w.string(url),
        Effect::Resolve { call, json } => {
            w.integer(u64::from(*call));
            w.raw(json);
        }
        Effect::Reject { call, error } => {
            w.integer(u64::from(*call));
            write_error(w, error);
        }
        Effect::Emit { to, name, meta } => {
            let (to, id) = match to {
                Listener::Connection(id) => (0, id),
                Listener::Call(id) => (1, id),
                Listener::Button(id) => (2, id),
                Listener::Status(id) => (3, id),
            };
            w.integer(to);
            w.integer(u64::from(*id));
            w.string(name);
            // The app's `meta` object, as `shared/API.md` names its members.
            w.begin_object();
            put(w, "provider", meta.provider);
            if let Some(mode) = meta.mode {
                put(w, "mode", mode);
            }
            if let Some(code) = meta.code {
                put(w, "code", code);
            }
            w.end_object();
        }
        Effect::Draw { button, drawing } => {
            w.integer(u64::from(*button));
            w.string(drawing.state);
            w.string(&drawing.label);
            w.bool(drawing.busy);
            w.bool(drawing.inert);
            w.string(&drawing.cancel_label);
            w.bool(drawing.cancel_shown);
            w.string(&drawing.announcement);
        }
        Effect::CallButton { button, callback, json, error } => {
            // The value, or `null` and the error, or neither.
            w.integer(u64::from(*button));
            w.string(callback.as_str());
            if let Some(json) = json {
                w.raw(json);
            }
            if let Some(error) = error {
                if json.is_none() {
                    w.null();
                }
                write_error(w, error);
            }
        }
    }
    w.end_array();
}

/// The kind an effect crosses as: its variant's place in [`Effect`].
fn effect_kind(effect: &Effect) -> u64 {
    match effect {
        Effect::OpenWindow { .. } => 0,
        Effect::AdoptWindow { .. } => 1,
        Effect::NavigateWindow { .. } => 2,
        Effect::PollWindow { .. } => 3,
        Effect::CloseWindow { .. } => 4,
        Effect::Fetch(_) => 5,
        Effect::ReadStorage { .. } => 6,
        Effect::WriteStorage { .. } => 7,
        Effect::RemoveStorage { .. } => 8,
        Effect::Listen(_) => 9,
        Effect::Unlisten(_) => 10,
        Effect::Broadcast { .. } => 11,
        Effect::PostToOpener { .. } => 12,
        Effect::CloseSelf => 13,
        Effect::RequestLock { .. } => 14,
        Effect::ReleaseLock { .. } => 15,
        Effect::StartTimer { .. } => 16,
        Effect::CancelTimer { .. } => 17,
        Effect::ReplaceUrl { .. } => 18,
        Effect::NavigateSelf { .. } => 19,
        Effect::Resolve { .. } => 20,
        Effect::Reject { .. } => 21,
        Effect::Emit { .. } => 22,
        Effect::CreateButton { .. } => 23,
        Effect::Draw { .. } => 24,
        Effect::CallButton { .. } => 25,
        Effect::RemoveButton { .. } => 26,
    }
}

#[cfg(test)]
mod tests {
    //! The wire format `pkg-template/index.js` reads, pinned byte for byte.
    use super::*;
    use crate::effect::{Area, ButtonCallback, Drawing, EventMeta, HttpRequest, Source};
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
            Effect::Reject { call: 12, error: ConnectError::new(ErrorCode::Busy, "b").with_status(401) },
            Effect::Reject {
                call: 12,
                error: ConnectError::new(ErrorCode::Busy, "b").with_provider(ProviderError { error: "e".into(), error_description: None, error_uri: None }),
            },
            Effect::Emit { to: Listener::Connection(1), name: "open", meta: EventMeta { provider: "oidc", mode: Some("popup"), code: None } },
            Effect::Emit { to: Listener::Call(2), name: "error", meta: EventMeta { provider: "oauth2", mode: None, code: Some("busy") } },
            Effect::Emit { to: Listener::Button(3), name: "x", meta: EventMeta { provider: "p", mode: None, code: None } },
            Effect::Emit { to: Listener::Status(4), name: "connected", meta: EventMeta { provider: "oidc", mode: None, code: None } },
            Effect::CreateButton { button: 3 },
            Effect::Draw { button: 3, drawing: Drawing { state: "idle", label: s("L"), busy: true, inert: false, cancel_label: s("C"), cancel_shown: true, announcement: s("A") } },
            Effect::CallButton { button: 3, callback: ButtonCallback::Success, json: Some(s("{\"p\":1}")), error: None },
            Effect::CallButton { button: 3, callback: ButtonCallback::Error, json: None, error: Some(ConnectError::new(ErrorCode::Busy, "b")) },
            Effect::CallButton { button: 3, callback: ButtonCallback::Exit, json: None, error: None },
            Effect::RemoveButton { button: 3 },
        ];
        let text = encode_effects(&effects);
        let expected = [
            r#"[0,1,"f","Connecting…"]"#,
            r#"[1,2,3]"#,
            r#"[2,4,"https://a/?b=\"c\""]"#,
            r#"[3,4294967295]"#,
            r#"[4,0]"#,
            r#"[5,5,"GET","u"]"#,
            r#"[5,6,"POST","u","application/x-www-form-urlencoded","a=b"]"#,
            r#"[6,7,1,"p"]"#,
            r#"[7,0,"k","v\u000a"]"#,
            r#"[8,1,"k"]"#,
            r#"[9,1]"#,
            r#"[10,0]"#,
            r#"[11,{"type":"t","n":1.5,"l":[null,true]}]"#,
            r#"[12,{"url":"x"}]"#,
            r#"[13]"#,
            r#"[14,8,"n"]"#,
            r#"[15,8]"#,
            r#"[16,9,2000]"#,
            r#"[17,9]"#,
            r#"[18,"r"]"#,
            r#"[19,"n"]"#,
            r#"[20,10,null]"#,
            r#"[20,11,{"a":[1,-2.5e-7,1e21]}]"#,
            r#"[21,12,["network","m\"x","bad","d","u",503]]"#,
            r#"[21,12,["busy","b"]]"#,
            r#"[21,12,["busy","b",null,null,null,401]]"#,
            r#"[21,12,["busy","b","e",null,null]]"#,
            r#"[22,0,1,"open",{"provider":"oidc","mode":"popup"}]"#,
            r#"[22,1,2,"error",{"provider":"oauth2","code":"busy"}]"#,
            r#"[22,2,3,"x",{"provider":"p"}]"#,
            r#"[22,3,4,"connected",{"provider":"oidc"}]"#,
            r#"[23,3]"#,
            r#"[24,3,"idle","L",true,false,"C",true,"A"]"#,
            r#"[25,3,"onSuccess",{"p":1}]"#,
            r#"[25,3,"onError",null,["busy","b"]]"#,
            r#"[25,3,"onExit"]"#,
            r#"[26,3]"#,
        ];
        assert_eq!(text, alloc::format!("[{}]", expected.join(",")));
        // No effects: an empty array.
        assert_eq!(encode_effects(&[]), "[]");
    }

    /// A [`Handler`] that writes down each call as the [`Event`] it stands for.
    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl Recorder {
        fn event(&mut self, event: Event) {
            self.0.push(format!("{event:?}"));
        }
    }

    impl Handler for Recorder {
        fn on_new_connect(&mut self, call: u32, connection: u32, config: &str) {
            self.event(Event::NewConnect { call, connection, config: config.into() });
        }
        fn on_call(&mut self, call: u32, connection: u32, what: Call) {
            self.event(Event::Call { call, connection, what });
        }
        fn on_aborted(&mut self, call: u32) {
            self.event(Event::Aborted { call });
        }
        fn on_handle_callback(&mut self, call: u32, url: String, href: String, has_opener: bool) {
            self.event(Event::HandleCallback { call, url, href, has_opener });
        }
        fn on_window_opened(&mut self, window: u32, closed: bool) {
            self.event(Event::WindowOpened { window, closed });
        }
        fn on_window_blocked(&mut self, window: u32) {
            self.event(Event::WindowBlocked { window });
        }
        fn on_window_state(&mut self, window: u32, closed: bool, foreign: bool, opener_focused: bool) {
            self.event(Event::WindowState { window, closed, foreign, opener_focused });
        }
        fn on_http(&mut self, request: u32, answer: HttpAnswer) {
            self.event(Event::Http { request, answer });
        }
        fn on_storage_entries(&mut self, read: u32, entries: Vec<(String, String)>) {
            self.event(Event::StorageEntries { read, entries });
        }
        fn on_lock_granted(&mut self, lock: u32) {
            self.event(Event::LockGranted { lock });
        }
        fn on_timer_fired(&mut self, timer: u32) {
            self.event(Event::TimerFired { timer });
        }
        fn on_window_message(&mut self, origin: &str, data: Option<&str>) {
            self.event(Event::WindowMessage { origin: origin.into(), data: data.map(String::from) });
        }
        fn on_channel_message(&mut self, data: Option<&str>) {
            self.event(Event::ChannelMessage { data: data.map(String::from) });
        }
        fn on_mount_button(&mut self, call: u32, button: u32, connection: u32, options: &str, in_app_browser: bool, return_to: String) {
            self.event(Event::MountButton { call, button, connection, options: options.into(), in_app_browser, return_to });
        }
        fn on_button_clicked(&mut self, button: u32, screen: [f64; 4]) {
            self.event(Event::ButtonClicked { button, screen });
        }
        fn on_cancel_clicked(&mut self, button: u32) {
            self.event(Event::CancelClicked { button });
        }
        fn on_set_button_state(&mut self, call: u32, button: u32, state: &str) {
            self.event(Event::SetButtonState { call, button, state: state.into() });
        }
        fn on_destroy_button(&mut self, button: u32) {
            self.event(Event::DestroyButton { button });
        }
        fn on_drop_connection(&mut self, connection: u32) {
            self.event(Event::DropConnection { connection });
        }
        fn on_refused(&mut self, call: u32, error: ConnectError) {
            self.0.push(format!("refused Reject {{ call: {call}, error: {error:?} }}"));
        }
    }

    /// What `decode_event` made of `text`: the one call it made, `nothing`, or `unreadable`.
    fn decoded(text: &str) -> String {
        let mut recorder = Recorder::default();
        if !decode_event(text, &mut recorder) {
            return String::from("unreadable");
        }
        assert!(recorder.0.len() <= 1, "{text}: {:?}", recorder.0);
        recorder.0.pop().unwrap_or_else(|| String::from("nothing"))
    }

    #[test]
    fn every_event_reads_back_as_written() {
        let s = String::from;
        let events = vec![
            Event::NewConnect { call: 1, connection: 2, config: s(r#"{"kind":"oidc","n":1.5}"#) },
            Event::Call { call: 1, connection: 2, what: Call::Popup(PopupOptions { window: Some(false), aborted: true, timeout_ms: Value::Number(5), screen: [1.0, -2.0, 3.5, 0.0] }) },
            Event::Call { call: 1, connection: 2, what: Call::Popup(PopupOptions::default()) },
            Event::Call { call: 1, connection: 2, what: Call::Redirect { return_to: Value::Text(s("/x")) } },
            Event::Call { call: 1, connection: 2, what: Call::Redirect { return_to: Value::Absent } },
            Event::Call { call: 1, connection: 2, what: Call::AccessToken },
            Event::Call { call: 1, connection: 2, what: Call::Refresh },
            Event::Call { call: 1, connection: 2, what: Call::RequireReconnect },
            Event::Call { call: 1, connection: 2, what: Call::Disconnect },
            Event::Aborted { call: 4294967295 },
            Event::HandleCallback { call: 3, url: s("u\u{2028}"), href: s("h\""), has_opener: true },
            Event::WindowOpened { window: 4, closed: false },
            Event::WindowBlocked { window: 4 },
            Event::WindowState { window: 4, closed: true, foreign: false, opener_focused: true },
            Event::Http { request: 5, answer: HttpAnswer::Response { status: 503, body: s("{\"a\":1}") } },
            Event::Http { request: 5, answer: HttpAnswer::Failed },
            Event::StorageEntries { read: 6, entries: vec![(s("k"), s("v")), (s(""), s("é"))] },
            Event::StorageEntries { read: 6, entries: vec![] },
            Event::LockGranted { lock: 7 },
            Event::TimerFired { timer: 8 },
            Event::WindowMessage { origin: s("https://a.example"), data: Some(s("{}")) },
            Event::WindowMessage { origin: s("null"), data: None },
            Event::ChannelMessage { data: Some(s("[1]")) },
            Event::ChannelMessage { data: None },
            Event::MountButton { call: 1, button: 2, connection: 3, options: s(r#"{"mode":"auto"}"#), in_app_browser: true, return_to: s("/r") },
            Event::MountButton { call: 1, button: 2, connection: 3, options: s("null"), in_app_browser: false, return_to: s("") },
            Event::ButtonClicked { button: 2, screen: [1.0, 2.0, 3.0, 4.0] },
            Event::CancelClicked { button: 2 },
            Event::SetButtonState { call: 1, button: 2, state: s("idle") },
            Event::DestroyButton { button: 2 },
            Event::DropConnection { connection: 3 },
        ];
        for event in events {
            assert_eq!(decoded(&encode_event(&event)), format!("{event:?}"), "{}", encode_event(&event));
        }
    }

    #[test]
    fn every_event_decodes_as_the_runner_sends_it() {
        let cases = [
            r#"[0,1,2,{"kind":"oidc","n":1.5}]"#,
            r#"[0,1,2]"#,
            r#"[1,1,2,0,[1,2,3.5,"x",9],true,false,5]"#,
            r#"[1,1,2,0,[0,0,0,0],false,null]"#,
            r#"[1,1,2,0,[0,0,0,0],false,true,null]"#,
            r#"[1,1,2,1,"/x"]"#,
            r#"[1,1,2,1]"#,
            r#"[1,1,2,2]"#,
            r#"[1,1,2,3]"#,
            r#"[1,1,2,4]"#,
            r#"[1,1,2,5]"#,
            r#"[1,1,2,6]"#,
            r#"[1,1,2,"popup"]"#,
            r#"[2,-1]"#,
            r#"[3,3,"h",true,"u"]"#,
            r#"[3,3,"h"]"#,
            r#"[3,3,"h",false,null]"#,
            r#"[3,3,"h",false,5]"#,
            r#"[4,4,true]"#,
            r#"[5,4]"#,
            r#"[6,4,false,true,true]"#,
            r#"[7,5,200,"{}"]"#,
            r#"[7,5,1200]"#,
            r#"[7,5]"#,
            r#"[8,6,[["a","b"],["c",1],"d",["e","f","g"],["h","i"]]]"#,
            r#"[9,7]"#,
            r#"[10,8.7]"#,
            r#"[11,"o","{}"]"#,
            r#"[11]"#,
            r#"[12,"d"]"#,
            r#"[13,1,2,3,{"mode":"auto"},"Mozilla/5.0 Instagram 1","/r"]"#,
            r#"[13,1,2,3]"#,
            r#"[14,2,[1,2,3,4]]"#,
            r#"[15,2]"#,
            r#"[16,1,2,"idle"]"#,
            r#"[17,2]"#,
            r#"[18,3]"#,
            r#"[10,4294967296]"#,
            r#"[19]"#,
            r#"[-1]"#,
            r#"["k"]"#,
            r#"[]"#,
            r#"{"k":0}"#,
            r#"nope"#,
        ];
        let got: Vec<String> = cases.iter().map(|text| decoded(text)).collect();
        let expected = [
            r#"NewConnect { call: 1, connection: 2, config: "{\"kind\":\"oidc\",\"n\":1.5}" }"#,
            r#"NewConnect { call: 1, connection: 2, config: "null" }"#,
            r#"Call { call: 1, connection: 2, what: Popup(PopupOptions { window: Some(false), aborted: true, timeout_ms: Number(5), screen: [1.0, 2.0, 3.5, 0.0] }) }"#,
            r#"Call { call: 1, connection: 2, what: Popup(PopupOptions { window: None, aborted: false, timeout_ms: Absent, screen: [0.0, 0.0, 0.0, 0.0] }) }"#,
            r#"Call { call: 1, connection: 2, what: Popup(PopupOptions { window: Some(true), aborted: false, timeout_ms: Other, screen: [0.0, 0.0, 0.0, 0.0] }) }"#,
            r#"Call { call: 1, connection: 2, what: Redirect { return_to: Text("/x") } }"#,
            r#"Call { call: 1, connection: 2, what: Redirect { return_to: Absent } }"#,
            r#"Call { call: 1, connection: 2, what: AccessToken }"#,
            r#"Call { call: 1, connection: 2, what: Refresh }"#,
            r#"Call { call: 1, connection: 2, what: RequireReconnect }"#,
            r#"Call { call: 1, connection: 2, what: Disconnect }"#,
            r#"nothing"#,
            r#"nothing"#,
            r#"Aborted { call: 0 }"#,
            r#"HandleCallback { call: 3, url: "u", href: "h", has_opener: true }"#,
            r#"HandleCallback { call: 3, url: "h", href: "h", has_opener: false }"#,
            r#"HandleCallback { call: 3, url: "h", href: "h", has_opener: false }"#,
            r#"refused Reject { call: 3, error: ConnectError(Inner { code: InvalidCallback, message: "the callback URL must be a string", provider: None, status: None }) }"#,
            r#"WindowOpened { window: 4, closed: true }"#,
            r#"WindowBlocked { window: 4 }"#,
            r#"WindowState { window: 4, closed: false, foreign: true, opener_focused: true }"#,
            r#"Http { request: 5, answer: Response { status: 200, body: "{}" } }"#,
            r#"Http { request: 5, answer: Response { status: 999, body: "" } }"#,
            r#"Http { request: 5, answer: Failed }"#,
            r#"StorageEntries { read: 6, entries: [("a", "b"), ("h", "i")] }"#,
            r#"LockGranted { lock: 7 }"#,
            // Not a whole number: no id (the runner sends none such).
            r#"TimerFired { timer: 0 }"#,
            r#"WindowMessage { origin: "o", data: Some("{}") }"#,
            r#"WindowMessage { origin: "", data: None }"#,
            r#"ChannelMessage { data: Some("d") }"#,
            r#"MountButton { call: 1, button: 2, connection: 3, options: "{\"mode\":\"auto\"}", in_app_browser: true, return_to: "/r" }"#,
            r#"MountButton { call: 1, button: 2, connection: 3, options: "null", in_app_browser: false, return_to: "" }"#,
            r#"ButtonClicked { button: 2, screen: [1.0, 2.0, 3.0, 4.0] }"#,
            r#"CancelClicked { button: 2 }"#,
            r#"SetButtonState { call: 1, button: 2, state: "idle" }"#,
            r#"DestroyButton { button: 2 }"#,
            r#"DropConnection { connection: 3 }"#,
            r#"TimerFired { timer: 0 }"#,
            r#"nothing"#,
            r#"nothing"#,
            r#"nothing"#,
            r#"nothing"#,
            r#"unreadable"#,
            r#"unreadable"#,
        ];
        assert_eq!(got, expected);
    }
}
