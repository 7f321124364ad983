//! Parametrization (docs/method.md §2–§3): turn a form into several parametric versions, each with
//! 1–3 learnable parameters on randomly chosen edges.
//!
//! Every node's output edge (the root's included, which scales the whole output) is a
//! candidate. Parameters are named α, β, γ in the order they appear in the printed text, and the
//! versions are distinct in canonical form.

use rand::seq::index::sample;
use rand::Rng;

use crate::expr::{Expr, Tree};
use crate::param::{Param, MAX_PARAMS};

/// Up to `versions` distinct parametric versions of `form` (its own parameters are dropped),
/// each with between 1 and `max_params` (≤ 3) parameters on distinct random edges. Fewer are
/// returned when the form has fewer distinct parametrizations.
pub fn parametrize(
    form: &Expr,
    versions: usize,
    max_params: usize,
    rng: &mut impl Rng,
) -> Vec<Expr> {
    let form = form.without_params();
    let edges = form.size();
    let max_params = max_params.clamp(1, MAX_PARAMS).min(edges);
    let mut out: Vec<Expr> = Vec::with_capacity(versions);
    let mut seen: Vec<String> = Vec::new();
    // Enough attempts to find every distinct version of small forms, bounded for large ones.
    let attempts = 20 * versions.max(1);
    for _ in 0..attempts {
        if out.len() >= versions {
            break;
        }
        let k = rng.random_range(1..=max_params);
        let chosen = sample(rng, edges, k).into_vec();
        let mut tree = form.to_tree();
        let mut index = 0;
        let mut next = 0;
        tree.preorder_mut(&mut |n: &mut Tree| {
            if chosen.contains(&index) {
                n.set_param(Some(Param::ALL[next]));
                next += 1;
            }
            index += 1;
        });
        let version = Expr::from_tree(&tree);
        let key = version.canonical_text();
        if !seen.contains(&key) {
            seen.push(key);
            out.push(version);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn versions_are_distinct_and_bounded() {
        let form: Expr = "add(tanh(x), relu(x))".parse().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let vs = parametrize(&form, 3, 3, &mut rng);
        assert_eq!(vs.len(), 3);
        for v in &vs {
            let n = v.params().len();
            assert!((1..=3).contains(&n), "{v}");
            // Named in order of appearance.
            assert_eq!(v.params(), Param::ALL[..n].to_vec(), "{v}");
            assert_eq!(v.without_params(), form);
        }
        let texts: Vec<String> = vs.iter().map(|v| v.canonical_text()).collect();
        assert!(texts[0] != texts[1] && texts[1] != texts[2] && texts[0] != texts[2]);
    }

    #[test]
    fn small_forms_give_fewer_versions() {
        let form: Expr = "x".parse().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let vs = parametrize(&form, 3, 3, &mut rng);
        assert_eq!(vs.len(), 1);
        assert_eq!(vs[0].to_string(), "alpha * x");
    }
}
