//! A set of rarity levels (holder counts) where some group of keys (an
//! image's, or a swarm chunk's) has keys, with a summary of its non-zero
//! words, so that finding the next level with keys skips empty stretches
//! 64 words at a time. With many peers a group's keys sit on a few of up
//! to as many levels as peers (a 100,000-host crowd: 50 keys among 1,500
//! words of levels), and a plain scan read hundreds of words a choice.

use super::space::set_summarized;

/// Words of a level bitmap read in turn, looking for the next level with
/// keys, before the summary is used.
const LINEAR_WORDS: usize = 4;

/// Levels with keys of a group: a bitmap, and a bitmap of its non-zero
/// words.
#[derive(Debug, Clone)]
pub(super) struct LevelSet {
    bitmap: Vec<u64>,
    summary: Vec<u64>,
}

impl LevelSet {
    /// Level 0 only when `at_zero`, else empty; room for 64 levels.
    pub(super) fn at_zero(at_zero: bool) -> LevelSet {
        LevelSet {
            bitmap: vec![u64::from(at_zero)],
            summary: vec![u64::from(at_zero)],
        }
    }

    /// Add or remove `level`, which must be below the room made by
    /// [`LevelSet::grow`].
    pub(super) fn set(&mut self, level: usize, on: bool) {
        set_summarized(&mut self.bitmap, &mut self.summary, level, on);
    }

    /// Room for levels up to `to`.
    pub(super) fn grow(&mut self, to: usize) {
        let bitmap_words = to / 64 + 1;
        if self.bitmap.len() < bitmap_words {
            self.bitmap.resize(bitmap_words, 0);
            self.summary.resize(bitmap_words / 64 + 1, 0);
        }
    }

    /// The first level at or above `level` in the set: the next few words
    /// of the bitmap read in turn (all there is with few peers), then the
    /// summary.
    #[inline(always)]
    pub(super) fn next(&self, level: usize) -> Option<usize> {
        let mut w = level / 64;
        let mut bits = self.bitmap.get(w)? & (u64::MAX << (level % 64));
        let by_summary_from = w + LINEAR_WORDS;
        while bits == 0 {
            w += 1;
            if w == by_summary_from {
                return self.next_by_summary(w);
            }
            bits = *self.bitmap.get(w)?;
        }
        Some(w * 64 + bits.trailing_zeros() as usize)
    }

    /// The first level in word `w` of the bitmap or above, found through
    /// the summary.
    fn next_by_summary(&self, w: usize) -> Option<usize> {
        let mut s = w / 64;
        let mut words = self.summary.get(s)? & (u64::MAX << (w % 64));
        while words == 0 {
            s += 1;
            words = *self.summary.get(s)?;
        }
        let w = s * 64 + words.trailing_zeros() as usize;
        Some(w * 64 + self.bitmap[w].trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `next` finds what a scan of a plain set of levels finds, across
        /// sparse stretches that take the summary.
        #[test]
        fn next_agrees_with_a_scan(
            levels in prop::collection::btree_set(0usize..20_000, 0..40),
            removed in prop::collection::vec(0usize..40, 0..10),
            from in prop::collection::vec(0usize..20_100, 1..20),
        ) {
            let mut set = LevelSet::at_zero(false);
            set.grow(20_000);
            let mut plain: std::collections::BTreeSet<usize> = levels.clone();
            for &l in &levels {
                set.set(l, true);
            }
            let listed: Vec<usize> = levels.iter().copied().collect();
            for &i in &removed {
                if let Some(&l) = listed.get(i) {
                    set.set(l, false);
                    plain.remove(&l);
                }
            }
            for &f in &from {
                prop_assert_eq!(set.next(f), plain.range(f..).next().copied());
            }
        }
    }
}
