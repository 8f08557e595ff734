// SPDX-License-Identifier: GPL-2.0

//! What a Rust panic does inside the kernel: log where and why, then `BUG()`
//! (through the C `rr_abort()`).

use core::panic::PanicInfo;

use crate::ffi;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    match info.location() {
        Some(loc) => eprintln!("Rust panic @ {}:{}", loc.file(), loc.line()),
        None => eprintln!("Rust panic @ unknown location"),
    }
    eprintln!("{}", info.message());
    // SAFETY: rr_abort() takes no arguments; it raises BUG(), which oopses
    // and kills the current task. The callers hold no locks at this point.
    unsafe { ffi::rr_abort() };
    // Not reached. The explicit trap tells objtool that this function ends
    // here: rustc emits no trap after a call to a `-> !` function, and
    // objtool, which cannot see into the C rr_abort(), would otherwise report
    // that the code falls off the end of the function. (A C function named
    // `abort` would not do: LLVM knows that name as the C library's
    // never-returning function and drops the trap as unreachable.)
    // SAFETY: ud2 raises #UD; it touches no memory or registers.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}
