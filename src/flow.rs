//! The decisions the browser flows make, as pure functions: what a transaction holds and when
//! it expires, how a popup that reads `closed` is judged, which parameters leave the address
//! bar, and where `returnTo` may point.

use alloc::string::String;

use crate::error::{ConnectError, ErrorCode, Result};
use crate::fields::{Fields, Reader, Record, Value};
use crate::url::WebUrl;

/// A redirect transaction lives this long in `sessionStorage` (the contract's 10 minutes).
pub const TRANSACTION_TTL_MS: f64 = 600_000.0;

/// How often an open popup is looked at.
pub const POPUP_POLL_MS: u32 = 200;

/// After a popup reads `closed`, how long a relayed callback may still be on its way before the
/// close is reported as `popup_closed` or `popup_severed`: the callback page posts and then
/// closes itself (a poll can read `closed` before the message's task runs), and a COOP header on the
/// provider's last redirect cuts the link a few hundred milliseconds before the relay arrives
/// (measured 270-440 ms on loopback in Chromium 156).
pub const CLOSE_GRACE_MS: u32 = 1_500;

/// The parameters of an authorization response, removed from the address bar after a callback.
pub const OAUTH_RESPONSE_PARAMS: [&str; 7] = ["code", "state", "iss", "error", "error_description", "error_uri", "session_state"];

/// The `type` of the message a popup's callback page relays to its opener.
pub const CALLBACK_MESSAGE_TYPE: &str = "oauth-connect:callback";

/// The `BroadcastChannel` name every page of the app shares.
pub const CHANNEL_NAME: &str = "oauth-connect";

/// A redirect flow's transaction, as read back from `sessionStorage` on the callback page.
/// Stored as JSON: `{ state, verifier, nonce?, createdAt, returnTo?, tokenEndpoint?, config }`
/// where `config` is the app's config without its functions.
/// It is read back as the flow had it, ready for its completion: what it made first (state,
/// verifier, nonce) and what it learned preparing (the token endpoint found by OIDC discovery,
/// Liquid's session; the URL is not kept).
pub struct Transaction {
    pub pending: crate::providers::Pending,
    pub prepared: crate::providers::Prepared,
    pub created_at_ms: f64,
    pub return_to: Option<String>,
}

/// A stored transaction that cannot be read back.
const DAMAGED: &str = "the stored transaction is damaged";

impl Transaction {
    pub fn from_fields(fields: &Record) -> Result<Transaction> {
        let code = ErrorCode::UnknownState;
        let mut read = Reader::new(fields, code);
        // The app's config is only checked here: the caller validates it where it is stored,
        // without a copy.
        if !matches!(fields.field("config"), Some(Value::Record(_))) {
            read.invalid(DAMAGED);
        }
        let state = read.req("state");
        let verifier = crate::pkce::PkceVerifier::parse(read.req("verifier")).map(Some);
        let verifier = read.take(verifier);
        let nonce = read.opt("nonce");
        let created_at_ms = read.number("createdAt").unwrap_or(0.0);
        let return_to = read.opt("returnTo");
        let token_endpoint = read.opt("tokenEndpoint");
        let liquid_session = match (read.opt("liquidSessionId"), read.opt("liquidSessionSecret")) {
            (Some(id), Some(secret)) => Some(crate::providers::LiquidSession { id, secret: crate::secret::Secret::new(secret) }),
            _ => None,
        };
        let iss_required = matches!(fields.field("issRequired"), Some(Value::Bool(true)));
        read.finish(())?;
        // Without a verifier a problem was kept above, so this error is never the one returned.
        let verifier = verifier.ok_or_else(|| ConnectError::new(code, DAMAGED))?;
        Ok(Transaction {
            pending: crate::providers::Pending { state, verifier, nonce },
            prepared: crate::providers::Prepared { url: String::new(), token_endpoint, liquid_session, iss_required },
            created_at_ms,
            return_to,
        })
    }

    pub fn is_expired(&self, now_ms: f64) -> bool {
        now_ms - self.created_at_ms > TRANSACTION_TTL_MS || now_ms < self.created_at_ms - 60_000.0
    }
}

/// What the opener saw of its popup before it read `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopupEvidence {
    /// The popup was seen open on the provider's page (its location unreadable: another
    /// origin) at least once.
    pub saw_provider_page_open: bool,
    /// `document.hasFocus()` in the opener at the moment `closed` was read.
    pub opener_has_focus: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopupClosed {
    /// The user closed the window: report `popup_closed` (after the grace period).
    ByUser,
    /// A Cross-Origin-Opener-Policy cut the opener's link: the window is most likely still
    /// open. Emit `popup_severed` (after the grace) and wait for the callback over `BroadcastChannel`.
    Severed,
}

/// Tell "the user closed the popup" from "COOP cut the link", from what the opener can see.
///
/// - A provider page sent with `Cross-Origin-Opener-Policy: same-origin` puts the popup in a
///   new browsing context group the moment it commits, so the opener reads `closed` before
///   it ever saw the popup open on the provider's origin. A user cannot close a page they
///   have not seen, so that is a cut.
/// - A later page of the provider may send COOP too (a login page on another host). Then the
///   popup is still in front: the opener has no focus. When the user closes a popup, focus
///   returns to the opener.
/// - Anything else is a close by the user.
///
/// The rule errs on the side of waiting: a cut is never reported as a close, so a flow that
/// then succeeds was never reported as `popup_closed`; a popup closed during its very first
/// load is waited for until the timeout (or Cancel).
pub fn judge_popup_closed(evidence: PopupEvidence) -> PopupClosed {
    if !evidence.saw_provider_page_open || !evidence.opener_has_focus {
        PopupClosed::Severed
    } else {
        PopupClosed::ByUser
    }
}

/// `url` with the authorization response parameters taken out of its query and fragment, the
/// app's own parameters kept exactly as written. `None` when nothing had to go.
pub fn strip_oauth_params(url: &str) -> Option<String> {
    strip_params(url, &OAUTH_RESPONSE_PARAMS)
}

/// `url` without the parameters named in `names` (query and fragment); `None` when none was there.
pub fn strip_params(url: &str, names: &[&str]) -> Option<String> {
    let (base, query, fragment) = crate::url::split_query_fragment(url);
    let mut changed = false;
    let mut cleaned = String::from(base);
    // By reference: an array by value brings an iterator of its own.
    for &(mark, component) in &[('?', query), ('#', fragment)] {
        let Some(component) = component else { continue };
        // The kept segments, as written, after `mark`; nothing at all when none is kept.
        let start = cleaned.len();
        cleaned.push(mark);
        let mut rest = Some(component);
        while let Some((segment, name, _)) = crate::encoding::next_sequence(&mut rest) {
            if names.contains(&crate::encoding::form_decode(name).as_str()) {
                changed = true;
                continue;
            }
            if cleaned.len() > start + 1 {
                cleaned.push('&');
            }
            cleaned.push_str(segment);
        }
        if cleaned.len() == start + 1 {
            cleaned.truncate(start);
        }
    }
    changed.then_some(cleaned)
}

/// The `state` of a callback URL (query first, then fragment), and whether the URL carries an
/// authorization response at all (`code`, `state` or `error`).
pub fn callback_state(url: &str) -> Option<String> {
    let (query, fragment) = crate::url::query_and_fragment(url)?;
    let mut has_response = false;
    let mut state = None;
    // By reference: an array by value brings an iterator of its own (and `flatten` another).
    for &component in &[query, fragment] {
        // Only names are decoded, and the first state's value.
        let mut rest = component;
        while let Some((_, name, value)) = crate::encoding::next_sequence(&mut rest) {
            match crate::encoding::form_decode(name).as_str() {
                "state" => {
                    has_response = true;
                    if state.is_none() {
                        state = Some(crate::encoding::form_decode(value));
                    }
                }
                "code" | "error" => has_response = true,
                _ => {}
            }
        }
    }
    has_response.then(|| state.unwrap_or_default())
}

/// `returnTo` must stay on the app's origin: a path (`/account?tab=1`) or an absolute URL of the
/// same origin. Anything else would make the callback an open redirector.
pub fn check_return_to(return_to: &str, page_origin: &str) -> Result<()> {
    let refused = || ConnectError::new(ErrorCode::InvalidConfig, "returnTo must be a path or URL on this app's origin");
    if return_to.starts_with("/") {
        if return_to.starts_with("//") || return_to.starts_with("/\\") || return_to.bytes().any(|b| b < b' ' || b == b'\\') {
            return Err(refused());
        }
        return Ok(());
    }
    let url = WebUrl::parse(return_to).map_err(|_| refused())?;
    if url.origin() == page_origin {
        Ok(())
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_or_close() {
        let judge = |seen, focus| judge_popup_closed(PopupEvidence { saw_provider_page_open: seen, opener_has_focus: focus });
        assert_eq!(judge(false, true), PopupClosed::Severed);
        assert_eq!(judge(false, false), PopupClosed::Severed);
        assert_eq!(judge(true, false), PopupClosed::Severed);
        assert_eq!(judge(true, true), PopupClosed::ByUser);
    }

    #[test]
    fn strips_only_oauth_params() {
        assert_eq!(
            strip_oauth_params("http://localhost/cb?keep=me&code=abc&state=s&iss=http%3A%2F%2Fx&b=%20+#frag").as_deref(),
            Some("http://localhost/cb?keep=me&b=%20+#frag")
        );
        assert_eq!(strip_oauth_params("http://localhost/cb?code=a&state=s").as_deref(), Some("http://localhost/cb"));
        assert_eq!(strip_oauth_params("http://localhost/cb#code=a&state=s&x=1").as_deref(), Some("http://localhost/cb#x=1"));
        assert_eq!(strip_oauth_params("http://localhost/cb?error=access_denied&error_description=no").as_deref(), Some("http://localhost/cb"));
        assert_eq!(strip_oauth_params("http://localhost/page?x=1"), None);
        assert_eq!(
            strip_params("http://localhost/cb?keep=1&session_id=abc", crate::providers::liquid::RESPONSE_PARAMS).as_deref(),
            Some("http://localhost/cb?keep=1")
        );
        let oidc = crate::json::parse_object(r#"{"kind":"oidc","issuer":"https://id.example","clientId":"a","redirectUri":"https://app.example/cb"}"#).unwrap();
        assert_eq!(crate::providers::response_params(&crate::config::ConnectConfig::parse(&oidc).unwrap()), &[] as &[&str]);
    }

    #[test]
    fn finds_the_callback_state() {
        assert_eq!(callback_state("http://l/cb?code=a&state=s1").as_deref(), Some("s1"));
        assert_eq!(callback_state("http://l/cb#state=s2&code=a").as_deref(), Some("s2"));
        assert_eq!(callback_state("http://l/cb?error=access_denied").as_deref(), Some(""));
        assert_eq!(callback_state("http://l/page?x=1"), None);
        assert_eq!(callback_state("http://l/page"), None);
    }

    #[test]
    fn return_to_stays_home() {
        let origin = "http://localhost:8080";
        for ok in ["/", "/account?tab=1#x", "http://localhost:8080/a"] {
            assert!(check_return_to(ok, origin).is_ok(), "{ok}");
        }
        for bad in ["//evil.example/", "/\\evil.example", "https://evil.example/", "http://localhost:8081/", "javascript:alert(1)", "relative"] {
            assert!(check_return_to(bad, origin).is_err(), "{bad}");
        }
    }
}
