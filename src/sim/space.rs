//! The block space of a swarm model (the model's section on swarms): every
//! block a peer can hold is a *key*, and a peer's holdings are a bitset of
//! keys.
//!
//! Both swarm models run on one mechanism. In the `cross` model there is a
//! key per block of each unique chunk, so peers of any image holding a chunk
//! can serve it; in the `isolated` model every image gets private copies of
//! its chunks, so a chunk shared by two images is two separate swarms and
//! peers only help peers of their own image.

use crate::input::config::SwarmModel;
use crate::input::content::Content;

/// The block space of a swarm model: which keys exist and who holds what.
pub(super) struct Space {
    /// First key of each swarm chunk.
    pub(super) chunk_first: Vec<u32>,
    /// Blocks per swarm chunk.
    pub(super) chunk_blocks: Vec<u32>,
    /// Block size per swarm chunk (Mb).
    pub(super) chunk_block_mb: Vec<f64>,
    /// Label per swarm chunk.
    pub(super) chunk_label: Vec<String>,
    /// The swarm chunk of each key.
    pub(super) key_chunk: Vec<u32>,
    /// Bitset words per peer.
    pub(super) words: usize,
    /// Per image: the bitset of its keys.
    pub(super) image_mask: Vec<Vec<u64>>,
    /// Per image: the non-zero words of its mask, `(word index, bits)`, in
    /// word order (what a loop over an image's keys reads, without a load
    /// from `image_mask` a word).
    pub(super) image_words: Vec<Vec<(usize, u64)>>,
    /// Per image: the same indices as a bitset of word indices.
    pub(super) image_word_set: Vec<Vec<u64>>,
    /// Per image: its swarm chunks in image order.
    pub(super) image_chunks: Vec<Vec<u32>>,
    /// Per image and swarm chunk (`image * chunks + chunk`): the chunk's
    /// position in the image (or u32::MAX); see [`Space::chunk_pos`].
    chunk_pos: Vec<u32>,
    /// Per image: blocks in the image.
    pub(super) image_blocks: Vec<u32>,
    /// The words of every swarm chunk's keys, `(word index, bits)`, chunk
    /// after chunk: chunk `c`'s from `chunk_word_range[c].0` to
    /// `chunk_word_range[c].1` (under chunk groups each server push reads
    /// its chunk's, and computing them from the range cost some 70
    /// instructions a push; both ends in one entry save a bounds check).
    chunk_words: Vec<(usize, u64)>,
    chunk_word_range: Vec<(u32, u32)>,
}

impl Space {
    pub(super) fn new(content: &Content, model: SwarmModel) -> Space {
        let (swarm_chunks, image_chunks) = swarm_chunks(content, model);
        let mut chunk_first = Vec::new();
        let mut key_chunk = Vec::new();
        for (sc, &(c, _)) in swarm_chunks.iter().enumerate() {
            chunk_first.push(key_chunk.len() as u32);
            key_chunk.extend(std::iter::repeat_n(
                sc as u32,
                content.chunks[c].blocks as usize,
            ));
        }
        let words = key_chunk.len().div_ceil(64);
        let mut image_mask = Vec::new();
        let mut image_words = Vec::new();
        let mut image_word_set = Vec::new();
        let mut chunk_pos = Vec::new();
        let mut image_blocks = Vec::new();
        for chunks in &image_chunks {
            let mut mask = vec![0u64; words];
            let mut pos = vec![u32::MAX; swarm_chunks.len()];
            let mut blocks = 0;
            for (p, &sc) in chunks.iter().enumerate() {
                pos[sc as usize] = p as u32;
                let first = chunk_first[sc as usize];
                let n = content.chunks[swarm_chunks[sc as usize].0].blocks;
                for k in first..first + n {
                    mask[k as usize / 64] |= 1 << (k % 64);
                }
                blocks += n;
            }
            let nonzero: Vec<(usize, u64)> = (0..words)
                .filter(|&w| mask[w] != 0)
                .map(|w| (w, mask[w]))
                .collect();
            let mut set = vec![0u64; words.div_ceil(64)];
            for &(w, _) in &nonzero {
                set[w / 64] |= 1 << (w % 64);
            }
            image_word_set.push(set);
            image_words.push(nonzero);
            image_mask.push(mask);
            chunk_pos.extend(pos);
            image_blocks.push(blocks);
        }
        let mut space = Space {
            chunk_words: Vec::new(),
            chunk_word_range: Vec::new(),
            chunk_blocks: swarm_chunks
                .iter()
                .map(|&(c, _)| content.chunks[c].blocks)
                .collect(),
            chunk_block_mb: swarm_chunks
                .iter()
                .map(|&(c, _)| content.chunks[c].block_mb)
                .collect(),
            chunk_label: swarm_chunks.into_iter().map(|(_, l)| l).collect(),
            chunk_first,
            key_chunk,
            words,
            image_mask,
            image_words,
            image_word_set,
            image_chunks,
            chunk_pos,
            image_blocks,
        };
        for c in 0..space.chunk_first.len() as u32 {
            let (first, end) = space.chunk_range(c);
            let start = space.chunk_words.len() as u32;
            space.chunk_words.extend(range_words(first, end));
            let range = (start, space.chunk_words.len() as u32);
            space.chunk_word_range.push(range);
        }
        space
    }

    /// The most words any image's keys span.
    pub(super) fn max_image_words(&self) -> usize {
        self.image_words.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// The words of image `image`'s key mask, as `(word index, bits)`.
    pub(super) fn image_keys(&self, image: usize) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.image_words[image].iter().copied()
    }

    /// The words of swarm chunk `chunk`'s keys, `(word index, bits)`, in
    /// word order.
    pub(super) fn chunk_keys(&self, chunk: u32) -> &[(usize, u64)] {
        let (start, end) = self.chunk_word_range[chunk as usize];
        &self.chunk_words[start as usize..end as usize]
    }

    /// The position of swarm chunk `chunk` in `image` (u32::MAX if it is
    /// not one of the image's), from one array for all images.
    pub(super) fn chunk_pos(&self, image: usize, chunk: u32) -> u32 {
        self.chunk_pos[image * self.chunk_first.len() + chunk as usize]
    }

    /// The keys of swarm chunk `chunk`: `[first, end)`.
    pub(super) fn chunk_range(&self, chunk: u32) -> (u32, u32) {
        let first = self.chunk_first[chunk as usize];
        (first, first + self.chunk_blocks[chunk as usize])
    }

    pub(super) fn block_mb(&self, key: u32) -> f64 {
        self.chunk_block_mb[self.key_chunk[key as usize] as usize]
    }
}

/// The swarm chunks of a swarm model, as `(content chunk, label)`, and
/// each image's swarm chunks: the content's chunks for `cross`, a private
/// copy of every image's chunks for `isolated`.
fn swarm_chunks(content: &Content, model: SwarmModel) -> (Vec<(usize, String)>, Vec<Vec<u32>>) {
    match model {
        SwarmModel::Cross => (
            content
                .chunks
                .iter()
                .enumerate()
                .map(|(i, c)| (i, c.id.clone()))
                .collect(),
            content
                .images
                .iter()
                .map(|im| im.chunks.iter().map(|&c| c as u32).collect())
                .collect(),
        ),
        SwarmModel::Isolated => {
            let mut chunks = Vec::new();
            let mut per_image = Vec::new();
            for im in &content.images {
                let mine = im
                    .chunks
                    .iter()
                    .map(|&c| {
                        chunks.push((c, format!("{}/{}", im.name, content.chunks[c].id)));
                        (chunks.len() - 1) as u32
                    })
                    .collect();
                per_image.push(mine);
            }
            (chunks, per_image)
        }
    }
}

/// Set bit `i` of `bitmap` (`on`) or clear it, keeping `summary` (a bitset
/// of `bitmap`'s non-zero words) in step: a rarity level bitmap, the
/// waiting queues' non-empty keys.
pub(super) fn set_summarized(bitmap: &mut [u64], summary: &mut [u64], i: usize, on: bool) {
    let w = i / 64;
    if on {
        bitmap[w] |= 1 << (i % 64);
        summary[w / 64] |= 1 << (w % 64);
    } else {
        bitmap[w] &= !(1 << (i % 64));
        if bitmap[w] == 0 {
            summary[w / 64] &= !(1 << (w % 64));
        }
    }
}

/// Set the bits `bits` (not zero) of word `w` of `bitmap`, keeping
/// `summary` in step as [`set_summarized`] does: many keys of one word at
/// once.
pub(super) fn set_word_summarized(bitmap: &mut [u64], summary: &mut [u64], w: usize, bits: u64) {
    debug_assert!(bits != 0);
    bitmap[w] |= bits;
    summary[w / 64] |= 1 << (w % 64);
}

/// Clear the bits `bits` of word `w` of `bitmap`, keeping `summary` in
/// step as [`set_summarized`] does: many keys of one word at once.
pub(super) fn clear_word_summarized(bitmap: &mut [u64], summary: &mut [u64], w: usize, bits: u64) {
    bitmap[w] &= !bits;
    if bitmap[w] == 0 {
        summary[w / 64] &= !(1 << (w % 64));
    }
}

/// The keys `[first, end)` as bitset words `(word index, bits)`.
pub(super) fn range_words(first: u32, end: u32) -> impl Iterator<Item = (usize, u64)> {
    (first as usize / 64..(end as usize).div_ceil(64)).map(move |w| (w, range_mask(w, first, end)))
}

/// Bits of word `w` that fall in keys `[first, end)`.
pub(super) fn range_mask(w: usize, first: u32, end: u32) -> u64 {
    let lo = (w * 64) as u32;
    let hi = lo + 64;
    let from = first.max(lo) - lo;
    let to = end.min(hi).saturating_sub(lo);
    if to <= from {
        return 0;
    }
    let width = to - from;
    let ones = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    ones << from
}

/// The keys of candidate words `(word index, bits)`, in increasing order.
pub(super) fn keys(candidates: impl Iterator<Item = (usize, u64)>) -> impl Iterator<Item = u32> {
    candidates.flat_map(|(w, mut bits)| {
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let key = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                key
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn range_mask_covers_exactly_the_range() {
        assert_eq!(range_mask(0, 0, 64), u64::MAX);
        assert_eq!(range_mask(0, 2, 4), 0b1100);
        assert_eq!(range_mask(1, 60, 70), 0b11_1111);
        assert_eq!(range_mask(2, 60, 70), 0);
    }

    #[test]
    fn a_word_set_at_once_is_its_bits_set_one_by_one() {
        // 130 words: the summary's third word too.
        let (mut one_by_one, mut summary_1) = (vec![0u64; 130], vec![0u64; 3]);
        let (mut at_once, mut summary_2) = (vec![0u64; 130], vec![0u64; 3]);
        for (w, bits) in [(3, 0b1011u64), (129, 1 << 63), (3, 1 << 40), (70, u64::MAX)] {
            for key in keys(std::iter::once((w, bits))) {
                set_summarized(&mut one_by_one, &mut summary_1, key as usize, true);
            }
            set_word_summarized(&mut at_once, &mut summary_2, w, bits);
            assert_eq!(at_once, one_by_one);
            assert_eq!(summary_2, summary_1);
        }
    }

    #[test]
    fn chunk_keys_are_the_words_of_each_chunk_range() {
        use rand::SeedableRng;
        use rand::rngs::Xoshiro256PlusPlus;

        use crate::input::config::{ContentConfig, ContentKind};
        // Chunks of 70 blocks: most straddle two words.
        let config = ContentConfig {
            kind: ContentKind::Pool,
            images: 3,
            chunks_per_image: 4,
            blocks_per_chunk: 70,
            common_ratio: 0.5,
            ..ContentConfig::default()
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let content = Content::generate(&config, &mut rng).expect("valid content");
        for model in [SwarmModel::Cross, SwarmModel::Isolated] {
            let space = Space::new(&content, model);
            for c in 0..space.chunk_first.len() as u32 {
                let (first, end) = space.chunk_range(c);
                let expected: Vec<(usize, u64)> = range_words(first, end).collect();
                assert_eq!(space.chunk_keys(c), expected.as_slice());
            }
        }
    }
}
