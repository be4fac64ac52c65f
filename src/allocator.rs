//! The wasm build's global allocator: talc instead of the standard library's dlmalloc, for
//! size (docs/size.md has the measurements, lol_alloc's included).
//!
//! It frees and reuses memory: freed chunks are merged with free neighbours and kept in size
//! bins, so a page that runs flows for hours stays at the memory it needs (a bump allocator that
//! never frees would grow until the tab dies), and no operation walks a list of every free block.
//! It takes more pages from the wasm memory only when no free chunk fits.

// `WasmDynamicTalc` is a cell without a lock: sound only where nothing allocates from a second
// thread, which holds without the `atomics` target feature (and the cfg makes sure of it).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
