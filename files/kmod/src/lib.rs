// SPDX-License-Identifier: GPL-2.0

//! The Rust half of the `roulette` kernel module.
//!
//! The C shim (`shim.c`) owns everything that touches kernel structures
//! (module parameters, the character device, user copies). This crate owns
//! the game: it validates the probability, samples the kernel's CSPRNG,
//! formats every message with a heap-backed `println!`, and panics with
//! `Boom!` when the chamber is loaded. Its `#[panic_handler]` ends in the C
//! `rr_abort()`, which raises `BUG()`.
//!
//! Everything here runs in process context (module init and `read()`), so
//! allocations may sleep.

#![no_std]

extern crate alloc;
// Provides the integer/float helper routines LLVM may call (e.g. for u128
// arithmetic in `core::fmt`); memcpy and friends come from the kernel.
extern crate compiler_builtins;

#[macro_use]
mod print;
mod ffi;
mod kalloc;
mod panic;
mod roulette;

#[global_allocator]
static ALLOCATOR: kalloc::KernelAllocator = kalloc::KernelAllocator;
