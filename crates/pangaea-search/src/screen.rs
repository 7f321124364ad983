//! A pre-screen that costs milliseconds: predict a form's fitness from forms already trained,
//! before training it (AQuaSurF's "activation outputs" feature, with a k-nearest-neighbours
//! regressor).
//!
//! A form's [`features`] are its values and derivatives at [`SAMPLES`] fixed draws from N(0, 1)
//! with every parameter at its initial value 1: what a network at initialisation passes through
//! it. Two forms that compute nearly the same function there get nearly the same features.
//! [`network_features`] add AQuaSurF's second kind of feature: how a deep network at
//! initialisation carries signal forwards and gradients backwards through the form (the spread of
//! the activations and of the gradients at each layer of a fixed random network); [`describe`]
//! joins the two when asked (`[screening] network = true`). [`OwnNetwork`] adds statistics of
//! the search's own network (its rung-0 recipe's architecture, on one batch of its training
//! data) at initialisation (`[screening] own_network = true`): computing them needs the training
//! engine, which this crate does not link, so the caller provides a [`NetworkProbe`] (the CLI's
//! is `pangaea_train::InitProbe`).
//! [`predict`] averages the fitness of the `k` nearest trained forms. [`replay`] measures the
//! screen on a stored search as the search would have used it: each generation's children are
//! predicted from the forms of earlier generations only, and it reports the Spearman correlation
//! of prediction and trained fitness, and what skipping the predicted-worst fraction of each
//! generation would have saved and lost.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use pangaea_expr::{Expr, Program, PARAM_INIT};

use crate::error::SearchError;
use crate::store::{CandidateState, Store};

/// How many N(0, 1) samples a form is evaluated at.
pub const SAMPLES: usize = 64;

/// Values and derivatives are clipped to ±`CLIP` so that one exploding form does not dominate
/// every distance.
const CLIP: f64 = 20.0;

/// The fixed N(0, 1) samples (Box–Muller on a seeded generator: the same on every machine).
pub fn samples() -> Vec<f64> {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0f5c_4e3e);
    let mut xs = Vec::with_capacity(SAMPLES);
    while xs.len() < SAMPLES {
        let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        xs.push(r * t.cos());
        xs.push(r * t.sin());
    }
    xs.truncate(SAMPLES);
    xs
}

/// A form's features: f(x) then f′(x) at [`samples`], parameters at their initial value,
/// clipped to ±20 (a non-finite value counts as the clip of its sign, NaN as 0).
pub fn features(expr: &Expr, xs: &[f64]) -> Vec<f64> {
    let out = Program::new(expr).eval_f64(xs, [PARAM_INIT; 3]);
    let clip = |v: f64| {
        if v.is_nan() {
            0.0
        } else {
            v.clamp(-CLIP, CLIP)
        }
    };
    out.y.iter().chain(&out.dy_dx).map(|&v| clip(v)).collect()
}

/// Layers of the random network of [`network_features`].
pub const NET_DEPTH: usize = 8;
/// Its width (units per layer) and batch (inputs).
const NET_WIDTH: usize = 32;
const NET_BATCH: usize = 32;
/// The network features' weight in the distance: each is a log10 of a spread, where a
/// difference of 1 (ten times the spread) matters as much as a difference of about 3 in each of
/// the many output features.
const NET_WEIGHT: f64 = 3.0;
/// log10 spreads are clipped to ±`NET_CLIP`; a non-finite one counts as `NET_CLIP`.
const NET_CLIP: f64 = 8.0;

/// How a deep network at initialisation treats the form (parameters at 1): a fixed random
/// fully connected network of [`NET_DEPTH`] layers of 32 units, He-initialised weights
/// (N(0, 2/32), as the search's networks), the form after every layer, on a fixed batch of 32
/// N(0, 1) inputs. The features are log10 of the root mean square of each layer's activations
/// (forwards), then of the gradient at each layer's pre-activations when a fixed N(0, 1)
/// gradient comes back from the top (backwards): vanishing or exploding signal shows at once.
pub fn network_features(expr: &Expr) -> Vec<f64> {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(0x05ee_d0f5_c4e7);
    let mut normal = move || {
        let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let scale = (2.0 / NET_WIDTH as f64).sqrt();
    let weights: Vec<Vec<f64>> = (0..NET_DEPTH)
        .map(|_| {
            (0..NET_WIDTH * NET_WIDTH)
                .map(|_| scale * normal())
                .collect()
        })
        .collect();
    let mut h: Vec<f64> = (0..NET_BATCH * NET_WIDTH).map(|_| normal()).collect();
    let top_gradient: Vec<f64> = (0..NET_BATCH * NET_WIDTH).map(|_| normal()).collect();
    let log_rms = |v: &[f64]| {
        if v.iter().any(|x| !x.is_finite()) {
            return NET_CLIP;
        }
        let rms = (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
        rms.max(1e-300).log10().clamp(-NET_CLIP, NET_CLIP)
    };
    // h · Wᵀ (forwards) or g · W (backwards), row by row.
    let multiply = |v: &[f64], w: &[f64], transpose: bool| -> Vec<f64> {
        let mut out = vec![0.0; v.len()];
        for (row, out_row) in v.chunks(NET_WIDTH).zip(out.chunks_mut(NET_WIDTH)) {
            for (j, o) in out_row.iter_mut().enumerate() {
                *o = (0..NET_WIDTH)
                    .map(|k| {
                        let weight = if transpose {
                            w[j * NET_WIDTH + k]
                        } else {
                            w[k * NET_WIDTH + j]
                        };
                        row[k] * weight
                    })
                    .sum();
            }
        }
        out
    };
    let program = Program::new(expr);
    let mut out = Vec::with_capacity(2 * NET_DEPTH);
    let mut slopes: Vec<Vec<f64>> = Vec::with_capacity(NET_DEPTH);
    for w in &weights {
        let z = multiply(&h, w, true);
        let e = program.eval_f64(&z, [PARAM_INIT; 3]);
        h = e.y;
        out.push(log_rms(&h));
        slopes.push(e.dy_dx);
    }
    let mut g = top_gradient;
    let mut backwards = Vec::with_capacity(NET_DEPTH);
    for (w, slope) in weights.iter().zip(&slopes).rev() {
        for (gi, s) in g.iter_mut().zip(slope) {
            *gi *= s;
        }
        backwards.push(log_rms(&g));
        g = multiply(&g, w, false);
    }
    out.extend(backwards);
    out
}

/// The fitness the screen learns from for each trained form: its standing fitness, or, in a
/// search with rungs (`with_rungs`), its best first run at rung 0 — the fitness every child gets,
/// comparable across forms.
pub fn learned_fitness(
    store: &Store,
    with_rungs: bool,
) -> Result<std::collections::HashMap<i64, f64>, SearchError> {
    let mut out = std::collections::HashMap::new();
    if with_rungs {
        for e in store.evaluations()? {
            if let (0, 0, Some(f)) = (e.rung, e.replicate, e.fitness) {
                let best = out.entry(e.candidate).or_insert(f);
                *best = f64::max(*best, f);
            }
        }
    } else {
        for c in store.candidates()? {
            if let Some(f) = c.fitness {
                out.insert(c.id, f);
            }
        }
    }
    Ok(out)
}

/// Features of a form that only the training engine can compute: statistics of the search's
/// own network at initialisation with the form at every site, each a log10 spread (the CLI's
/// probe: `pangaea_train::InitProbe`). Must be deterministic: a resumed search screens by them.
pub trait NetworkProbe {
    /// The features of `form` (its text as [`Expr`] prints it); the same length for every form.
    ///
    /// # Errors
    ///
    /// A message when the network cannot be built with the form.
    fn features(&self, form: &str) -> Result<Vec<f64>, String>;
}

/// A [`NetworkProbe`] with its answers kept: a search asks for the same trained forms'
/// features every generation.
pub struct OwnNetwork {
    probe: Box<dyn NetworkProbe>,
    known: std::sync::Mutex<std::collections::HashMap<String, Vec<f64>>>,
}

impl OwnNetwork {
    /// Wraps `probe`.
    pub fn new(probe: Box<dyn NetworkProbe>) -> OwnNetwork {
        OwnNetwork {
            probe,
            known: Default::default(),
        }
    }

    /// The probe's features of `form`, weighted like [`network_features`].
    ///
    /// # Errors
    ///
    /// [`SearchError::Screen`] naming the form when the probe fails on it.
    pub fn features(&self, form: &Expr) -> Result<Vec<f64>, SearchError> {
        let text = form.to_string();
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = known.get(&text) {
            return Ok(f.clone());
        }
        let f: Vec<f64> = self
            .probe
            .features(&text)
            .map_err(|e| SearchError::Screen(format!("the search's network with `{text}`: {e}")))?
            .into_iter()
            .map(|v| NET_WEIGHT * v)
            .collect();
        known.insert(text, f.clone());
        Ok(f)
    }
}

impl std::fmt::Debug for OwnNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnNetwork").finish_non_exhaustive()
    }
}

/// Which features the pre-screen compares forms by, besides the outputs ([`features`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct FeatureSet<'a> {
    /// The random deep MLP's ([`network_features`]).
    pub network: bool,
    /// The search's own network at initialisation.
    pub own_network: Option<&'a OwnNetwork>,
}

/// A form's features for the pre-screen: [`features`], followed by the weighted
/// [`network_features`] and the own network's when `set` asks for them.
///
/// # Errors
///
/// When the own network's probe fails on the form.
pub fn describe(expr: &Expr, xs: &[f64], set: FeatureSet<'_>) -> Result<Vec<f64>, SearchError> {
    let mut f = features(expr, xs);
    if set.network {
        f.extend(network_features(expr).into_iter().map(|v| NET_WEIGHT * v));
    }
    if let Some(own) = set.own_network {
        f.extend(own.features(expr)?);
    }
    Ok(f)
}

/// The mean fitness of the `k` trained forms nearest to `query` (Euclidean distance over the
/// features; ties broken by history order), or None with fewer than `k` in `history`.
pub fn predict(history: &[(Vec<f64>, f64)], query: &[f64], k: usize) -> Option<f64> {
    if k == 0 || history.len() < k {
        return None;
    }
    let mut by_distance: Vec<(f64, f64)> = history
        .iter()
        .map(|(f, fitness)| {
            let d: f64 = f.iter().zip(query).map(|(a, b)| (a - b).powi(2)).sum();
            (d, *fitness)
        })
        .collect();
    by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(by_distance[..k].iter().map(|(_, f)| f).sum::<f64>() / k as f64)
}

/// Spearman's rank correlation of two samples (average ranks for ties), or None with fewer
/// than 3 pairs or no spread in either.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 3 {
        return None;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let mean = (n + 1.0) / 2.0;
    let cov: f64 = ra
        .iter()
        .zip(&rb)
        .map(|(x, y)| (x - mean) * (y - mean))
        .sum();
    let va: f64 = ra.iter().map(|x| (x - mean).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mean).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// 1-based ranks, ties sharing their average rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// What the screen would have done on a stored search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Replay {
    /// Neighbours averaged.
    pub k: usize,
    /// Fraction of each generation's children skipped.
    pub skip_fraction: f64,
    /// Trained forms that got a prediction (the first generations have too little history).
    pub predicted: usize,
    /// Spearman's correlation of prediction and trained fitness over them.
    pub spearman: Option<f64>,
    /// Forms the screen would have skipped.
    pub skipped: usize,
    /// Training seconds of their evaluations (every version and run), and of all evaluations.
    pub seconds_skipped: f64,
    /// Training seconds of every evaluation of the search.
    pub seconds_total: f64,
    /// The search's best form, and whether the screen would have skipped it.
    pub best: Option<(i64, String, bool)>,
    /// The best fitness among the forms that would have been kept.
    pub best_kept_fitness: Option<f64>,
}

/// Replays the screen over a stored search: for generation g ≥ 1, each evaluated child is
/// predicted from the evaluated forms of generations before g (what the search knew when it
/// planned g), and the `skip_fraction` of each generation's predicted children with the lowest
/// predictions is counted as skipped.
pub fn replay(
    store: &Store,
    k: usize,
    skip_fraction: f64,
    set: FeatureSet<'_>,
) -> Result<Replay, SearchError> {
    let xs = samples();
    let candidates = store.candidates()?;
    let evaluations = store.evaluations()?;
    let seconds_of = |candidate: i64| -> f64 {
        evaluations
            .iter()
            .filter(|e| e.candidate == candidate)
            .filter_map(|e| e.wall_seconds)
            .sum()
    };
    let fitness = learned_fitness(store, store.config()?.fidelity.enabled())?;
    let evaluated: Vec<(usize, i64, Expr, f64)> = candidates
        .iter()
        .filter(|c| c.state == CandidateState::Evaluated)
        .filter_map(|c| {
            let expr = Expr::parse(&c.expr).ok()?;
            Some((c.generation, c.id, expr, *fitness.get(&c.id)?))
        })
        .collect();
    // Each form's features once, not once per later generation.
    let feats: Vec<Vec<f64>> = evaluated
        .iter()
        .map(|e| describe(&e.2, &xs, set))
        .collect::<Result<_, _>>()?;
    let generations = evaluated.iter().map(|e| e.0).max().unwrap_or(0);
    let mut predictions: Vec<f64> = Vec::new();
    let mut actual: Vec<f64> = Vec::new();
    let mut skipped_ids: Vec<i64> = Vec::new();
    for g in 1..=generations {
        let history: Vec<(Vec<f64>, f64)> = evaluated
            .iter()
            .zip(&feats)
            .filter(|(e, _)| e.0 < g)
            .map(|(e, f)| (f.clone(), e.3))
            .collect();
        let mut this: Vec<(f64, i64)> = Vec::new();
        for (e, f) in evaluated.iter().zip(&feats).filter(|(e, _)| e.0 == g) {
            if let Some(p) = predict(&history, f, k) {
                predictions.push(p);
                actual.push(e.3);
                this.push((p, e.1));
            }
        }
        this.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let skip = (skip_fraction * this.len() as f64).floor() as usize;
        skipped_ids.extend(this[..skip].iter().map(|t| t.1));
    }
    let best = store.top_forms(1)?.into_iter().next().map(|t| {
        let id = t.candidate.id;
        (id, t.candidate.expr.clone(), skipped_ids.contains(&id))
    });
    let best_kept_fitness = evaluated
        .iter()
        .filter(|e| !skipped_ids.contains(&e.1))
        .map(|e| e.3)
        .fold(None, |m: Option<f64>, f| Some(m.map_or(f, |m| m.max(f))));
    Ok(Replay {
        k,
        skip_fraction,
        predicted: predictions.len(),
        spearman: spearman(&predictions, &actual),
        skipped: skipped_ids.len(),
        seconds_skipped: skipped_ids.iter().map(|&id| seconds_of(id)).sum(),
        seconds_total: evaluations.iter().filter_map(|e| e.wall_seconds).sum(),
        best,
        best_kept_fitness,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_fixed_and_look_normal() {
        let xs = samples();
        assert_eq!(xs, samples());
        assert_eq!(xs.len(), SAMPLES);
        let mean = xs.iter().sum::<f64>() / SAMPLES as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / SAMPLES as f64;
        assert!(mean.abs() < 0.3 && (var - 1.0).abs() < 0.4, "{mean} {var}");
    }

    #[test]
    fn near_functions_have_near_features_and_predictions_follow_neighbours() {
        let xs = samples();
        let f = |t: &str| features(&t.parse().unwrap(), &xs);
        let d =
            |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum() };
        let swish = f("x * sigmoid(x)");
        assert!(
            d(&swish, &f("x * sigmoid(alpha * x)")) < 1e-20,
            "α starts at 1"
        );
        assert!(d(&swish, &f("gelu(x)")) < d(&swish, &f("tanh(x)")));
        let history = vec![
            (f("x * sigmoid(x)"), 0.8),
            (f("gelu(x)"), 0.78),
            (f("sin(x)"), 0.2),
            (f("exp(x)"), 0.1),
        ];
        let p = predict(&history, &f("swish(x)"), 2).unwrap();
        assert!((p - 0.79).abs() < 1e-12, "{p}");
        assert_eq!(predict(&history, &swish, 5), None);
    }

    #[test]
    fn network_features_see_vanishing_and_exploding_signal() {
        let f = |t: &str| network_features(&t.parse().unwrap());
        let relu = f("relu(x)");
        assert_eq!(relu.len(), 2 * NET_DEPTH);
        assert_eq!(relu, f("max(x, 0)"), "fixed network, same function");
        // He initialisation keeps ReLU's signal near 1 at every layer, forwards and backwards.
        assert!(relu.iter().all(|v| v.abs() < 1.0), "{relu:?}");
        // A squashing function with slope 0.25 (sigmoid) loses gradient layer after layer.
        let sigmoid = f("sigmoid(x)");
        assert!(
            sigmoid[2 * NET_DEPTH - 1] < relu[2 * NET_DEPTH - 1] - 1.5,
            "{sigmoid:?}"
        );
        // exp(x) blows up.
        let exp = f("exp(x)");
        assert_eq!(exp[NET_DEPTH - 1], NET_CLIP, "{exp:?}");
        let xs = samples();
        let tanh = "tanh(x)".parse().unwrap();
        let with_mlp = FeatureSet {
            network: true,
            own_network: None,
        };
        let d = describe(&tanh, &xs, with_mlp).unwrap();
        assert_eq!(d.len(), 2 * SAMPLES + 2 * NET_DEPTH);
        let d = describe(&tanh, &xs, FeatureSet::default()).unwrap();
        assert_eq!(d.len(), 2 * SAMPLES);
    }

    /// A probe that answers the form's text length and counts its calls.
    struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl NetworkProbe for Counting {
        fn features(&self, form: &str) -> Result<Vec<f64>, String> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if form.contains("exp") {
                return Err("cannot build".into());
            }
            Ok(vec![form.len() as f64, 1.0])
        }
    }

    #[test]
    fn the_own_network_features_are_weighted_kept_and_name_the_form_on_failure() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let own = OwnNetwork::new(Box::new(Counting(calls.clone())));
        let xs = samples();
        let set = FeatureSet {
            network: false,
            own_network: Some(&own),
        };
        let relu: Expr = "relu(x)".parse().unwrap();
        let d = describe(&relu, &xs, set).unwrap();
        assert_eq!(d.len(), 2 * SAMPLES + 2);
        assert_eq!(d[2 * SAMPLES..], [NET_WEIGHT * 7.0, NET_WEIGHT]);
        assert_eq!(d[..2 * SAMPLES], features(&relu, &xs));
        assert_eq!(d, describe(&relu, &xs, set).unwrap());
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "asked once, kept"
        );
        let err = describe(&"exp(x)".parse().unwrap(), &xs, set).unwrap_err();
        assert!(err.to_string().contains("`exp(x)`: cannot build"), "{err}");
    }

    #[test]
    fn spearman_of_known_samples() {
        assert_eq!(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]),
            Some(1.0)
        );
        assert_eq!(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]),
            Some(-1.0)
        );
        // Ties share ranks: ranks of b are 1.5, 1.5, 3, 4.
        let r = spearman(&[1.0, 2.0, 3.0, 4.0], &[5.0, 5.0, 6.0, 7.0]).unwrap();
        assert!((r - 0.948_683_298).abs() < 1e-6, "{r}");
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }
}
