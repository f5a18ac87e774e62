//! Block choice: which blocks a request may ask for (the candidate words),
//! and the choice among them, rarest first (or random, sequential) with
//! uniform tie-breaks from the simulation's own random stream. The choice
//! itself is the rarity index's ([`super::rarity`]); [`Picker`] here is
//! its slow reference, a scan of every candidate key.

use crate::input::config::PieceSelection;

use super::rarity::Scope;
use super::state::PeerId;
use super::world::Sim;

impl Sim<'_> {
    /// Pick a block for leecher `p` among `self.candidates` (some of its
    /// unrequested blocks) by the selection order; with `need_holder`, only
    /// blocks some present peer holds.
    pub(super) fn pick_block(&mut self, p: PeerId, need_holder: bool) -> Option<u32> {
        let image = self.peers[p as usize].image as usize;
        self.pick_in(p, Scope::Image(image), need_holder, Among::Candidates)
    }

    /// [`Sim::pick_block`] when `self.candidates` are blocks of swarm chunk
    /// `chunk` alone (`set_chunk_candidates`): the same choice, but a
    /// rarest-first walk visits only the levels where the chunk has keys.
    pub(super) fn pick_block_in_chunk(&mut self, p: PeerId, chunk: u32) -> Option<u32> {
        let image = self.peers[p as usize].image as usize;
        self.pick_in(p, Scope::Chunk { chunk, image }, false, Among::Candidates)
    }

    /// [`Sim::pick_block`] among all of `p`'s unrequested blocks, read from
    /// its list in place: most choices exclude nothing, and copying the
    /// list into `self.candidates` cost about 3% of a run (docs/speed.md).
    pub(super) fn pick_unrequested(&mut self, p: PeerId, need_holder: bool) -> Option<u32> {
        #[cfg(test)]
        self.check_unrequested(p);
        let image = self.peers[p as usize].image as usize;
        self.pick_in(p, Scope::Image(image), need_holder, Among::Unrequested)
    }

    fn pick_in(&mut self, p: PeerId, scope: Scope, need_holder: bool, among: Among) -> Option<u32> {
        let candidates = match among {
            Among::Unrequested => self.holdings.unrequested(p),
            Among::Candidates => &self.candidates[..],
        };
        self.rarity.pick(
            self.order,
            scope,
            candidates,
            need_holder,
            self.rarity.floor_level(self.peers[p as usize].floor),
            &mut self.block_rng,
        )
    }

    /// `key` was picked rarest first among all of `p`'s unrequested blocks
    /// some peer holds: none of them is rarer, so its level is `p`'s floor.
    pub(super) fn note_rarest(&mut self, p: PeerId, key: u32) {
        if self.order == PieceSelection::Rarest {
            self.peers[p as usize].floor = self.rarity.floor_at(self.rarity.count(key));
        }
    }

    /// Candidates: the blocks of `p`'s image it neither holds nor has
    /// requested, except `excluded`; with `holder`, only those it holds.
    pub(super) fn set_candidates(&mut self, p: PeerId, holder: Option<PeerId>, excluded: &[u32]) {
        #[cfg(test)]
        self.check_unrequested(p);
        let unrequested = self.holdings.unrequested(p);
        match holder.map(|h| self.holdings.row(h)) {
            Some(served) => keep_nonzero(
                &mut self.candidates,
                unrequested
                    .iter()
                    .map(|&[w, bits]| (w as usize, bits & served.have(w as usize))),
            ),
            None => {
                self.candidates.clear();
                self.candidates.extend_from_slice(unrequested);
            }
        }
        if !excluded.is_empty() {
            for &k in excluded {
                let (w, bit) = (u64::from(k / 64), 1u64 << (k % 64));
                if let Some(c) = self.candidates.iter_mut().find(|c| c[0] == w) {
                    c[1] &= !bit;
                }
            }
            self.candidates.retain(|&[_, bits]| bits != 0);
        }
    }

    /// In the library's tests, at every choice: `p`'s list of unrequested
    /// words, kept as its bits change, is what its bits say.
    #[cfg(test)]
    fn check_unrequested(&self, p: PeerId) {
        let image = self.peers[p as usize].image;
        let slow = super::state::unrequested(&self.space, &self.holdings, p, image);
        let nonzero = slow.filter(|&(_, bits)| bits != 0);
        let expected: Vec<[u64; 2]> = nonzero.map(|(w, bits)| [w as u64, bits]).collect();
        assert_eq!(self.holdings.unrequested(p), &expected[..], "peer {p}");
        tests::CHECKS.set(tests::CHECKS.get() + 1);
    }

    /// Candidates: the blocks of swarm chunk `chunk` that `p` neither holds
    /// nor has requested.
    pub(super) fn set_chunk_candidates(&mut self, p: PeerId, chunk: u32) {
        let row = self.holdings.row(p);
        let chunk_keys = self.space.chunk_keys(chunk).iter();
        let lacking = chunk_keys.map(|&(w, keys)| (w, row.lacking(w, keys)));
        keep_nonzero(&mut self.candidates, lacking);
    }
}

/// The candidate words a block choice reads.
#[derive(Clone, Copy)]
enum Among {
    /// The leecher's list of unrequested words, in place.
    Unrequested,
    /// `Sim::candidates`, set just before the choice.
    Candidates,
}

/// Set `candidates` to the words of `words` with some bit set, in order.
fn keep_nonzero(candidates: &mut Vec<[u64; 2]>, words: impl Iterator<Item = (usize, u64)>) {
    candidates.clear();
    for (w, bits) in words {
        if bits != 0 {
            candidates.push([w as u64, bits]);
        }
    }
}

/// The slow reference of block choice, for tests of the rarity index.
#[cfg(test)]
pub(super) mod reference {
    use rand::RngExt;
    use rand::rngs::Xoshiro256PlusPlus;

    use crate::input::config::PieceSelection;
    use crate::sim::space::keys;

    /// The slow reference of block choice: the selection order, a random
    /// stream, and a buffer for ties.
    pub(in crate::sim) struct Picker {
        pub(in crate::sim) order: PieceSelection,
        pub(in crate::sim) rng: Xoshiro256PlusPlus,
        pub(in crate::sim) ties: Vec<u32>,
    }

    impl Picker {
        /// Pick a key among candidate bits by the selection order. With
        /// `need_holder`, keys nobody holds are skipped (peers cannot serve
        /// them). Ties (and `random`) are broken uniformly with one draw among
        /// the tied keys, collected in key order in one pass.
        pub(in crate::sim) fn pick(
            &mut self,
            count: &[u32],
            candidates: impl Iterator<Item = (usize, u64)>,
            need_holder: bool,
        ) -> Option<u32> {
            let held = |key: &u32| !need_holder || count[*key as usize] > 0;
            self.ties.clear();
            match self.order {
                PieceSelection::Sequential => return keys(candidates).find(held),
                PieceSelection::Random => self.ties.extend(keys(candidates).filter(held)),
                PieceSelection::Rarest => {
                    let mut rarest = u32::MAX;
                    for key in keys(candidates).filter(held) {
                        let c = count[key as usize];
                        if c < rarest {
                            rarest = c;
                            self.ties.clear();
                            self.ties.push(key);
                        } else if c == rarest {
                            self.ties.push(key);
                        }
                    }
                }
            }
            if self.ties.is_empty() {
                return None;
            }
            let pick = self.rng.random_range(0..self.ties.len());
            Some(self.ties[pick])
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::path::Path;

    use crate::input::config::Config;
    use crate::scenario::Scenario;

    thread_local! {
        /// Lists checked against their reference on this thread
        /// (`Sim::check_unrequested`), to show a run reached the check.
        pub(super) static CHECKS: Cell<u64> = const { Cell::new(0) };
    }

    /// Run every policy of `text`; each must reach the list check often,
    /// and with `purges`, purge departed holders (slots then get reused).
    fn run_checking_lists(text: &str, purges: bool) {
        let config = Config::parse(text, Path::new("test.toml")).unwrap();
        let scenario = Scenario::build(&config).unwrap();
        for policy in config.resolved_policies() {
            let before = CHECKS.get();
            let out = scenario.run_policy(&policy, &mut |_| {}).unwrap();
            let checks = CHECKS.get() - before;
            let name = &policy.name;
            assert!(out.output.completed > 0, "{name}: nothing completed");
            assert!(checks > 1_000, "{name}: {checks} list checks");
            let purged = out.output.counters.holder_purges;
            assert!(!purges || purged > 0, "{name}: no purge");
        }
    }

    /// The runs the library's other run tests do not make, where a list
    /// could drift from its bits: images of unequal sizes and chunks of
    /// unequal blocks (a manifest), arrivals drawn as the run goes and
    /// slots reused (`stream`), and a data center's racks with rack-first
    /// sources and a burst.
    #[test]
    fn lists_match_their_bits_on_manifests_streams_and_racks() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/oci/images.toml");
        let manifest = manifest.display();
        run_checking_lists(
            &format!(
                r#"
seed = 4
policies = ["iso", "cross-equ", "cross-prop", "cross-opt", "cross-opt-exact"]
[content]
kind = "manifest"
manifest = '{manifest}'
[workload]
rate_per_s = 1.0
window_s = 30.0
stream = true
lifetime_min_s = 2.0
lifetime_max_s = 4.0
[server]
u_s_mbps = 1024.0
[limits]
purge_stale_holders = 50
"#
            ),
            true,
        );
        run_checking_lists(
            r#"
seed = 5
policies = ["cross-equ", "cross-opt"]
[content]
images = 2
chunks_per_image = 3
blocks_per_chunk = 40
block_mb = 8.0
common_ratio = 0.5
[workload]
arrivals = "burst"
burst_count = 120
burst_spread_s = 1.0
lifetime_min_s = 5.0
lifetime_max_s = 5.0
[peers]
upload_mbps = 800.0
download_cap_mbps = 1200.0
locality = "rack"
[server]
u_s_mbps = 4000.0
[topology]
hosts_per_rack = 12
oversubscription = 4.0
"#,
            false,
        );
    }
}
