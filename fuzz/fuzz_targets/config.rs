//! Configs (`new Connect(config)`): any JSON object is either a config or a ConnectError with a
//! stable code; never a panic, and a refusal's message does not depend on a secret's value (the
//! same config with `clientSecret` written differently, same length, is refused with the same
//! message), so it never repeats one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::config::ConnectConfig;
use oauth_connect::fields::Value;

fuzz_target!(|text: &str| {
    let Ok(record) = oauth_connect::json::parse_object(text) else { return };
    let Err(error) = ConnectConfig::parse(&record) else { return };
    let other: Vec<(String, Value)> = record
        .iter()
        .map(|(name, value)| match value {
            Value::Text(secret) if name == "clientSecret" => (name.clone(), Value::Text("Q".repeat(secret.chars().count()))),
            _ => (name.clone(), value.clone()),
        })
        .collect();
    let again = ConnectConfig::parse(&other).expect_err("the secret's value decided");
    assert_eq!((error.code(), error.message()), (again.code(), again.message()));
});
