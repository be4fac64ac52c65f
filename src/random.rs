//! The CSPRNG seam: every random byte of the library comes from here. In the browser this is
//! `crypto.getRandomValues`, called by the loader in `pkg-template/index.js` through the wasm's
//! one import, `oc_random` (`e.r` in the wasm), drawn ahead of use into a `Pool`; natively, the OS
//! (getrandom).
//!
//! A failing CSPRNG is reported, never papered over with a weaker source.

use crate::error::{ConnectError, ErrorCode, Result};

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "e")]
extern "C" {
    /// Fill `len` (at most 65536, `crypto.getRandomValues`' limit) bytes at `ptr` with
    /// `crypto.getRandomValues`; 0 when it did, anything else when it threw (no `crypto`, say).
    /// Imported as `e.r`: the boundary's names are one letter (`src/lib.rs`).
    #[link_name = "r"]
    fn oc_random(ptr: *mut u8, len: usize) -> u32;
}

/// How many bytes one call to the CSPRNG draws in the browser: four connect clicks' worth (a
/// verifier and a state, 32 bytes each).
const POOL_LEN: usize = 256;

/// Random bytes drawn from the CSPRNG ahead of use, `POOL_LEN` at a time. In the browser a call
/// through the import costs about as much as the rest of `randomState` (a typed-array view and a
/// call into Blink; measured in docs/size.md), so one call serves several requests. Each byte is
/// handed out once and zeroed as it is, so the pool never holds a value already given away; a
/// failed refill hands out nothing. What it holds are values not yet made (up to 224 bytes of
/// future states and verifiers): as safe in the wasm's memory as the verifiers it keeps there.
#[cfg(any(target_arch = "wasm32", test))]
struct Pool {
    bytes: [u8; POOL_LEN],
    /// How many bytes from the start have been handed out (`POOL_LEN`: none left).
    used: usize,
}

#[cfg(any(target_arch = "wasm32", test))]
impl Pool {
    const fn new() -> Self {
        Pool { bytes: [0; POOL_LEN], used: POOL_LEN }
    }

    /// Fill `out` (at most `POOL_LEN` bytes) from the pool, first refilling all of it with
    /// `refill` when too few bytes are left; false when `refill` failed.
    fn take(&mut self, out: &mut [u8], refill: impl FnOnce(&mut [u8; POOL_LEN]) -> bool) -> bool {
        if POOL_LEN - self.used < out.len() {
            // Whatever was left is dropped with the refill: a byte is never handed out twice.
            self.used = POOL_LEN;
            if !refill(&mut self.bytes) {
                self.bytes = [0; POOL_LEN];
                return false;
            }
            self.used = 0;
        }
        let taken = &mut self.bytes[self.used..self.used + out.len()];
        out.copy_from_slice(taken);
        taken.fill(0);
        self.used += out.len();
        true
    }
}

/// Fill `bytes` from the CSPRNG; false when it failed.
#[cfg(target_arch = "wasm32")]
fn fill(bytes: &mut [u8]) -> bool {
    static POOL: crate::Global<Pool> = crate::Global(core::cell::RefCell::new(Pool::new()));
    // A draw from inside a refill (a page's `crypto.getRandomValues` replaced by one that calls
    // back into the library) finds the pool taken and fails, rather than share it half filled.
    let Ok(mut pool) = POOL.0.try_borrow_mut() else { return false };
    // SAFETY: the import writes `POOL_LEN` bytes at the array's start, nothing else.
    pool.take(bytes, |all| unsafe { oc_random(all.as_mut_ptr(), POOL_LEN) } == 0)
}

/// Fill `bytes` from the CSPRNG; false when it failed. Natively straight from the OS, which is
/// fast there and safe across `fork()` (a pool copied into a child would be served twice); the
/// pool's logic has its own tests below.
#[cfg(not(target_arch = "wasm32"))]
fn fill(bytes: &mut [u8]) -> bool {
    getrandom::fill(bytes).is_ok()
}

/// Fill `N` bytes from the CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    const { assert!(N <= POOL_LEN, "the pool serves at most POOL_LEN bytes at a time") };
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
    use super::*;

    /// A refill that writes 1, 2, 3, … across calls, and counts them.
    fn counting(calls: &mut u8) -> impl FnMut(&mut [u8; POOL_LEN]) -> bool + '_ {
        move |all| {
            *calls += 1;
            all.fill(*calls);
            true
        }
    }

    #[test]
    fn one_refill_serves_requests_until_too_few_bytes_are_left_and_the_rest_is_never_handed_out() {
        let mut pool = Pool::new();
        let mut calls = 0;
        let mut out = [0u8; 100];
        assert!(pool.take(&mut out, counting(&mut calls)));
        assert!(pool.take(&mut out, counting(&mut calls)));
        assert_eq!((calls, out), (1, [1; 100]));
        // 56 left: a third request of 100 refills, and the 56 are dropped rather than reused.
        assert!(pool.take(&mut out, counting(&mut calls)));
        assert_eq!((calls, out), (2, [2; 100]));
        assert_eq!(pool.used, 100);
    }

    #[test]
    fn what_was_handed_out_is_zeroed_in_the_pool() {
        let mut pool = Pool::new();
        let mut calls = 0;
        let mut out = [0u8; 32];
        assert!(pool.take(&mut out, counting(&mut calls)));
        assert_eq!(out, [1; 32]);
        assert!(pool.bytes[..32].iter().all(|&b| b == 0));
        assert!(pool.bytes[32..].iter().all(|&b| b == 1));
    }

    #[test]
    fn a_failed_refill_hands_out_nothing_and_the_next_request_tries_again() {
        let mut pool = Pool::new();
        let mut out = [7u8; 32];
        assert!(!pool.take(&mut out, |all| {
            all.fill(9); // a partial write before the failure must not be served later
            false
        }));
        assert_eq!(out, [7; 32]);
        assert!(pool.bytes.iter().all(|&b| b == 0));
        let mut calls = 0;
        assert!(pool.take(&mut out, counting(&mut calls)));
        assert_eq!((calls, out), (1, [1; 32]));
    }

    #[test]
    fn a_request_of_the_whole_pool_is_served_by_one_refill() {
        let mut pool = Pool::new();
        let mut calls = 0;
        let mut out = [0u8; POOL_LEN];
        assert!(pool.take(&mut out, counting(&mut calls)));
        assert!(pool.take(&mut out, counting(&mut calls)));
        assert_eq!((calls, out[0], out[POOL_LEN - 1]), (2, 2, 2));
    }
}
