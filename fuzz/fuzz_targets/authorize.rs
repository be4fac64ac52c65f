//! Authorization URLs: whatever `buildAuthorizeUrl` builds, the browser's URL parser reads back
//! as the endpoint's own query followed by exactly the parameters given, in order, on the
//! endpoint's origin and path; a parameter given twice is refused.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::authorize::build_authorize_url_str;

// The input is lines: the endpoint, then one parameter per line as name, tab, value; so seeds
// are readable.
fuzz_target!(|input: &str| {
    let mut lines = input.split('\n');
    let endpoint = lines.next().unwrap_or("");
    let params: Vec<(&str, &str)> = lines.map(|line| line.split_once('\t').unwrap_or((line, ""))).collect();
    let Ok(built) = build_authorize_url_str(endpoint, &params) else { return };
    let whatwg = url::Url::parse(&built).unwrap_or_else(|error| panic!("built {built:?}, which a browser refuses ({error})"));
    assert_eq!(whatwg.as_str(), built, "the browser rewrites {built:?}");
    let endpoint = url::Url::parse(endpoint.trim()).expect("the endpoint was accepted");
    assert_eq!(whatwg[..url::Position::AfterPath], endpoint[..url::Position::AfterPath]);
    let read: Vec<(String, String)> = whatwg.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut expected: Vec<(String, String)> = endpoint.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    expected.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    assert_eq!(read, expected);
    let mut names: Vec<&String> = read.iter().map(|(name, _)| name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), read.len(), "a parameter twice in {built:?}");
});
