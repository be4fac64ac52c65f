//! `sessionStorage` and `localStorage`, where a failure (storage disabled, quota, a sandboxed
//! frame) is "not stored" rather than an exception: callers decide what that means.
//!
//! What goes where: redirect transactions (with their verifier) and handled-callback markers in
//! `sessionStorage`, this tab only; in `localStorage` only the verifier-free popup markers and
//! refresh fingerprints. Token sets only in `sessionStorage`, and only with
//! `tokenStorage: "session"`.

use alloc::string::String;
use alloc::vec::Vec;
use web_sys::Storage;

#[derive(Clone, Copy)]
pub enum Area {
    Session,
    Local,
}

fn storage(area: Area) -> Option<Storage> {
    let window = web_sys::window()?;
    match area {
        Area::Session => window.session_storage(),
        Area::Local => window.local_storage(),
    }
    .ok()
    .flatten()
}

pub fn get(area: Area, key: &str) -> Option<String> {
    storage(area)?.get_item(key).ok().flatten()
}

pub fn set(area: Area, key: &str, value: &str) -> bool {
    storage(area).is_some_and(|storage| storage.set_item(key, value).is_ok())
}

pub fn remove(area: Area, key: &str) {
    if let Some(storage) = storage(area) {
        let _ = storage.remove_item(key);
    }
}

/// Every key that starts with `prefix`.
pub fn keys_with_prefix(area: Area, prefix: &str) -> Vec<String> {
    let Some(storage) = storage(area) else { return Vec::new() };
    let length = storage.length().unwrap_or(0);
    (0..length).filter_map(|index| storage.key(index).ok().flatten()).filter(|key| key.starts_with(prefix)).collect()
}

/// `prefix + suffix`.
pub fn key(prefix: &str, suffix: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + suffix.len());
    key.push_str(prefix);
    key.push_str(suffix);
    key
}
