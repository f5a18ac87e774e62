//! Uniform draws of an index, the simulator's most frequent random draw
//! (sampling holders, breaking ties among the rarest blocks).
//!
//! `rand`'s `random_range(0..n)` reaches its sampler through range checks,
//! a `Result` and a call that is not inlined. [`below`] is the same
//! algorithm on the same random numbers, inlined: the same index from the
//! same generator state, in fewer instructions (callgrind: the 10,000-host
//! flash crowd 4% fewer in all, the paper's default 2%; then forced
//! inline, as a plain hint left it a call in holder sampling: 1.4% fewer
//! again). A test checks it against `random_range` draw for draw, so a
//! change of `rand`'s algorithm cannot silently change our runs.

use rand::{Rng, RngExt};

/// A uniform index in `0..n` (`n > 0`): exactly `rng.random_range(0..n)`.
///
/// For `n` up to `u32::MAX`, `rand` multiplies a 32-bit draw by `n` and
/// keeps the high half; when the low half falls in the biased zone it
/// draws once more and carries (Lemire's widening multiply with one step
/// of bias reduction). Larger `n` go to `rand` itself.
#[inline(always)]
pub(super) fn below<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    debug_assert!(n > 0, "a draw from an empty range");
    let Ok(range) = u32::try_from(n) else {
        return rng.random_range(0..n);
    };
    let (mut hi, lo) = wide_mul(rng.next_u32(), range);
    if lo > range.wrapping_neg() {
        let (carry_hi, _) = wide_mul(rng.next_u32(), range);
        hi += u32::from(lo.checked_add(carry_hi).is_none());
    }
    hi as usize
}

/// High and low halves of the 64-bit product.
#[inline]
fn wide_mul(a: u32, b: u32) -> (u32, u32) {
    let product = u64::from(a) * u64::from(b);
    ((product >> 32) as u32, product as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn draws_what_random_range_draws() {
        let sizes = [
            1,
            2,
            3,
            7,
            8,
            100,
            1 << 16,
            (1 << 31) + 1,
            3_000_000_000,
            u32::MAX as usize,
            u32::MAX as usize + 1,
            1 << 40,
        ];
        for (seed, &n) in sizes.iter().enumerate() {
            let mut ours = Xoshiro256PlusPlus::seed_from_u64(seed as u64);
            let mut theirs = ours.clone();
            for _ in 0..10_000 {
                let i = below(&mut ours, n);
                assert!(i < n);
                assert_eq!(i, theirs.random_range(0..n), "n = {n}");
            }
            // Both consumed the same random numbers.
            assert_eq!(ours.next_u64(), theirs.next_u64(), "n = {n}");
        }
    }
}
