//! The small part of URL parsing the core needs, without a general URL crate (and its Unicode
//! tables) in the wasm: splitting an absolute `http(s)` URL into normalized parts, and finding
//! a callback URL's query and fragment.
//!
//! Normalization follows what the browser's `URL` does to the same text (lower-case scheme and
//! host, default port dropped, empty path as `/`), so that a URL built here compares equal to
//! `new URL(...).href`. Text the browser would silently rewrite (spaces, backslashes, non-ASCII,
//! characters it percent-encodes) is refused instead of being guessed at.

use alloc::string::String;

use crate::encoding::{byte_position, has_byte, split_once_byte};

/// An absolute `http:` or `https:` URL, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl<'a> {
    /// `"https"` or `"http"`.
    pub scheme: &'static str,
    /// Lower-case host name, IPv4 literal in dotted decimal, or `[::1]`.
    pub host: String,
    /// The port, `None` when absent or the scheme's default.
    pub port: Option<u16>,
    /// The path as written, `/` when empty.
    pub path: &'a str,
    /// The query as written, without the `?`.
    pub query: Option<&'a str>,
    /// The fragment as written, without the `#`.
    pub fragment: Option<&'a str>,
}

/// The reason given for a URL that is plain `http:` off this machine.
pub const HTTPS_ONLY: &str = "must use https: (http: only on loopback)";

/// The reason given for a URL with a fragment where none may be
/// ([RFC 6749 §3.1](https://www.rfc-editor.org/rfc/rfc6749#section-3.1)).
pub const NO_FRAGMENT: &str = "must not have a #fragment";

/// Why a URL was refused; the caller turns it into a message for its own field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    NotAbsoluteHttp,
    Credentials,
    BadHost,
    BadPort,
    BadCharacter,
}

impl UrlProblem {
    pub fn describe(self) -> &'static str {
        match self {
            UrlProblem::NotAbsoluteHttp => "must be an https:// URL",
            UrlProblem::Credentials => "must not hold user:password@",
            UrlProblem::BadHost => "has a bad host (use ASCII punycode)",
            UrlProblem::BadPort => "has a bad port (0-65535)",
            UrlProblem::BadCharacter => "holds a character to percent-encode",
        }
    }
}

impl<'a> WebUrl<'a> {
    /// Parse an absolute `http(s)` URL. Leading and trailing ASCII whitespace is ignored, as by
    /// the browser.
    pub fn parse(text: &'a str) -> Result<Self, UrlProblem> {
        let text = text.trim_ascii();
        // The first `:` must start `://`: a character search, not a substring search, which
        // would bring core's two-way searcher here for one fixed pattern.
        let (scheme_text, rest) = split_once_byte(text, b':').ok_or(UrlProblem::NotAbsoluteHttp)?;
        let rest = rest.strip_prefix("//").ok_or(UrlProblem::NotAbsoluteHttp)?;
        let scheme = if scheme_text.eq_ignore_ascii_case("https") {
            "https"
        } else if scheme_text.eq_ignore_ascii_case("http") {
            "http"
        } else {
            return Err(UrlProblem::NotAbsoluteHttp);
        };
        let (before_query, query, fragment) = split_query_fragment(rest);
        let (authority, path) = match byte_position(before_query, b'/').and_then(|slash| before_query.split_at_checked(slash)) {
            Some(split) => split,
            None => (before_query, ""),
        };
        if !all_bytes(path, is_path_byte) || !all_bytes(query.unwrap_or(""), is_query_byte) || !all_bytes(fragment.unwrap_or(""), is_query_byte) {
            return Err(UrlProblem::BadCharacter);
        }
        // The browser resolves `.` and `..` segments (`%2e` counts as a dot): a path holding
        // one is not the path it requests.
        if path.as_bytes().split(|&byte| byte == b'/').any(is_dot_segment) {
            return Err(UrlProblem::BadCharacter);
        }
        if has_byte(authority, b'@') {
            return Err(UrlProblem::Credentials);
        }
        let (host, port_text) = split_host_port(authority)?;
        let port = match port_text {
            None | Some("") => None,
            Some(digits) if digits.len() <= 5 => {
                let number = crate::encoding::parse_decimal(digits).and_then(|number| u16::try_from(number).ok()).ok_or(UrlProblem::BadPort)?;
                let default = if scheme == "https" { 443 } else { 80 };
                (number != default).then_some(number)
            }
            Some(_) => return Err(UrlProblem::BadPort),
        };
        Ok(WebUrl { scheme, host: host.to_ascii_lowercase(), port, path: if path.is_empty() { "/" } else { path }, query, fragment })
    }

    /// True for the hosts where plain `http:` is acceptable: this machine only.
    pub fn is_loopback(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }

    /// `https:`, or `http:` on a loopback host.
    pub fn is_secure_or_loopback(&self) -> bool {
        self.scheme == "https" || self.is_loopback()
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        let mut origin = String::with_capacity(self.scheme.len() + self.host.len() + 9);
        origin.push_str(self.scheme);
        origin.push_str("://");
        origin.push_str(&self.host);
        if let Some(port) = self.port {
            origin.push(':');
            crate::encoding::push_decimal(&mut origin, u64::from(port));
        }
        origin
    }

    /// `scheme://host[:port]/path`, without query or fragment.
    pub fn origin_and_path(&self) -> String {
        let mut text = self.origin();
        text.push_str(self.path);
        text
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UrlProblem> {
    // One-character `&str` patterns here and in `check_return_to`/`url_field`: the `char`
    // pattern methods are a generic copy each, the `&str` ones are shared.
    if let Some(after_bracket) = authority.strip_prefix("[") {
        // IPv6 literal. The browser rewrites one to its canonical form (`[0::1]` is `[::1]`,
        // `[::FFFF:1.2.3.4]` is `[::ffff:102:304]`); rather than carry that algorithm for
        // addresses no authorization server uses, only the loopback literal is accepted: the
        // text up to the first `]` must be exactly `::1` (no slicing, so no panic path).
        let Some(rest) = after_bracket.strip_prefix("::1]") else { return Err(UrlProblem::BadHost) };
        const LOOPBACK: &str = "[::1]";
        return match rest {
            "" => Ok((LOOPBACK, None)),
            rest => rest.strip_prefix(":").map(|port| (LOOPBACK, Some(port))).ok_or(UrlProblem::BadPort),
        };
    }
    let (host, port) = match split_once_byte(authority, b':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() || !all_bytes(host, |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) || !reads_as_written(host) {
        return Err(UrlProblem::BadHost);
    }
    Ok((host, port))
}

/// Whether the browser's URL parser keeps this host name (ASCII letters, digits, `-._` only)
/// as it is written, lower-cased; hosts it would rewrite or refuse are refused here, so that no
/// check built on this module sees another host than the browser
/// ([URL Standard, host parsing](https://url.spec.whatwg.org/#host-parsing)):
/// - a host whose last label is a number (`2`, `127.0.`, `0x7f.1`, `example.123`) is an IPv4
///   address to the browser, which reads `http://2` as `0.0.0.2` and refuses `example.123`:
///   only the canonical form `a.b.c.d` (each 0-255, no leading zero) reads as written;
/// - a label starting `xn--` is punycode, which the browser decodes and checks against the
///   IDNA tables (and refuses when they fail): not done here, so refused.
fn reads_as_written(host: &str) -> bool {
    // One pass over the labels (a byte loop: `split` and `rsplit` would bring core's searchers):
    // the number of labels, whether each is canonical decimal 0-255, whether any is punycode;
    // `last` is where the last label starts, a trailing dot's empty one aside.
    let bytes = host.as_bytes();
    // `get` and `split_last` rather than indexing and slicing: no panic paths to keep.
    let trimmed = match bytes.split_last() {
        Some((b'.', rest)) => rest,
        _ => bytes,
    };
    let (mut labels, mut all_octets, mut start, mut last) = (0, true, 0, 0);
    for end in 0..=bytes.len() {
        if bytes.get(end).is_some_and(|&byte| byte != b'.') {
            continue;
        }
        let label = bytes.get(start..end).unwrap_or_default();
        if label.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"xn--")) {
            return false;
        }
        all_octets &= is_octet(label);
        if end <= trimmed.len() {
            last = start;
        }
        labels += 1;
        start = end + 1;
    }
    let last = trimmed.get(last..).unwrap_or_default();
    let hex = match last {
        [b'0', b'x' | b'X', digits @ ..] => Some(digits),
        _ => None,
    };
    let ends_in_a_number = (!last.is_empty() && last.iter().all(u8::is_ascii_digit)) || hex.is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit));
    !ends_in_a_number || (labels == 4 && all_octets)
}

/// `0` to `255` in decimal, without a leading zero.
fn is_octet(label: &[u8]) -> bool {
    match label {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] if rest.len() <= 2 && rest.iter().all(u8::is_ascii_digit) => {
            label.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) <= 255
        }
        _ => false,
    }
}

/// Whether every byte of `text` passes `test`: one loop for every check of this module.
#[inline(never)]
fn all_bytes(text: &str, test: fn(u8) -> bool) -> bool {
    text.bytes().all(test)
}

/// `.` or `..`, a dot also written `%2e` ([URL Standard](https://url.spec.whatwg.org/#single-dot-path-segment)).
fn is_dot_segment(segment: &[u8]) -> bool {
    // Each dot is `.` or `%2e`: one or two of them, nothing else.
    let mut rest = segment;
    let mut dots = 0;
    while !rest.is_empty() {
        rest = match rest {
            [b'.', after @ ..] => after,
            [b'%', b'2', b'e' | b'E', after @ ..] => after,
            _ => return false,
        };
        dots += 1;
    }
    dots == 1 || dots == 2
}

/// Bytes a path may hold that the browser keeps as written: unreserved, sub-delims, `:@/%`.
fn is_path_byte(byte: u8) -> bool {
    // A `matches!` rather than a byte string's `contains`, which brings core's slice search.
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@' | b'/' | b'%')
}

/// Bytes a query or fragment may hold that the browser keeps as written: printable ASCII but
/// backslash, `"<>`{}|^` and `'` (which the browser percent-encodes in a query).
fn is_query_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() && !matches!(byte, b'\\' | b'"' | b'\'' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'^')
}

/// The query and fragment of any absolute URL (custom schemes included, for native redirect
/// URIs of [RFC 8252 §7.1](https://www.rfc-editor.org/rfc/rfc8252#section-7.1)); `None` when the
/// text has no scheme, or holds controls or spaces, which no browser address does.
pub fn query_and_fragment(text: &str) -> Option<(Option<&str>, Option<&str>)> {
    let text = text.trim_ascii();
    let (scheme, rest) = split_once_byte(text, b':')?;
    let mut scheme_bytes = scheme.bytes();
    let scheme_ok = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    let (_, query, fragment) = split_query_fragment(rest);
    Some((query, fragment))
}

/// `text` cut at its first `#` (the fragment) and then at the first `?` before it (the query):
/// `(before the query, query, fragment)`, without the `?` and `#`.
pub fn split_query_fragment(text: &str) -> (&str, Option<&str>, Option<&str>) {
    let (before_fragment, fragment) = match split_once_byte(text, b'#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (text, None),
    };
    match split_once_byte(before_fragment, b'?') {
        Some((before, query)) => (before, Some(query), fragment),
        None => (before_fragment, None, fragment),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_the_browser() {
        let url = WebUrl::parse(" HTTPS://Auth.Example.COM:443?x=1 ").unwrap();
        assert_eq!((url.scheme, url.host.as_str(), url.port, url.path, url.query), ("https", "auth.example.com", None, "/", Some("x=1")));
        assert_eq!(url.origin(), "https://auth.example.com");
        let url = WebUrl::parse("http://[::1]:8080/a/b").unwrap();
        assert_eq!(url.origin_and_path(), "http://[::1]:8080/a/b");
        assert!(url.is_loopback());
    }

    #[test]
    fn refuses_what_it_cannot_keep_exactly() {
        assert_eq!(WebUrl::parse("ftp://x/").unwrap_err(), UrlProblem::NotAbsoluteHttp);
        assert_eq!(WebUrl::parse("/relative").unwrap_err(), UrlProblem::NotAbsoluteHttp);
        assert_eq!(WebUrl::parse("https://u:p@x/").unwrap_err(), UrlProblem::Credentials);
        assert_eq!(WebUrl::parse("https://:1/").unwrap_err(), UrlProblem::BadHost);
        assert_eq!(WebUrl::parse("https://exämple.com/").unwrap_err(), UrlProblem::BadHost);
        assert_eq!(WebUrl::parse("https://x:99999/").unwrap_err(), UrlProblem::BadPort);
        assert_eq!(WebUrl::parse("https://x:8a/").unwrap_err(), UrlProblem::BadPort);
        assert_eq!(WebUrl::parse("https://x/a b").unwrap_err(), UrlProblem::BadCharacter);
        assert_eq!(WebUrl::parse("https://x/a\\b").unwrap_err(), UrlProblem::BadCharacter);
    }

    /// Hosts, paths and queries the browser would read differently are refused, never guessed.
    #[test]
    fn refuses_what_the_browser_would_rewrite() {
        // A host ending in a number is an IPv4 address to the browser: `http://2` is 0.0.0.2,
        // `http://127.0.` is 127.0.0.0, `0x7f.1` is 127.0.0.1, `example.123` is refused.
        for host in ["2", "127.0.", "127.0.0.1.", "0x7f.1", "0X7F.0.0.1", "example.123", "a.0x", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1..2.3"] {
            assert_eq!(WebUrl::parse(&alloc::format!("http://{host}/")).unwrap_err(), UrlProblem::BadHost, "{host}");
        }
        for host in ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.0.0.1x", "1x", "example.com.", "a_b.example"] {
            assert_eq!(WebUrl::parse(&alloc::format!("http://{host}/")).unwrap().host, host, "{host}");
        }
        // Punycode is decoded and checked by the browser; IPv6 literals are rewritten to their
        // canonical form: only [::1] reads as written.
        for url in ["https://xn--nxasmq6b.com/", "https://a.XN--x/", "http://[0::1]/", "http://[::FFFF:1.2.3.4]/", "http://[::]/"] {
            assert_eq!(WebUrl::parse(url).unwrap_err(), UrlProblem::BadHost, "{url}");
        }
        // Dot segments are resolved by the browser; `'` is percent-encoded in a query.
        for url in ["https://x/a/../b", "https://x/.", "https://x/a/%2e%2E/b", "https://x/%2e", "https://x/.%2e/", "https://x/?a='"] {
            assert_eq!(WebUrl::parse(url).unwrap_err(), UrlProblem::BadCharacter, "{url}");
        }
        for url in ["https://x/a..b/.c/c.", "https://x/%2ex", "https://x/a?b=.."] {
            assert!(WebUrl::parse(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn finds_query_and_fragment() {
        assert_eq!(query_and_fragment("https://app/cb?a=1#b=2"), Some((Some("a=1"), Some("b=2"))));
        assert_eq!(query_and_fragment("com.example.app:/cb?code=x"), Some((Some("code=x"), None)));
        assert_eq!(query_and_fragment("https://app/cb#x?y"), Some((None, Some("x?y"))));
        assert_eq!(query_and_fragment("no scheme"), None);
        assert_eq!(query_and_fragment("1http://x"), None);
        assert_eq!(query_and_fragment("https://a b/"), None);
    }

}
