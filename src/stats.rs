//! Statistics over replications: mean, standard deviation and Student-t
//! confidence intervals, plain and paired.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean, spread and 95% confidence interval of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Sample size.
    pub n: usize,
    /// Sample mean (NaN when empty).
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator; NaN when n < 2).
    pub sd: f64,
    /// Lower end of the 95% confidence interval of the mean.
    pub ci_low: f64,
    /// Upper end of the 95% confidence interval of the mean.
    pub ci_high: f64,
}

impl Estimate {
    /// Half-width of the confidence interval.
    pub fn half_width(&self) -> f64 {
        (self.ci_high - self.ci_low) / 2.0
    }
}

/// The two-sided 95% Student-t quantile `t_{0.975, df}`.
pub fn t_quantile_95(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Estimate of the mean of `values` with a 95% Student-t interval. With one
/// value the interval is that value's point (no spread can be measured);
/// NaN values are skipped.
pub fn estimate(values: &[f64]) -> Estimate {
    let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = v.len();
    if n == 0 {
        return Estimate {
            n,
            mean: f64::NAN,
            sd: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate {
            n,
            mean,
            sd: f64::NAN,
            ci_low: mean,
            ci_high: mean,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t_quantile_95(n - 1) * sd / (n as f64).sqrt();
    Estimate {
        n,
        mean,
        sd,
        ci_low: mean - half,
        ci_high: mean + half,
    }
}

/// Paired difference `a - b` over replications that share their random
/// numbers: the interval of the mean difference, which is much tighter than
/// comparing two independent intervals. Pairs with a NaN are skipped.
pub fn paired_difference(a: &[f64], b: &[f64]) -> Estimate {
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    estimate(&diffs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_table() {
        // Standard table values of t_{0.975}.
        for (df, t) in [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045)] {
            assert!((t_quantile_95(df) - t).abs() < 1e-3, "df {df}");
        }
    }

    #[test]
    fn estimate_matches_a_hand_computed_sample() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sd sqrt(32/7),
        // half-width t_{0.975,7} (2.3646) * 2.13809 / sqrt(8) = 1.78748.
        let e = estimate(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(e.n, 8);
        assert!((e.mean - 5.0).abs() < 1e-12);
        assert!((e.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!(
            (e.half_width() - 1.78748).abs() < 1e-4,
            "{}",
            e.half_width()
        );
    }

    #[test]
    fn paired_difference_removes_shared_noise() {
        let a = [10.0, 20.0, 30.0, 40.0];
        let b = [9.0, 19.5, 29.0, 39.5];
        let d = paired_difference(&a, &b);
        assert!((d.mean - 0.75).abs() < 1e-12);
        assert!(d.ci_low > 0.0, "paired interval excludes zero: {d:?}");
        let unpaired = estimate(&a);
        assert!(unpaired.half_width() > 10.0 * d.half_width());
    }

    #[test]
    fn degenerate_samples() {
        assert!(estimate(&[]).mean.is_nan());
        let one = estimate(&[3.0]);
        assert_eq!((one.mean, one.ci_low, one.ci_high), (3.0, 3.0, 3.0));
        assert_eq!(estimate(&[1.0, f64::NAN, 3.0]).n, 2);
    }
}
