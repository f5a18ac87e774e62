//! Each peer's unrequested blocks as a short list of non-zero words, kept
//! as its bits change, so that a request's candidates are the list itself
//! (`Sim::pick_unrequested`), or a copy of it with some blocks excluded.
//!
//! A leecher's candidates are the words of its image with some block it
//! neither holds nor awaits. Computed afresh, that is three loads, two
//! masks and a branch per word of the image at every request (16 words on
//! the paper's default, some 380 instructions a request). But the set
//! changes only when a block is requested (it leaves), a request is cut
//! off (it returns) or a block arrives unrequested; a delivery of an
//! awaited block leaves it as it is. `Holdings` updates these lists at
//! each such change, each in its slot's words right after the slot's
//! bitsets, which the same events read (on a flash crowd's one-word image
//! a slot is 40 bytes in all, mostly in one cache line);
//! `state::unrequested` is their slow reference.

/// Words of a list with room for `image_words` entries: its length, and
/// a pair `[word index, bits]` per entry.
pub(super) fn region_words(image_words: usize) -> usize {
    1 + 2 * image_words
}

/// The list in `region` (see [`region_words`]): `[word index, bits]` in
/// increasing word order, no word zero.
#[inline]
pub(super) fn list(region: &[u64]) -> &[[u64; 2]] {
    let len = region[0] as usize;
    region[1..1 + 2 * len].as_chunks::<2>().0
}

/// The list in `region` becomes the non-zero words of `words` (in word
/// order; they must fit its room, as an image's words do).
pub(super) fn reset(region: &mut [u64], words: impl Iterator<Item = (usize, u64)>) {
    let mut len = 0;
    for (w, bits) in words.filter(|&(_, bits)| bits != 0) {
        region[1 + 2 * len] = w as u64;
        region[2 + 2 * len] = bits;
        len += 1;
    }
    region[0] = len as u64;
}

/// The list's entries, and its length to update.
fn entries(region: &mut [u64]) -> (&mut [[u64; 2]], &mut u64) {
    let (len, room) = region.split_first_mut().expect("a list's length");
    (room.as_chunks_mut::<2>().0, len)
}

/// `key` leaves the list (it was in it). Forced inline (with
/// `Holdings::list_region`), into `Holdings::set_pending` at each request's
/// start: 0.3-0.4% fewer instructions a block on the paper's default.
#[inline(always)]
pub(super) fn remove(region: &mut [u64], key: u32) {
    let (w, bit) = (u64::from(key / 64), 1u64 << (key % 64));
    let (room, len) = entries(region);
    let list = &mut room[..*len as usize];
    let Some(i) = list.iter().position(|e| e[0] == w) else {
        // Only ever asked for a key in the list; the library's tests say so.
        #[cfg(test)]
        panic!("key {key} was not in the list");
        #[cfg(not(test))]
        return;
    };
    list[i][1] &= !bit;
    if list[i][1] == 0 {
        list.copy_within(i + 1.., i);
        *len -= 1;
    }
}

/// `key` joins the list (it was not in it).
pub(super) fn insert(region: &mut [u64], key: u32) {
    let (w, bit) = (u64::from(key / 64), 1u64 << (key % 64));
    let (room, len) = entries(region);
    let n = *len as usize;
    let i = room[..n].iter().position(|e| e[0] >= w).unwrap_or(n);
    if i < n && room[i][0] == w {
        room[i][1] |= bit;
        return;
    }
    // A word of the image, so the list has room for it.
    room.copy_within(i..n, i + 1);
    room[i] = [w, bit];
    *len += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_word_order_and_drop_empty_words() {
        let mut region = vec![0; region_words(3)];
        reset(&mut region, [(1, 0b11), (4, 0), (7, 0b1)].into_iter());
        assert_eq!(list(&region), &[[1, 0b11], [7, 0b1]]);
        remove(&mut region, 7 * 64);
        assert_eq!(list(&region), &[[1, 0b11]]);
        remove(&mut region, 64);
        assert_eq!(list(&region), &[[1, 0b10]]);
        insert(&mut region, 4 * 64 + 5);
        insert(&mut region, 0);
        insert(&mut region, 64);
        assert_eq!(list(&region), &[[0, 1], [1, 0b11], [4, 1 << 5]]);
        reset(&mut region, std::iter::empty());
        assert!(list(&region).is_empty());
    }
}
