//! PKCE ([RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)): the code verifier, a secret that
//! is used once, and its S256 challenge.

use alloc::string::String;
use core::fmt;

use crate::encoding::base64url;
use crate::error::{ConnectError, ErrorCode, Result};
use crate::random::random_bytes;

/// The only challenge method this library sends
/// ([RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2)); `plain` is never used.
pub const S256: &str = "S256";

/// A PKCE code verifier ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
///
/// A secret: its `Debug` is redacted, and it is deliberately not `Clone`, so that one verifier
/// cannot quietly serve two authorization requests.
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// A fresh verifier: base64url of 32 CSPRNG bytes, 43 characters (§4.1's recommendation).
    pub fn generate() -> Result<Self> {
        Ok(PkceVerifier(base64url(&random_bytes::<32>()?)))
    }

    /// Take a verifier made elsewhere, checking the §4.1 grammar:
    /// 43 to 128 characters of `[A-Za-z0-9-._~]`.
    pub fn parse(verifier: String) -> Result<Self> {
        let length_ok = (43..=128).contains(&verifier.len());
        let charset_ok = verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if length_ok && charset_ok {
            Ok(PkceVerifier(verifier))
        } else {
            Err(ConnectError::new(
                ErrorCode::InvalidVerifier,
                "a PKCE code verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            ))
        }
    }

    /// The S256 challenge: BASE64URL(SHA256(ASCII(verifier)))
    /// ([RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2)).
    pub fn challenge(&self) -> String {
        base64url(&crate::sha256::sha256(self.0.as_bytes()))
    }

    /// The verifier's text, for the token request only.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Hand the verifier's text over (to the JS caller that asked for the pair).
    pub fn into_secret(self) -> String {
        self.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// A verifier with its challenge, as `createPkce()` returns it.
#[derive(Debug)]
pub struct PkcePair {
    pub verifier: PkceVerifier,
    pub challenge: String,
}

/// `createPkce()`: a fresh verifier and its S256 challenge.
pub fn create_pkce() -> Result<PkcePair> {
    let verifier = PkceVerifier::generate()?;
    let challenge = verifier.challenge();
    Ok(PkcePair { verifier, challenge })
}

/// `pkceChallenge(verifier)`: the S256 challenge of a verifier made elsewhere; `invalid_verifier`
/// unless it follows §4.1.
pub fn pkce_challenge(verifier: &str) -> Result<String> {
    Ok(PkceVerifier::parse(String::from(verifier))?.challenge())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    /// [RFC 7636 Appendix B](https://www.rfc-editor.org/rfc/rfc7636#appendix-B).
    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_pair_is_consistent() {
        let pair = create_pkce().unwrap();
        assert_eq!(pair.verifier.secret().len(), 43);
        assert_eq!(pkce_challenge(pair.verifier.secret()).unwrap(), pair.challenge);
        assert_eq!(pair.challenge.len(), 43);
    }

    #[test]
    fn generated_verifiers_differ() {
        assert_ne!(create_pkce().unwrap().verifier.into_secret(), create_pkce().unwrap().verifier.into_secret());
    }

    #[test]
    fn verifier_grammar_bounds() {
        let ok43 = "a".repeat(43);
        let ok128 = "~._-".repeat(32);
        assert!(pkce_challenge(&ok43).is_ok());
        assert!(pkce_challenge(&ok128).is_ok());
        for bad in ["a".repeat(42), "a".repeat(129), format!("{}+", "a".repeat(42)), format!("{} ", "a".repeat(42)), format!("{}é", "a".repeat(41))] {
            assert_eq!(pkce_challenge(&bad).unwrap_err().code(), ErrorCode::InvalidVerifier);
        }
    }

    #[test]
    fn verifier_debug_is_redacted() {
        let verifier = PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into()).unwrap();
        assert_eq!(format!("{verifier:?}"), "PkceVerifier([redacted])");
        let error = pkce_challenge("short-secret-value").unwrap_err();
        assert!(!error.message().contains("short-secret-value"));
    }
}
