//! The wasm build's global allocator: blocks in power-of-two size classes, each class with a
//! free list of its own. Chosen for size (docs/size.md has the measurements of it, of talc which
//! it replaced, of std's dlmalloc and of lol_alloc): the whole of it is a few hundred bytes of
//! wasm, and every operation is a few loads and stores, with no search.
//!
//! It frees and reuses memory: a freed block goes to the head of its class's list and is the
//! next one handed out for that class, so a page that runs flows for hours stays at the memory
//! its busiest moment needed (a bump allocator that never frees would grow until the tab dies).
//! It takes more pages from the wasm memory only when the class asked for has no free block.
//! What it pays for that: a block is up to twice what was asked (a 17-byte string takes 32),
//! and a block stays in its class (memory freed by 4 KB strings does not serve 16-byte ones).
//! The library's allocations are small and repeat (the same flows, the same keys), so both cost
//! little here; a general-purpose allocator would merge and split blocks to avoid them. Measured
//! against talc (a review's model run, 2026-12-02): 600 HTTP bodies of 1 KB to 1 MB took 286 pages
//! where talc took 152, 3,000 messages of mixed sizes 52 pages where it took 35; both levelled
//! off, neither kept growing. Freed blocks keep their bytes until reused, as with talc.

use core::alloc::Layout;

/// The smallest block, 16 bytes (2^4): room for the free list's link, and the alignment of
/// every block (each is carved at a multiple of 16 from pages that start at multiples of 64 KiB).
const SMALLEST_LOG: u32 = 4;
/// Classes 2^4 to 2^31 bytes. A larger request fails (the wasm memory is at most 4 GiB).
const CLASSES: usize = 28;
/// A wasm memory page.
const PAGE: usize = 65536;

/// Where the heap's pages come from: the wasm memory (`memory.size`, `memory.grow`), or a test's
/// buffer natively.
pub(crate) trait Pages {
    /// The size of the memory now, in pages; the address of its end is that times `PAGE`.
    fn size(&self) -> usize;
    /// Add `pages` at the end of the memory; false when the memory cannot grow (or would reach
    /// the address `usize` cannot hold).
    fn grow(&mut self, pages: usize) -> bool;
}

/// The allocator's state. Addresses are `usize` (0 ends a free list: no block starts there).
pub(crate) struct Heap<P> {
    /// The first free block of each class; each free block holds the address of the next.
    free: [usize; CLASSES],
    /// Where the next block is carved from the top of the memory, and where that room ends.
    next: usize,
    end: usize,
    pages: P,
}

/// The class of blocks that holds `layout`: the smallest power of two that is at least its size
/// and its alignment (and 16). `None` past the largest class, or for an alignment above 16
/// (blocks are only 16-aligned; nothing in this crate asks for more).
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > 1 << SMALLEST_LOG {
        return None;
    }
    let size = layout.size().max(1 << SMALLEST_LOG);
    // ceil(log2(size)): the number of bits `size - 1` needs.
    let log = usize::BITS - (size - 1).leading_zeros();
    let class = (log - SMALLEST_LOG) as usize;
    (class < CLASSES).then_some(class)
}

impl<P: Pages> Heap<P> {
    pub(crate) const fn new(pages: P) -> Self {
        Heap { free: [0; CLASSES], next: 0, end: 0, pages }
    }

    /// A block for `layout`, or null when there is no memory for it.
    ///
    /// # Safety
    /// Every block it hands out is `dealloc`ated (if ever) with the same layout's class, once.
    pub(crate) unsafe fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else { return core::ptr::null_mut() };
        let head = self.free[class];
        if head != 0 {
            // SAFETY: a free block of this class: it holds its successor's address.
            self.free[class] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        let size = 1usize << (class as u32 + SMALLEST_LOG);
        if size > self.end - self.next {
            // The pages the heap took last are the top of the memory unless something else grew
            // it since (nothing does in this crate's wasm); then the carving starts at the top.
            // The end of a memory of 65,536 pages (4 GiB) is not a 32-bit address: no room then.
            let Some(top) = self.pages.size().checked_mul(PAGE) else { return core::ptr::null_mut() };
            if top != self.end {
                self.next = top;
                self.end = top;
            }
            let more = (size - (self.end - self.next)).div_ceil(PAGE);
            if !self.pages.grow(more) {
                return core::ptr::null_mut();
            }
            self.end += more * PAGE;
        }
        let block = self.next;
        self.next += size;
        block as *mut u8
    }

    /// Give back a block `alloc` handed out for `layout` (or a layout of the same class).
    ///
    /// # Safety
    /// As `GlobalAlloc::dealloc`.
    pub(crate) unsafe fn dealloc(&mut self, block: *mut u8, layout: Layout) {
        if let Some(class) = class_of(layout) {
            // SAFETY: the block is at least 16 bytes, 16-aligned, and no longer used.
            unsafe { *(block as *mut usize) = self.free[class] };
            self.free[class] = block as usize;
        }
    }

    /// Grow or shrink a block: the same block while the size stays in its class (a `String`
    /// that grows from 20 to 30 bytes does not move), otherwise a new one with the bytes copied.
    ///
    /// # Safety
    /// As `GlobalAlloc::realloc`.
    pub(crate) unsafe fn realloc(&mut self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller keeps `new_size`, rounded up to the alignment, within `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class_of(new_layout) == class_of(layout) {
            return block;
        }
        // SAFETY: as the function's.
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the smaller size, and they are distinct.
            unsafe {
                core::ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        moved
    }
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod wasm {
    use super::{Heap, Pages};
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    /// The wasm memory (index 0), the one this module's code and data live in too.
    struct WasmMemory;

    impl Pages for WasmMemory {
        fn size(&self) -> usize {
            core::arch::wasm32::memory_size(0)
        }

        /// Refused short of 65,536 pages (4 GiB), whose end address would be 2^32: the heap's
        /// arithmetic stays in `usize`.
        fn grow(&mut self, pages: usize) -> bool {
            pages < 65536 - self.size() && core::arch::wasm32::memory_grow(0, pages) != usize::MAX
        }
    }

    struct Allocator(UnsafeCell<Heap<WasmMemory>>);

    // SAFETY: a cell without a lock is sound only where nothing allocates from a second thread,
    // which holds without the `atomics` target feature (the cfg makes sure of it).
    unsafe impl Sync for Allocator {}

    // SAFETY: `Heap` hands out distinct 16-aligned blocks of at least the layout's size; the
    // allocator is never re-entered (nothing in `Heap` allocates).
    unsafe impl GlobalAlloc for Allocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { (*self.0.get()).alloc(layout) }
        }

        unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
            unsafe { (*self.0.get()).dealloc(block, layout) }
        }

        unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            unsafe { (*self.0.get()).realloc(block, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Allocator = Allocator(UnsafeCell::new(Heap::new(WasmMemory)));
}

#[cfg(test)]
mod tests {
    //! The heap natively, over a buffer of the test's that stands in for the wasm memory.
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// A memory of at most `limit` pages in a buffer, its page 0 at a 64 KiB boundary.
    struct Buffer {
        _bytes: Vec<u8>,
        base: usize,
        pages: usize,
        limit: usize,
    }

    impl Buffer {
        fn new(limit: usize) -> Buffer {
            let bytes = vec![0u8; (limit + 1) * PAGE];
            let base = (bytes.as_ptr() as usize).div_ceil(PAGE) * PAGE;
            Buffer { _bytes: bytes, base, pages: 0, limit }
        }
    }

    // Addresses are the buffer's: page `n` of the "memory" starts at `base + n * PAGE`. So that
    // `size() * PAGE` is an address, `base` is counted in pages.
    impl Pages for Buffer {
        fn size(&self) -> usize {
            self.base / PAGE + self.pages
        }

        fn grow(&mut self, pages: usize) -> bool {
            if self.pages + pages > self.limit {
                return false;
            }
            self.pages += pages;
            true
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_are_the_next_power_of_two_from_16() {
        assert_eq!(class_of(layout(0, 1)), Some(0));
        assert_eq!(class_of(layout(16, 8)), Some(0));
        assert_eq!(class_of(layout(17, 1)), Some(1));
        assert_eq!(class_of(layout(32, 1)), Some(1));
        assert_eq!(class_of(layout(33, 1)), Some(2));
        assert_eq!(class_of(layout(4096, 4)), Some(8));
        assert_eq!(class_of(layout(1 << 31, 1)), Some(27));
        assert_eq!(class_of(layout((1 << 31) + 1, 1)), None);
        assert_eq!(class_of(layout(8, 16)), Some(0));
        assert_eq!(class_of(layout(8, 32)), None);
    }

    #[test]
    fn blocks_are_distinct_aligned_and_reused_after_free() {
        let mut heap = Heap::new(Buffer::new(4));
        unsafe {
            let a = heap.alloc(layout(10, 8));
            let b = heap.alloc(layout(16, 8));
            let c = heap.alloc(layout(100, 4));
            assert!(!a.is_null() && !b.is_null() && !c.is_null());
            for block in [a, b, c] {
                assert_eq!(block as usize % 16, 0);
            }
            assert_eq!(b as usize - a as usize, 16);
            assert_eq!(c as usize - b as usize, 16);
            // Each can be written whole without touching the others.
            core::ptr::write_bytes(a, 0xaa, 16);
            core::ptr::write_bytes(c, 0xcc, 128);
            core::ptr::write_bytes(b, 0xbb, 16);
            assert_eq!(*a.add(15), 0xaa);
            assert_eq!(*c, 0xcc);
            // A freed block is the next of its class, last freed first; other classes carve anew.
            heap.dealloc(a, layout(10, 8));
            heap.dealloc(b, layout(16, 8));
            assert_eq!(heap.alloc(layout(1, 1)), b);
            assert_eq!(heap.alloc(layout(12, 4)), a);
            let d = heap.alloc(layout(16, 1));
            assert_eq!(d as usize, c as usize + 128);
            heap.dealloc(c, layout(100, 4));
            assert_eq!(heap.alloc(layout(65, 1)), c);
        }
    }

    #[test]
    fn pages_are_taken_as_needed_and_refused_past_the_memory() {
        let mut heap = Heap::new(Buffer::new(4));
        unsafe {
            let first = heap.alloc(layout(20, 1));
            assert_eq!(heap.pages.pages, 1);
            assert_eq!(first as usize, heap.pages.base);
            // What does not fit in the page's rest takes more pages, right after it.
            let big = heap.alloc(layout(PAGE, 1));
            assert_eq!(big as usize, heap.pages.base + 32);
            assert_eq!(heap.pages.pages, 2);
            core::ptr::write_bytes(big, 1, PAGE);
            // Past the buffer's 4 pages: null, and the heap is as it was.
            assert!(heap.alloc(layout(4 * PAGE, 1)).is_null());
            assert_eq!(heap.pages.pages, 2);
            let small = heap.alloc(layout(16, 1));
            assert_eq!(small as usize, big as usize + PAGE);
            // A request beyond the largest class or with a larger alignment: null.
            assert!(heap.alloc(layout(usize::MAX / 2, 1)).is_null());
            assert!(heap.alloc(layout(16, 32)).is_null());
        }
    }

    #[test]
    fn realloc_keeps_the_block_within_its_class_and_moves_the_bytes_past_it() {
        let mut heap = Heap::new(Buffer::new(4));
        unsafe {
            let block = heap.alloc(layout(20, 1));
            for i in 0..20 {
                *block.add(i) = i as u8;
            }
            assert_eq!(heap.realloc(block, layout(20, 1), 32), block);
            assert_eq!(heap.realloc(block, layout(32, 1), 17), block);
            let moved = heap.realloc(block, layout(17, 1), 100);
            assert_ne!(moved, block);
            for i in 0..17 {
                assert_eq!(*moved.add(i), i as u8);
            }
            // The old block went back to its class.
            assert_eq!(heap.alloc(layout(30, 1)), block);
            // Shrinking into a smaller class moves too, keeping what fits.
            let shrunk = heap.realloc(moved, layout(100, 1), 3);
            assert_eq!(core::slice::from_raw_parts(shrunk, 3), &[0, 1, 2]);
            // No memory for the new block: null, and the old block stays as it was.
            let huge = heap.realloc(shrunk, layout(3, 1), 8 * PAGE);
            assert!(huge.is_null());
            assert_eq!(core::slice::from_raw_parts(shrunk, 3), &[0, 1, 2]);
        }
    }

    #[test]
    fn memory_grown_by_someone_else_is_skipped() {
        let mut heap = Heap::new(Buffer::new(8));
        unsafe {
            let first = heap.alloc(layout(16, 1));
            // Another user of the memory grows it: the heap carves from the new top instead.
            heap.pages.grow(1);
            let second = heap.alloc(layout(PAGE, 1));
            assert_eq!(second as usize, heap.pages.base + 2 * PAGE);
            assert_eq!(first as usize, heap.pages.base);
            assert_eq!(heap.pages.pages, 3);
        }
    }
}
