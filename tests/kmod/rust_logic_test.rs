// SPDX-License-Identifier: GPL-2.0
//
// Host unit tests for the driver's Rust logic: the real src/print.rs,
// src/kalloc.rs and src/roulette.rs, compiled for the host against a mock
// of the C shim (src/ffi.rs) that behaves like the kernel at its worst:
// kmalloc() aligns non-power-of-two sizes to 8 bytes only.
//
// Run (tests/kmod/test_build.sh does):
//   rustc --edition 2024 --test tests/kmod/rust_logic_test.rs -o /tmp/t && /tmp/t --test-threads=1

extern crate alloc;

#[macro_use]
#[path = "../../files/kmod/src/print.rs"]
mod print;
#[path = "../../files/kmod/src/kalloc.rs"]
mod kalloc;
#[path = "../../files/kmod/src/roulette.rs"]
mod roulette;

/// Stand-in for the C shim.
mod ffi {
    use std::alloc::{Layout, alloc, dealloc};
    use std::cell::RefCell;
    use std::collections::{HashMap, VecDeque};

    use crate::print::LogLevel;

    /// Larger requests fail, as beyond KMALLOC_MAX_SIZE.
    pub const MAX_SIZE: usize = 1 << 30;

    thread_local! {
        pub static LOG: RefCell<Vec<(LogLevel, String)>> = const { RefCell::new(Vec::new()) };
        pub static RANDOM: RefCell<VecDeque<u32>> = const { RefCell::new(VecDeque::new()) };
        /// Live blocks: returned pointer -> (std pointer, std layout, size).
        static BLOCKS: RefCell<HashMap<usize, (usize, Layout, usize)>> = RefCell::new(HashMap::new());
    }

    pub unsafe fn rr_printk(level: LogLevel, msg: *const u8, len: usize) {
        let text = unsafe { std::slice::from_raw_parts(msg, len) };
        let text = String::from_utf8(text.to_vec()).unwrap();
        LOG.with(|l| l.borrow_mut().push((level, text)));
    }

    /// kmalloc() as weak as its documentation allows: 8-byte alignment,
    /// and alignment to the size for power-of-two sizes only.
    pub unsafe fn rr_kmalloc(size: usize) -> *mut u8 {
        if size > MAX_SIZE {
            return std::ptr::null_mut();
        }
        let natural = if size.is_power_of_two() {
            size.max(8)
        } else {
            8
        };
        // Over-allocate and offset so the block is aligned to `natural`
        // and, where possible, to nothing larger.
        let layout = Layout::from_size_align(size + 2 * natural, 2 * natural).unwrap();
        // Not zeroed: kmalloc() returns whatever the slab held.
        let base = unsafe { alloc(layout) };
        unsafe { std::ptr::write_bytes(base, 0x6b, layout.size()) };
        assert!(!base.is_null());
        let ptr = unsafe { base.add(natural) };
        BLOCKS.with(|b| {
            b.borrow_mut()
                .insert(ptr as usize, (base as usize, layout, size))
        });
        ptr
    }

    pub unsafe fn rr_krealloc(ptr: *mut u8, size: usize) -> *mut u8 {
        let old = BLOCKS
            .with(|b| b.borrow().get(&(ptr as usize)).copied())
            .expect("krealloc of unknown block");
        let new = unsafe { rr_kmalloc(size) };
        if new.is_null() {
            return new; // like krealloc(): the old block stays valid
        }
        unsafe { std::ptr::copy_nonoverlapping(ptr, new, old.2.min(size)) };
        unsafe { rr_kfree(ptr) };
        new
    }

    pub unsafe fn rr_kfree(ptr: *mut u8) {
        let (base, layout, _) = BLOCKS
            .with(|b| b.borrow_mut().remove(&(ptr as usize)))
            .expect("kfree of unknown block");
        unsafe { dealloc(base as *mut u8, layout) };
    }

    pub unsafe fn rr_random_u32() -> u32 {
        RANDOM
            .with(|r| r.borrow_mut().pop_front())
            .expect("test ran out of random numbers")
    }

    pub fn live_blocks() -> usize {
        BLOCKS.with(|b| b.borrow().len())
    }
}

use std::alloc::{GlobalAlloc, Layout};

use print::LogLevel;

fn take_log() -> Vec<(LogLevel, String)> {
    ffi::LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

fn feed(values: &[u32]) {
    ffi::RANDOM.with(|r| r.borrow_mut().extend(values.iter().copied()));
}

fn random_left() -> usize {
    ffi::RANDOM.with(|r| r.borrow().len())
}

#[test]
fn allocations_honour_alignment_above_kmalloc_minimum() {
    let a = kalloc::KernelAllocator;
    for align in [1, 2, 4, 8, 16, 32, 64, 128, 256, 4096] {
        for size in [1, 7, 8, 24, 48, 100, 1000, 4096, 5000] {
            let layout = Layout::from_size_align(size, align).unwrap();
            let p = unsafe { a.alloc(layout) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0, "alloc size {size} align {align}");
            unsafe { std::ptr::write_bytes(p, 0xa5, size) };

            let z = unsafe { a.alloc_zeroed(layout) };
            assert_eq!(
                z as usize % align,
                0,
                "alloc_zeroed size {size} align {align}"
            );
            assert!(
                unsafe { std::slice::from_raw_parts(z, size) }
                    .iter()
                    .all(|&b| b == 0)
            );
            unsafe { a.dealloc(z, layout) };

            // Grow, then shrink: contents and alignment survive both moves.
            let mut block = p;
            let mut cur = layout;
            for new_size in [size * 3, size / 2 + 1] {
                block = unsafe { a.realloc(block, cur, new_size) };
                assert_eq!(
                    block as usize % align,
                    0,
                    "realloc {} -> {new_size} align {align}",
                    cur.size()
                );
                let kept = cur.size().min(new_size);
                assert!(
                    unsafe { std::slice::from_raw_parts(block, kept) }
                        .iter()
                        .all(|&b| b == 0xa5)
                );
                cur = Layout::from_size_align(new_size, align).unwrap();
                unsafe { std::ptr::write_bytes(block, 0xa5, new_size) };
            }
            unsafe { a.dealloc(block, cur) };
        }
    }
    assert_eq!(ffi::live_blocks(), 0, "every block freed");
}

#[test]
fn the_largest_layouts_fail_cleanly() {
    let a = kalloc::KernelAllocator;
    // The power-of-two rounding of the largest valid layout still fits in
    // usize; kmalloc() refuses it and the allocator reports null.
    for align in [8, 16, 4096] {
        let layout = Layout::from_size_align(isize::MAX as usize - (align - 1), align).unwrap();
        assert!(unsafe { a.alloc(layout) }.is_null());
        assert!(unsafe { a.alloc_zeroed(layout) }.is_null());
    }
    let small = Layout::from_size_align(64, 64).unwrap();
    let p = unsafe { a.alloc(small) };
    assert!(unsafe { a.realloc(p, small, isize::MAX as usize - 63) }.is_null());
    unsafe { a.dealloc(p, small) };
}

#[test]
fn sampling_rejects_the_biased_low_values() {
    // 2^32 mod 100 = 96: raw values 0..=95 are redrawn, 96 maps to 96.
    assert_eq!((u32::MAX as u64 + 1) % 100, 96);
    assert_eq!(
        (u32::MAX as u64 + 1 - 96) % 100,
        0,
        "what is kept is a whole number of cycles"
    );
    feed(&[0, 95, 96]);
    assert_eq!(roulette::rr_init(0, false), 96);
    assert_eq!(random_left(), 0);
    feed(&[u32::MAX]);
    assert_eq!(roulette::rr_init(0, false), (u32::MAX % 100) as i32);
    feed(&[1_000_000_000]);
    assert_eq!(roulette::rr_init(0, false), 0);
    take_log();
}

#[test]
fn out_of_range_chance_fails_with_a_message() {
    take_log();
    for bad in [-1, 101, i32::MIN, i32::MAX] {
        assert_eq!(roulette::rr_init(bad, true), -22);
        let log = take_log();
        assert_eq!(
            log,
            // shim.c's pr_fmt() adds the "roulette: " prefix.
            vec![(
                LogLevel::Err,
                format!("chance={bad} is out of range 0..100\n")
            )]
        );
    }
    for good in [0, 1, 99, 100] {
        assert_eq!(roulette::rr_init(good, true), good);
    }
}

#[test]
fn load_messages_and_spins() {
    take_log();
    assert_eq!(roulette::rr_init(30, true), 30);
    roulette::rr_announce(245);
    assert_eq!(
        take_log(),
        [
            "Registered kernel-roulette with major device number 245\n",
            "Run /bin/mknod /dev/kernel-roulette c 245 0\n",
            "Panic probability: 30/100\n",
        ]
        .map(|line| (LogLevel::Info, line.to_string()))
    );

    let mut buf = [0u8; 80];
    feed(&[100 + 30]); // samples 30: survives at 30/100
    let n = unsafe { roulette::rr_spin(buf.as_mut_ptr(), buf.len()) };
    assert_eq!(
        &buf[..n as usize],
        b"Survived... sampled value is 30, which is >= 30\n"
    );
    feed(&[100 + 77]);
    let n = unsafe { roulette::rr_spin(buf.as_mut_ptr(), 10) };
    assert_eq!(&buf[..n as usize], b"Survived..", "truncated to the buffer");

    assert_eq!(roulette::rr_init(0, true), 0);
    feed(&[200]); // samples 0
    let n = unsafe { roulette::rr_spin(buf.as_mut_ptr(), buf.len()) };
    assert_eq!(
        &buf[..n as usize],
        b"Survived... sampled value is 0, which is >= 0\n"
    );
}

/// Run in a child process by `a_low_sample_panics_with_boom`: the panic
/// cannot unwind out of the `extern "C"` rr_spin, so the process aborts.
#[test]
#[ignore = "run by a_low_sample_panics_with_boom"]
fn boom_child() {
    assert_eq!(roulette::rr_init(30, true), 30);
    feed(&[100 + 29]); // samples 29 < 30
    let mut buf = [0u8; 80];
    unsafe { roulette::rr_spin(buf.as_mut_ptr(), buf.len()) };
}

#[test]
fn a_low_sample_panics_with_boom() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "boom_child", "--nocapture"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("src/roulette.rs"), "{stderr}");
    assert!(stderr.contains("Boom!"), "{stderr}");
}

#[test]
fn print_macros_log_one_line_per_call() {
    take_log();
    println!("b{}c", 2);
    eprintln!("e{:>3}", 7);
    assert_eq!(
        take_log(),
        vec![
            (LogLevel::Info, "b2c\n".to_string()),
            (LogLevel::Err, "e  7\n".to_string())
        ]
    );
}
