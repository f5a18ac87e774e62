//! Transparent huge pages for the heap: the `vmswarm` binary's global
//! allocator.
//!
//! A large flash crowd reads its records at random over a hundred MB or
//! more (holder lists, flows, peers, the waiting queues), and with 4 KiB
//! pages nearly every such read also misses the TLB, whose reach is a few
//! MB: a page walk, itself often a cache miss, before the load can start.
//! Linux backs memory with 2 MiB pages where a program asks for them
//! (`madvise(MADV_HUGEPAGE)`, honoured when
//! `/sys/kernel/mm/transparent_hugepage/enabled` is `always` or
//! `madvise`, the usual default), if it asks before the memory is first
//! touched. [`HugePageAlloc`] is the system allocator that asks so, as
//! glibc does under its `glibc.malloc.hugetlb=1` tunable:
//!
//! - glibc carves blocks under 32 MiB from its main heap, grown in steps
//!   of at least [`GROWTH_BYTES`] (a block mapped apart, under 2 MiB,
//!   could never hold a huge page), and each time the heap has grown the
//!   new part is advised before the blocks in it are used;
//! - a block mapped apart (32 MiB or more) has the huge pages inside it
//!   advised.
//!
//! It changes where memory comes from, never a value: outputs are
//! byte-identical with it or without it. Measured in docs/speed.md.
//! Elsewhere than on Linux with glibc it is the system allocator.
//!
//! `VMSWARM_HUGE_PAGES=0` in the environment turns it off (the binary
//! reads it at start, see [`set_enabled`]), to compare.

use std::alloc::{GlobalAlloc, Layout, System};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes of an x86-64 (and most arm64) transparent huge page.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const HUGE_PAGE_BYTES: usize = 2 << 20;

/// The least the main heap grows by at a time: a growth's new part is
/// advised only after the block that asked for it is carved, and glibc
/// writes that block's header, and the rest's, into it; in a large step
/// the two pages so touched cost little.
pub const GROWTH_BYTES: usize = 64 << 20;

/// Blocks from this size on are mapped apart by glibc.
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
const MAP_APART_FROM_BYTES: usize = 32 << 20;

/// Allocations of at least this many bytes check whether the main heap
/// grew (smaller ones seldom make it grow, by `GROWTH_BYTES` at a time).
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
const CHECK_FROM_BYTES: usize = 4 << 10;

/// Whether allocations are advised (on unless [`set_enabled`] says not).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The end of the main heap when it was last advised.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static ADVISED_TO: AtomicUsize = AtomicUsize::new(0);

/// The first huge page boundary of the main heap as the advice was first
/// turned on: advice of the heap starts there, never in what lies below
/// it (the program's own data).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static HEAP_FLOOR: AtomicUsize = AtomicUsize::new(0);

/// Turn the advice on or off for the allocations that follow. On, with
/// glibc: blocks under 32 MiB stay in its heaps, where its threshold for
/// mapping blocks apart ends anyway as mapped blocks are freed, and the
/// main heap grows by [`GROWTH_BYTES`] at least. The heap as it is now is
/// left as it is.
pub fn set_enabled(on: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if on {
        // SAFETY: mallopt only sets allocator parameters (a value it
        // rejects leaves them as they were), and sbrk(0) only reads the
        // heap's end.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_APART_FROM_BYTES as i32);
            libc::mallopt(libc::M_TOP_PAD, GROWTH_BYTES as i32);
            let end = libc::sbrk(0) as usize;
            ADVISED_TO.store(end, Ordering::Relaxed);
            let floor = end.next_multiple_of(HUGE_PAGE_BYTES);
            let _ = HEAP_FLOOR.compare_exchange(0, floor, Ordering::Relaxed, Ordering::Relaxed);
        }
    }
    ENABLED.store(on, Ordering::Relaxed);
}

/// `f`'s result, with its allocations left in the pages the kernel gives
/// by default (the bench's memory probe, which measures the machine as
/// tables measured before this allocator did).
pub fn without<T>(f: impl FnOnce() -> T) -> T {
    let was = ENABLED.swap(false, Ordering::Relaxed);
    let result = f();
    set_enabled(was);
    result
}

/// The system allocator, asking for huge pages for the heap it grows.
#[derive(Debug, Clone, Copy, Default)]
pub struct HugePageAlloc;

// SAFETY: every call is forwarded to `System` with its arguments
// unchanged, and its result returned unchanged; `advise` only gives the
// kernel a hint about memory the process holds.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let block = unsafe { System.alloc(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        advise(moved, new_size);
        moved
    }
}

/// After an allocation of `size` bytes at `block` (null when it failed):
/// advise what the main heap grew by since last time, or the block itself
/// if glibc mapped it apart.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn advise(block: *mut u8, size: usize) {
    if block.is_null() || size < CHECK_FROM_BYTES || !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let huge = HUGE_PAGE_BYTES;
    if size >= MAP_APART_FROM_BYTES {
        // The huge pages inside the block: its mapping's alone.
        let start = (block as usize).next_multiple_of(huge);
        madvise_huge(start, (block as usize + size) / huge * huge);
    }
    // SAFETY: sbrk(0) only reads the heap's end.
    let end = unsafe { libc::sbrk(0) } as usize;
    let advised = ADVISED_TO.swap(end, Ordering::Relaxed);
    // The heap also shrinks (glibc gives its free top back): the part
    // regrown is advised again then. The huge page across the last
    // end is advised now that it is mapped whole or in part; the
    // one across the new end will be once the heap covers it.
    if end > advised {
        let start = (advised / huge * huge).max(HEAP_FLOOR.load(Ordering::Relaxed));
        madvise_huge(start, end.next_multiple_of(huge));
    }
}

/// Elsewhere there is nothing to advise.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn advise(_block: *mut u8, _size: usize) {}

/// `madvise(MADV_HUGEPAGE)` of `[start, end)` (huge page boundaries), if
/// not empty.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn madvise_huge(start: usize, end: usize) {
    if end <= start {
        return;
    }
    // SAFETY: MADV_HUGEPAGE changes no byte of memory, only how the kernel
    // backs the anonymous pages of the range (the heap's, or a block's);
    // parts of it not mapped are skipped (ENOMEM), and a failure (THP off
    // or absent) leaves everything as it was.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The tests set the process-wide switch: one at a time.
    static SWITCH: Mutex<()> = Mutex::new(());

    #[test]
    fn without_turns_the_advice_off_for_its_closure_alone() {
        let _switch = SWITCH.lock().unwrap();
        for on in [true, false] {
            set_enabled(on);
            assert!(!without(|| ENABLED.load(Ordering::Relaxed)));
            assert_eq!(ENABLED.load(Ordering::Relaxed), on);
        }
        set_enabled(true);
    }

    #[test]
    fn blocks_keep_their_bytes_through_growth_and_zeroing() {
        let _switch = SWITCH.lock().unwrap();
        set_enabled(true);
        let alloc = HugePageAlloc;
        for size in [
            100,
            3 * CHECK_FROM_BYTES,
            GROWTH_BYTES + 12_345,
            MAP_APART_FROM_BYTES,
        ] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            // SAFETY: the layouts have non-zero sizes; every block is used
            // within its size and freed with the layout it has.
            unsafe {
                let zeroed = alloc.alloc_zeroed(layout);
                assert!(!zeroed.is_null());
                let bytes = std::slice::from_raw_parts_mut(zeroed, size);
                assert!(bytes.iter().all(|&b| b == 0), "{size}");
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = (i % 251) as u8;
                }
                let grown = alloc.realloc(zeroed, layout, 2 * size);
                assert!(!grown.is_null());
                let kept = std::slice::from_raw_parts(grown, size);
                assert!(
                    kept.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8),
                    "{size}"
                );
                alloc.dealloc(grown, Layout::from_size_align(2 * size, 64).unwrap());
            }
        }
    }
}
