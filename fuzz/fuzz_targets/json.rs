//! The core's JSON reader (every HTTP body, message and stored record goes through it): never a
//! panic; what it accepts is JSON to serde_json too, and what it writes back reads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(value) = oauth_connect::json::parse(text) else { return };
    // serde_json stops at 128 levels; the core's own limit is lower.
    serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|error| panic!("accepted {text:?}, which is not JSON ({error})"));
    let written = oauth_connect::json::to_string(&value);
    let again = oauth_connect::json::parse(&written).unwrap_or_else(|error| panic!("wrote {written:?}, which it cannot read ({error:?})"));
    assert_eq!(oauth_connect::json::to_string(&again), written);
});
