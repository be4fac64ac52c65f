//! The CSPRNG seam: every random byte of the library comes from here. In the browser this is
//! `crypto.getRandomValues`, called by the loader in `pkg-template/index.js` through the wasm's
//! one import, `env.oc_random`; natively, the OS (getrandom).
//!
//! A failing CSPRNG is reported, never papered over with a weaker source.

use crate::error::{ConnectError, ErrorCode, Result};

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "env")]
extern "C" {
    /// Fill `len` (at most 65536, `crypto.getRandomValues`' limit) bytes at `ptr` with
    /// `crypto.getRandomValues`; 0 when it did, anything else when it threw (no `crypto`, say).
    fn oc_random(ptr: *mut u8, len: usize) -> u32;
}

/// Fill `bytes` from the CSPRNG; false when it failed.
#[cfg(target_arch = "wasm32")]
fn fill(bytes: &mut [u8]) -> bool {
    // SAFETY: the import writes `chunk.len()` bytes at `chunk`'s start, nothing else.
    bytes.chunks_mut(65536).all(|chunk| unsafe { oc_random(chunk.as_mut_ptr(), chunk.len()) } == 0)
}

/// Fill `bytes` from the CSPRNG; false when it failed.
#[cfg(not(target_arch = "wasm32"))]
fn fill(bytes: &mut [u8]) -> bool {
    getrandom::fill(bytes).is_ok()
}

/// Fill `N` bytes from the CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    if !fill(&mut bytes) {
        // There is no fitting contract code for "the platform has no CSPRNG"; `invalid_config`
        // says the environment, not the input, is what must change.
        return Err(ConnectError::new(ErrorCode::InvalidConfig, "no cryptographic random source is available (crypto.getRandomValues)"));
    }
    Ok(bytes)
}
