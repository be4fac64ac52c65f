//! The `state` parameter ([RFC 6749 §10.12](https://www.rfc-editor.org/rfc/rfc6749#section-10.12)),
//! OIDC nonces, idempotency keys, and the constant-time comparison used to check them.

use alloc::string::String;

use crate::encoding::base64url;
use crate::error::Result;
use crate::random::random_bytes;

/// `randomState()`: 256 bits from the CSPRNG as base64url (43 characters), well over the
/// 128 bits the contract asks for. Also used for OIDC `nonce` values.
#[must_use = "a state that is not sent and checked protects nothing"]
pub fn random_state() -> Result<String> {
    Ok(base64url(&random_bytes::<32>()?))
}

/// `idempotencyKey()`: a random UUID ([RFC 9562 §5.4](https://www.rfc-editor.org/rfc/rfc9562#section-5.4),
/// version 4), lower-case, for `Idempotency-Key` headers.
pub fn idempotency_key() -> Result<String> {
    let mut bytes = random_bytes::<16>()?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10xx
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut uuid = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            uuid.push('-');
        }
        uuid.push(HEX[(byte >> 4) as usize] as char);
        uuid.push(HEX[(byte & 0x0f) as usize] as char);
    }
    Ok(uuid)
}

/// Compare two secrets in time that depends only on their lengths, so that a callback's state
/// cannot be guessed byte by byte from timing.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    // An index loop: at opt-level z the `zip` adapter stays a few calls per byte.
    let mut diff = 0u8;
    for (index, x) in a.iter().enumerate() {
        diff |= x ^ b.get(index).copied().unwrap_or_default();
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_base64url_of_256_bits() {
        let state = random_state().unwrap();
        assert_eq!(state.len(), 43);
        assert!(state.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(state, random_state().unwrap());
    }

    #[test]
    fn idempotency_key_is_uuid_v4() {
        let key = idempotency_key().unwrap();
        let bytes = key.as_bytes();
        assert_eq!(key.len(), 36);
        for (index, &byte) in bytes.iter().enumerate() {
            if matches!(index, 8 | 13 | 18 | 23) {
                assert_eq!(byte, b'-');
            } else {
                assert!(byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
            }
        }
        assert_eq!(bytes[14], b'4');
        assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(key, idempotency_key().unwrap());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(constant_time_eq("", ""));
    }
}
