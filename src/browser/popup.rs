//! The popup window: opening it inside the caller's gesture, and watching it until the callback
//! comes back (by `postMessage` from the callback page, or over `BroadcastChannel` when COOP cut
//! the opener), the user closes it, the flow times out, or it is aborted. Every listener, timer
//! and subscription of a watch is dropped with it.

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::{Cell, RefCell};
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, MessageEvent, Window};

use crate::browser::channel::{self, EventListener};
use crate::browser::events::{Events, Mode};
use crate::browser::js;
use crate::browser::timers::Timer;
use crate::flow::{callback_state, judge_popup_closed, PopupClosed, PopupEvidence, CALLBACK_MESSAGE_TYPE, CLOSE_GRACE_MS, POPUP_POLL_MS};

const POPUP_WIDTH: f64 = 520.0;
const POPUP_HEIGHT: f64 = 680.0;

/// Open an empty popup, centred over the app. Must run synchronously inside the user's gesture:
/// that is what keeps popup blockers quiet. `None` when the browser blocked it.
pub fn open_blank() -> Option<Window> {
    let window = web_sys::window()?;
    let number = |value: Result<JsValue, JsValue>| value.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    let left = number(window.screen_x()) + (number(window.outer_width()) - POPUP_WIDTH).max(0.0) / 2.0;
    let top = number(window.screen_y()) + (number(window.outer_height()) - POPUP_HEIGHT).max(0.0) / 2.0;
    let mut features = String::from("popup=yes,width=520,height=680,left=");
    push_int(&mut features, left);
    features.push_str(",top=");
    push_int(&mut features, top);
    let popup = window.open_with_url_and_target_and_features("", "_blank", &features).ok().flatten()?;
    // Some blockers hand back a window that is already closed.
    if popup.closed().unwrap_or(true) {
        return None;
    }
    if let Some(document) = popup.document() {
        document.set_title("Connecting…");
        if let Some(body) = document.body() {
            body.set_text_content(Some("Connecting…"));
        }
    }
    Some(popup)
}

fn push_int(out: &mut String, value: f64) {
    crate::encoding::push_decimal(out, value.clamp(0.0, 60_000.0) as u64);
}

/// How a watch ended.
pub enum Outcome {
    /// The callback URL, relayed by the callback page for this flow's state.
    Callback(String),
    Closed,
    Timeout,
    Aborted,
}

/// The first outcome wins; later ones are dropped.
pub struct Finisher {
    outcome: RefCell<Option<Outcome>>,
    resolve: Function,
}

impl Finisher {
    pub fn finish(&self, outcome: Outcome) {
        if self.outcome.borrow().is_some() {
            return;
        }
        *self.outcome.borrow_mut() = Some(outcome);
        let _ = self.resolve.call0(&JsValue::UNDEFINED);
    }
}

/// A relayed callback message for `state`, checked the same way from both routes.
fn relayed_url(data: &JsValue, state: &str) -> Option<Result<String, ()>> {
    if js::get(data, "type").as_string().as_deref() != Some(CALLBACK_MESSAGE_TYPE) {
        return None; // not ours at all: someone else's message
    }
    let url = js::get(data, "url").as_string();
    Some(match url {
        Some(url) if callback_state(&url).as_deref() == Some(state) => Ok(url),
        _ => Err(()),
    })
}

/// Everything one watch needs.
pub struct Watch<'a> {
    pub popup: &'a Window,
    pub state: &'a str,
    pub timeout_ms: u32,
    pub signal: Option<&'a AbortSignal>,
    pub events: &'a Events,
    /// Filled with this watch's finisher, so that `disconnect()` can end it.
    pub finisher_slot: &'a RefCell<Option<Rc<Finisher>>>,
}

/// Watch the popup until something ends the flow.
pub async fn watch(watch: Watch<'_>) -> Outcome {
    let (promise, resolve) = js::deferred();
    let finisher = Rc::new(Finisher { outcome: RefCell::new(None), resolve });
    *watch.finisher_slot.borrow_mut() = Some(finisher.clone());
    let own_origin = web_sys::window().and_then(|window| window.location().origin().ok()).unwrap_or_default();

    let on_message = {
        let (finisher, events, state) = (finisher.clone(), watch.events.clone(), String::from(watch.state));
        move |event: web_sys::Event| {
            let event: MessageEvent = event.unchecked_into();
            match relayed_url(&event.data(), &state) {
                Some(Ok(url)) if event.origin() == own_origin => finisher.finish(Outcome::Callback(url)),
                Some(_) => events.emit("ignored_message", Some(Mode::Popup), None),
                None => {}
            }
        }
    };
    let _message_listener = web_sys::window().and_then(|window| EventListener::new(&window, "message", on_message));

    let _channel = {
        let (finisher, state) = (finisher.clone(), String::from(watch.state));
        channel::subscribe(move |data| match relayed_url(data, &state) {
            Some(Ok(url)) => finisher.finish(Outcome::Callback(url)),
            // Another tab's flow: not for this one, and not suspicious either.
            Some(Err(())) | None => {}
        })
    };

    let saw_provider_page_open = Rc::new(Cell::new(false));
    let severed = Rc::new(Cell::new(false));
    let grace: Rc<RefCell<Option<Timer>>> = Rc::new(RefCell::new(None));
    let _poll = {
        let (popup, finisher, events) = (watch.popup.clone(), finisher.clone(), watch.events.clone());
        let (saw, severed, grace_slot) = (saw_provider_page_open.clone(), severed.clone(), grace.clone());
        Timer::every(POPUP_POLL_MS, move || {
            if severed.get() || grace_slot.borrow().is_some() {
                return;
            }
            if !popup.closed().unwrap_or(true) {
                // Unreadable location: the popup shows another origin's page (the provider's).
                if popup.location().href().is_err() {
                    saw.set(true);
                }
                return;
            }
            let opener_has_focus = web_sys::window().and_then(|w| w.document()).and_then(|d| d.has_focus().ok()).unwrap_or(true);
            match judge_popup_closed(PopupEvidence { saw_provider_page_open: saw.get(), opener_has_focus }) {
                PopupClosed::Severed => {
                    severed.set(true);
                    events.emit("popup_severed", Some(Mode::Popup), None);
                }
                PopupClosed::ByUser => {
                    let finisher = finisher.clone();
                    *grace_slot.borrow_mut() = Timer::once(CLOSE_GRACE_MS, move || finisher.finish(Outcome::Closed));
                }
            }
        })
    };
    let _timeout = {
        let finisher = finisher.clone();
        Timer::once(watch.timeout_ms, move || finisher.finish(Outcome::Timeout))
    };
    let _abort = watch.signal.and_then(|signal| {
        let finisher = finisher.clone();
        EventListener::new(signal, "abort", move |_| finisher.finish(Outcome::Aborted))
    });

    let _ = JsFuture::from(promise).await;
    watch.finisher_slot.borrow_mut().take();
    let outcome = finisher.outcome.borrow_mut().take();
    drop(grace);
    outcome.unwrap_or(Outcome::Aborted)
}
