//! `returnTo` (where a redirect flow brings the user back): whatever the core accepts, the
//! browser resolves against the page to an address on the page's own origin.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::flow::check_return_to;

const PAGE: &str = "https://app.example/settings/connections?tab=1";

fuzz_target!(|return_to: &str| {
    if check_return_to(return_to, "https://app.example").is_ok() {
        let page = url::Url::parse(PAGE).unwrap();
        let resolved = page.join(return_to).unwrap_or_else(|error| panic!("accepted {return_to:?}, which a browser refuses ({error})"));
        assert_eq!(resolved.origin().ascii_serialization(), "https://app.example", "{return_to:?} leaves the app");
    }
});
