//! Datasets as plain memory for pangaea: CIFAR-10, CIFAR-100, MNIST, Fashion-MNIST and a
//! seeded synthetic task, read into `u8` buffers; a stratified validation split; normalization
//! from the training split; pad-and-crop + flip augmentation; and a background batch loader
//! that hands out `f32` batches. No deep-learning dependency: a trainer turns the buffers into
//! tensors itself.
//!
//! # Entry points
//!
//! | what | call |
//! |------|------|
//! | name ↔ text | [`DatasetName`] (`"cifar10".parse()`, `cifar100`, `mnist`, `fashion-mnist`, `synthetic`) |
//! | load train + test | [`load()`]`(name, &`[`LoadOptions`]`)` → [`TrainTest`] (data root: `--data-dir`, `$PANGAEA_DATA`, user cache; see [`location`]) |
//! | load + split + normalize | [`prepare`]`(name, &options, `[`DEFAULT_VALIDATION_FRACTION`]`, seed)` → [`PreparedData`] with `Arc<Dataset>`s |
//! | validation split | [`Dataset::split_validation`]`(fraction, seed)` or [`stratified_split`] (indices) |
//! | normalization | [`Normalization::from_dataset`]`(&train_split)` |
//! | augmentation | [`Augmentation::default_for`]`(name)` (pad 4, flip except `mnist`/`synthetic`), [`Augmentation::NONE`] |
//! | batches | [`BatchLoader::new`]`(Arc<Dataset>, `[`LoaderConfig::train`]` / `[`LoaderConfig::eval`]`)`, then `.epoch(e)` iterates [`Batch`]es |
//! | summary | [`DatasetInfo::of`], [`TrainTestInfo::of`] (serde) |
//! | download | [`fetch()`]`(name, root, &`[`FetchOptions`]`, on_event)` |
//!
//! A training run typically does:
//!
//! ```no_run
//! use pangaea_data::{prepare, Augmentation, BatchLoader, DatasetName, LoadOptions, LoaderConfig};
//!
//! # fn main() -> Result<(), pangaea_data::DataError> {
//! let name = DatasetName::Cifar10;
//! let data = prepare(name, &LoadOptions::default(), pangaea_data::DEFAULT_VALIDATION_FRACTION, 7)?;
//! let train = BatchLoader::new(
//!     data.train.clone(),
//!     LoaderConfig::train(128, data.normalization.clone(), Augmentation::default_for(name), 7),
//! )?;
//! let val = BatchLoader::new(data.validation.clone(), LoaderConfig::eval(500, data.normalization.clone()))?;
//! for epoch in 0..10 {
//!     for batch in train.epoch(epoch) {
//!         // batch.images: Vec<f32> of shape batch.shape() = [B, C, H, W]; batch.labels: Vec<u16>
//!         let _ = (batch.shape(), batch.labels_i64());
//!     }
//!     for _batch in val.epoch(0) { /* evaluate */ }
//! }
//! # Ok(()) }
//! ```
//!
//! # Determinism
//!
//! Everything random takes a seed: the split (seed, class), the shuffle of each epoch (seed,
//! epoch), the augmentation of each batch (seed, epoch, batch), the synthetic images (seed,
//! image). The background thread changes only *when* a batch is built, never its contents.
//!
//! # Errors
//!
//! Every failure is a [`DataError`] that names the file and the byte offset or record index and
//! what was expected; bad input never panics.

#![warn(missing_docs)]

pub mod augment;
pub mod cifar;
pub mod dataset;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod info;
pub mod load;
pub mod loader;
pub mod location;
pub mod normalize;
mod seed;
pub mod split;
pub mod synthetic;

pub use augment::{Augmentation, CropFlip};
pub use cifar::Cifar100Labels;
pub use dataset::{Dataset, TrainTest};
pub use error::DataError;
pub use fetch::{fetch, fetch_plan, FetchEvent, FetchOptions, FetchPlan, Install, RemoteFile};
pub use info::{DatasetInfo, TrainTestInfo};
pub use load::{
    load, load_from_dir, load_located, prepare, prepare_from, LoadOptions, Loaded, PreparedData,
};
pub use loader::{Batch, BatchLoader, EpochBatches, LoaderConfig};
pub use location::{locate, resolve_data_root};
pub use normalize::Normalization;
pub use pangaea_wire::DatasetName;
pub use split::{stratified_split, SplitIndices, DEFAULT_VALIDATION_FRACTION};
pub use synthetic::SyntheticConfig;
