//! Source choice: which holder of a block serves a request (the model's
//! section on transfers). The least-loaded holder with a free upload slot,
//! so that with enough idle holders a leecher's peer download rate reaches
//! `max_downloads x u_c`; not the first free holder found, which piles
//! flows on some holders while others idle.
//!
//! Holder lists keep departed peers until a choice meets them (lazy
//! removal), so a departure costs nothing per key.

use rand::rngs::Xoshiro256PlusPlus;

use crate::input::config::SourceChoice;

use super::draw::below;
use super::holder_lists::{HolderLists, Slot};
use super::prefetch::prefetch;
use super::state::{PeerId, Uploader};
use super::world::Sim;

/// Extra holders a sampled choice probes, per sample, when every sampled
/// holder is busy: a cheap second look before the leecher waits to be
/// offered a slot.
const PROBE_PER_SAMPLE: usize = 2;

/// Lists from this size on have a sampled choice's entries prefetched
/// (`Choice::prefetch_draws`). A million-host crowd's lists are 4 MB each,
/// 200 MB in all, far beyond the shared cache, and every entry sampled is
/// a miss to memory: asked for together, the misses overlap (the crowd
/// ran 3% faster, docs/speed.md). Smaller lists (the 100,000-host crowd's
/// 200 KB) gained nothing from it when tried, and are left alone.
const PREFETCH_DRAWS_FROM_BYTES: usize = 1 << 20;

/// What a source choice found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// A holder with a free slot.
    Holder(PeerId),
    /// No holder has a free slot (every one was looked at).
    NoneFree,
    /// Every holder sampled and probed was busy: the holders of this block
    /// are saturated, and likely those of the leecher's other blocks too.
    Saturated,
}

impl Found {
    /// The holder, if one was found.
    pub(super) fn holder(self) -> Option<PeerId> {
        match self {
            Found::Holder(h) => Some(h),
            _ => None,
        }
    }
}

/// What a source choice needs besides the holder list.
pub(super) struct Choice<'a> {
    /// Per peer: uploads it can start now and whether it left; a small
    /// array apart from the peers, so sampling touches little memory.
    pub(super) uploaders: &'a [Uploader],
    /// The leecher asking (never its own source).
    pub(super) asker: PeerId,
    /// `upload_slots`.
    pub(super) slots: usize,
    /// `source_samples`.
    pub(super) samples: usize,
}

impl Choice<'_> {
    /// Uploads in progress at `h`, or `None` when it cannot serve now.
    fn load(&self, h: PeerId) -> Option<usize> {
        let free = self.uploaders[h as usize].free_slots() as usize;
        (h != self.asker && free > 0).then(|| self.slots - free)
    }

    /// Whether `h` left (its entry is then dropped from the list).
    fn gone(&self, h: PeerId) -> bool {
        self.uploaders[h as usize].gone()
    }

    /// The source among list `i` of `lists` by `rule`, and how many
    /// departed holders' entries the choice dropped from it.
    #[inline]
    pub(super) fn choose(
        &self,
        lists: &mut HolderLists,
        i: usize,
        rule: SourceChoice,
        rng: &mut Xoshiro256PlusPlus,
    ) -> (Found, usize) {
        match lists {
            HolderLists::Narrow(lists) => self.choose_in(&mut lists[i], rule, rng),
            HolderLists::Wide(lists) => self.choose_in(&mut lists[i], rule, rng),
        }
    }

    /// [`Choice::choose`] on a list of one width.
    #[inline(always)]
    fn choose_in<S: Slot>(
        &self,
        list: &mut Vec<S>,
        rule: SourceChoice,
        rng: &mut Xoshiro256PlusPlus,
    ) -> (Found, usize) {
        let before = list.len();
        let found = match rule {
            SourceChoice::LeastLoaded => self.least_loaded(list, rng),
            SourceChoice::FirstFree => self.first_free(list, rng),
        };
        (found, before - list.len())
    }

    /// The least-loaded holder with a free slot, random tie-break. Lists of
    /// at most `samples` holders are searched whole (an exact minimum);
    /// longer ones through `samples` uniform draws (power of d choices), and
    /// when all drawn holders are busy, through a probe of the next
    /// `PROBE_PER_SAMPLE x samples` holders from a random position.
    pub(super) fn least_loaded<S: Slot>(
        &self,
        list: &mut Vec<S>,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Found {
        if list.len() <= self.samples {
            return self.exact(list, rng).map_or(Found::NoneFree, Found::Holder);
        }
        if list.len() * std::mem::size_of::<S>() >= PREFETCH_DRAWS_FROM_BYTES {
            self.prefetch_draws(list, rng);
        }
        let mut best: Option<(usize, PeerId)> = None;
        for _ in 0..self.samples {
            if list.is_empty() {
                return Found::NoneFree;
            }
            let i = below(rng, list.len());
            let h = list[i].peer();
            if self.gone(h) {
                // The draw still counts as one of the `samples`
                // (docs/model.md, source choice).
                list.swap_remove(i);
                continue;
            }
            // Draws come in random order, so the first least-loaded one
            // drawn is uniform among the tied holders drawn; an idle one
            // cannot be beaten.
            if let Some(load) = self.load(h)
                && best.is_none_or(|(b, _)| load < b)
            {
                if load == 0 {
                    return Found::Holder(h);
                }
                best = Some((load, h));
            }
        }
        match best.map(|(_, h)| h).or_else(|| self.probe(list, rng)) {
            Some(h) => Found::Holder(h),
            None => Found::Saturated,
        }
    }

    /// Ask for the list entries the next `samples` draws will read. The
    /// draws are made on a copy of the stream, so the choice's own draws
    /// are unchanged; they name the entries the choice reads unless it
    /// drops a departed holder's entry first (then a hint is wasted, never
    /// a result changed). Out of line: most runs never call it.
    #[inline(never)]
    fn prefetch_draws<S: Slot>(&self, list: &[S], rng: &Xoshiro256PlusPlus) {
        let mut ahead = rng.clone();
        for _ in 0..self.samples {
            prefetch(&list[below(&mut ahead, list.len())]);
        }
    }

    /// Every holder in `list`, least loaded first among those with a free
    /// slot; ties broken uniformly (reservoir sampling over the tied ones).
    fn exact<S: Slot>(&self, list: &mut Vec<S>, rng: &mut Xoshiro256PlusPlus) -> Option<PeerId> {
        let mut best: Option<(usize, PeerId)> = None;
        let mut ties = 0u32;
        let mut i = 0;
        while i < list.len() {
            let h = list[i].peer();
            if self.gone(h) {
                list.swap_remove(i);
                continue;
            }
            i += 1;
            let Some(load) = self.load(h) else {
                continue;
            };
            match best {
                Some((b, _)) if load > b => {}
                Some((b, _)) if load == b => {
                    ties += 1;
                    if below(rng, ties as usize) == 0 {
                        best = Some((load, h));
                    }
                }
                _ => {
                    best = Some((load, h));
                    ties = 1;
                }
            }
        }
        best.map(|(_, h)| h)
    }

    /// The least-loaded free holder among a window of the list from a
    /// random position.
    fn probe<S: Slot>(&self, list: &mut Vec<S>, rng: &mut Xoshiro256PlusPlus) -> Option<PeerId> {
        let mut best: Option<(usize, PeerId)> = None;
        let window = (PROBE_PER_SAMPLE * self.samples).min(list.len());
        self.walk(list, rng, Some(window), |h, load| {
            if best.is_none_or(|(b, _)| load < b) {
                best = Some((load, h));
            }
            load == 0
        });
        best.map(|(_, h)| h)
    }

    /// The first holder with a free slot from a random position (the early
    /// rule, `source_choice = "first-free"`).
    pub(super) fn first_free<S: Slot>(
        &self,
        list: &mut Vec<S>,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Found {
        let mut found = Found::NoneFree;
        self.walk(list, rng, None, |h, _| {
            found = Found::Holder(h);
            true
        });
        found
    }

    /// Visit `limit` present holders (or, without one, as many as the list
    /// holds as it shrinks) in list order from a random position, wrapping
    /// around, dropping departed ones; `visit` sees each free one with its
    /// load and returns whether to stop.
    fn walk<S: Slot>(
        &self,
        list: &mut Vec<S>,
        rng: &mut Xoshiro256PlusPlus,
        limit: Option<usize>,
        mut visit: impl FnMut(PeerId, usize) -> bool,
    ) {
        if list.is_empty() {
            return;
        }
        let mut i = below(rng, list.len());
        let mut checked = 0;
        while !list.is_empty() && checked < limit.unwrap_or(list.len()) {
            if i >= list.len() {
                i = 0;
            }
            let h = list[i].peer();
            if self.gone(h) {
                list.swap_remove(i);
                continue;
            }
            if let Some(load) = self.load(h)
                && visit(h, load)
            {
                return;
            }
            i += 1;
            checked += 1;
        }
    }
}

impl Sim<'_> {
    /// A peer departed: purge the lists that keep departed peers (holders,
    /// waiting queues) when due, and then let later arrivals take the slots
    /// of the peers purged (`Sim::reuses_slots`).
    ///
    /// Lazy removal alone leaves a long run's holder lists mostly departed
    /// peers (a list drops only the entries its choices meet), so memory
    /// would follow every peer that ever held a block rather than those
    /// present. A purge is due once more than `limits.purge_stale_holders`
    /// entries name departed peers and they outnumber the present holders'
    /// entries; or, so that a streamed run's slots are reused whatever its
    /// image size, once more than `limits.purge_departed_peers` peers
    /// departed since the last purge and more than are present. This
    /// depends only on the simulation's state, so a streamed run and a
    /// kept one purge alike, and a purged slot is named by no list when it
    /// is reused.
    pub(super) fn after_departure(&mut self, p: PeerId) {
        self.departed_since_purge += 1;
        if self.reuses_slots() {
            self.departed.push(p);
        }
        let limits = self.setup.limits;
        let live = self.holder_entries.saturating_sub(self.stale_holders);
        let stale = self.stale_holders > limits.purge_stale_holders() && self.stale_holders > live;
        let departed = self.departed_since_purge > limits.purge_departed_peers()
            && self.departed_since_purge > self.present_peers;
        if stale || departed {
            self.purge_departed();
        }
    }

    /// Drop every departed peer from the holder lists (order kept) and the
    /// waiting queues; their slots become free.
    fn purge_departed(&mut self) {
        let uploaders = &self.uploaders;
        let gone = |h: PeerId| uploaders[h as usize].gone();
        self.holders.retain(|h| !gone(h));
        self.by_rack.retain(|h| !gone(h));
        // A departed peer's waiting entries would be skipped when met.
        self.waiting.purge(|h| gone(*h));
        self.holder_entries = self.holders.entries();
        self.stale_holders = 0;
        self.departed_since_purge = 0;
        self.free_peers.append(&mut self.departed);
        self.counters.holder_purges += 1;
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    use super::*;

    /// On a list long enough for its draws to be prefetched, a sampled
    /// choice is still the least loaded of its `samples` draws (the first
    /// idle one ends it), and it leaves the random stream where those
    /// draws alone would.
    #[test]
    fn prefetching_a_long_lists_draws_changes_no_choice() {
        let n = PREFETCH_DRAWS_FROM_BYTES / std::mem::size_of::<u32>() + 1000;
        // Free slots 1 to 4 of 4, so every holder can serve, at loads 3 to 0.
        let uploaders: Vec<Uploader> = (0..n).map(|p| Uploader::new(1 + (p % 4) as u32)).collect();
        let choice = Choice {
            uploaders: &uploaders,
            asker: PeerId::MAX,
            slots: 4,
            samples: 8,
        };
        for seed in 0..20 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut reference = rng.clone();
            let mut list: Vec<u32> = (0..n as u32).collect();
            let found = choice.least_loaded(&mut list, &mut rng);
            let mut best: Option<(usize, PeerId)> = None;
            for _ in 0..choice.samples {
                let h = below(&mut reference, n) as PeerId;
                let load = 3 - h as usize % 4;
                if best.is_none_or(|(b, _)| load < b) {
                    best = Some((load, h));
                }
                if load == 0 {
                    break;
                }
            }
            assert_eq!(found, Found::Holder(best.unwrap().1), "seed {seed}");
            assert_eq!(
                rng.random::<u64>(),
                reference.random::<u64>(),
                "seed {seed}"
            );
        }
    }
}
