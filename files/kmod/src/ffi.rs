// SPDX-License-Identifier: GPL-2.0

//! The C functions of `shim.c` that the Rust side calls.

use core::ffi::c_int;

/// Log levels understood by `rr_printk()` (the kernel's `KERN_*` numbers).
pub const KERN_ERR: c_int = 3;
pub const KERN_INFO: c_int = 6;

unsafe extern "C" {
    /// Logs `len` bytes at `msg` with `printk()` at `level`; no format parsing.
    pub fn rr_printk(level: c_int, msg: *const u8, len: usize);
    /// `kmalloc(size, GFP_KERNEL)`, or `kzalloc()` when `zero` is true.
    pub fn rr_kmalloc(size: usize, zero: bool) -> *mut u8;
    /// `krealloc(ptr, size, GFP_KERNEL)`.
    pub fn rr_krealloc(ptr: *mut u8, size: usize) -> *mut u8;
    /// `kfree(ptr)`.
    pub fn rr_kfree(ptr: *mut u8);
    /// `get_random_u32()`: 32 bits from the kernel's CSPRNG.
    pub fn rr_random_u32() -> u32;
    /// Raises `BUG()` and never returns. Declared as returning so that the
    /// caller ends in an explicit `ud2` (see src/panic.rs).
    pub fn abort();
}
