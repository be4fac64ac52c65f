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

/// Fill `bytes` from the CSPRNG; false when it failed. Small requests are served from
/// [`Pool`], refilled by one `crypto.getRandomValues` call for several of them.
#[cfg(target_arch = "wasm32")]
fn fill(bytes: &mut [u8]) -> bool {
    /// The page's pool. The wasm runs on one thread (no `atomics` target feature), so a
    /// `RefCell` in a plain `static` is enough; a reentrant call would fail its borrow (a trap).
    struct PagePool(core::cell::RefCell<Pool>);
    // SAFETY: wasm32-unknown-unknown without the `atomics` feature has one thread.
    unsafe impl Sync for PagePool {}
    static POOL: PagePool = PagePool(core::cell::RefCell::new(Pool::new()));

    POOL.0.borrow_mut().take(bytes, &mut |chunk| {
        // SAFETY: the import writes `chunk.len()` bytes at `chunk`'s start, nothing else.
        chunk.chunks_mut(65536).all(|part| unsafe { oc_random(part.as_mut_ptr(), part.len()) } == 0)
    })
}

/// CSPRNG bytes drawn ahead of their use, so that a connect click (a PKCE verifier and a state)
/// crosses to JS for randomness once every few clicks rather than twice per click. Each byte
/// is handed out once and zeroed as it is; a request larger than the pool is filled straight
/// from the source. Whoever can read this pool can read the wasm memory, where the verifier
/// and the tokens are anyway.
pub struct Pool {
    bytes: [u8; POOL_SIZE],
    /// Bytes not handed out yet: the last `left` of `bytes`.
    left: usize,
}

const POOL_SIZE: usize = 256;

impl Pool {
    pub const fn new() -> Pool {
        Pool { bytes: [0; POOL_SIZE], left: 0 }
    }

    /// Fill `out` from the pool, refilling it with `source` (false when that failed, and then
    /// nothing is handed out) when it holds too few bytes.
    pub fn take(&mut self, out: &mut [u8], source: &mut dyn FnMut(&mut [u8]) -> bool) -> bool {
        if out.len() > POOL_SIZE {
            return source(out);
        }
        if out.len() > self.left {
            if !source(&mut self.bytes) {
                self.left = 0;
                return false;
            }
            self.left = POOL_SIZE;
        }
        let start = POOL_SIZE - self.left;
        let drawn = &mut self.bytes[start..start + out.len()];
        out.copy_from_slice(drawn);
        drawn.fill(0);
        self.left -= out.len();
        true
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
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

#[cfg(test)]
mod tests {
    use super::Pool;

    /// A source that counts its calls and writes each call's number in every byte, so that
    /// where each byte came from can be seen.
    fn counting(calls: &mut u8) -> impl FnMut(&mut [u8]) -> bool + '_ {
        move |bytes| {
            *calls += 1;
            bytes.fill(*calls);
            true
        }
    }

    #[test]
    fn the_pool_hands_each_byte_out_once_and_zeroes_it() {
        let mut pool = Pool::new();
        let mut calls = 0;
        let (mut first, mut second) = ([0u8; 32], [0u8; 32]);
        assert!(pool.take(&mut first, &mut counting(&mut calls)));
        assert!(pool.take(&mut second, &mut counting(&mut calls)));
        // One refill served both, from different bytes, which the pool no longer holds.
        assert_eq!(calls, 1);
        assert_eq!((first, second), ([1; 32], [1; 32]));
        assert!(pool.bytes[..64].iter().all(|&byte| byte == 0));
        assert_eq!(pool.left, 256 - 64);
        // Seven more 32-byte draws leave nothing; the next refills.
        for _ in 0..6 {
            assert!(pool.take(&mut first, &mut counting(&mut calls)));
        }
        assert_eq!((calls, pool.left), (1, 0));
        assert!(pool.take(&mut first, &mut counting(&mut calls)));
        assert_eq!((calls, first), (2, [2; 32]));
    }

    #[test]
    fn a_large_request_skips_the_pool_and_a_failed_refill_hands_out_nothing() {
        let mut pool = Pool::new();
        let mut calls = 0;
        let mut large = [0u8; 300];
        assert!(pool.take(&mut large, &mut counting(&mut calls)));
        assert_eq!((calls, pool.left), (1, 0));
        let mut small = [9u8; 16];
        assert!(!pool.take(&mut small, &mut |_| false));
        assert_eq!((small, pool.left), ([9; 16], 0));
    }
}
