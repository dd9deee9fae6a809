//! A heap with a ceiling. Rust cannot recover from a failed allocation (it aborts, which in wasm
//! is a trap), so the engine's heap is capped at `HEAP_LIMIT`: a runaway template or state fails
//! at 512 MiB instead of growing the page's memory to 4 GiB first. The size of the allocation
//! that failed is kept in a plain static that the JavaScript side reads after the trap (reading
//! it needs no stack and no allocation, so it works on a trapped instance).

use crate::limits::HEAP_LIMIT;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, refusing to hold more than `HEAP_LIMIT` bytes.
pub struct CappedHeap;

impl CappedHeap {
    fn admit(&self, size: usize) -> bool {
        let used = IN_USE.load(Ordering::Relaxed);
        if used.saturating_add(size) > HEAP_LIMIT {
            FAILED.store(size.max(1), Ordering::Relaxed);
            return false;
        }
        IN_USE.store(used + size, Ordering::Relaxed);
        true
    }

    /// `size` more bytes from `get` (the system allocator), counted, within the ceiling.
    fn counted(&self, size: usize, get: impl FnOnce() -> *mut u8) -> *mut u8 {
        if !self.admit(size) {
            return std::ptr::null_mut();
        }
        let p = get();
        if p.is_null() {
            IN_USE.fetch_sub(size, Ordering::Relaxed);
            FAILED.store(size.max(1), Ordering::Relaxed);
        }
        p
    }
}

unsafe impl GlobalAlloc for CappedHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.counted(layout.size(), || System.alloc(layout))
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.counted(layout.size(), || System.alloc_zeroed(layout))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !self.admit(new_size - old) {
            return std::ptr::null_mut();
        }
        let p = System.realloc(ptr, layout, new_size);
        if p.is_null() {
            if new_size > old {
                IN_USE.fetch_sub(new_size - old, Ordering::Relaxed);
            }
            FAILED.store(new_size.max(1), Ordering::Relaxed);
        } else if new_size < old {
            IN_USE.fetch_sub(old - new_size, Ordering::Relaxed);
        }
        p
    }
}

/// Where the size of the last failed allocation is kept (a `usize`, 4 bytes on wasm32).
pub fn failed_allocation_address() -> usize {
    &FAILED as *const AtomicUsize as usize
}
