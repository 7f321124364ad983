//! Stratified, seeded train/validation split (docs/method.md §3: fitness is validation accuracy on
//! a set held out of the training set, 45,000 / 5,000 for CIFAR).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;
use crate::seed::derive_seed;

/// The validation fraction used unless asked otherwise: 10 % (45,000 / 5,000 for CIFAR).
pub const DEFAULT_VALIDATION_FRACTION: f64 = 0.1;

/// Indices into a dataset: which images train and which validate. Both lists are sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    /// Indices of the images that stay in the training set.
    pub train: Vec<usize>,
    /// Indices of the held-out validation images.
    pub validation: Vec<usize>,
}

/// Splits `labels` into train and validation indices, stratified by class and seeded.
///
/// The validation set gets `round(fraction * n)` images in total, shared among the classes in
/// proportion to their sizes (largest remainder, ties to the lower class), so each class keeps
/// its share in both parts. Which images of a class are held out is a seeded shuffle; the same
/// `(labels, fraction, seed)` always gives the same split.
///
/// Errors when `fraction` is not in `[0, 1)` or a label is not below `num_classes`.
pub fn stratified_split(
    labels: &[u16],
    num_classes: usize,
    fraction: f64,
    seed: u64,
) -> Result<SplitIndices, DataError> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(DataError::config(
            "validation fraction",
            format!("{fraction} is not in [0, 1)"),
        ));
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); num_classes];
    for (i, &label) in labels.iter().enumerate() {
        match by_class.get_mut(usize::from(label)) {
            Some(members) => members.push(i),
            None => {
                return Err(DataError::config(
                    "labels",
                    format!("label {label} of image {i} is not below num_classes {num_classes}"),
                ))
            }
        }
    }

    // Largest-remainder apportionment of the validation total among the classes.
    let total = (fraction * labels.len() as f64).round() as usize;
    let exact: Vec<f64> = by_class.iter().map(|m| fraction * m.len() as f64).collect();
    let mut quota: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let assigned: usize = quota.iter().sum();
    let mut order: Vec<usize> = (0..num_classes).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &class in order.iter().take(total.saturating_sub(assigned)) {
        if quota[class] < by_class[class].len() {
            quota[class] += 1;
        }
    }

    let mut train = Vec::with_capacity(labels.len() - total.min(labels.len()));
    let mut validation = Vec::with_capacity(total);
    for (class, members) in by_class.iter_mut().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, &[0x5_u64, class as u64]));
        members.shuffle(&mut rng);
        let (held, kept) = members.split_at(quota[class]);
        validation.extend_from_slice(held);
        train.extend_from_slice(kept);
    }
    train.sort_unstable();
    validation.sort_unstable();
    Ok(SplitIndices { train, validation })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balanced(per_class: usize, classes: u16) -> Vec<u16> {
        (0..per_class * usize::from(classes))
            .map(|i| (i % usize::from(classes)) as u16)
            .collect()
    }

    #[test]
    fn cifar_sized_split_is_45000_5000_and_500_per_class() {
        let labels = balanced(5000, 10);
        let split = stratified_split(&labels, 10, DEFAULT_VALIDATION_FRACTION, 1).unwrap();
        assert_eq!(split.train.len(), 45_000);
        assert_eq!(split.validation.len(), 5_000);
        let mut per_class = [0usize; 10];
        for &i in &split.validation {
            per_class[usize::from(labels[i])] += 1;
        }
        assert_eq!(per_class, [500; 10]);
    }

    #[test]
    fn split_is_a_partition_and_depends_only_on_the_seed() {
        let labels: Vec<u16> = (0..997u32).map(|i| ((i * 7) % 13 % 5) as u16).collect();
        let a = stratified_split(&labels, 5, 0.2, 42).unwrap();
        let b = stratified_split(&labels, 5, 0.2, 42).unwrap();
        let c = stratified_split(&labels, 5, 0.2, 43).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.validation, c.validation);
        assert_eq!(a.validation.len(), (0.2f64 * 997.0).round() as usize);
        let mut all: Vec<usize> = a.train.iter().chain(&a.validation).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..997).collect::<Vec<_>>());
    }

    #[test]
    fn uneven_classes_keep_their_proportions() {
        // 900 of class 0, 100 of class 1: 10 % gives 90 + 10.
        let labels: Vec<u16> = (0..1000).map(|i| u16::from(i >= 900)).collect();
        let split = stratified_split(&labels, 2, 0.1, 0).unwrap();
        let ones = split.validation.iter().filter(|&&i| labels[i] == 1).count();
        assert_eq!((split.validation.len(), ones), (100, 10));
    }

    #[test]
    fn zero_fraction_keeps_everything_and_bad_fractions_are_errors() {
        let labels = balanced(3, 2);
        let split = stratified_split(&labels, 2, 0.0, 0).unwrap();
        assert_eq!(split.train.len(), 6);
        assert!(split.validation.is_empty());
        for bad in [1.0, -0.1, f64::NAN] {
            let msg = stratified_split(&labels, 2, bad, 0)
                .unwrap_err()
                .to_string();
            assert!(msg.contains("validation fraction"), "{msg}");
        }
        let msg = stratified_split(&[0, 3], 2, 0.5, 0)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label 3 of image 1"), "{msg}");
    }
}
