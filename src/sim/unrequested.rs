//! Each peer's unrequested blocks as a short list of non-zero words, kept
//! as its bits change, so that a request's candidates are a copy of it.
//!
//! A leecher's candidates are the words of its image with some block it
//! neither holds nor awaits. Computed afresh, that is three loads, two
//! masks and a branch per word of the image at every request (16 words on
//! the paper's default, some 380 instructions a request). But the set
//! changes only when a block is requested (it leaves), a request is cut
//! off (it returns) or a block arrives unrequested; a delivery of an
//! awaited block leaves it as it is. `Holdings` updates these lists at
//! each such change; `state::unrequested` is their slow reference.

use super::state::PeerId;

/// Per peer slot, its unrequested blocks: `(word index, bits)` in
/// increasing word order, no word zero.
#[derive(Debug, Default)]
pub(super) struct UnrequestedLists {
    /// Room per slot: the most words any image spans.
    stride: usize,
    /// Slot `p`'s list is `entries[p * stride ..][.. lens[p]]`.
    entries: Vec<(usize, u64)>,
    lens: Vec<u32>,
}

impl UnrequestedLists {
    /// No slots, for images of at most `stride` words.
    pub(super) fn new(stride: usize) -> UnrequestedLists {
        UnrequestedLists {
            stride,
            entries: Vec::new(),
            lens: Vec::new(),
        }
    }

    /// Slot `p`'s list becomes the non-zero words of `words` (in word
    /// order, at most `stride` of them): a new slot (the next one), or a
    /// reused one.
    pub(super) fn reset(&mut self, p: PeerId, words: impl Iterator<Item = (usize, u64)>) {
        let p = p as usize;
        if p == self.lens.len() {
            self.lens.push(0);
            self.entries.resize((p + 1) * self.stride, (0, 0));
        }
        let start = p * self.stride;
        let mut len = 0;
        for (w, bits) in words.filter(|&(_, bits)| bits != 0) {
            self.entries[start + len] = (w, bits);
            len += 1;
        }
        self.lens[p] = len as u32;
    }

    /// Slot `p`'s list.
    #[inline]
    pub(super) fn list(&self, p: PeerId) -> &[(usize, u64)] {
        let start = p as usize * self.stride;
        &self.entries[start..start + self.lens[p as usize] as usize]
    }

    /// `key` is no longer unrequested by `p` (it was).
    pub(super) fn remove(&mut self, p: PeerId, key: u32) {
        let (w, bit) = (key as usize / 64, 1u64 << (key % 64));
        let start = p as usize * self.stride;
        let len = self.lens[p as usize] as usize;
        let list = &mut self.entries[start..start + len];
        let Some(i) = list.iter().position(|e| e.0 == w) else {
            debug_assert!(false, "key {key} was not unrequested by {p}");
            return;
        };
        list[i].1 &= !bit;
        if list[i].1 == 0 {
            list.copy_within(i + 1.., i);
            self.lens[p as usize] -= 1;
        }
    }

    /// `key` is unrequested by `p` again (it was not).
    pub(super) fn insert(&mut self, p: PeerId, key: u32) {
        let (w, bit) = (key as usize / 64, 1u64 << (key % 64));
        let start = p as usize * self.stride;
        let len = self.lens[p as usize] as usize;
        let i = self.entries[start..start + len]
            .iter()
            .position(|e| e.0 >= w)
            .unwrap_or(len);
        if i < len && self.entries[start + i].0 == w {
            self.entries[start + i].1 |= bit;
            return;
        }
        // A word of the image, so the list has room for it.
        self.entries
            .copy_within(start + i..start + len, start + i + 1);
        self.entries[start + i] = (w, bit);
        self.lens[p as usize] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_word_order_and_drop_empty_words() {
        let mut lists = UnrequestedLists::new(3);
        lists.reset(0, [(1, 0b11), (4, 0), (7, 0b1)].into_iter());
        lists.reset(1, [(2, 0b1)].into_iter());
        assert_eq!(lists.list(0), &[(1, 0b11), (7, 0b1)]);
        lists.remove(0, 7 * 64);
        assert_eq!(lists.list(0), &[(1, 0b11)]);
        lists.remove(0, 64);
        assert_eq!(lists.list(0), &[(1, 0b10)]);
        lists.insert(0, 4 * 64 + 5);
        lists.insert(0, 0);
        lists.insert(0, 64);
        assert_eq!(lists.list(0), &[(0, 1), (1, 0b11), (4, 1 << 5)]);
        assert_eq!(
            lists.list(1),
            &[(2, 0b1)],
            "a slot's changes leave the others"
        );
        lists.reset(0, std::iter::empty());
        assert!(lists.list(0).is_empty());
    }
}
