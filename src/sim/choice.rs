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
        self.pick_in(p, Scope::Image(image), need_holder)
    }

    /// [`Sim::pick_block`] when `self.candidates` are blocks of swarm chunk
    /// `chunk` alone (`set_chunk_candidates`): the same choice, but a
    /// rarest-first walk visits only the levels where the chunk has keys.
    pub(super) fn pick_block_in_chunk(&mut self, p: PeerId, chunk: u32) -> Option<u32> {
        let image = self.peers[p as usize].image as usize;
        self.pick_in(p, Scope::Chunk { chunk, image }, false)
    }

    fn pick_in(&mut self, p: PeerId, scope: Scope, need_holder: bool) -> Option<u32> {
        let peer = &self.peers[p as usize];
        self.rarity.pick(
            self.order,
            scope,
            &self.candidates,
            need_holder,
            self.rarity.floor_level(peer.floor),
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
        let unrequested = self.holdings.unrequested_words(p);
        match holder.map(|h| self.holdings.row(h)) {
            Some(served) => keep_nonzero(
                &mut self.candidates,
                unrequested.map(|(w, bits)| (w, bits & served.have(w))),
            ),
            None => {
                self.candidates.clear();
                self.candidates.extend(unrequested);
            }
        }
        if !excluded.is_empty() {
            for &k in excluded {
                let (w, bit) = (k as usize / 64, 1u64 << (k % 64));
                if let Some(c) = self.candidates.iter_mut().find(|c| c.0 == w) {
                    c.1 &= !bit;
                }
            }
            self.candidates.retain(|&(_, bits)| bits != 0);
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

/// Set `candidates` to the words of `words` with some bit set, in order.
fn keep_nonzero(candidates: &mut Vec<(usize, u64)>, words: impl Iterator<Item = (usize, u64)>) {
    candidates.clear();
    for (w, bits) in words {
        if bits != 0 {
            candidates.push((w, bits));
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
