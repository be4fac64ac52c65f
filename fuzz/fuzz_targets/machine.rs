//! The core's event handling: any sequence of events (as the runner would send them, JSON
//! arrays; one per line of the input) fed to a tab never panics, and no effect but the ones
//! that carry it (a request, a write to this tab's storage, the app's promise) ever holds the
//! PKCE verifier of a flow.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::effect::Effect;
use oauth_connect::machine::Tab;

const CONFIG: &str = r#"[0,1,1,{"kind":"oauth2","authorizationEndpoint":"https://as.example/authorize","tokenEndpoint":"https://as.example/token","clientId":"c","redirectUri":"http://localhost:8080/callback"}]"#;

fuzz_target!(|input: &str| {
    let mut tab = Tab::new("http://localhost:8080");
    let mut now = 1_800_000_000_000.0;
    let mut verifiers: Vec<String> = Vec::new();
    for line in std::iter::once(CONFIG).chain(input.lines()).take(64) {
        now += 250.0;
        let Some(effects) = tab.feed(now, line) else { continue };
        for effect in &effects {
            // The verifier goes to sessionStorage (a redirect's transaction) and to the token
            // endpoint; learn it there, then look for it everywhere else.
            match effect {
                Effect::WriteStorage { area: oauth_connect::effect::Area::Session, value, .. } => {
                    if let Ok(oauth_connect::fields::Value::Record(record)) = oauth_connect::json::parse(value) {
                        if let Some(oauth_connect::fields::Value::Text(verifier)) = oauth_connect::fields::Fields::field(&record, "verifier") {
                            verifiers.push(verifier.clone());
                        }
                    }
                }
                Effect::Fetch(_) | Effect::Resolve { .. } => {}
                other => {
                    let text = format!("{other:?}");
                    for verifier in &verifiers {
                        assert!(!text.contains(verifier.as_str()), "the verifier in {text}");
                    }
                }
            }
        }
    }
});
