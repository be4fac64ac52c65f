//! Differential: every URL the core's parser (`url::WebUrl`) accepts, the WHATWG parser (the
//! `url` crate, as browsers parse) accepts too, and both read the same scheme, host, port, path,
//! query and fragment. Refusing is always allowed; reading a URL differently never is.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::url::WebUrl;

fuzz_target!(|text: &str| {
    let Ok(ours) = WebUrl::parse(text) else { return };
    let whatwg = url::Url::parse(text).unwrap_or_else(|error| panic!("accepted {text:?}, which a browser refuses ({error})"));
    assert_eq!(ours.scheme, whatwg.scheme(), "{text:?}");
    assert_eq!(Some(ours.host.as_str()), whatwg.host_str(), "{text:?}");
    assert_eq!(ours.port, whatwg.port(), "{text:?}");
    assert_eq!(ours.path, whatwg.path(), "{text:?}");
    assert_eq!(ours.query, whatwg.query(), "{text:?}");
    assert_eq!(ours.fragment, whatwg.fragment(), "{text:?}");
    assert_eq!(ours.origin(), whatwg.origin().ascii_serialization(), "{text:?}");
    assert_eq!(ours.origin_and_path(), whatwg[..url::Position::AfterPath], "{text:?}");
});
