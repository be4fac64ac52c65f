//! `ConnectError`: the one error type of the library, with the stable codes of the public
//! contract (`shared/API.md`, "Errors"). Pure Rust: the conversion into a JS `Error` lives in
//! `browser/error.rs`.
//!
//! Messages are `&'static str` wherever they can be (no `core::fmt` in the wasm) and never hold
//! a token, code, verifier, secret or checksum: only field names and provider error codes.

use alloc::borrow::Cow;

/// The stable error codes. `as_str()` is what apps match on; never rename a variant's string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorCode {
    NotInitialized,
    InvalidConfig,
    InsecureConfig,
    InvalidVerifier,
    Busy,
    PopupBlocked,
    PopupClosed,
    Timeout,
    Aborted,
    AuthorizationError,
    StateMismatch,
    UnknownState,
    AlreadyHandled,
    TransactionExpired,
    IssuerMismatch,
    DuplicateParameter,
    MissingCode,
    InvalidCallback,
    InvalidIdToken,
    Network,
    TokenError,
    ReconnectRequired,
}

impl ErrorCode {
    /// Every code, in contract order (used by tests to check that each one round-trips).
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::NotInitialized,
        ErrorCode::InvalidConfig,
        ErrorCode::InsecureConfig,
        ErrorCode::InvalidVerifier,
        ErrorCode::Busy,
        ErrorCode::PopupBlocked,
        ErrorCode::PopupClosed,
        ErrorCode::Timeout,
        ErrorCode::Aborted,
        ErrorCode::AuthorizationError,
        ErrorCode::StateMismatch,
        ErrorCode::UnknownState,
        ErrorCode::AlreadyHandled,
        ErrorCode::TransactionExpired,
        ErrorCode::IssuerMismatch,
        ErrorCode::DuplicateParameter,
        ErrorCode::MissingCode,
        ErrorCode::InvalidCallback,
        ErrorCode::InvalidIdToken,
        ErrorCode::Network,
        ErrorCode::TokenError,
        ErrorCode::ReconnectRequired,
    ];

    /// The code string of the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotInitialized => "not_initialized",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::InsecureConfig => "insecure_config",
            ErrorCode::InvalidVerifier => "invalid_verifier",
            ErrorCode::Busy => "busy",
            ErrorCode::PopupBlocked => "popup_blocked",
            ErrorCode::PopupClosed => "popup_closed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Aborted => "aborted",
            ErrorCode::AuthorizationError => "authorization_error",
            ErrorCode::StateMismatch => "state_mismatch",
            ErrorCode::UnknownState => "unknown_state",
            ErrorCode::AlreadyHandled => "already_handled",
            ErrorCode::TransactionExpired => "transaction_expired",
            ErrorCode::IssuerMismatch => "issuer_mismatch",
            ErrorCode::DuplicateParameter => "duplicate_parameter",
            ErrorCode::MissingCode => "missing_code",
            ErrorCode::InvalidCallback => "invalid_callback",
            ErrorCode::InvalidIdToken => "invalid_id_token",
            ErrorCode::Network => "network",
            ErrorCode::TokenError => "token_error",
            ErrorCode::ReconnectRequired => "reconnect_required",
        }
    }
}

/// The fields an authorization server puts in an error response
/// ([RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1),
/// [§5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)). None of them is a secret.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ProviderError {
    pub error: alloc::string::String,
    pub error_description: Option<alloc::string::String>,
    pub error_uri: Option<alloc::string::String>,
}

/// A failure with a stable [`ErrorCode`], a message for people, and, where the provider or
/// the network said something, its fields.
///
/// Boxed so that a `Result<T, ConnectError>` is one pointer wider than `T`: errors are rare,
/// and every `?` would otherwise move the whole record around.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ConnectError(alloc::boxed::Box<Inner>);

#[derive(Clone, PartialEq, Eq, Debug)]
struct Inner {
    code: ErrorCode,
    message: Cow<'static, str>,
    provider: Option<ProviderError>,
    status: Option<u16>,
}

impl ConnectError {
    #[inline]
    fn make(code: ErrorCode, message: Cow<'static, str>) -> Self {
        ConnectError(alloc::boxed::Box::new(Inner { code, message, provider: None, status: None }))
    }

    /// An error with a fixed message.
    #[inline(never)]
    pub fn new(code: ErrorCode, message: &'static str) -> Self {
        Self::make(code, Cow::Borrowed(message))
    }

    /// An error whose message names something (a field, a parameter): the caller makes sure
    /// the text holds no secret value.
    #[inline(never)]
    pub fn with_message(code: ErrorCode, message: alloc::string::String) -> Self {
        Self::make(code, Cow::Owned(message))
    }

    /// `"{field} {reason}"`: an error about one named field (the name is never a secret).
    #[inline(never)]
    pub fn field(code: ErrorCode, field: &str, reason: &str) -> Self {
        Self::with_message(code, field_message(field, reason))
    }

    /// Attach what the provider said.
    pub fn with_provider(mut self, provider: ProviderError) -> Self {
        self.0.provider = Some(provider);
        self
    }

    /// Attach the HTTP status of a failed request.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub fn provider(&self) -> Option<&ProviderError> {
        self.0.provider.as_ref()
    }

    pub fn status(&self) -> Option<u16> {
        self.0.status
    }
}

/// A refusal by the authorization server (`authorization_error`, `token_error`): `message`, then
/// the provider's `error` code when it keeps to RFC 6749's character set and is short, so a
/// crafted value cannot write prose; the provider's fields (none without an `error`) are attached
/// as they are. Taken borrowed and copied here once, for both callers.
#[inline(never)]
pub(crate) fn refused_by(code: ErrorCode, message: &'static str, error: Option<&str>, description: Option<&str>, uri: Option<&str>) -> ConnectError {
    let mut text = alloc::string::String::from(message);
    match error {
        Some(quoted) => {
            if !quoted.is_empty() && quoted.len() <= 64 && quoted.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\') {
                text.push_str(": ");
                text.push_str(quoted);
            }
            let provider = ProviderError { error: quoted.into(), error_description: description.map(Into::into), error_uri: uri.map(Into::into) };
            ConnectError::with_message(code, text).with_provider(provider)
        }
        None => ConnectError::with_message(code, text),
    }
}

/// `"field: " + reason`, built without `core::fmt`.
pub(crate) fn field_message(field: &str, reason: &str) -> alloc::string::String {
    let mut message = alloc::string::String::with_capacity(field.len() + reason.len() + 1);
    message.push_str(field);
    message.push(' ');
    message.push_str(reason);
    message
}

pub type Result<T> = core::result::Result<T, ConnectError>;
