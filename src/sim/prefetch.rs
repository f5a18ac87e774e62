//! Prefetching: asking the memory system for a record some work before
//! it is read.
//!
//! On a large crowd every record an event reads (the flow, the sender's
//! upload, the receiver's peer record and holdings) is a cache miss, and
//! one event's misses wait on each other. The engine can often name the
//! next event while the current one is handled (`Engine::peek_hint`), so
//! the event loop asks for the next event's records first and their loads
//! overlap the current event's work. A prefetch is only a hint: it changes
//! no value, so a wrong guess costs memory traffic, never a result.

/// Bytes of a cache line (x86-64's and most others'): the unit a
/// prefetch asks for and a miss brings in.
pub const CACHE_LINE_BYTES: usize = 64;

/// Ask for every cache line of `*x` to be brought into the caches.
#[inline(always)]
pub(super) fn prefetch<T: ?Sized>(x: &T) {
    let start = (x as *const T).cast::<u8>();
    let size = std::mem::size_of_val(x).max(1);
    // The lines of the first and last byte and those between, whatever
    // the record's alignment.
    let first = start as usize / CACHE_LINE_BYTES;
    let last = (start as usize + size - 1) / CACHE_LINE_BYTES;
    for line in 0..=(last - first) {
        prefetch_line(start.wrapping_add(line * CACHE_LINE_BYTES));
    }
}

#[inline(always)]
fn prefetch_line(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 processor has,
    // and a prefetch reads nothing into the program: it cannot fault or
    // change a value, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}
