//! Mean ± sample standard deviation and Welch's unequal-variance t-test (docs/method.md §5: "report
//! mean ± standard deviation and a significance test against ReLU").
//!
//! Welch rather than Student: different activations give different run-to-run spread, and
//! Welch's test does not assume equal variances. The two-sided p-value uses statrs' Student's t
//! CDF with the Welch–Satterthwaite degrees of freedom.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Sample size, mean and sample standard deviation (n − 1 in the denominator).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean; NaN when `n = 0`.
    pub mean: f64,
    /// Sample standard deviation; NaN when `n < 2`.
    pub std: f64,
}

/// The result of Welch's t-test of two samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WelchTest {
    /// t = (mean_a − mean_b) / sqrt(var_a/n_a + var_b/n_b).
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value, 2·(1 − F_t(|t|; df)).
    pub p: f64,
}

/// The median of the finite values, or None when there is none.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Summarizes a sample.
pub fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / n as f64
    };
    let std = if n < 2 {
        f64::NAN
    } else {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    Summary { n, mean, std }
}

/// Welch's two-sided t-test of `a` against `b`.
///
/// `None` when it is undefined: a sample with fewer than two values, or both samples without
/// any spread (the standard error is 0, so neither t nor the degrees of freedom exist).
pub fn welch(a: &[f64], b: &[f64]) -> Option<WelchTest> {
    let (sa, sb) = (summarize(a), summarize(b));
    if sa.n < 2 || sb.n < 2 {
        return None;
    }
    let va = sa.std * sa.std / sa.n as f64;
    let vb = sb.std * sb.std / sb.n as f64;
    let se2 = va + vb;
    if se2.is_nan() || se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let t = (sa.mean - sb.mean) / se2.sqrt();
    let df = se2 * se2 / (va * va / (sa.n - 1) as f64 + vb * vb / (sb.n - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    Some(WelchTest { t, df, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_uses_the_sample_standard_deviation() {
        // mean 3, squared deviations 4+1+0+1+4 = 10, /4 = 2.5
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!((s.n, s.mean), (5, 3.0));
        assert!((s.std - 2.5f64.sqrt()).abs() < 1e-15);
        assert!(summarize(&[1.0]).std.is_nan());
        assert!(summarize(&[]).mean.is_nan());
    }

    /// Worked in Python with the textbook formulas: t and df by hand, and the p-value as
    /// 2∫_{|t|}^∞ of the t density (math.gamma), midpoint rule with 200,000 points after the
    /// substitution x = |t| + u/(1−u).
    #[test]
    fn welch_matches_values_worked_by_hand() {
        let a = [0.912, 0.905, 0.921, 0.917, 0.909];
        let b = [0.925, 0.931, 0.919, 0.928, 0.934, 0.927];
        let w = welch(&a, &b).unwrap();
        assert!((w.t - -4.113_207_547_169_795).abs() < 1e-9, "{w:?}");
        assert!((w.df - 7.750_048_189_297_875).abs() < 1e-9, "{w:?}");
        assert!((w.p - 0.003_613_656_118_889_155).abs() < 1e-7, "{w:?}");
        // symmetric in its arguments, up to the sign of t
        let r = welch(&b, &a).unwrap();
        assert!((r.t + w.t).abs() < 1e-12 && (r.p - w.p).abs() < 1e-12);
    }

    /// The t table: the two-sided 5 % critical value at 10 degrees of freedom is 2.228.
    #[test]
    fn t_cdf_agrees_with_the_t_table() {
        let dist = StudentsT::new(0.0, 1.0, 10.0).unwrap();
        let p = 2.0 * (1.0 - dist.cdf(2.228_138_851_986_274));
        assert!((p - 0.05).abs() < 1e-9, "{p}");
    }

    #[test]
    fn undefined_cases_are_none() {
        assert!(welch(&[1.0], &[1.0, 2.0]).is_none());
        assert!(welch(&[1.0, 1.0], &[2.0, 2.0]).is_none());
        let same = welch(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(same.t, 0.0);
        assert!((same.p - 1.0).abs() < 1e-12);
    }
}
