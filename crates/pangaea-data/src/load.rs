//! Loading a dataset by name, and preparing the train/validation/test triple a training run
//! needs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cifar::{
    read_cifar10, read_cifar100, Cifar100Labels, CIFAR100_TEST_FILE, CIFAR100_TRAIN_FILE,
    CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES,
};
use crate::dataset::{Dataset, TrainTest};
use crate::error::DataError;
use crate::idx::{find_idx_file, read_idx_pair, IDX_FILES};
use crate::location::{locate, resolve_data_root};
use crate::normalize::Normalization;
use crate::synthetic::{generate, SyntheticConfig};
use pangaea_wire::DatasetName;

/// MNIST class names, by label.
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Fashion-MNIST class names, by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// How to find and read a dataset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    /// The data root (`--data-dir`); `None` falls back to `$PANGAEA_DATA`, then the per-user
    /// cache folder (see [`crate::location`]).
    pub data_dir: Option<PathBuf>,
    /// Fine (default) or coarse CIFAR-100 classes.
    pub cifar100_labels: Cifar100Labels,
    /// How to generate `synthetic`.
    pub synthetic: SyntheticConfig,
}

impl LoadOptions {
    /// Default options with the data root `dir`.
    pub fn with_data_dir(dir: impl Into<PathBuf>) -> Self {
        LoadOptions {
            data_dir: Some(dir.into()),
            ..LoadOptions::default()
        }
    }
}

/// A loaded dataset and the folder it came from (`None` for synthetic).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// Train and test parts.
    pub data: TrainTest,
    /// The folder the files were read from.
    pub location: Option<PathBuf>,
}

/// Loads train and test sets of `name`, searching the data root of `options` (see
/// [`crate::location`]); `synthetic` is generated instead.
pub fn load(name: DatasetName, options: &LoadOptions) -> Result<TrainTest, DataError> {
    load_located(name, options).map(|l| l.data)
}

/// [`load`], also returning the folder the files were read from.
pub fn load_located(name: DatasetName, options: &LoadOptions) -> Result<Loaded, DataError> {
    if name == DatasetName::Synthetic {
        return Ok(Loaded {
            data: generate(&options.synthetic)?,
            location: None,
        });
    }
    let root = resolve_data_root(options.data_dir.as_deref());
    let dir = locate(name, root.as_deref())?;
    let data = load_from_dir(name, &dir, options)?;
    Ok(Loaded {
        data,
        location: Some(dir),
    })
}

/// Reads `name` from the folder `dir` that holds its files directly (no searching).
pub fn load_from_dir(
    name: DatasetName,
    dir: &Path,
    options: &LoadOptions,
) -> Result<TrainTest, DataError> {
    let part = |p: &str| format!("{name}/{p}");
    match name {
        DatasetName::Cifar10 => {
            let train: Vec<PathBuf> = CIFAR10_TRAIN_FILES.iter().map(|f| dir.join(f)).collect();
            Ok(TrainTest {
                train: read_cifar10(&part("train"), &train)?,
                test: read_cifar10(&part("test"), &[dir.join(CIFAR10_TEST_FILE)])?,
            })
        }
        DatasetName::Cifar100 => Ok(TrainTest {
            train: read_cifar100(
                &part("train"),
                &dir.join(CIFAR100_TRAIN_FILE),
                options.cifar100_labels,
            )?,
            test: read_cifar100(
                &part("test"),
                &dir.join(CIFAR100_TEST_FILE),
                options.cifar100_labels,
            )?,
        }),
        DatasetName::Mnist | DatasetName::FashionMnist => {
            let classes: &[&str] = if name == DatasetName::Mnist {
                &MNIST_CLASSES
            } else {
                &FASHION_MNIST_CLASSES
            };
            let file = |f: &str| find_idx_file(dir, f).unwrap_or_else(|| dir.join(f));
            let train = read_idx_part(
                &part("train"),
                &file(IDX_FILES[0]),
                &file(IDX_FILES[1]),
                classes,
                None,
            )?;
            let shape = Some((train.height, train.width));
            let test = read_idx_part(
                &part("test"),
                &file(IDX_FILES[2]),
                &file(IDX_FILES[3]),
                classes,
                shape,
            )?;
            Ok(TrainTest { train, test })
        }
        DatasetName::Synthetic => generate(&options.synthetic),
    }
}

fn read_idx_part(
    name: &str,
    images: &Path,
    labels: &Path,
    classes: &[&str],
    shape: Option<(usize, usize)>,
) -> Result<Dataset, DataError> {
    let (images, labels) = read_idx_pair(images, labels, classes.len(), shape)?;
    Dataset::new(
        name,
        1,
        images.height,
        images.width,
        classes.len(),
        classes.iter().map(|s| (*s).to_owned()).collect(),
        images.pixels,
        labels,
    )
}

/// Everything a training run needs from the data side, ready to hand to
/// [`crate::BatchLoader`]s: the three parts behind `Arc`s and the normalization of the
/// training split.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// Which dataset.
    pub name: DatasetName,
    /// The training split (the training set minus the validation set).
    pub train: Arc<Dataset>,
    /// The held-out validation split (empty when the fraction is 0).
    pub validation: Arc<Dataset>,
    /// The official test set.
    pub test: Arc<Dataset>,
    /// Channel mean/std of `train`, to normalize all three parts.
    pub normalization: Normalization,
}

/// Loads `name`, holds out a stratified `validation_fraction` of the training set with
/// `seed`, and computes the normalization from what remains for training.
///
/// Use [`crate::DEFAULT_VALIDATION_FRACTION`] (0.1) during search; 0.0 trains on the full training
/// set (final runs, measured on the test set).
pub fn prepare(
    name: DatasetName,
    options: &LoadOptions,
    validation_fraction: f64,
    seed: u64,
) -> Result<PreparedData, DataError> {
    let data = load(name, options)?;
    prepare_from(name, data, validation_fraction, seed)
}

/// [`prepare`] for data already loaded.
pub fn prepare_from(
    name: DatasetName,
    data: TrainTest,
    validation_fraction: f64,
    seed: u64,
) -> Result<PreparedData, DataError> {
    let (train, validation) = data.train.split_validation(validation_fraction, seed)?;
    let normalization = Normalization::from_dataset(&train);
    Ok(PreparedData {
        name,
        train: Arc::new(train),
        validation: Arc::new(validation),
        test: Arc::new(data.test),
        normalization,
    })
}
