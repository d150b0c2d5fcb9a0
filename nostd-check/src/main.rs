//! A freestanding program that uses the library crates with `std` off and
//! `alloc` on. If any of them (or their dependencies) links `std`, this fails
//! to build with "duplicate lang item `panic_impl`", because `std` brings its
//! own panic handler. The parse and build paths are exercised without the
//! allocator ever being called.
#![no_std]
#![no_main]

extern crate alloc;
extern crate pxe_dhcp;
extern crate pxe_rules;
extern crate pxe_tftp;

use core::alloc::{GlobalAlloc, Layout};
use core::panic::PanicInfo;

/// An allocator that refuses every request: linking `alloc` needs one, and
/// a board would supply its own.
struct NoHeap;

// SAFETY argument: returning null is always a valid GlobalAlloc answer
// ("allocation failed"); dealloc is never reached because nothing is ever
// handed out.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static HEAP: NoHeap = NoHeap;

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    loop {}
}

/// Entry point; linked, never run.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    loop {}
}

/// The prebuilt `alloc` is compiled with unwinding and names this symbol;
/// with `panic = "abort"` it is never called, so an empty one links.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
