// SPDX-License-Identifier: GPL-2.0

//! `println!`/`eprintln!` for the kernel log.
//!
//! Each call formats into a heap `Vec<u8>` and hands the finished line to
//! `printk()` in one piece, so a message is one log record however many
//! `{}` it has. The C side adds the module's `pr_fmt()` prefix
//! (`roulette: `). Allocation failure truncates the message instead of
//! panicking, which keeps the panic handler (which prints too) from
//! recursing.

use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::ffi;

/// The log levels `rr_printk()` takes. The values are the kernel's
/// `LOGLEVEL_*` numbers (include/linux/kern_levels.h), which `shim.c`
/// matches by those names.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// `LOGLEVEL_ERR`: `pr_err()`.
    Err = 3,
    /// `LOGLEVEL_INFO`: `pr_info()`.
    Info = 6,
}

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

/// Formats `args` and a newline and logs the line at `level`.
pub fn log_line(level: LogLevel, args: fmt::Arguments<'_>) {
    let mut buf = TextBuf::new();
    // On allocation failure keep whatever was formatted so far.
    let _ = buf.write_fmt(args);
    let _ = buf.write_str("\n");
    let text = buf.as_bytes();
    // SAFETY: the pointer and length describe the initialised bytes of `buf`.
    unsafe { ffi::rr_printk(level, text.as_ptr(), text.len()) };
}

/// Logs one line at `KERN_INFO`.
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::print::log_line($crate::print::LogLevel::Info, format_args!($($arg)*))
    };
}

/// Logs one line at `KERN_ERR`.
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::print::log_line($crate::print::LogLevel::Err, format_args!($($arg)*))
    };
}
