// SPDX-License-Identifier: GPL-2.0

//! `GlobalAlloc` over `kmalloc()`/`krealloc()`/`kfree()` (`alloc_zeroed`
//! is the trait's own: `alloc` and a clear, as nothing here asks for it).
//!
//! `kmalloc()` guarantees `ARCH_KMALLOC_MINALIGN` (8 on x86_64, checked at
//! build time in `shim.c`) and, for power-of-two sizes, alignment to the size
//! itself. A request for a larger alignment is therefore rounded up to a
//! power of two that is at least the alignment.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

use crate::ffi;

/// The alignment every `kmalloc()` object has (`ARCH_KMALLOC_MINALIGN`).
const KMALLOC_MIN_ALIGN: usize = 8;

/// The `kmalloc()` size that satisfies `layout`, or `None` on overflow.
fn kmalloc_size(layout: Layout) -> Option<usize> {
    if layout.align() <= KMALLOC_MIN_ALIGN {
        Some(layout.size())
    } else {
        layout
            .size()
            .max(layout.align())
            .checked_next_power_of_two()
    }
}

/// The kernel heap as Rust's global allocator.
pub struct KernelAllocator;

// SAFETY: kmalloc() returns memory that no one else uses until kfree(), and
// `kmalloc_size` makes every block at least as aligned as its layout asks.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match kmalloc_size(layout) {
            // SAFETY: plain FFI call; kmalloc() accepts any size.
            Some(size) => unsafe { ffi::rr_kmalloc(size) },
            None => ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from kmalloc().
        unsafe { ffi::rr_kfree(ptr) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // krealloc() either keeps the block (already aligned for `layout`)
        // or moves it to kmalloc(size), which is aligned for the new layout
        // because `kmalloc_size` rounds to a power of two.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        match kmalloc_size(new_layout) {
            // SAFETY: `ptr` came from kmalloc(); krealloc() copies the data.
            Some(size) => unsafe { ffi::rr_krealloc(ptr, size) },
            None => ptr::null_mut(),
        }
    }
}
