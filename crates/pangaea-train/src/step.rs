//! One training step and one evaluation pass: the only code that touches tensors, shared by
//! [`crate::run`] and [`crate::bench`] so that the benchmark measures what training does.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{activation::log_softmax, Device, Int, Tensor, TensorData};
use pangaea_data::{Batch, BatchLoader};
use pangaea_nn::Net;

use crate::optimizer::SgdOptimizer;

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepOutcome {
    /// Mean cross-entropy of the batch (before the update); non-finite means divergence, and
    /// then no update was made.
    pub loss: f64,
    /// Images of the batch the network classified correctly (before the update).
    pub correct: usize,
}

/// Images and labels of a batch as tensors on `device`: `[B, C, H, W]` and `[B]`.
pub(crate) fn batch_tensors(batch: Batch, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let shape = batch.shape();
    let labels = batch.labels_i64();
    let images = Tensor::<4>::from_data(TensorData::new(batch.images, shape), device);
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [shape[0]]), device);
    (images, labels)
}

/// Mean cross-entropy of `logits` `[B, K]` against class indices `labels` `[B]`.
pub(crate) fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    log_softmax(logits, 1)
        .gather(1, labels.reshape([batch, 1]))
        .mean()
        .neg()
}

/// Forward, loss, backward and optimizer update on one batch (autodiff device).
///
/// The loss is read back before the backward pass: a non-finite loss skips backward and update
/// and is returned for the caller to stop the run (docs/method.md §4).
pub(crate) fn train_step(
    net: Net,
    optim: &mut SgdOptimizer,
    lr: f64,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
) -> (Net, StepOutcome) {
    let logits = net.forward(images);
    let loss = cross_entropy(logits.clone(), labels.clone());
    let loss_value = f64::from(loss.clone().into_scalar::<f32>());
    if !loss_value.is_finite() {
        return (
            net,
            StepOutcome {
                loss: loss_value,
                correct: 0,
            },
        );
    }
    let correct = count_correct(logits.detach().into_data(), labels.into_data());
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    let net = optim.step(lr, net, grads);
    (
        net,
        StepOutcome {
            loss: loss_value,
            correct,
        },
    )
}

/// Loss and accuracy of a network over a whole dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EvalOutcome {
    /// Mean cross-entropy over all images; non-finite when any logit was.
    pub loss: f64,
    /// Fraction of images classified correctly.
    pub accuracy: f64,
    /// Images measured.
    pub images: usize,
}

/// Measures `net` in eval mode (batch-norm running statistics, no autodiff) on every batch of
/// `loader`, whose tensors go on `device` (a device without autodiff).
pub(crate) fn evaluate(net: &Net, loader: &BatchLoader, device: &Device) -> EvalOutcome {
    let net = net.valid();
    let mut loss_sum = 0.0f64;
    let mut correct = 0usize;
    let mut images = 0usize;
    for batch in loader.epoch(0) {
        let n = batch.len();
        let (x, y) = batch_tensors(batch, device);
        let logits = net.forward(x).into_data();
        let labels = y.into_data();
        let (sum, right) = loss_and_correct(logits, labels);
        loss_sum += sum;
        correct += right;
        images += n;
    }
    EvalOutcome {
        loss: if images == 0 {
            f64::NAN
        } else {
            loss_sum / images as f64
        },
        accuracy: if images == 0 {
            0.0
        } else {
            correct as f64 / images as f64
        },
        images,
    }
}

/// The logits `[B, K]` as row-major `f32` and `K`.
fn logits_rows(logits: TensorData) -> (Vec<f32>, usize) {
    let classes = logits.shape()[1];
    let values = logits
        .try_into_vec_as::<f32>()
        .expect("float logits read back as f32");
    (values, classes)
}

fn label_values(labels: TensorData) -> Vec<i64> {
    labels
        .try_into_vec_as::<i64>()
        .expect("int labels read back as i64")
}

/// Number of rows whose first maximal logit is at the label.
fn count_correct(logits: TensorData, labels: TensorData) -> usize {
    let (values, classes) = logits_rows(logits);
    let labels = label_values(labels);
    values
        .chunks_exact(classes)
        .zip(labels)
        .filter(|(row, label)| argmax(row) == usize::try_from(*label).ok())
        .count()
}

/// Summed cross-entropy (in f64, from the logits) and number correct over a batch.
fn loss_and_correct(logits: TensorData, labels: TensorData) -> (f64, usize) {
    let (values, classes) = logits_rows(logits);
    let labels = label_values(labels);
    let mut sum = 0.0f64;
    let mut correct = 0;
    for (row, label) in values.chunks_exact(classes).zip(labels) {
        let label = usize::try_from(label).expect("labels are class indices");
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let lse = max
            + row
                .iter()
                .map(|&v| (v as f64 - max).exp())
                .sum::<f64>()
                .ln();
        sum += lse - row[label] as f64;
        if argmax(row) == Some(label) {
            correct += 1;
        }
    }
    (sum, correct)
}

/// Index of the first maximum; `None` if the row holds a NaN (never counted as correct).
fn argmax(row: &[f32]) -> Option<usize> {
    if row.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_loss_and_accuracy_match_hand_values() {
        // Row 0: logits [0, ln 3] → p(label 1) = 3/4, loss = ln(4/3); argmax 1 = label → correct.
        // Row 1: logits [2, 2] → loss ln 2 for label 1, argmax 0 (first max) → wrong.
        let logits = TensorData::new(vec![0.0f32, 3f32.ln(), 2.0, 2.0], [2, 2]);
        let labels = TensorData::new(vec![1i64, 1], [2]);
        let (sum, correct) = loss_and_correct(logits.clone(), labels.clone());
        assert!((sum - ((4.0f64 / 3.0).ln() + 2f64.ln())).abs() < 1e-6);
        assert_eq!(correct, 1);
        assert_eq!(count_correct(logits, labels), 1);
    }

    #[test]
    fn a_nan_logit_is_never_correct_and_poisons_the_loss() {
        let logits = TensorData::new(vec![f32::NAN, 1.0], [1, 2]);
        let labels = TensorData::new(vec![1i64], [1]);
        let (sum, correct) = loss_and_correct(logits, labels);
        assert!(sum.is_nan());
        assert_eq!(correct, 0);
    }

    #[test]
    fn tensor_cross_entropy_matches_the_cpu_one() {
        let device = Device::default();
        let values = vec![0.5f32, -1.0, 2.0, 0.0, 0.25, -0.5];
        let logits = Tensor::<2>::from_data(TensorData::new(values.clone(), [2, 3]), &device);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0], [2]), &device);
        let tensor_loss = f64::from(cross_entropy(logits, labels).into_scalar::<f32>());
        let (sum, _) = loss_and_correct(
            TensorData::new(values, [2, 3]),
            TensorData::new(vec![2i64, 0], [2]),
        );
        assert!(
            (tensor_loss - sum / 2.0).abs() < 1e-5,
            "{tensor_loss} vs {}",
            sum / 2.0
        );
    }
}
