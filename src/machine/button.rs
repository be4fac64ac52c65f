//! The connect buttons of the tab: their states, labels and decisions (`button_state.rs` holds
//! the pure rules), driving their connection directly. Drawing is an effect (`Draw`): the
//! runner only sets text and attributes. A button follows its connection's status as it
//! changes (checked after every event), with no polling.

use alloc::string::String;

use super::{Caller, Tab};
use crate::button_state::{click_action, failure_handling, state_for_status, ButtonMode, ButtonState, ClickAction, FailureHandling};
use crate::effect::{ButtonCallback, Drawing, Effect, Id, PopupOptions};
use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::{opt_string, Fields, Value};

/// `options.labels`' names: first the states' (in the order of [`ButtonState`], whose place
/// indexes them), then the severed popup's and the Cancel button's.
const LABEL_NAMES: [&str; 7] = ["idle", "connecting", "connected", "reconnect", "error", "waiting", "cancel"];
const WAITING: usize = 5;
const CANCEL: usize = 6;

/// The app's labels, by their place in [`LABEL_NAMES`] (`None`: the default).
type Labels = [Option<String>; 7];

pub struct Button {
    pub(crate) id: Id,
    pub(crate) connection: Id,
    mode: ButtonMode,
    labels: Labels,
    pub(crate) state: ButtonState,
    /// COOP cut the popup: show "waiting" and a Cancel.
    severed: bool,
    /// The button's flow is running.
    flowing: bool,
    in_app_browser: bool,
    /// Where a redirect comes back to (the page's path, query and fragment).
    return_to: String,
    /// The error message shown in the live region.
    message: Option<String>,
}

fn invalid(message: &'static str) -> ConnectError {
    ConnectError::new(ErrorCode::InvalidConfig, message)
}

fn read_options(options: &str) -> Result<(ButtonMode, Labels)> {
    let record = match crate::json::parse(options) {
        Ok(Value::Record(record)) => record,
        _ => alloc::vec::Vec::new(),
    };
    let mode = ButtonMode::parse(opt_string(&record, "mode", ErrorCode::InvalidConfig)?.as_deref())
        .ok_or_else(|| invalid("mode must be \"popup\", \"redirect\" or \"auto\""))?;
    let mut labels = Labels::default();
    if let Some(Value::Record(given)) = record.field("labels") {
        for (label, name) in labels.iter_mut().zip(LABEL_NAMES.iter()) {
            *label = opt_string(given, name, ErrorCode::InvalidConfig)?;
        }
    }
    Ok((mode, labels))
}

impl Tab {
    pub(crate) fn button_index(&self, id: Id) -> Option<usize> {
        self.buttons.iter().position(|button| button.id == id)
    }

    pub(crate) fn mount_button(&mut self, call: Id, id: Id, connection: Id, options: &str, in_app_browser: bool, return_to: String) {
        // 0 is the wire's "no connection" (the runner sends it for a config that is neither an
        // object nor a Connect; a missing or malformed id reads as 0): never a Connect's, even one
        // made with that id.
        if connection == 0 || self.connection(connection).is_none() {
            return self.reject(call, invalid("mountConnectButton needs options.config: a provider config or a Connect"));
        }
        let (mode, labels) = match read_options(options) {
            Ok(read) => read,
            Err(error) => return self.reject(call, error),
        };
        let state = state_for_status(self.connect_status(connection), ButtonState::Idle);
        self.buttons.push(Button { id, connection, mode, labels, state, severed: false, flowing: false, in_app_browser, return_to, message: None });
        self.effects.push(Effect::CreateButton { button: id });
        self.draw(self.buttons.len() - 1);
        self.resolve_null(call);
    }

    /// The app's label at `index` of [`LABEL_NAMES`], or `default`.
    fn label(button: &Button, index: usize, default: &'static str) -> String {
        String::from(button.labels[index].as_deref().unwrap_or(default))
    }

    /// Draw the button at `index`.
    fn draw(&mut self, index: usize) {
        let button = &self.buttons[index];
        let id = button.id;
        let state = button.state;
        let waiting = state == ButtonState::Connecting && button.severed;
        let label = if waiting { Self::label(button, WAITING, "Waiting for the other window…") } else { Self::label(button, state as usize, state.default_label()) };
        let announcement = match (&button.message, waiting) {
            (Some(message), _) => message.as_str(),
            (None, true) => "Waiting for the sign-in window. Press Cancel to stop.",
            (None, false) => state.announcement(),
        };
        let drawing = Drawing {
            state: state.as_str(),
            label,
            busy: state == ButtonState::Connecting,
            inert: state == ButtonState::Connected,
            cancel_label: Self::label(button, CANCEL, "Cancel"),
            cancel_shown: waiting,
            announcement: String::from(announcement),
        };
        self.effects.push(Effect::Draw { button: id, drawing });
    }

    /// Set the state of the button at `index` and draw it.
    fn set_state(&mut self, index: usize, state: ButtonState, message: Option<String>) {
        let button = &mut self.buttons[index];
        button.state = state;
        button.message = message;
        if state != ButtonState::Connecting {
            button.severed = false;
        }
        self.draw(index);
    }

    /// A click: the popup opens in this very turn.
    pub(crate) fn button_clicked(&mut self, id: Id, screen: [f64; 4]) {
        let Some(index) = self.button_index(id) else { return };
        let button = &mut self.buttons[index];
        match click_action(button.state, button.mode, button.in_app_browser) {
            ClickAction::Ignore => {}
            ClickAction::Popup => {
                button.flowing = true;
                let connection = button.connection;
                self.set_state(index, ButtonState::Connecting, None);
                self.start_popup(connection, Caller::Button(id), PopupOptions { screen, ..PopupOptions::default() });
            }
            ClickAction::Redirect => self.button_redirect(id),
        }
    }

    fn button_redirect(&mut self, id: Id) {
        let Some(index) = self.button_index(id) else { return };
        self.buttons[index].flowing = true;
        let (connection, return_to) = (self.buttons[index].connection, self.buttons[index].return_to.clone());
        self.set_state(index, ButtonState::Connecting, None);
        self.start_redirect(connection, Caller::Button(id), Value::Text(return_to));
    }

    pub(crate) fn cancel_clicked(&mut self, id: Id) {
        self.abort_job_of(Caller::Button(id), false);
    }

    /// COOP cut the popup of the button at `index`.
    pub(crate) fn button_severed(&mut self, index: usize) {
        if self.buttons[index].flowing {
            self.buttons[index].severed = true;
            self.draw(index);
        }
    }

    /// The button's flow ended.
    pub(crate) fn button_flow_ended(&mut self, id: Id, outcome: Result<String>) {
        let Some(index) = self.button_index(id) else { return };
        self.buttons[index].flowing = false;
        let (mode, connection) = (self.buttons[index].mode, self.buttons[index].connection);
        let (state, message, callback, json, error) = match outcome {
            Ok(json) => (ButtonState::Connected, None, ButtonCallback::Success, Some(json), None),
            Err(error) => match failure_handling(error.code(), mode) {
                FailureHandling::FallBackToRedirect => return self.button_redirect(id),
                FailureHandling::Exit => (state_for_status(self.connect_status(connection), ButtonState::Idle), None, ButtonCallback::Exit, None, Some(error)),
                FailureHandling::Fail => (ButtonState::Error, Some(String::from(error.message())), ButtonCallback::Error, None, Some(error)),
            },
        };
        self.set_state(index, state, message);
        self.effects.push(Effect::CallButton { button: id, callback, json, error });
    }

    pub(crate) fn set_button_state(&mut self, call: Id, id: Id, state: &str) {
        match ButtonState::parse(state) {
            Some(state) => {
                if let Some(index) = self.button_index(id) {
                    self.set_state(index, state, None);
                }
                self.resolve_null(call);
            }
            None => self.reject(call, invalid("state must be idle, connecting, connected, reconnect or error")),
        }
    }

    /// `destroy()`: end the button's flow, remove its elements.
    pub(crate) fn destroy_button(&mut self, id: Id) {
        let Some(index) = self.button_index(id) else { return };
        self.buttons.swap_remove(index);
        self.abort_job_of(Caller::Button(id), false);
        self.effects.push(Effect::RemoveButton { button: id });
    }

    /// Buttons not in a flow of their own show their connection's status.
    pub(crate) fn follow_status(&mut self) {
        // By index: redrawing a button neither adds nor removes one.
        for index in 0..self.buttons.len() {
            let button = &self.buttons[index];
            if button.flowing || button.state == ButtonState::Connecting {
                continue;
            }
            let current = button.state;
            let next = state_for_status(self.connect_status(button.connection), current);
            if next != current {
                self.set_state(index, next, None);
            }
        }
    }
}
