//! Block choice: rarest first (or random, sequential) among candidate keys,
//! with uniform tie-breaks from the simulation's own random stream.

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use crate::input::config::PieceSelection;

use super::space::keys;

/// Block choice: the selection order, the simulation's random stream, and a
/// buffer for ties.
pub(super) struct Picker {
    pub(super) order: PieceSelection,
    pub(super) rng: Xoshiro256PlusPlus,
    pub(super) ties: Vec<u32>,
}

impl Picker {
    /// Pick a key among candidate bits by the selection order. With
    /// `need_holder`, keys nobody holds are skipped (peers cannot serve
    /// them). Ties (and `random`) are broken uniformly with one draw among
    /// the tied keys, collected in key order in one pass.
    pub(super) fn pick(
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

/// Candidate words with the `excluded` keys' bits cleared.
pub(super) fn excluding(
    candidates: impl Iterator<Item = (usize, u64)>,
    excluded: &[u32],
) -> impl Iterator<Item = (usize, u64)> {
    candidates.map(move |(w, mut bits)| {
        for &k in excluded {
            if k as usize / 64 == w {
                bits &= !(1u64 << (k % 64));
            }
        }
        (w, bits)
    })
}
