//! The CSPRNG seam: every random byte of the library comes from here. In the browser this is
//! `crypto.getRandomValues` (getrandom's `wasm_js` backend); natively, the OS.
//!
//! A failing CSPRNG is reported, never papered over with a weaker source.

use crate::error::{ConnectError, ErrorCode, Result};

/// Fill `N` bytes from the CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| {
        // There is no fitting contract code for "the platform has no CSPRNG"; `invalid_config`
        // says the environment, not the input, is what must change.
        ConnectError::new(ErrorCode::InvalidConfig, "no cryptographic random source is available (crypto.getRandomValues)")
    })?;
    Ok(bytes)
}
