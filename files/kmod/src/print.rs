// SPDX-License-Identifier: GPL-2.0

//! `print!`/`println!`/`eprintln!` for the kernel log.
//!
//! Each call formats into a heap `Vec<u8>` and hands the finished text to
//! `printk()` in one piece, so a message is one log record however many
//! `{}` it has. Allocation failure truncates the message instead of
//! panicking, which keeps the panic handler (which prints too) from
//! recursing.

use alloc::vec::Vec;
use core::ffi::c_int;
use core::fmt::{self, Write};

use crate::ffi;

pub use ffi::{KERN_ERR, KERN_INFO};

/// A growable byte buffer that `core::fmt` can write into.
///
/// It grows only through `try_reserve()`: the `alloc` crate is built with
/// `no_global_oom_handling` (as the kernel's own Rust is), so running out of
/// memory is an error to handle, never an abort.
pub struct TextBuf(Vec<u8>);

impl TextBuf {
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Write for TextBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        self.0.try_reserve(bytes.len()).map_err(|_| fmt::Error)?;
        let len = self.0.len();
        for (slot, byte) in self.0.spare_capacity_mut().iter_mut().zip(bytes) {
            slot.write(*byte);
        }
        // SAFETY: try_reserve() made room for `bytes`, which the loop above
        // has just initialised.
        unsafe { self.0.set_len(len + bytes.len()) };
        Ok(())
    }
}

/// Formats `args` (plus a newline if asked) and logs it at `level`.
pub fn log(level: c_int, args: fmt::Arguments<'_>, newline: bool) {
    let mut buf = TextBuf::new();
    // On allocation failure keep whatever was formatted so far.
    let _ = buf.write_fmt(args);
    if newline {
        let _ = buf.write_str("\n");
    }
    // SAFETY: the pointer and length describe the initialised bytes of `buf`.
    let text = buf.as_bytes();
    unsafe { ffi::rr_printk(level, text.as_ptr(), text.len()) };
}

/// Logs at `KERN_INFO`, without ending the line.
#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::print::log($crate::print::KERN_INFO, format_args!($($arg)*), false)
    };
}

/// Logs one line at `KERN_INFO`.
macro_rules! println {
    () => { $crate::print::log($crate::print::KERN_INFO, format_args!(""), true) };
    ($($arg:tt)*) => {
        $crate::print::log($crate::print::KERN_INFO, format_args!($($arg)*), true)
    };
}

/// Logs one line at `KERN_ERR`.
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::print::log($crate::print::KERN_ERR, format_args!($($arg)*), true)
    };
}
