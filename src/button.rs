//! The connect button (`mountConnectButton`): a native `<button>` driven by a `Connect`. It
//! shows the flow's state (`data-state`, `aria-busy`, `disabled` while connecting, a polite live
//! region for screen readers), starts exactly one flow per click, falls back from popup to
//! redirect in `auto` mode, offers Cancel while a COOP-cut popup is waited for, and shows
//! `reconnect` when the connection needs it. `destroy()` aborts its flow and removes every
//! listener, timer and observer it added. The decisions are in `button_state.rs`; the look is
//! `pkg-template/button.css`, which the entry module adopts as a constructed stylesheet (data,
//! kept out of the wasm, and never inline style, which a strict CSP refuses).

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, Document, Element, HtmlButtonElement, HtmlElement, Node};

use crate::browser::channel::EventListener;
use crate::browser::connect::Connect;
use crate::browser::events::Observation;
use crate::browser::js;
use crate::browser::timers::Timer;
use crate::button_state::{click_action, failure_handling, is_in_app_browser, state_for_status, ButtonMode, ButtonState, ClickAction, FailureHandling};
use crate::error::{ConnectError, ErrorCode};

/// How often the button looks at its connection's status (reconnect, another tab's connect).
const STATUS_POLL_MS: u32 = 400;

/// The handle `mountConnectButton` returns.
#[wasm_bindgen]
pub struct ConnectButton {
    inner: Rc<ButtonInner>,
}

struct Callbacks {
    success: Option<Function>,
    exit: Option<Function>,
    error: Option<Function>,
    event: Option<Function>,
}

struct ButtonInner {
    connect: Connect,
    wrapper: HtmlElement,
    button: HtmlButtonElement,
    cancel: HtmlButtonElement,
    live: HtmlElement,
    mode: ButtonMode,
    labels: Vec<(String, String)>,
    callbacks: Callbacks,
    state: Cell<ButtonState>,
    severed: Cell<bool>,
    abort: RefCell<Option<AbortController>>,
    listeners: RefCell<Vec<EventListener>>,
    timer: RefCell<Option<Timer>>,
    observation: RefCell<Option<Observation>>,
    destroyed: Cell<bool>,
}

fn invalid(message: &'static str) -> JsValue {
    ConnectError::new(ErrorCode::InvalidConfig, message).into()
}

fn function(options: &JsValue, name: &str) -> Option<Function> {
    js::get(options, name).dyn_into::<Function>().ok()
}

/// `mountConnectButton(target, options)` with `options.config` a config object.
#[wasm_bindgen(js_name = mountConnectButton)]
pub fn mount_connect_button(target: JsValue, options: JsValue) -> Result<ConnectButton, JsValue> {
    let config = js::get(&options, "config");
    if !config.is_object() {
        return Err(invalid("mountConnectButton needs options.config: a provider config or a Connect"));
    }
    mount(target, &options, Connect::new(config)?)
}

/// `mountConnectButton(target, options)` with `options.config` a `Connect` (the entry module
/// passes its wasm object here).
#[wasm_bindgen(js_name = mountConnectButtonWith)]
pub fn mount_connect_button_with(target: JsValue, options: JsValue, connect: &Connect) -> Result<ConnectButton, JsValue> {
    mount(target, &options, connect.handle())
}

fn create<T: JsCast>(document: &Document, tag: &str) -> Result<T, JsValue> {
    document.create_element(tag)?.dyn_into::<T>().map_err(|_| invalid("the document could not create the button"))
}

fn mount(target: JsValue, options: &JsValue, connect: Connect) -> Result<ConnectButton, JsValue> {
    let target: Node = target.dyn_into().map_err(|_| invalid("mountConnectButton needs a target element"))?;
    let document = target.owner_document().or_else(|| web_sys::window().and_then(|w| w.document())).ok_or_else(|| invalid("no document"))?;
    let mode = ButtonMode::parse(js::optional_string_field(options, "mode")?.as_deref())
        .ok_or_else(|| invalid("mode must be \"popup\", \"redirect\" or \"auto\""))?;
    let labels_object = js::get(options, "labels");
    let mut labels = Vec::new();
    for name in ["idle", "connecting", "connected", "reconnect", "error", "waiting", "cancel"] {
        if let Some(label) = js::optional_string_field(&labels_object, name)? {
            labels.push((String::from(name), label));
        }
    }

    let wrapper: HtmlElement = create(&document, "span")?;
    wrapper.set_class_name("oauth-connect");
    wrapper.set_attribute("part", "wrapper")?;
    let button: HtmlButtonElement = create(&document, "button")?;
    button.set_type("button");
    button.set_class_name("oauth-connect-button");
    button.set_attribute("part", "button")?;
    let cancel: HtmlButtonElement = create(&document, "button")?;
    cancel.set_type("button");
    cancel.set_class_name("oauth-connect-cancel");
    cancel.set_attribute("part", "cancel")?;
    cancel.set_hidden(true);
    let live: HtmlElement = create(&document, "span")?;
    live.set_class_name("oauth-connect-live");
    live.set_attribute("role", "status")?;
    live.set_attribute("aria-live", "polite")?;
    wrapper.append_child(&button)?;
    wrapper.append_child(&cancel)?;
    wrapper.append_child(&live)?;
    target.append_child(&wrapper)?;

    let initial = state_for_status(&connect.status(), ButtonState::Idle);
    let inner = Rc::new(ButtonInner {
        connect,
        wrapper,
        button,
        cancel,
        live,
        mode,
        labels,
        callbacks: Callbacks {
            success: function(options, "onSuccess"),
            exit: function(options, "onExit"),
            error: function(options, "onError"),
            event: function(options, "onEvent"),
        },
        state: Cell::new(initial),
        severed: Cell::new(false),
        abort: RefCell::new(None),
        listeners: RefCell::new(Vec::new()),
        timer: RefCell::new(None),
        observation: RefCell::new(None),
        destroyed: Cell::new(false),
    });
    wire(&inner);
    render(&inner, None);
    Ok(ConnectButton { inner })
}

fn wire(inner: &Rc<ButtonInner>) {
    let on_click = {
        let inner = Rc::downgrade(inner);
        move |_| {
            if let Some(inner) = inner.upgrade() {
                click(&inner);
            }
        }
    };
    let on_cancel = {
        let inner = Rc::downgrade(inner);
        move |_| {
            if let Some(controller) = inner.upgrade().and_then(|inner| inner.abort.borrow().clone()) {
                controller.abort();
            }
        }
    };
    let mut listeners = Vec::new();
    listeners.extend(EventListener::new(&inner.button, "click", on_click));
    listeners.extend(EventListener::new(&inner.cancel, "click", on_cancel));
    *inner.listeners.borrow_mut() = listeners;

    let weak = Rc::downgrade(inner);
    *inner.observation.borrow_mut() = Some(inner.connect.events().observe(move |name, meta| {
        let Some(inner) = weak.upgrade() else { return };
        if name == "popup_severed" {
            inner.severed.set(true);
            render(&inner, None);
        }
        if let Some(handler) = &inner.callbacks.event {
            let _ = handler.call2(&JsValue::UNDEFINED, &JsValue::from_str(name), meta);
        }
    }));

    let weak = Rc::downgrade(inner);
    *inner.timer.borrow_mut() = Timer::every(STATUS_POLL_MS, move || {
        let Some(inner) = weak.upgrade() else { return };
        if inner.state.get() != ButtonState::Connecting {
            let next = state_for_status(&inner.connect.status(), inner.state.get());
            if next != inner.state.get() {
                set(&inner, next, None);
            }
        }
    });
}

fn label(inner: &ButtonInner, name: &str, default: &'static str) -> String {
    inner.labels.iter().find(|(key, _)| key == name).map(|(_, label)| label.clone()).unwrap_or_else(|| String::from(default))
}

fn render(inner: &ButtonInner, message: Option<&str>) {
    let state = inner.state.get();
    let waiting = state == ButtonState::Connecting && inner.severed.get();
    let text = if waiting { label(inner, "waiting", "Waiting for the other window…") } else { label(inner, state.as_str(), state.default_label()) };
    inner.button.set_text_content(Some(&text));
    let element: &Element = inner.button.as_ref();
    let _ = element.set_attribute("data-state", state.as_str());
    if state == ButtonState::Connecting {
        let _ = element.set_attribute("aria-busy", "true");
    } else {
        let _ = element.remove_attribute("aria-busy");
    }
    inner.button.set_disabled(state == ButtonState::Connecting);
    if state == ButtonState::Connected {
        let _ = element.set_attribute("aria-disabled", "true");
    } else {
        let _ = element.remove_attribute("aria-disabled");
    }
    inner.cancel.set_text_content(Some(&label(inner, "cancel", "Cancel")));
    inner.cancel.set_hidden(!waiting);
    let announcement = match (message, waiting) {
        (Some(message), _) => String::from(message),
        (None, true) => String::from("Waiting for the sign-in window. Press Cancel to stop."),
        (None, false) => String::from(state.announcement()),
    };
    inner.live.set_text_content(Some(&announcement));
}

fn set(inner: &ButtonInner, state: ButtonState, message: Option<&str>) {
    inner.state.set(state);
    if state != ButtonState::Connecting {
        inner.severed.set(false);
    }
    render(inner, message);
}

fn in_app_browser() -> bool {
    web_sys::window().and_then(|window| window.navigator().user_agent().ok()).is_some_and(|agent| is_in_app_browser(&agent))
}

/// A click: synchronous up to `popup()`, which opens the window inside this very event.
fn click(inner: &Rc<ButtonInner>) {
    if inner.destroyed.get() {
        return;
    }
    match click_action(inner.state.get(), inner.mode, in_app_browser()) {
        ClickAction::Ignore => {}
        ClickAction::Popup => start_popup(inner),
        ClickAction::Redirect => start_redirect(inner),
    }
}

fn start_popup(inner: &Rc<ButtonInner>) {
    set(inner, ButtonState::Connecting, None);
    let controller = AbortController::new().ok();
    let options = js::object();
    if let Some(controller) = &controller {
        js::set(&options, "signal", controller.signal());
    }
    *inner.abort.borrow_mut() = controller;
    let flow = inner.connect.popup(options.into());
    let inner = inner.clone();
    spawn_local(async move {
        let outcome = JsFuture::from(flow).await;
        inner.abort.borrow_mut().take();
        if inner.destroyed.get() {
            return;
        }
        match outcome {
            Ok(result) => {
                set(&inner, ButtonState::Connected, None);
                call(&inner.callbacks.success, &result);
            }
            Err(error) => fail(&inner, error),
        }
    });
}

fn start_redirect(inner: &Rc<ButtonInner>) {
    set(inner, ButtonState::Connecting, None);
    let options = js::object();
    if let Some(location) = web_sys::window().map(|window| window.location()) {
        let mut here = location.pathname().unwrap_or_default();
        here.push_str(&location.search().unwrap_or_default());
        here.push_str(&location.hash().unwrap_or_default());
        js::set(&options, "returnTo", here);
    }
    let flow = inner.connect.redirect(options.into());
    let inner = inner.clone();
    spawn_local(async move {
        if let Err(error) = JsFuture::from(flow).await {
            if !inner.destroyed.get() {
                fail(&inner, error);
            }
        }
    });
}

fn fail(inner: &Rc<ButtonInner>, error: JsValue) {
    let code = js::get(&error, "code").as_string();
    let code = ErrorCode::ALL.into_iter().find(|known| Some(known.as_str()) == code.as_deref()).unwrap_or(ErrorCode::Network);
    match failure_handling(code, inner.mode) {
        FailureHandling::FallBackToRedirect => start_redirect(inner),
        FailureHandling::Exit => {
            set(inner, state_for_status(&inner.connect.status(), ButtonState::Idle), None);
            call(&inner.callbacks.exit, &error);
        }
        FailureHandling::Fail => {
            let message = js::get(&error, "message").as_string();
            set(inner, ButtonState::Error, message.as_deref());
            call(&inner.callbacks.error, &error);
        }
    }
}

fn call(callback: &Option<Function>, value: &JsValue) {
    if let Some(callback) = callback {
        let _ = callback.call1(&JsValue::UNDEFINED, value);
    }
}

#[wasm_bindgen]
impl ConnectButton {
    /// The native `<button>`.
    #[wasm_bindgen(getter)]
    pub fn element(&self) -> HtmlButtonElement {
        self.inner.button.clone()
    }

    /// `"idle" | "connecting" | "connected" | "reconnect" | "error"`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        String::from(self.inner.state.get().as_str())
    }

    /// Show a state (an app that knows better, e.g. after its own check).
    #[wasm_bindgen(js_name = setState)]
    pub fn set_state(&self, state: &str) -> Result<(), JsValue> {
        let state = ButtonState::parse(state).ok_or_else(|| invalid("state must be idle, connecting, connected, reconnect or error"))?;
        set(&self.inner, state, None);
        Ok(())
    }

    /// Abort the button's flow, remove its element, listeners, timer and observer.
    pub fn destroy(&self) {
        let inner = &self.inner;
        if inner.destroyed.replace(true) {
            return;
        }
        if let Some(controller) = inner.abort.borrow_mut().take() {
            controller.abort();
        }
        inner.listeners.borrow_mut().clear();
        inner.timer.borrow_mut().take();
        inner.observation.borrow_mut().take();
        inner.wrapper.remove();
    }
}
