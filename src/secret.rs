//! `Secret`: text that must never reach `Debug`, an error message, an event or a log line
//! (access, refresh and ID tokens). Read it only where it is sent or handed to the app.

use alloc::string::String;
use core::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Self {
        Secret(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
