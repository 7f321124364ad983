//! From a request's [`DatasetSpec`] to the batch loaders of one run.

use std::sync::Arc;

use pangaea_data::{
    load, stratified_split, Augmentation, BatchLoader, Dataset, LoadOptions, LoaderConfig,
    Normalization,
};
use pangaea_wire::DatasetSpec;

/// The loaders of one run and the image geometry the network needs.
pub(crate) struct RunData {
    /// Shuffled, augmented (when asked), full batches only.
    pub train: BatchLoader,
    /// In order, not augmented, every image.
    pub val: BatchLoader,
    /// Like `val`, over the test set; `None` unless the request asks for it.
    pub test: Option<BatchLoader>,
    /// Channels per image.
    pub channels: usize,
    /// Image side (rows; the networks take square images).
    pub height: usize,
    /// Image columns.
    pub width: usize,
    /// Number of classes.
    pub num_classes: usize,
}

/// Loads the dataset, splits off validation (stratified, `split_seed`), applies the limits,
/// takes the normalization from the training images, and builds the loaders (`seed` drives the
/// shuffles and augmentation). Errors are messages for a `failed` result.
pub(crate) fn prepare(spec: &DatasetSpec, batch_size: usize, seed: u64) -> Result<RunData, String> {
    let name = spec.name;
    let options = LoadOptions {
        data_dir: spec.data_dir.clone(),
        ..LoadOptions::default()
    };
    let data = load(name, &options).map_err(|e| e.to_string())?;
    let (train_split, val) = data
        .train
        .split_validation(spec.validation_fraction, spec.split_seed)
        .map_err(|e| e.to_string())?;
    let train = if spec.train_on_full {
        data.train
    } else {
        train_split
    };
    let train = limit(train, spec.limit_train, spec.split_seed)?;
    let val = limit(val, spec.limit_val, spec.split_seed)?;
    if train.len() < batch_size {
        return Err(format!(
            "the training set has {} images, fewer than one batch of {batch_size} \
             (lower `batch_size` or raise `dataset.limit_train`)",
            train.len()
        ));
    }
    if val.is_empty() {
        return Err("the validation set is empty (raise `dataset.validation_fraction`)".into());
    }
    let normalization = Normalization::from_dataset(&train);
    let augmentation = if spec.augment {
        Augmentation::default_for(name)
    } else {
        Augmentation::NONE
    };
    let (channels, height, width, num_classes) =
        (train.channels, train.height, train.width, train.num_classes);
    let eval = |d: Dataset| {
        BatchLoader::new(
            Arc::new(d),
            LoaderConfig::eval(batch_size, normalization.clone()),
        )
        .map_err(|e| e.to_string())
    };
    let test = if spec.measure_test {
        Some(eval(data.test)?)
    } else {
        None
    };
    let val = eval(val)?;
    let train = BatchLoader::new(
        Arc::new(train),
        LoaderConfig::train(batch_size, normalization.clone(), augmentation, seed),
    )
    .map_err(|e| e.to_string())?;
    Ok(RunData {
        train,
        val,
        test,
        channels,
        height,
        width,
        num_classes,
    })
}

/// At most `limit` images of `dataset`, chosen stratified by class with `seed` so that a small
/// subset keeps every class (the first N images could all be of a few classes).
fn limit(dataset: Dataset, limit: Option<usize>, seed: u64) -> Result<Dataset, String> {
    match limit {
        Some(n) if n < dataset.len() => {
            let fraction = n as f64 / dataset.len() as f64;
            let split = stratified_split(&dataset.labels, dataset.num_classes, fraction, seed)
                .map_err(|e| e.to_string())?;
            let name = dataset.name.clone();
            Ok(dataset.subset(name, &split.validation))
        }
        _ => Ok(dataset),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_stratified_and_exact() {
        let spec = DatasetSpec {
            limit_train: Some(300),
            limit_val: Some(50),
            ..DatasetSpec::default()
        };
        let data = prepare(&spec, 32, 0).unwrap();
        assert_eq!(data.train.dataset().len(), 300);
        assert_eq!(data.val.dataset().len(), 50);
        assert!(data.train.dataset().class_counts().iter().all(|&c| c == 30));
        assert!(data.test.is_none());
        assert_eq!(data.train.batches_per_epoch(), 300 / 32);
    }

    #[test]
    fn problems_are_messages_that_say_what_to_change() {
        let spec = DatasetSpec {
            limit_train: Some(10),
            ..DatasetSpec::default()
        };
        let err = prepare(&spec, 32, 0).err().unwrap();
        assert!(err.contains("fewer than one batch of 32"), "{err}");
    }
}
