//! The connect button's behaviour as pure decisions: its states and their default labels, what
//! a click does, how a flow's end moves the state, and which browsers cannot do popups.
//! `button.rs` wires these to the DOM.

use crate::error::ErrorCode;
use crate::machine::ConnectStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonState {
    Idle,
    Connecting,
    Connected,
    Reconnect,
    Error,
}

impl ButtonState {
    pub const ALL: [ButtonState; 5] = [ButtonState::Idle, ButtonState::Connecting, ButtonState::Connected, ButtonState::Reconnect, ButtonState::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            ButtonState::Idle => "idle",
            ButtonState::Connecting => "connecting",
            ButtonState::Connected => "connected",
            ButtonState::Reconnect => "reconnect",
            ButtonState::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<ButtonState> {
        // By reference: an array by value brings an iterator of its own.
        ButtonState::ALL.iter().find(|state| state.as_str() == text).copied()
    }

    pub fn default_label(self) -> &'static str {
        match self {
            ButtonState::Idle => "Connect",
            ButtonState::Connecting => "Connecting…",
            ButtonState::Connected => "Connected",
            ButtonState::Reconnect => "Reconnect",
            ButtonState::Error => "Try again",
        }
    }

    /// What a screen reader hears when the button enters this state.
    pub fn announcement(self) -> &'static str {
        match self {
            ButtonState::Idle => "",
            ButtonState::Connecting => "Connecting. Finish in the window that opened.",
            ButtonState::Connected => "Connected.",
            ButtonState::Reconnect => "The connection was lost. Reconnect to restore it.",
            ButtonState::Error => "The connection failed.",
        }
    }
}

/// `mode` of the button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonMode {
    Popup,
    Redirect,
    /// Popup, and redirect when the popup is blocked; redirect straight away in in-app browsers.
    Auto,
}

impl ButtonMode {
    pub fn parse(text: Option<&str>) -> Option<ButtonMode> {
        match text {
            None | Some("auto") => Some(ButtonMode::Auto),
            Some("popup") => Some(ButtonMode::Popup),
            Some("redirect") => Some(ButtonMode::Redirect),
            Some(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickAction {
    Ignore,
    Popup,
    Redirect,
}

/// What a click does. A click while connecting (a double click) starts nothing; a connected
/// button starts nothing either (the app disconnects first if it wants a new account).
pub fn click_action(state: ButtonState, mode: ButtonMode, in_app_browser: bool) -> ClickAction {
    match state {
        ButtonState::Connecting | ButtonState::Connected => ClickAction::Ignore,
        ButtonState::Idle | ButtonState::Error | ButtonState::Reconnect => match mode {
            ButtonMode::Popup => ClickAction::Popup,
            ButtonMode::Redirect => ClickAction::Redirect,
            ButtonMode::Auto if in_app_browser => ClickAction::Redirect,
            ButtonMode::Auto => ClickAction::Popup,
        },
    }
}

/// How a failed popup flow leaves the button, and which callback hears of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureHandling {
    /// `auto` mode and the browser blocked the popup: go by redirect instead.
    FallBackToRedirect,
    /// The user closed the window or cancelled: back to idle (or reconnect), `onExit`.
    Exit,
    /// Anything else: the error state, `onError`.
    Fail,
}

// Inlined: its one match folds into the caller's (36 bytes less, 2026-12-01).
#[inline(always)]
pub fn failure_handling(code: ErrorCode, mode: ButtonMode) -> FailureHandling {
    match code {
        ErrorCode::PopupBlocked if mode == ButtonMode::Auto => FailureHandling::FallBackToRedirect,
        ErrorCode::PopupClosed | ErrorCode::Aborted => FailureHandling::Exit,
        _ => FailureHandling::Fail,
    }
}

/// The state a connection's `status` calls for, when no flow of the button runs.
#[inline(always)]
pub fn state_for_status(status: ConnectStatus, current: ButtonState) -> ButtonState {
    match status {
        ConnectStatus::ReconnectRequired => ButtonState::Reconnect,
        ConnectStatus::Connected => ButtonState::Connected,
        // A connection that ended elsewhere (disconnect in another tab) shows idle again; an
        // error stays shown until the next click.
        ConnectStatus::Idle if current == ButtonState::Connected || current == ButtonState::Reconnect => ButtonState::Idle,
        _ => current,
    }
}

/// In-app browsers (the webviews of social and messaging apps) open popups as new, unrelated
/// views or not at all: the `auto` mode goes by redirect there. Known markers of their user
/// agents; a miss only means the popup is tried first.
pub fn is_in_app_browser(user_agent: &str) -> bool {
    const MARKERS: [&str; 9] = ["FBAN/", "FBAV/", "Instagram", "Line/", "Twitter", "LinkedInApp", "Snapchat", "MicroMessenger", "; wv)"];
    // A plain scan: `str::contains` would bring the two-way searcher (~1 KB of wasm) for this alone.
    let agent = user_agent.as_bytes();
    MARKERS.iter().any(|marker| agent.windows(marker.len()).any(|window| window == marker.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for state in ButtonState::ALL {
            assert_eq!(ButtonState::parse(state.as_str()), Some(state));
            assert!(!state.default_label().is_empty());
        }
        assert_eq!(ButtonState::parse("busy"), None);
    }

    #[test]
    fn clicks() {
        use ButtonMode::*;
        use ButtonState::*;
        assert_eq!(click_action(Connecting, Popup, false), ClickAction::Ignore);
        assert_eq!(click_action(Connected, Auto, false), ClickAction::Ignore);
        assert_eq!(click_action(Idle, Auto, false), ClickAction::Popup);
        assert_eq!(click_action(Idle, Auto, true), ClickAction::Redirect);
        assert_eq!(click_action(Reconnect, Popup, true), ClickAction::Popup);
        assert_eq!(click_action(Error, Redirect, false), ClickAction::Redirect);
    }

    #[test]
    fn failures() {
        assert_eq!(failure_handling(ErrorCode::PopupBlocked, ButtonMode::Auto), FailureHandling::FallBackToRedirect);
        assert_eq!(failure_handling(ErrorCode::PopupBlocked, ButtonMode::Popup), FailureHandling::Fail);
        assert_eq!(failure_handling(ErrorCode::PopupClosed, ButtonMode::Auto), FailureHandling::Exit);
        assert_eq!(failure_handling(ErrorCode::Aborted, ButtonMode::Popup), FailureHandling::Exit);
        assert_eq!(failure_handling(ErrorCode::AuthorizationError, ButtonMode::Auto), FailureHandling::Fail);
    }

    #[test]
    fn status_drives_state() {
        assert_eq!(state_for_status(ConnectStatus::ReconnectRequired, ButtonState::Connected), ButtonState::Reconnect);
        assert_eq!(state_for_status(ConnectStatus::Connected, ButtonState::Idle), ButtonState::Connected);
        assert_eq!(state_for_status(ConnectStatus::Idle, ButtonState::Connected), ButtonState::Idle);
        assert_eq!(state_for_status(ConnectStatus::Idle, ButtonState::Error), ButtonState::Error);
    }

    #[test]
    fn in_app_browsers() {
        assert!(is_in_app_browser("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) [FBAN/FBIOS;FBAV/440.0]"));
        assert!(is_in_app_browser("Mozilla/5.0 (Linux; Android 14; Pixel 8; wv) AppleWebKit/537.36 Instagram 300.0"));
        assert!(!is_in_app_browser("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"));
    }
}
