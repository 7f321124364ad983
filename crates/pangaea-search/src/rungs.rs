//! How well a multi-fidelity search's cheap rungs predicted its expensive ones, measured on the
//! stored search (`[fidelity]`): for every version trained at two rungs (its first runs), the
//! Spearman correlation between its fitness at the lower rung and its validation accuracy at
//! the higher, once with validation accuracy and once with validation loss as the lower rung's
//! metric. It says whether the rungs are worth their savings, and which fitness metric ranks
//! better under a preset (issue 11). Promoted versions are the best of their rung by the
//! search's metric, so the correlation is measured on a restricted range and understates the
//! full one; compare the two metrics with each other, not with a correlation on all versions.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::SearchError;
use crate::screen::spearman;
use crate::store::Store;

/// The agreement between two rungs of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RungAgreement {
    /// The lower rung.
    pub from: usize,
    /// The higher rung (the top rung is the full recipe).
    pub to: usize,
    /// Versions trained at both (first runs that finished ok at both).
    pub versions: usize,
    /// Spearman ρ of validation accuracy at `from` with validation accuracy at `to`.
    pub accuracy: Option<f64>,
    /// Spearman ρ of −validation loss at `from` with validation accuracy at `to`.
    pub loss: Option<f64>,
}

/// Every pair of rungs with versions trained at both: each rung with the next one, and rung 0
/// with the top rung. Empty for a search without rungs.
pub fn agreement(store: &Store) -> Result<Vec<RungAgreement>, SearchError> {
    let top = store.config()?.fidelity.top();
    if top == 0 {
        return Ok(Vec::new());
    }
    // (candidate, version) → rung → (val accuracy, val loss) of its first run there.
    let mut metrics: HashMap<(i64, usize), HashMap<usize, (f64, f64)>> = HashMap::new();
    for e in store.evaluations()? {
        if e.replicate != 0 || e.fitness.is_none() {
            continue;
        }
        let Ok(Some(result)) = e.result() else {
            continue;
        };
        if let (Some(a), Some(l)) = (result.val_accuracy, result.val_loss) {
            if a.is_finite() && l.is_finite() {
                metrics
                    .entry((e.candidate, e.version))
                    .or_default()
                    .insert(e.rung, (a, l));
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = (0..top).map(|r| (r, r + 1)).collect();
    if top > 1 {
        pairs.push((0, top));
    }
    let mut keys: Vec<&(i64, usize)> = metrics.keys().collect();
    keys.sort_unstable();
    Ok(pairs
        .into_iter()
        .map(|(from, to)| {
            let (mut acc, mut loss, mut target) = (Vec::new(), Vec::new(), Vec::new());
            for key in &keys {
                let m = &metrics[*key];
                if let (Some(low), Some(high)) = (m.get(&from), m.get(&to)) {
                    acc.push(low.0);
                    loss.push(-low.1);
                    target.push(high.0);
                }
            }
            RungAgreement {
                from,
                to,
                versions: target.len(),
                accuracy: spearman(&acc, &target),
                loss: spearman(&loss, &target),
            }
        })
        .collect())
}
