//! Parent selection (docs/method.md §3): probability increasing in fitness.

use rand::Rng;

use crate::config::Selection;

/// Draws the index of a parent from `ranked`, which is sorted best first (index = rank).
///
/// # Panics
/// If `ranked_len` is 0 (the search never selects from an empty population).
pub fn select_parent(selection: &Selection, ranked_len: usize, rng: &mut impl Rng) -> usize {
    assert!(ranked_len > 0, "select_parent needs a non-empty population");
    match *selection {
        Selection::RankSoftmax { temperature } => {
            let n = ranked_len as f64;
            let weights: Vec<f64> = (0..ranked_len)
                .map(|r| (-(r as f64 / n) / temperature).exp())
                .collect();
            let total: f64 = weights.iter().sum();
            let mut u = rng.random::<f64>() * total;
            for (r, w) in weights.iter().enumerate() {
                if u < *w {
                    return r;
                }
                u -= w;
            }
            ranked_len - 1
        }
        Selection::Tournament { size } => (0..size.max(1))
            .map(|_| rng.random_range(0..ranked_len))
            .min()
            .expect("tournament size is at least 1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn counts(selection: &Selection, n: usize) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = vec![0; n];
        for _ in 0..20_000 {
            counts[select_parent(selection, n, &mut rng)] += 1;
        }
        counts
    }

    #[test]
    fn rank_softmax_prefers_better_ranks_by_the_documented_ratio() {
        let c = counts(&Selection::RankSoftmax { temperature: 0.25 }, 4);
        assert!(c[0] > c[1] && c[1] > c[2] && c[2] > c[3], "{c:?}");
        // exp(1) between neighbours when r/n steps by 1/4 at temperature 1/4.
        let ratio = c[0] as f64 / c[1] as f64;
        assert!((ratio - std::f64::consts::E).abs() < 0.3, "{ratio}");
    }

    #[test]
    fn tournament_prefers_better_ranks() {
        let c = counts(&Selection::Tournament { size: 3 }, 5);
        assert!(c[0] > c[2] && c[2] > c[4], "{c:?}");
        let single = counts(&Selection::Tournament { size: 1 }, 2);
        assert!(
            (single[0] as i64 - single[1] as i64).abs() < 800,
            "{single:?}"
        );
    }

    #[test]
    #[should_panic = "select_parent needs a non-empty population"]
    fn empty_population_is_a_programmer_error() {
        select_parent(&Selection::default(), 0, &mut ChaCha8Rng::seed_from_u64(0));
    }
}
