//! A maximum of two `f64`s for the hot paths, as one instruction.
//!
//! `f64::max` returns the other argument when one is NaN, whichever it
//! is; on x86-64 that takes seven instructions around the `maxsd`. The
//! event loop, the fair shares and deliveries take a maximum about 4.6
//! times a block (cross-equ's paper default), against a floor that is
//! never NaN (a clock, or 0): there `at_least` gives the same value in
//! one `maxsd`: 1,758 -> 1,735
//! instructions a block on cross-equ's paper default, 2,110 -> 2,086 on
//! cross-opt's, 3,453 -> 3,426 on the 1k crowd (`scripts/icount.sh
//! --quick`).

/// `x`, or `floor` when `x` is not above it or is NaN: `x.max(floor)` for
/// every `x` and every `floor` but NaN, except that of two zeros of
/// opposite signs it is `floor` (where `f64::max` may return either). The
/// floors the simulator passes (clocks, which start at +0, and +0) make
/// that case +0 either way.
#[inline(always)]
pub(super) fn at_least(x: f64, floor: f64) -> f64 {
    if x > floor { x } else { floor }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_nan_gives_the_floor_as_f64_max_does() {
        assert_eq!(at_least(f64::NAN, 2.0), 2.0);
        assert_eq!(f64::NAN.max(2.0), 2.0);
        assert_eq!(at_least(f64::INFINITY, 0.0), f64::INFINITY);
        assert_eq!(at_least(-1.0, 0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(at_least(-0.0, 0.0).to_bits(), 0.0f64.to_bits());
    }

    proptest! {
        /// The same bits as `f64::max` against any floor but NaN, unless
        /// both are zeros.
        #[test]
        fn agrees_with_f64_max(x in any::<f64>(), floor in any::<f64>()) {
            let both_zero = x == 0.0 && floor == 0.0;
            prop_assume!(!floor.is_nan() && !both_zero);
            prop_assert_eq!(at_least(x, floor).to_bits(), x.max(floor).to_bits());
        }
    }
}
