//! Rarest-first block choice without rescanning a leecher's missing blocks
//! (the fast model; `choice::reference::Picker` is its slow reference, and a
//! property test checks that both pick the same key from the same draws).
//!
//! Keys are bucketed by their holder count: one bitset of the whole block
//! space per *rarity level* (count). A holder arriving or leaving moves a
//! key to the next level up or down in O(1). Each swarm chunk keeps how
//! many of its keys sit at each level, each image how many of its chunks
//! have keys at each level, and a bitmap of the levels where it has any,
//! so a query visits only the levels its image occupies, from the rarest
//! up, and at each ANDs the level with the leecher's candidate words (a
//! handful of words, fewer as the download proceeds) until one is non-empty.
//! Ties are broken with one draw among the tied keys in key order, exactly
//! as the reference does.

use super::draw::below;
use rand::rngs::Xoshiro256PlusPlus;

use crate::input::config::PieceSelection;

use super::levels::LevelSet;
use super::space::Space;

/// The keys a choice is among: those of an image, or of one swarm chunk.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope {
    Image(usize),
    /// A swarm chunk of the image: its levels are walked when kept (see
    /// [`Rarity::new`]), else the image's, a superset.
    Chunk {
        chunk: u32,
        image: usize,
    },
}

/// Holder counts per key, bucketed by level.
pub(super) struct Rarity {
    /// Words of the block space's bitsets.
    words: usize,
    /// Present holders per key.
    count: Vec<u32>,
    /// Level `c`'s bitset is `levels[c * words .. (c + 1) * words]`.
    levels: Vec<u64>,
    /// Per swarm chunk (the chunk of a key): the images that hold it.
    chunk_images: Vec<Vec<u32>>,
    /// The swarm chunk of each key.
    key_chunk: Vec<u32>,
    /// Swarm chunks of the space.
    chunks: usize,
    /// Images of the space.
    images: usize,
    /// Whether images count their chunks rather than their keys (see
    /// `image_population`).
    by_chunk: bool,
    /// Per level and swarm chunk (`chunk_population[level * chunks +
    /// chunk]`): the chunk's keys at that level, when images count by
    /// chunk. A key's move changes two of these and, only when one empties
    /// or fills, the counts of the images that hold the chunk (a common
    /// chunk is in many images, and a chunk's keys sit on a few levels, so
    /// this is the rare case).
    chunk_population: Vec<u32>,
    /// Per level and image (`image_population[level * images + image]`):
    /// the image's chunks with keys at that level when images count by
    /// chunk (always when some chunk is in more than one image, or chunk
    /// levels are kept), else its keys there (one update a move, no chunk
    /// counts): not 0 exactly when the image has keys at that level.
    image_population: Vec<u32>,
    /// Per image: the levels where it has keys.
    image_levels: Vec<LevelSet>,
    /// Per swarm chunk, when kept: the levels where it has keys (a choice
    /// among one chunk's blocks, the server's under chunk groups, walks
    /// these).
    chunk_levels: Option<Vec<LevelSet>>,
    /// Decrements and first holders so far: a leecher's [`Floor`] holds
    /// while neither happens.
    lowered: u64,
}

/// A lower bound of the rarest level among a leecher's unrequested blocks
/// that some peer holds, so that its next choices start their walk there
/// rather than at its image's lowest level (on the paper's default under
/// the cross policies a choice walked 6 to 9 levels, mostly of blocks the
/// leecher already had). It is set by a choice among all the leecher's
/// unrequested blocks, and every later choice is among a subset of those.
/// It holds while held keys' counts only rise: a decrement anywhere, or a
/// key's first holder (a key from level 0, which rises through the levels
/// below the floor), voids every floor; both are rare next to block
/// transfers. A block returning to the leecher's unrequested ones (a flow
/// cut off) resets its floor.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Floor {
    level: u32,
    lowered: u64,
}

impl Rarity {
    /// Every key at level 0 (no holder); with `chunk_levels`, the levels of
    /// each swarm chunk kept too (for choices of scope [`Scope::Chunk`]).
    pub(super) fn new(space: &Space, chunk_levels: bool) -> Rarity {
        let words = space.words;
        let n_keys = space.key_chunk.len();
        let mut levels = vec![0u64; words];
        for k in 0..n_keys {
            levels[k / 64] |= 1 << (k % 64);
        }
        let mut chunk_images = vec![Vec::new(); space.chunk_first.len()];
        for (i, chunks) in space.image_chunks.iter().enumerate() {
            for &c in chunks {
                chunk_images[c as usize].push(i as u32);
            }
        }
        // Counting chunks pays when a chunk's keys share a level with others
        // of its chunk, so that its counts seldom empty or fill: measured,
        // the paper's default (64 keys a chunk) runs 2-3% faster by chunk
        // even with every chunk in one image, and a flash crowd (5 keys a
        // chunk, spread over thousands of levels) 4% faster by key.
        let many_keys_a_chunk = n_keys >= 16 * space.chunk_first.len();
        let shared = chunk_images.iter().any(|images| images.len() > 1);
        let by_chunk = chunk_levels || shared || many_keys_a_chunk;
        let chunk_population: Vec<u32> = (0..space.chunk_first.len() as u32)
            .map(|c| {
                let (first, end) = space.chunk_range(c);
                end - first
            })
            .collect();
        let image_population: Vec<u32> = space
            .image_chunks
            .iter()
            .map(|chunks| {
                let of_chunk = |&c: &u32| {
                    let keys = chunk_population[c as usize];
                    if by_chunk { u32::from(keys > 0) } else { keys }
                };
                chunks.iter().map(of_chunk).sum()
            })
            .collect();
        let image_levels = image_population
            .iter()
            .map(|&n| LevelSet::at_zero(n > 0))
            .collect();
        let chunk_levels = chunk_levels.then(|| {
            let at_zero = |&n: &u32| LevelSet::at_zero(n > 0);
            chunk_population.iter().map(at_zero).collect()
        });
        Rarity {
            words,
            count: vec![0; n_keys],
            levels,
            chunk_images,
            key_chunk: space.key_chunk.clone(),
            chunks: chunk_population.len(),
            by_chunk,
            images: space.image_blocks.len(),
            chunk_population,
            image_population,
            image_levels,
            chunk_levels,
            lowered: 0,
        }
    }

    /// Present holders of `key`.
    pub(super) fn count(&self, key: u32) -> u32 {
        self.count[key as usize]
    }

    /// The holder counts of every key, for the reference picker.
    #[cfg(test)]
    pub(super) fn counts(&self) -> &[u32] {
        &self.count
    }

    /// Keys nobody holds, as the words of a bitset of the block space.
    pub(super) fn unheld_word(&self, w: usize) -> u64 {
        self.levels[w]
    }

    /// A holder of `key` arrived.
    ///
    /// Forced inline into its callers (a delivery's, once a block), with
    /// `relevel` reading its fields before its stores: 1,793 -> 1,775
    /// instructions a block on cross-equ's paper default, 2,140 -> 2,124
    /// on cross-opt's, 3,470 -> 3,455 on the 1k crowd
    /// (`scripts/icount.sh --quick`). The inlining alone cost the crowd
    /// 0.3%; the early reads alone changed nothing.
    #[inline(always)]
    pub(super) fn increment(&mut self, key: u32) {
        let c = self.count[key as usize];
        if c == 0 {
            // A first holder: the key now sits among the held ones, at
            // level 1, perhaps below a leecher's floor.
            self.lowered += 1;
        }
        self.relevel(key, c, c + 1);
    }

    /// A holder of every key of `words` (`(word index, bits)`) left: a
    /// departing peer's image. [`Rarity::decrement`] of each key, in key
    /// order. Returns how many keys that is. The keys are walked here
    /// rather than through `space::keys`, whose iterator made a whole run
    /// of the paper's default 0.4% dearer (callgrind, cross-equ and
    /// cross-opt).
    pub(super) fn decrement_all(&mut self, words: impl Iterator<Item = (usize, u64)>) -> usize {
        let mut n = 0;
        for (w, mut bits) in words {
            n += bits.count_ones() as usize;
            while bits != 0 {
                let key = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                self.decrement(key);
            }
        }
        n
    }

    /// A holder of `key` left.
    #[inline(always)]
    pub(super) fn decrement(&mut self, key: u32) {
        let c = self.count[key as usize];
        debug_assert!(c > 0, "a key's count went below zero");
        self.lowered += 1;
        self.relevel(key, c, c.saturating_sub(1));
    }

    /// A floor at `level`: no candidate of the leecher's held by a peer
    /// sits below it now.
    pub(super) fn floor_at(&self, level: u32) -> Floor {
        Floor {
            level,
            lowered: self.lowered,
        }
    }

    /// The level `floor` still bounds, or 0 once a held key's count fell or
    /// a key got its first holder.
    pub(super) fn floor_level(&self, floor: Floor) -> usize {
        if floor.lowered == self.lowered {
            floor.level as usize
        } else {
            0
        }
    }

    /// Forced inline: called at every delivery and, per block held, at
    /// every departure (1.1 million times on the paper's default), a
    /// call's register saves were a fifth of it, and inlined into
    /// `increment` and `decrement` the step of one level is known (1.0-1.4%
    /// fewer instructions a block on the paper's default; LLVM declined a
    /// plain `#[inline]`).
    #[inline(always)]
    fn relevel(&mut self, key: u32, from: u32, to: u32) {
        let (from, to) = (from as usize, to as usize);
        self.count[key as usize] = to as u32;
        // Fields read before the stores below, which LLVM cannot tell apart
        // from them (it reloaded each after every store).
        let (words, chunks) = (self.words, self.chunks);
        let c = self.key_chunk[key as usize] as usize;
        if (to + 1) * words > self.levels.len() {
            self.grow(to);
        }
        let (w, bit) = (key as usize / 64, 1u64 << (key % 64));
        self.levels[from * words + w] &= !bit;
        self.levels[to * words + w] |= bit;
        if !self.by_chunk {
            // Each chunk is in one image, which counts its keys.
            if let Some(&i) = self.chunk_images[c].first() {
                self.image_count(i as usize, from, false);
                self.image_count(i as usize, to, true);
            }
        } else {
            let left = &mut self.chunk_population[from * chunks + c];
            *left -= 1;
            if *left == 0 {
                self.chunk_level_changed(c, from, false);
            }
            let arrived = &mut self.chunk_population[to * chunks + c];
            *arrived += 1;
            if *arrived == 1 {
                self.chunk_level_changed(c, to, true);
            }
        }
    }

    /// One more (`up`) or one less in image `i`'s count at `level`; its
    /// levels change only when the count leaves or reaches 0.
    fn image_count(&mut self, i: usize, level: usize, up: bool) {
        let at = &mut self.image_population[level * self.images + i];
        let was_empty = *at == 0;
        if up {
            *at += 1;
        } else {
            *at -= 1;
        }
        if was_empty != (*at == 0) {
            self.image_levels[i].set(level, up);
        }
    }

    /// Swarm chunk `c`'s keys left `level` (or, `filled`, arrived at it
    /// while none were there): its levels change, and each image holding
    /// it counts one chunk fewer (more) there.
    fn chunk_level_changed(&mut self, c: usize, level: usize, filled: bool) {
        if let Some(chunk_levels) = &mut self.chunk_levels {
            chunk_levels[c].set(level, filled);
        }
        for j in 0..self.chunk_images[c].len() {
            let i = self.chunk_images[c][j] as usize;
            self.image_count(i, level, filled);
        }
    }

    /// Room for levels up to `to` (every image's and chunk's included).
    #[cold]
    #[inline(never)]
    fn grow(&mut self, to: usize) {
        self.levels.resize((to + 1) * self.words, 0);
        if self.by_chunk {
            self.chunk_population.resize((to + 1) * self.chunks, 0);
        }
        self.image_population.resize((to + 1) * self.images, 0);
        let chunk_levels = self.chunk_levels.iter_mut().flatten();
        for set in self.image_levels.iter_mut().chain(chunk_levels) {
            set.grow(to);
        }
    }

    /// Pick a key of `scope` among `candidates` (non-zero words `[word
    /// index, bits]`, in increasing word order, all keys of `scope`) by the
    /// selection order; with `need_holder`, keys nobody holds are skipped.
    /// No candidate that some peer holds sits below `floor` (a [`Floor`]'s
    /// level, or 0). Same result and draws as the reference
    /// `choice::reference::Picker::pick`.
    pub(super) fn pick(
        &self,
        order: PieceSelection,
        scope: Scope,
        candidates: &[[u64; 2]],
        need_holder: bool,
        floor: usize,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Option<u32> {
        let held = |w: usize, bits: u64| {
            if need_holder {
                bits & !self.levels[w]
            } else {
                bits
            }
        };
        match order {
            PieceSelection::Sequential => candidates.iter().find_map(|&[w, bits]| {
                let b = held(w as usize, bits);
                (b != 0).then(|| (w * 64) as u32 + b.trailing_zeros())
            }),
            PieceSelection::Random => {
                let words = candidates
                    .iter()
                    .map(|&[w, b]| (w as usize, held(w as usize, b)));
                draw(words, rng)
            }
            PieceSelection::Rarest => {
                if at_most_keys(candidates, DIRECT_SCAN_KEYS) {
                    return self.rarest_by_scan(candidates, need_holder, rng);
                }
                // Only levels where the scope has keys can hold a candidate.
                let levels = match scope {
                    Scope::Image(i) => &self.image_levels[i],
                    Scope::Chunk { chunk, image } => match &self.chunk_levels {
                        Some(chunk_levels) => &chunk_levels[chunk as usize],
                        None => &self.image_levels[image],
                    },
                };
                // Level 0 (keys nobody holds) is not bounded by `floor`.
                let mut level = levels.next(usize::from(need_holder))?;
                if level > 0 && level < floor {
                    level = levels.next(floor)?;
                }
                loop {
                    let at = &self.levels[level * self.words..(level + 1) * self.words];
                    let tied = candidates
                        .iter()
                        .map(|&[w, bits]| (w as usize, bits & at[w as usize]));
                    // One pass counts the tied keys (none at most levels
                    // visited); a second, only where some are, finds the
                    // one drawn.
                    let total = tied.clone().map(|(_, b)| b.count_ones() as usize).sum();
                    if total > 0 {
                        return draw_among(tied, total, rng);
                    }
                    level = levels.next(floor.max(level + 1))?;
                }
            }
        }
    }
}

impl Rarity {
    /// Rarest first by reading each candidate key's count: cheaper than
    /// visiting levels when the candidates are few (late in a download, or
    /// one chunk's blocks; at most `DIRECT_SCAN_KEYS`), and the same choice
    /// and draw. The keys tied at the rarest count so far are kept in key
    /// order, so the draw takes one rather than scanning again (cross-opt
    /// scans 350,000 times a run of the paper's default, and took 0.4%
    /// fewer instructions a run so).
    fn rarest_by_scan(
        &self,
        candidates: &[[u64; 2]],
        need_holder: bool,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Option<u32> {
        let floor = u32::from(need_holder);
        let mut rarest = u32::MAX;
        let mut tied = [0u32; DIRECT_SCAN_KEYS as usize];
        let mut ties = 0usize;
        // Not through `candidate_keys`: that way cross-opt's run of the
        // paper's default took 0.2% more instructions.
        for &[w, mut bits] in candidates {
            while bits != 0 {
                let key = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                let c = self.count[key as usize];
                if c < floor || c > rarest {
                    continue;
                }
                if c < rarest {
                    rarest = c;
                    ties = 0;
                }
                tied[ties] = key;
                ties += 1;
            }
        }
        if ties == 0 {
            return None;
        }
        Some(tied[below(rng, ties)])
    }
}

/// Below this many candidate keys, block choice reads their counts
/// directly instead of visiting levels.
const DIRECT_SCAN_KEYS: u32 = 16;

/// Whether the candidate words hold at most `n` keys: counted until they
/// are more, which early in a download the first word alone is.
fn at_most_keys(candidates: &[[u64; 2]], n: u32) -> bool {
    let mut keys = 0;
    for &[_, bits] in candidates {
        keys += bits.count_ones();
        if keys > n {
            return false;
        }
    }
    true
}

/// The keys of candidate words, in key order.
#[cfg(test)]
fn candidate_keys(candidates: &[[u64; 2]]) -> impl Iterator<Item = u32> + '_ {
    candidates.iter().flat_map(|&[w, mut bits]| {
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let key = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                key
            })
        })
    })
}

/// One uniform draw among the keys of candidate words, in key order; none
/// (and no draw) when there are none.
fn draw(
    candidates: impl Iterator<Item = (usize, u64)> + Clone,
    rng: &mut Xoshiro256PlusPlus,
) -> Option<u32> {
    let total: usize = candidates
        .clone()
        .map(|(_, b)| b.count_ones() as usize)
        .sum();
    if total == 0 {
        return None;
    }
    draw_among(candidates, total, rng)
}

/// One uniform draw among the `total` (> 0) keys of candidate words, in
/// key order.
fn draw_among(
    candidates: impl Iterator<Item = (usize, u64)>,
    total: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Option<u32> {
    let mut r = below(rng, total);
    for (w, bits) in candidates {
        let n = bits.count_ones() as usize;
        if r >= n {
            r -= n;
            continue;
        }
        return Some((w * 64) as u32 + select_bit(bits, r as u32));
    }
    None
}

/// The position of the `r`-th set bit (from 0) of `bits`, which has more
/// than `r`, without a branch on the data (a choice's tie-break; a loop
/// over the bytes mispredicted its exit): the bytes' running bit counts
/// side by side in one word, how many of them are at most `r` (the byte
/// that holds the bit), then a table for the bit within that byte.
fn select_bit(bits: u64, r: u32) -> u32 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut counts = bits - ((bits >> 1) & 0x5555_5555_5555_5555);
    counts = (counts & 0x3333_3333_3333_3333) + ((counts >> 2) & 0x3333_3333_3333_3333);
    counts = (counts + (counts >> 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    // Byte i: the set bits of bytes 0..=i (at most 64, so no byte carries).
    let running = counts.wrapping_mul(ONES);
    // A byte's high bit survives where its running count is at most r.
    let at_most_r = ((u64::from(r) * ONES) | HIGHS).wrapping_sub(running) & HIGHS;
    let byte = at_most_r.count_ones();
    // The set bits before that byte: byte `byte - 1` of `running`, or 0.
    let before = ((running << 8) >> (8 * byte)) as u8;
    let in_byte = (bits >> (8 * byte)) as u8;
    8 * byte + u32::from(SELECT_IN_BYTE[usize::from(in_byte)][usize::from(r as u8 - before)])
}

/// `SELECT_IN_BYTE[b][r]`: the position of the `r`-th set bit of byte `b`.
const SELECT_IN_BYTE: [[u8; 8]; 256] = {
    let mut table = [[0u8; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let (mut bit, mut r) = (0, 0);
        while bit < 8 {
            if b & (1 << bit) != 0 {
                table[b][r] = bit as u8;
                r += 1;
            }
            bit += 1;
        }
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;

    use super::super::choice::reference::Picker;
    use super::*;
    use crate::input::config::{ContentConfig, ContentKind, SwarmModel};
    use crate::input::content::Content;
    use crate::sim::space::range_mask;

    fn space(model: SwarmModel, seed: u64) -> Space {
        space_of(model, seed, 40)
    }

    /// A small pool of 3 images of 4 chunks of `blocks_per_chunk` blocks.
    fn space_of(model: SwarmModel, seed: u64, blocks_per_chunk: u32) -> Space {
        let config = ContentConfig {
            kind: ContentKind::Pool,
            images: 3,
            chunks_per_image: 4,
            blocks_per_chunk,
            common_ratio: 0.5,
            ..ContentConfig::default()
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let content = Content::generate(&config, &mut rng).expect("valid content");
        Space::new(&content, model)
    }

    #[test]
    fn select_bit_finds_the_rth_set_bit() {
        let bits = 0b1011_0000_0000_0001_0100u64 | (1 << 63);
        let positions: Vec<u32> = (0..bits.count_ones())
            .map(|r| select_bit(bits, r))
            .collect();
        assert_eq!(positions, [2, 4, 16, 17, 19, 63]);
    }

    proptest! {
        /// Against clearing the lowest set bit `r` times.
        #[test]
        fn select_bit_agrees_with_clearing_bits(bits in 1u64.., pick in any::<u32>()) {
            let r = pick % bits.count_ones();
            let mut rest = bits;
            for _ in 0..r {
                rest &= rest - 1;
            }
            prop_assert_eq!(select_bit(bits, r), rest.trailing_zeros());
        }
    }

    /// The keys of `image` masked by `mask(position in the image's words,
    /// word)`, as candidate words.
    fn candidates_of(
        space: &Space,
        image: usize,
        mask: impl Fn(usize, usize) -> u64,
    ) -> Vec<[u64; 2]> {
        space
            .image_keys(image)
            .enumerate()
            .map(|(i, (w, bits))| [w as u64, bits & mask(i, w)])
            .filter(|&[_, b]| b != 0)
            .collect()
    }

    #[test]
    fn decrement_all_is_each_key_decremented() {
        for model in [SwarmModel::Cross, SwarmModel::Isolated] {
            let space = space(model, 7);
            let (mut batch, mut single) = (Rarity::new(&space, true), Rarity::new(&space, true));
            for rarity in [&mut batch, &mut single] {
                for image in [0, 0, 1, 2] {
                    for key in candidate_keys(&candidates_of(&space, image, |_, _| u64::MAX)) {
                        rarity.increment(key);
                    }
                }
            }
            let keys: Vec<u32> =
                candidate_keys(&candidates_of(&space, 0, |_, _| u64::MAX)).collect();
            assert_eq!(batch.decrement_all(space.image_keys(0)), keys.len());
            for &key in &keys {
                single.decrement(key);
            }
            assert_eq!(batch.count, single.count);
            assert_eq!(batch.levels, single.levels);
            assert_eq!(batch.chunk_population, single.chunk_population);
            assert_eq!(batch.image_population, single.image_population);
            assert_eq!(batch.lowered, single.lowered);
        }
    }

    /// Candidate words as the reference takes them, `(word index, bits)`.
    fn as_pairs(candidates: &[[u64; 2]]) -> impl Iterator<Item = (usize, u64)> + '_ {
        candidates.iter().map(|&[w, bits]| (w as usize, bits))
    }

    /// Apply `changes` (key, up) to `rarity`: up, or down when the key has
    /// holders.
    fn apply(rarity: &mut Rarity, n_keys: u32, changes: &[(u32, bool)]) {
        for &(k, up) in changes {
            let key = k % n_keys;
            if up || rarity.count(key) == 0 {
                rarity.increment(key);
            } else {
                rarity.decrement(key);
            }
        }
    }

    /// The index and the reference scan pick the same key with the same
    /// draws, for every image, order and `need_holder`, among the image's
    /// keys masked by `mask(position in the image's words, word)`, given
    /// `floor(image)`.
    fn agrees_with_the_reference(
        space: &Space,
        rarity: &Rarity,
        mask: impl Fn(usize, usize) -> u64,
        floor: impl Fn(usize) -> usize,
        seed: u64,
    ) -> Result<(), TestCaseError> {
        for image in 0..space.image_chunks.len() {
            let candidates = candidates_of(space, image, &mask);
            let floor = floor(image);
            for order in [
                PieceSelection::Rarest,
                PieceSelection::Random,
                PieceSelection::Sequential,
            ] {
                for need_holder in [false, true] {
                    let mut reference = Picker {
                        order,
                        rng: Xoshiro256PlusPlus::seed_from_u64(seed),
                        ties: Vec::new(),
                    };
                    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                    let slow = reference.pick(rarity.counts(), as_pairs(&candidates), need_holder);
                    let scope = Scope::Image(image);
                    let fast = rarity.pick(order, scope, &candidates, need_holder, floor, &mut rng);
                    prop_assert_eq!(slow, fast);
                    prop_assert_eq!(reference.rng, rng, "different draws");
                }
            }
            // A choice among one chunk's keys walks the chunk's levels.
            for &chunk in &space.image_chunks[image] {
                let (first, end) = space.chunk_range(chunk);
                let in_chunk: Vec<[u64; 2]> = candidates
                    .iter()
                    .map(|&[w, bits]| [w, bits & range_mask(w as usize, first, end)])
                    .filter(|&[_, bits]| bits != 0)
                    .collect();
                let mut reference = Picker {
                    order: PieceSelection::Rarest,
                    rng: Xoshiro256PlusPlus::seed_from_u64(seed),
                    ties: Vec::new(),
                };
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let slow = reference.pick(rarity.counts(), as_pairs(&in_chunk), false);
                let (order, scope) = (PieceSelection::Rarest, Scope::Chunk { chunk, image });
                let fast = rarity.pick(order, scope, &in_chunk, false, floor, &mut rng);
                prop_assert_eq!(slow, fast, "chunk {}", chunk);
                prop_assert_eq!(reference.rng, rng, "different draws");
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The index and the reference scan pick the same key with the same
        /// draws, for every order, after any sequence of count changes.
        #[test]
        fn index_agrees_with_the_reference_scan(
            seed in 0u64..1000,
            isolated in any::<bool>(),
            chunk_levels in any::<bool>(),
            blocks_per_chunk in prop_oneof![Just(8u32), Just(40)],
            changes in prop::collection::vec((0u32..10_000, any::<bool>()), 0..400),
            masks in prop::collection::vec(any::<u64>(), 1..8),
        ) {
            // Isolated images of small chunks without chunk levels count
            // keys; the rest count chunks (see `image_population`).
            let model = if isolated { SwarmModel::Isolated } else { SwarmModel::Cross };
            let space = space_of(model, seed, blocks_per_chunk);
            let mut rarity = Rarity::new(&space, chunk_levels);
            let n_keys = space.key_chunk.len() as u32;
            apply(&mut rarity, n_keys, &changes);
            let mask = |i: usize, _| masks[i % masks.len()];
            agrees_with_the_reference(&space, &rarity, mask, |_| 0, seed)?;
        }

        /// A floor set at the rarest level among the candidates some peer
        /// holds stays a bound while held keys' counts only rise, and the
        /// choice from it is the reference's; a first holder or a
        /// decrement voids it.
        #[test]
        fn a_floor_keeps_the_reference_choice_while_counts_rise(
            seed in 0u64..1000,
            counts in prop::collection::vec(prop_oneof![Just(0u32), 2u32..8], 1..64),
            rises in prop::collection::vec(0u32..10_000, 0..200),
            masks in prop::collection::vec(any::<u64>(), 1..8),
        ) {
            let space = space(SwarmModel::Cross, seed);
            let mut rarity = Rarity::new(&space, true);
            let n_keys = space.key_chunk.len() as u32;
            // Keys unheld or held by a few: floors of 2 and more, and keys
            // that get a first holder below them.
            for key in 0..n_keys {
                for _ in 0..counts[key as usize % counts.len()] {
                    rarity.increment(key);
                }
            }
            let mask = |i: usize, _| masks[i % masks.len()];
            let rarest_held = |rarity: &Rarity, image: usize| {
                candidate_keys(&candidates_of(&space, image, mask))
                    .map(|k| rarity.count(k))
                    .filter(|&c| c > 0)
                    .min()
                    .unwrap_or(0)
            };
            let floors: Vec<Floor> = (0..space.image_chunks.len())
                .map(|image| rarity.floor_at(rarest_held(&rarity, image)))
                .collect();
            for k in rises {
                if rarity.count(k % n_keys) > 0 {
                    rarity.increment(k % n_keys);
                }
            }
            let floor = |image: usize| rarity.floor_level(floors[image]);
            // The floor's promise: no held candidate below it.
            for image in 0..space.image_chunks.len() {
                let below = candidate_keys(&candidates_of(&space, image, mask))
                    .map(|k| rarity.count(k) as usize)
                    .any(|c| c >= 1 && c < floor(image));
                prop_assert!(!below);
            }
            agrees_with_the_reference(&space, &rarity, mask, floor, seed)?;
            let voided = |rarity: &Rarity| floors.iter().all(|&f| rarity.floor_level(f) == 0);
            let mut rarity_first = Rarity::new(&space, true);
            rarity_first.lowered = rarity.lowered;
            rarity_first.increment(0);
            prop_assert!(voided(&rarity_first), "a first holder voids the floors");
            if let Some(key) = (0..n_keys).find(|&k| rarity.count(k) > 1) {
                rarity.decrement(key);
                prop_assert!(voided(&rarity), "a decrement voids the floors");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// A few keys held by thousands of peers and the rest by few (a
        /// crowd's counts), some of them then dropping, so that finding the
        /// next level crosses empty words of the level bitmap and of its
        /// summary: still the reference's choice and draws.
        #[test]
        fn index_agrees_with_the_reference_across_sparse_levels(
            seed in 0u64..1000,
            high in prop::collection::vec((0u32..10_000, 0u32..20_000), 17..40),
            low in prop::collection::vec(0u32..10_000, 0..200),
            drops in prop::collection::vec((0u32..10_000, 0u32..20_000), 0..8),
            only_high in any::<bool>(),
            isolated in any::<bool>(),
            chunk_levels in any::<bool>(),
            blocks_per_chunk in prop_oneof![Just(8u32), Just(40)],
            base in 0u32..4,
        ) {
            // Both ways of counting an image's keys per level (see
            // `image_population`).
            let model = if isolated { SwarmModel::Isolated } else { SwarmModel::Cross };
            let space = space_of(model, seed, blocks_per_chunk);
            let mut rarity = Rarity::new(&space, chunk_levels);
            let n_keys = space.key_chunk.len() as u32;
            // Every key held by `base` peers first: no level below is left.
            for key in 0..n_keys {
                for _ in 0..base {
                    rarity.increment(key);
                }
            }
            // The high keys, as a bitset of the space: candidates among them
            // alone (more than `DIRECT_SCAN_KEYS`, so that the levels are
            // walked) make the choice walk up to their levels.
            let mut high_bits = vec![0u64; space.words];
            for (k, count) in high {
                let key = k % n_keys;
                high_bits[key as usize / 64] |= 1 << (key % 64);
                for _ in 0..count {
                    rarity.increment(key);
                }
            }
            for k in low {
                rarity.increment(k % n_keys);
            }
            // Holders leaving empty words of levels, below ones still full.
            for (k, count) in drops {
                let key = k % n_keys;
                for _ in 0..count.min(rarity.count(key)) {
                    rarity.decrement(key);
                }
            }
            let mask = |_, w: usize| if only_high { high_bits[w] } else { u64::MAX };
            agrees_with_the_reference(&space, &rarity, mask, |_| 0, seed)?;
        }
    }
}
