//! kubectl-connections' global allocator: mimalloc, asked for alignment only where Rust needs
//! more than mimalloc gives every block.
//!
//! The `mimalloc` crate's allocator calls `mi_malloc_aligned` for every allocation. For the
//! alignments Rust nearly always asks for (8 or less: tree nodes, strings, vectors) that ends
//! in the same blocks as `mi_malloc`, after checks on every call (a power of two, the size
//! class, the free block's address) and, for blocks over 1 KiB or when a page's free list is
//! empty, one more out-of-line layer (the generic aligned path) before the generic malloc. Plain
//! `mi_malloc` for those layouts took `render --stdout` at N = 1,000 from 628.2 M to 613.6 M
//! instructions (callgrind, docs/benchmarks.md). Reallocation needed no change: mimalloc's
//! aligned realloc already hands word alignment to its plain realloc.
//!
//! Why a word is safe: mimalloc's blocks are whole words apart from a page start aligned to
//! 16 bytes (`_mi_segment_page_start`), and mimalloc relies on it itself (its aligned realloc
//! takes the plain path for alignments up to `sizeof(uintptr_t)`; its aligned malloc, for
//! alignments up to 16 no larger than the size). The `mimalloc` crate once served alignments
//! from plain malloc unsoundly (RUSTSEC-2022-0094: alignment equal to the size, in secure
//! mode); a word is below every case that advisory covers. mimalloc's guarded blocks (its
//! `MI_GUARDED` debug build with `MIMALLOC_GUARDED_PRECISE`) may sit unaligned; this build
//! does not enable them, and debug builds assert every block's alignment.
//!
//! This is the workspace's only unsafe code, kept in a crate of its own so that every other
//! crate can forbid it.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc_aligned, mi_zalloc, mi_zalloc_aligned,
};

/// The alignment every mimalloc block has: one machine word.
const WORD: usize = core::mem::size_of::<usize>();

/// mimalloc, with plain calls for word-aligned layouts.
pub struct MiMalloc;

/// `block`, checked in debug builds to have the alignment asked for (or to be null).
#[inline]
fn aligned(block: *mut c_void, align: usize) -> *mut u8 {
    debug_assert!(block.is_null() || (block as usize).is_multiple_of(align), "misaligned block");
    block.cast()
}

// SAFETY: each method forwards to the mimalloc function with the same contract (a block of at
// least the size, null on failure, freed with `mi_free`); the plain functions serve only
// layouts aligned to a word or less, which every mimalloc block is (see the module doc).
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        // SAFETY: see the impl; `size` is not zero (the `GlobalAlloc` contract).
        let block =
            unsafe { if align <= WORD { mi_malloc(size) } else { mi_malloc_aligned(size, align) } };
        aligned(block, align)
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        // SAFETY: as in `alloc`.
        let block =
            unsafe { if align <= WORD { mi_zalloc(size) } else { mi_zalloc_aligned(size, align) } };
        aligned(block, align)
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator; mimalloc frees aligned blocks alike.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; mimalloc takes its plain
        // realloc for alignments up to a word itself.
        let block = unsafe { mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()) };
        aligned(block, layout.align())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every alignment up to a page, and sizes around each: the block is aligned, writable
    /// over its whole size, and keeps its bytes through a realloc.
    #[test]
    fn blocks_are_aligned_and_keep_their_bytes() {
        let allocator = MiMalloc;
        for align in (0..13).map(|shift| 1usize << shift) {
            for size in [1, 7, 8, 9, 24, 40, 1000, 1025, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero size; each block is freed once, with its own layout.
                unsafe {
                    let block = allocator.alloc(layout);
                    assert!(!block.is_null());
                    assert!((block as usize).is_multiple_of(align), "size {size}, align {align}");
                    for i in 0..size {
                        block.add(i).write(i as u8);
                    }
                    let grown = allocator.realloc(block, layout, size * 3);
                    assert!((grown as usize).is_multiple_of(align), "grown {size}, align {align}");
                    for i in 0..size {
                        assert_eq!(grown.add(i).read(), i as u8);
                    }
                    allocator.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    let zeroed = allocator.alloc_zeroed(layout);
                    assert!((zeroed as usize).is_multiple_of(align));
                    assert!((0..size).all(|i| zeroed.add(i).read() == 0));
                    allocator.dealloc(zeroed, layout);
                }
            }
        }
    }
}
