//! kubectl-connections' global allocator: mimalloc, asked for alignment only where Rust needs
//! more than mimalloc gives every block.
//!
//! The `mimalloc` crate's allocator calls `mi_malloc_aligned` for every allocation. Its fast
//! path serves blocks of up to 1 KiB only, and then only when the next free block happens to
//! sit at the alignment asked for; everything else takes the generic aligned path. Nearly every
//! allocation here (tree nodes, strings, vectors) asks for an alignment of 8 or less, which
//! every mimalloc block has (block sizes are multiples of the 8-byte word), so those go to
//! plain `mi_malloc`, whose fast path covers every small size. At N = 1,000 that is 2.3 % fewer
//! instructions for `render --stdout` (callgrind, docs/benchmarks.md).
//!
//! This is the workspace's only unsafe code, kept in a crate of its own so that every other
//! crate can forbid it.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// The alignment of every mimalloc block: one machine word.
const WORD: usize = core::mem::size_of::<usize>();

/// mimalloc, with plain calls for word-aligned layouts.
pub struct MiMalloc;

// SAFETY: each method forwards to the mimalloc function with the same contract; the plain
// (unaligned) functions are used only when the layout's alignment is at most a word, which
// every block mimalloc returns satisfies.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator; mimalloc frees aligned blocks alike.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl; the block keeps the layout's alignment.
        unsafe {
            if layout.align() <= WORD {
                mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
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
                    assert_eq!(block as usize % align, 0, "size {size}, align {align}");
                    for i in 0..size {
                        block.add(i).write(i as u8);
                    }
                    let grown = allocator.realloc(block, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown {size}, align {align}");
                    for i in 0..size {
                        assert_eq!(grown.add(i).read(), i as u8);
                    }
                    allocator.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    let zeroed = allocator.alloc_zeroed(layout);
                    assert_eq!(zeroed as usize % align, 0);
                    assert!((0..size).all(|i| zeroed.add(i).read() == 0));
                    allocator.dealloc(zeroed, layout);
                }
            }
        }
    }
}
