//! Token endpoint answers: any JSON object is a token set or a ConnectError; never a panic; a
//! set always has an access token and a token type, and an error's message does not depend on
//! the tokens' values (the same answer with them written differently, same length, gives the
//! same message), so it never repeats one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use oauth_connect::fields::Value;
use oauth_connect::secret::Secret;

fuzz_target!(|text: &str| {
    let Ok(record) = oauth_connect::json::parse_object(text) else { return };
    let previous = Secret::new(String::from("previous-refresh-token"));
    let read = |record: &Vec<(String, Value)>| oauth_connect::token::token_set_from_response(record, 1_800_000_000_000.0, Some(&previous));
    match read(&record) {
        Ok(tokens) => {
            assert!(!tokens.access_token.expose().is_empty());
            assert!(!tokens.token_type.is_empty());
        }
        Err(error) => {
            let other: Vec<(String, Value)> = record
                .iter()
                .map(|(name, value)| match value {
                    Value::Text(token) if ["access_token", "refresh_token", "id_token"].contains(&name.as_str()) => {
                        (name.clone(), Value::Text("Q".repeat(token.chars().count())))
                    }
                    _ => (name.clone(), value.clone()),
                })
                .collect();
            let again = read(&other).expect_err("a token's value decided");
            assert_eq!((error.code(), error.message()), (again.code(), again.message()));
        }
    }
});
