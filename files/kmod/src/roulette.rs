// SPDX-License-Identifier: GPL-2.0

//! The game: the probability, the spin, and the messages.

use core::ffi::c_int;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::ffi;
use crate::print::TextBuf;

/// Number of chambers: a spin samples 0..SLOTS and a probability is x/SLOTS.
const SLOTS: u32 = 100;

/// `-EINVAL`, returned to the module loader for a bad parameter.
const EINVAL: c_int = 22;
/// `-ENOMEM`, returned by a read when the text cannot be allocated.
const ENOMEM: isize = 12;

/// The probability in effect, in percent; set once by `rr_init`.
static CHANCE: AtomicU32 = AtomicU32::new(0);

/// A uniformly distributed value in `0..bound` from the kernel's CSPRNG.
///
/// Rejection sampling: 2^32 is not a multiple of `bound`, so the lowest
/// `2^32 mod bound` raw values are redrawn; what is left maps onto every
/// result equally often. The loop ends with probability 1 (for 100 it
/// redraws about once in 43 million).
fn random_below(bound: u32) -> u32 {
    let reject_below = bound.wrapping_neg() % bound;
    loop {
        // SAFETY: plain FFI call without arguments.
        let raw = unsafe { ffi::rr_random_u32() };
        if raw >= reject_below {
            return raw % bound;
        }
    }
}

/// Settles the probability at module load.
///
/// `requested` is the `chance` parameter, `given` whether it was set.
/// Returns the probability now in effect, or `-EINVAL` (after logging why)
/// when the parameter is out of range, which fails the load.
#[unsafe(no_mangle)]
pub extern "C" fn rr_init(requested: c_int, given: bool) -> c_int {
    let chance = if !given {
        random_below(SLOTS)
    } else if (0..=SLOTS as c_int).contains(&requested) {
        requested as u32
    } else {
        eprintln!("chance={} is out of range 0..{}", requested, SLOTS);
        return -EINVAL;
    };
    CHANCE.store(chance, Ordering::Relaxed);
    chance as c_int
}

/// Logs the device's major number, how to make its node, and the odds.
#[unsafe(no_mangle)]
pub extern "C" fn rr_announce(major: c_int) {
    println!(
        "Registered kernel-roulette with major device number {}",
        major
    );
    println!("Run /bin/mknod /dev/kernel-roulette c {} 0", major);
    println!(
        "Panic probability: {}/{}",
        CHANCE.load(Ordering::Relaxed),
        SLOTS
    );
}

/// One spin: panics with `Boom!` when the sample is below the probability,
/// otherwise writes the survivor's line to `out` (at most `cap` bytes) and
/// returns its length (or `-ENOMEM`).
///
/// # Safety
/// `out` must be valid for writes of `cap` bytes. The caller must hold no
/// lock and no extra module reference: a boom ends the calling task.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rr_spin(out: *mut u8, cap: usize) -> isize {
    let chance = CHANCE.load(Ordering::Relaxed);
    let sample = random_below(SLOTS);
    if sample < chance {
        panic!("Boom!");
    }
    let mut text = TextBuf::new();
    if writeln!(
        text,
        "Survived... sampled value is {sample}, which is >= {chance}"
    )
    .is_err()
    {
        return -ENOMEM;
    }
    let text = text.as_bytes();
    let len = text.len().min(cap);
    // SAFETY: `out` is valid for `cap >= len` bytes (caller's contract) and
    // cannot overlap the freshly allocated `text`.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), out, len) };
    len as isize
}
