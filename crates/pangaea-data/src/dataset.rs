//! The in-memory dataset: `u8` images in C×H×W planes, one label per image.

use crate::error::DataError;
use crate::split::{stratified_split, SplitIndices};

/// A labelled image dataset held as plain memory.
///
/// Image `i` occupies `images[i * image_len() .. (i + 1) * image_len()]`, laid out as
/// `channels` planes of `height` rows of `width` bytes (C×H×W, the layout of the CIFAR binary
/// files and of burn's `[B, C, H, W]` tensors). `labels[i]` is its class, below `num_classes`.
///
/// The fields are public so that callers can build datasets of their own; [`Dataset::new`] and
/// [`Dataset::validate`] check that they agree. Share one between threads as `Arc<Dataset>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Which dataset and part this is, for messages: `cifar10/train`, `synthetic/test`, ….
    pub name: String,
    /// Channels per image (3 for CIFAR, 1 for MNIST).
    pub channels: usize,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
    /// Number of classes; every label is below it.
    pub num_classes: usize,
    /// One name per class, `num_classes` of them.
    pub class_names: Vec<String>,
    /// All images, C×H×W each, one after the other.
    pub images: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u16>,
}

/// The two parts a dataset is published as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainTest {
    /// The training set (split it with [`Dataset::split_validation`] for a validation set).
    pub train: Dataset,
    /// The test set: only for final evaluation, never for selection.
    pub test: Dataset,
}

impl Dataset {
    /// Builds a dataset and checks it with [`Dataset::validate`].
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the public fields one to one"
    )]
    pub fn new(
        name: impl Into<String>,
        channels: usize,
        height: usize,
        width: usize,
        num_classes: usize,
        class_names: Vec<String>,
        images: Vec<u8>,
        labels: Vec<u16>,
    ) -> Result<Self, DataError> {
        let dataset = Dataset {
            name: name.into(),
            channels,
            height,
            width,
            num_classes,
            class_names,
            images,
            labels,
        };
        dataset.validate()?;
        Ok(dataset)
    }

    /// Checks that the fields agree: non-zero image size, `images.len() == len() *
    /// image_len()`, one class name per class, every label below `num_classes`.
    pub fn validate(&self) -> Result<(), DataError> {
        let fail = |reason: String| {
            Err(DataError::Inconsistent {
                name: self.name.clone(),
                reason,
            })
        };
        if self.channels == 0 || self.height == 0 || self.width == 0 {
            return fail(format!(
                "image shape {}×{}×{} has a zero dimension",
                self.channels, self.height, self.width
            ));
        }
        if self.num_classes == 0 || self.num_classes > usize::from(u16::MAX) + 1 {
            return fail(format!(
                "num_classes {} is not in 1..=65536",
                self.num_classes
            ));
        }
        if self.class_names.len() != self.num_classes {
            return fail(format!(
                "{} class names for {} classes",
                self.class_names.len(),
                self.num_classes
            ));
        }
        let expected = self.labels.len().checked_mul(self.image_len());
        if expected != Some(self.images.len()) {
            return fail(format!(
                "{} image bytes for {} labels of {} bytes each",
                self.images.len(),
                self.labels.len(),
                self.image_len()
            ));
        }
        if let Some((i, &label)) = self
            .labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= self.num_classes)
        {
            return fail(format!(
                "label {label} of image {i} is not below num_classes {}",
                self.num_classes
            ));
        }
        Ok(())
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the dataset holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes per image: `channels * height * width`.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The C×H×W bytes of image `index`.
    ///
    /// # Panics
    /// When `index >= len()`.
    pub fn image(&self, index: usize) -> &[u8] {
        assert!(
            index < self.len(),
            "image index {index} out of range for dataset `{}` of {} images",
            self.name,
            self.len()
        );
        let n = self.image_len();
        &self.images[index * n..(index + 1) * n]
    }

    /// How many images each class has, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &label in &self.labels {
            if let Some(c) = counts.get_mut(usize::from(label)) {
                *c += 1;
            }
        }
        counts
    }

    /// A new dataset made of the images at `indices`, in that order, named `name`.
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn subset(&self, name: impl Into<String>, indices: &[usize]) -> Dataset {
        let n = self.image_len();
        let mut images = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            name: name.into(),
            channels: self.channels,
            height: self.height,
            width: self.width,
            num_classes: self.num_classes,
            class_names: self.class_names.clone(),
            images,
            labels,
        }
    }

    /// Holds out a validation set: `fraction` of each class, chosen with `seed`
    /// (see [`stratified_split`]). Returns `(train, validation)`, named `<name>:train` and
    /// `<name>:validation`; with `fraction = 0.0` the validation set is empty.
    ///
    /// CIFAR-10 with the default fraction 0.1 gives 45,000 / 5,000, 500 per class.
    pub fn split_validation(
        &self,
        fraction: f64,
        seed: u64,
    ) -> Result<(Dataset, Dataset), DataError> {
        let SplitIndices { train, validation } =
            stratified_split(&self.labels, self.num_classes, fraction, seed)?;
        Ok((
            self.subset(format!("{}:train", self.name), &train),
            self.subset(format!("{}:validation", self.name), &validation),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        Dataset::new(
            "tiny",
            1,
            1,
            2,
            3,
            vec!["a".into(), "b".into(), "c".into()],
            vec![0, 1, 10, 11, 20, 21, 30, 31],
            vec![0, 1, 2, 1],
        )
        .unwrap()
    }

    #[test]
    fn image_and_subset_follow_the_layout() {
        let d = tiny();
        assert_eq!(d.len(), 4);
        assert_eq!(d.image(2), &[20, 21]);
        assert_eq!(d.class_counts(), vec![1, 2, 1]);
        let s = d.subset("s", &[3, 0]);
        assert_eq!(s.images, vec![30, 31, 0, 1]);
        assert_eq!(s.labels, vec![1, 0]);
    }

    #[test]
    fn validate_names_what_disagrees() {
        let mut d = tiny();
        d.labels[3] = 7;
        let msg = d.validate().unwrap_err().to_string();
        assert!(msg.contains("label 7 of image 3"), "{msg}");
        let mut d = tiny();
        d.images.pop();
        let msg = d.validate().unwrap_err().to_string();
        assert!(msg.contains("7 image bytes for 4 labels"), "{msg}");
        let mut d = tiny();
        d.class_names.pop();
        assert!(d.validate().is_err());
    }

    #[test]
    #[should_panic = "image index 4 out of range for dataset `tiny` of 4 images"]
    fn image_out_of_range_panics_with_the_index() {
        tiny().image(4);
    }
}
