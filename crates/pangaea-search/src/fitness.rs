//! Fitness of a result (docs/method.md §3), and a fake fitness for tests and demos.

use pangaea_expr::{Expr, Program};
use pangaea_wire::{EvalRequest, EvalResult, Status};

use crate::config::FitnessMetric;

/// The fitness of a result, higher is better: `val_accuracy`, or `−val_loss`. `None` (the worst
/// fitness) unless the run finished with a finite value: diverged, rejected and failed runs
/// rank below every finished one (docs/method.md §4).
pub fn fitness(metric: FitnessMetric, result: &EvalResult) -> Option<f64> {
    if result.status != Status::Ok {
        return None;
    }
    let value = match metric {
        FitnessMetric::ValAccuracy => result.val_accuracy?,
        FitnessMetric::ValLoss => -result.val_loss?,
    };
    value.is_finite().then_some(value)
}

/// Orders two fitness values, best first: larger is better, `None` is the worst.
pub fn compare_best_first(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// Orders two standings best first, each a ranking score and the rung it was measured at
/// (`[fidelity]`): any score before none (a run that failed at its highest rung ranks last),
/// then the higher rung, then the higher score. Scores of different rungs are never compared.
pub fn compare_ranked(a: (Option<f64>, usize), b: (Option<f64>, usize)) -> std::cmp::Ordering {
    match (a.0, b.0) {
        (Some(_), Some(_)) => b.1.cmp(&a.1).then(compare_best_first(a.0, b.0)),
        _ => compare_best_first(a.0, b.0),
    }
}

/// The parameter values the fake fitness evaluates at: different from the initial 1.0 so that
/// different parametric versions of one form score differently.
const FAKE_PARAMS: [f64; 3] = [1.1, 0.9, 1.2];

/// FOR TESTS AND DEMOS ONLY — no network is trained. A deterministic function of the request's
/// activation: how close it is to Swish (x·σ(x)) on 61 points of [−3, 3], with the parameters at
/// (1.1, 0.9, 1.2). `val_loss` is the mean squared difference, `val_accuracy` is
/// 1 / (1 + val_loss); a non-finite value gives `diverged`, an activation that does not parse
/// gives `rejected`. Used by the in-process executor in tests, and by `executor.kind = "fake"`
/// (`pangaea search --fake-fitness`) to exercise the search machinery in seconds.
pub fn fake_result(request: &EvalRequest) -> EvalResult {
    let label = request.label.clone();
    let expr = match Expr::parse(&request.activation) {
        Ok(expr) => expr,
        Err(e) => {
            return EvalResult::not_run(
                label,
                &request.activation,
                Status::Rejected,
                format!("does not parse: {e}"),
            )
        }
    };
    let xs: Vec<f64> = (0..61).map(|i| -3.0 + 0.1 * i as f64).collect();
    let ys = Program::new(&expr).values(&xs, FAKE_PARAMS);
    let mse = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| {
            let target = x / (1.0 + (-x).exp());
            (y - target).powi(2)
        })
        .sum::<f64>()
        / xs.len() as f64;
    let canonical = expr.canonical_text();
    if !mse.is_finite() {
        let mut result = EvalResult::not_run(
            label,
            &canonical,
            Status::Diverged,
            "fake fitness: non-finite value on [-3, 3]".to_owned(),
        );
        result.diverged_epoch = Some(1);
        return result;
    }
    let mut result = EvalResult::not_run(label, &canonical, Status::Ok, String::new());
    result.reason = None;
    result.val_loss = Some(mse);
    result.val_accuracy = Some(1.0 / (1.0 + mse));
    result.device = "fake fitness (no training)".to_owned();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(activation: &str) -> EvalRequest {
        EvalRequest {
            activation: activation.to_owned(),
            ..EvalRequest::default()
        }
    }

    #[test]
    fn fake_fitness_depends_on_the_expression_and_its_parameters() {
        let swish = fake_result(&request("x * sigmoid(x)"));
        assert_eq!(swish.status, Status::Ok);
        assert!(swish.val_accuracy.unwrap() > 0.999);
        let relu = fake_result(&request("relu(x)"));
        assert!(relu.val_accuracy.unwrap() < swish.val_accuracy.unwrap());
        let a = fake_result(&request("alpha * relu(x)"));
        let b = fake_result(&request("relu(alpha * x) * beta"));
        assert_ne!(a.val_accuracy, b.val_accuracy);
        assert_eq!(fake_result(&request("relu(")).status, Status::Rejected);
        assert_eq!(
            fake_result(&request("reciprocal(x - x)")).status,
            Status::Diverged
        );
    }

    #[test]
    fn fitness_follows_the_metric_and_ranks_failures_last() {
        let r = fake_result(&request("tanh(x)"));
        let acc = fitness(FitnessMetric::ValAccuracy, &r).unwrap();
        let loss = fitness(FitnessMetric::ValLoss, &r).unwrap();
        assert_eq!(acc, r.val_accuracy.unwrap());
        assert_eq!(loss, -r.val_loss.unwrap());
        let bad = fake_result(&request("reciprocal(x - x)"));
        assert_eq!(fitness(FitnessMetric::ValAccuracy, &bad), None);
        use std::cmp::Ordering::*;
        assert_eq!(compare_best_first(Some(0.9), Some(0.5)), Less);
        assert_eq!(compare_best_first(None, Some(0.5)), Greater);
        // A higher rung outranks a better score at a lower one; failing ranks last anywhere.
        assert_eq!(compare_ranked((Some(0.5), 1), (Some(0.9), 0)), Less);
        assert_eq!(compare_ranked((Some(0.9), 1), (Some(0.5), 1)), Less);
        assert_eq!(compare_ranked((None, 2), (Some(0.1), 0)), Greater);
        assert_eq!(compare_ranked((None, 2), (None, 0)), Equal);
    }
}
