//! The holder lists' storage: per list (a key, or a key and a rack), the
//! slots of the peers that hold the key, in the order they got it
//! (departed ones until a choice or a purge drops them, see `holders`).
//!
//! The lists keep `u16` slots until a peer takes a slot past 16 bits, and
//! then `u32`s (converted once, the same entries in the same order).
//! Slots are reused (but on a data center's hosts), so they follow the
//! peers present, not the hosts of the run: a long streamed run of 100,000
//! VMs with some 8,000 peers at once stays narrow. The lists are most of
//! what source choice reads and every
//! delivery appends to, and they outgrow a core's private cache: on the
//! paper's default, half the lists' bytes cut the misses of a 512 KiB
//! cache by 24% (cross-equ) and 18% (cross-opt), with the same entries in
//! the same order, so every choice is unchanged (docs/speed.md).

use super::state::PeerId;

/// A peer's slot as a holder list stores it.
pub(super) trait Slot: Copy {
    /// The slot of peer `p` (which fits: see [`HolderLists::new`]).
    fn of(p: PeerId) -> Self;
    /// The peer in this slot.
    fn peer(self) -> PeerId;
}

impl Slot for u16 {
    #[inline(always)]
    fn of(p: PeerId) -> u16 {
        debug_assert!(p <= u16::MAX as PeerId, "slot {p} in a narrow list");
        p as u16
    }

    #[inline(always)]
    fn peer(self) -> PeerId {
        PeerId::from(self)
    }
}

impl Slot for u32 {
    #[inline(always)]
    fn of(p: PeerId) -> u32 {
        p
    }

    #[inline(always)]
    fn peer(self) -> PeerId {
        self
    }
}

/// Holder lists, all of one slot width.
#[derive(Debug, Clone)]
pub(super) enum HolderLists {
    /// While every slot fits 16 bits.
    Narrow(Vec<Vec<u16>>),
    /// Once some slot did not.
    Wide(Vec<Vec<u32>>),
}

impl Default for HolderLists {
    /// No lists.
    fn default() -> Self {
        HolderLists::Wide(Vec::new())
    }
}

impl HolderLists {
    /// `lists` empty lists, narrow.
    pub(super) fn new(lists: usize) -> HolderLists {
        #[cfg(test)]
        if tests::FORCE_WIDE.get() {
            return HolderLists::Wide(vec![Vec::new(); lists]);
        }
        HolderLists::Narrow(vec![Vec::new(); lists])
    }

    /// Make room for peer slot `p`: narrow lists turn wide, with the same
    /// entries in the same order, once `p` does not fit 16 bits.
    pub(super) fn make_room(&mut self, p: PeerId) {
        #[cfg(not(test))]
        let narrow_max = PeerId::from(u16::MAX);
        #[cfg(test)]
        let narrow_max = tests::NARROW_MAX.get();
        if let HolderLists::Narrow(lists) = self
            && p > narrow_max
        {
            // Each narrow list is freed as soon as it is copied, so the
            // two widths are never held whole at once.
            let wide = std::mem::take(lists)
                .into_iter()
                .map(|list| list.into_iter().map(|s| s.peer()).collect())
                .collect();
            *self = HolderLists::Wide(wide);
        }
    }

    /// How many lists.
    pub(super) fn count(&self) -> usize {
        match self {
            HolderLists::Narrow(lists) => lists.len(),
            HolderLists::Wide(lists) => lists.len(),
        }
    }

    /// Entries in all the lists.
    pub(super) fn entries(&self) -> usize {
        match self {
            HolderLists::Narrow(lists) => lists.iter().map(Vec::len).sum(),
            HolderLists::Wide(lists) => lists.iter().map(Vec::len).sum(),
        }
    }

    /// Append peer `p` to list `i`, which grows as a `Vec` does.
    #[inline]
    pub(super) fn push(&mut self, i: usize, p: PeerId) {
        match self {
            HolderLists::Narrow(lists) => lists[i].push(Slot::of(p)),
            HolderLists::Wide(lists) => lists[i].push(Slot::of(p)),
        }
    }

    /// [`HolderLists::push`] to a list that grows by doubling from
    /// [`FIRST_ROOM`] entries rather than from 4: a key's list, which on
    /// the paper's default gets some 140 entries over a run under the
    /// cross model (643,072 deliveries, 4,672 keys). Growing from 4 cost
    /// about 25,000 reallocations a run there, and this 0.3-0.55% of the
    /// instructions a block (cross-equ 1,768 -> 1,758, cross-opt
    /// 2,118 -> 2,110, `scripts/icount.sh --quick`). A rack's list holds
    /// its few hosts, and stays with `push`.
    #[inline(always)]
    pub(super) fn push_roomy(&mut self, i: usize, p: PeerId) {
        match self {
            HolderLists::Narrow(lists) => push_slot(&mut lists[i], p),
            HolderLists::Wide(lists) => push_slot(&mut lists[i], p),
        }
    }

    /// Keep only the entries of the peers `keep` accepts, in order.
    pub(super) fn retain(&mut self, keep: impl Fn(PeerId) -> bool) {
        match self {
            HolderLists::Narrow(lists) => retain_all(lists, keep),
            HolderLists::Wide(lists) => retain_all(lists, keep),
        }
    }

    /// The entries of list `i`, as peers (for tests).
    #[cfg(test)]
    pub(super) fn peers(&self, i: usize) -> Vec<PeerId> {
        match self {
            HolderLists::Narrow(lists) => lists[i].iter().map(|s| s.peer()).collect(),
            HolderLists::Wide(lists) => lists[i].iter().map(|s| s.peer()).collect(),
        }
    }
}

/// Entries a key's holder list first makes room for
/// (`input::config::estimate` counts them).
pub(super) const FIRST_ROOM: usize = 32;

/// Append peer `p` to `list`, which grows by doubling from
/// [`FIRST_ROOM`] entries.
#[inline(always)]
fn push_slot<S: Slot>(list: &mut Vec<S>, p: PeerId) {
    if list.len() == list.capacity() {
        list.reserve(list.len().max(FIRST_ROOM));
    }
    list.push(S::of(p));
}

/// [`HolderLists::retain`] on lists of one width.
fn retain_all<S: Slot>(lists: &mut [Vec<S>], keep: impl Fn(PeerId) -> bool) {
    for list in lists {
        list.retain(|s| keep(s.peer()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::path::Path;

    use crate::input::config::Config;
    use crate::scenario::Scenario;

    thread_local! {
        /// Make every run of this thread keep wide lists (the equivalence
        /// test's reference).
        pub(super) static FORCE_WIDE: Cell<bool> = const { Cell::new(false) };
        /// The largest slot narrow lists keep before widening (a small one
        /// makes a test's run widen part way).
        pub(super) static NARROW_MAX: Cell<PeerId> = const { Cell::new(u16::MAX as PeerId) };
    }

    #[test]
    fn both_widths_keep_the_same_entries_in_the_same_order() {
        let peers = [7, 0, 65_535, 3, 7];
        let mut narrow = HolderLists::new(2);
        let mut wide = HolderLists::Wide(vec![Vec::new(); 2]);
        assert!(matches!(narrow, HolderLists::Narrow(_)));
        for lists in [&mut narrow, &mut wide] {
            for &p in &peers {
                lists.push(1, p);
            }
            lists.retain(|p| p != 3);
            assert_eq!(lists.count(), 2);
            assert_eq!(lists.entries(), 4);
            assert_eq!(lists.peers(1), [7, 0, 65_535, 7]);
            assert!(lists.peers(0).is_empty());
        }
    }

    #[test]
    fn a_slot_past_16_bits_widens_the_lists_keeping_their_entries() {
        let mut lists = HolderLists::new(3);
        for (i, p) in [(0, 9), (2, 65_535), (0, 4), (2, 1)] {
            lists.push(i, p);
        }
        lists.make_room(65_535);
        assert!(matches!(lists, HolderLists::Narrow(_)));
        lists.make_room(65_536);
        assert!(matches!(lists, HolderLists::Wide(_)));
        lists.push(1, 65_536);
        assert_eq!(lists.peers(0), [9, 4]);
        assert_eq!(lists.peers(1), [65_536]);
        assert_eq!(lists.peers(2), [65_535, 1]);
        assert_eq!(lists.entries(), 5);
    }

    /// A Poisson run with every mechanism that reads the lists: sampled
    /// and exact choices, departures (lazy removal, and with a threshold
    /// this low, purges), the end game; `extra` adds sections.
    fn poisson_run(extra: &str) -> String {
        format!(
            r#"
seed = 3
[content]
images = 3
chunks_per_image = 4
blocks_per_chunk = 8
block_mb = 4.0
common_ratio = 0.3
[workload]
rate_per_s = 2.0
window_s = 40.0
lifetime_min_s = 2.0
lifetime_max_s = 6.0
[server]
u_s_mbps = 200.0
[limits]
purge_stale_holders = 50
{extra}
"#
        )
    }

    #[test]
    fn narrow_lists_run_as_wide_ones_do() {
        let racks = "[topology]\nhosts_per_rack = 20\n";
        for text in [
            poisson_run("[peers]\nupload_mbps = 64.0\nsource_samples = 3\n"),
            poisson_run("[peers]\nsource_choice = \"first-free\"\n"),
            // Rack locality's per-rack lists, on a data center's hosts.
            poisson_run(&format!("[peers]\nlocality = \"rack\"\n{racks}")),
        ] {
            let config = Config::parse(&text, Path::new("test.toml")).unwrap();
            let scenario = Scenario::build(&config).unwrap();
            for policy in config.resolved_policies() {
                // Lists wide from the start, narrow throughout, or
                // widened part way (past half the slots the run takes).
                let run = |wide: bool, narrow_max: PeerId| {
                    FORCE_WIDE.set(wide);
                    NARROW_MAX.set(narrow_max);
                    let out = scenario.run_policy(&policy, &mut |_| {});
                    FORCE_WIDE.set(false);
                    NARROW_MAX.set(PeerId::from(u16::MAX));
                    out.unwrap().output
                };
                let wide = run(true, PeerId::from(u16::MAX));
                let name = &policy.name;
                let slots = wide.counters.peer_slots as PeerId;
                assert!(slots >= 3, "{slots} slots: {name}");
                for narrow_max in [PeerId::from(u16::MAX), slots / 2] {
                    let narrow = run(false, narrow_max);
                    assert_eq!(narrow.vms, wide.vms, "{name}");
                    assert_eq!(narrow.ticks, wide.ticks, "{name}");
                    let mut counters = wide.counters.clone();
                    counters.wall_s = narrow.counters.wall_s;
                    assert_eq!(narrow.counters, counters, "{name}");
                    assert!(narrow.counters.holder_purges > 0, "no purge: {name}");
                }
            }
        }
    }
}
