// SPDX-License-Identifier: GPL-2.0

//! The C functions of `shim.c` that the Rust side calls.

use crate::print::LogLevel;

unsafe extern "C" {
    /// Logs `len` bytes at `msg` with `pr_err()` or `pr_info()`, as `level`
    /// says (so with the module's `pr_fmt()` prefix); no format parsing.
    pub fn rr_printk(level: LogLevel, msg: *const u8, len: usize);
    /// `kmalloc(size, GFP_KERNEL)`.
    pub fn rr_kmalloc(size: usize) -> *mut u8;
    /// `krealloc(ptr, size, GFP_KERNEL)`.
    pub fn rr_krealloc(ptr: *mut u8, size: usize) -> *mut u8;
    /// `kfree(ptr)`.
    pub fn rr_kfree(ptr: *mut u8);
    /// `get_random_u32()`: 32 bits from the kernel's CSPRNG.
    pub fn rr_random_u32() -> u32;
    /// Raises `BUG()` and never returns. Declared as returning so that the
    /// caller ends in an explicit `ud2` (see src/panic.rs).
    pub fn rr_abort();
}
