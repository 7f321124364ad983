//! The batch loader: one epoch of shuffled, augmented, normalized `f32` batches, assembled on a
//! background thread so the trainer never waits for them.
//!
//! Determinism: the order of epoch `e` is a shuffle seeded by `(seed, e)`, and the augmentation
//! of batch `b` is drawn from a stream seeded by `(seed, e, b)`. Nothing depends on timing, on
//! how fast the consumer is, or on how many epochs were run before, so the same seed gives the
//! same batches every time, and epoch 7 can be replayed on its own.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::augment::{write_augmented, Augmentation};
use crate::dataset::Dataset;
use crate::error::DataError;
use crate::normalize::{Normalization, NormalizationTable};
use crate::seed::derive_seed;

/// How to cut a dataset into batches.
#[derive(Debug, Clone, PartialEq)]
pub struct LoaderConfig {
    /// Images per batch (the last batch may be smaller unless `drop_last`). Must be > 0.
    pub batch_size: usize,
    /// Shuffle the order every epoch (training); off keeps the dataset's order (evaluation).
    pub shuffle: bool,
    /// Drop the last, incomplete batch, so every batch has `batch_size` images.
    pub drop_last: bool,
    /// Augmentation drawn per image; [`Augmentation::NONE`] for evaluation.
    pub augmentation: Augmentation,
    /// Normalization applied after augmentation; take it from the training split.
    pub normalization: Normalization,
    /// Seed of the shuffles and augmentations.
    pub seed: u64,
    /// Batches assembled ahead of the consumer (the channel's bound). Default 4: enough to
    /// hide the assembly time, about 6 MiB for CIFAR batches of 128.
    pub prefetch: usize,
}

impl LoaderConfig {
    /// Training batches: shuffled, augmented, incomplete last batch dropped, 4 prefetched.
    pub fn train(
        batch_size: usize,
        normalization: Normalization,
        augmentation: Augmentation,
        seed: u64,
    ) -> Self {
        LoaderConfig {
            batch_size,
            shuffle: true,
            drop_last: true,
            augmentation,
            normalization,
            seed,
            prefetch: 4,
        }
    }

    /// Evaluation batches: in order, not augmented, every image included.
    pub fn eval(batch_size: usize, normalization: Normalization) -> Self {
        LoaderConfig {
            batch_size,
            shuffle: false,
            drop_last: false,
            augmentation: Augmentation::NONE,
            normalization,
            seed: 0,
            prefetch: 4,
        }
    }
}

/// One batch: `images` is `[size, channels, height, width]` row-major `f32`, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The pixels, `size * channels * height * width` of them.
    pub images: Vec<f32>,
    /// One label per image.
    pub labels: Vec<u16>,
    /// The dataset index of each image (for debugging and for per-example records).
    pub indices: Vec<usize>,
    /// Channels per image.
    pub channels: usize,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
}

impl Batch {
    /// Number of images in the batch.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the batch holds no image (never true for batches from a loader).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The shape of `images`: `[batch, channels, height, width]`.
    pub fn shape(&self) -> [usize; 4] {
        [self.len(), self.channels, self.height, self.width]
    }

    /// The labels as `i64`, the integer type burn's cross-entropy expects.
    pub fn labels_i64(&self) -> Vec<i64> {
        self.labels.iter().map(|&l| i64::from(l)).collect()
    }
}

/// Cuts an `Arc<Dataset>` into batches, one epoch at a time.
#[derive(Debug, Clone)]
pub struct BatchLoader {
    dataset: Arc<Dataset>,
    config: LoaderConfig,
    table: Arc<NormalizationTable>,
}

impl BatchLoader {
    /// A loader over `dataset`. Errors when the batch size or prefetch is 0 or the
    /// normalization does not fit the dataset's channels.
    pub fn new(dataset: Arc<Dataset>, config: LoaderConfig) -> Result<Self, DataError> {
        if config.batch_size == 0 {
            return Err(DataError::config("batch size", "0; need at least 1"));
        }
        if config.prefetch == 0 {
            return Err(DataError::config("prefetch", "0; need at least 1"));
        }
        config.normalization.check(dataset.channels)?;
        let table = Arc::new(config.normalization.table());
        Ok(BatchLoader {
            dataset,
            config,
            table,
        })
    }

    /// The dataset.
    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.dataset
    }

    /// The configuration.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// Batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        let n = self.dataset.len();
        if self.config.drop_last {
            n / self.config.batch_size
        } else {
            n.div_ceil(self.config.batch_size)
        }
    }

    /// The order in which epoch `epoch` visits the dataset (before cutting into batches).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if self.config.shuffle {
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(self.config.seed, &[1, epoch]));
            order.shuffle(&mut rng);
        }
        order
    }

    /// Assembles batch `index` of epoch `epoch` on the calling thread: exactly what
    /// [`BatchLoader::epoch`] yields at that position.
    pub fn batch(&self, epoch: u64, index: usize) -> Option<Batch> {
        let order = self.order(epoch);
        (index < self.batches_per_epoch()).then(|| self.assemble(&order, epoch, index))
    }

    /// Starts a background thread that assembles the batches of epoch `epoch` and returns the
    /// iterator over them. Dropping the iterator early stops the thread. (Should the system
    /// refuse a new thread, the batches are assembled on the caller's thread instead: the same
    /// batches, only slower.)
    pub fn epoch(&self, epoch: u64) -> EpochBatches {
        let (tx, rx) = sync_channel(self.config.prefetch);
        let loader = self.clone();
        let total = self.batches_per_epoch();
        let spawned = std::thread::Builder::new()
            .name(format!("pangaea-loader-{epoch}"))
            .spawn(move || {
                let order = loader.order(epoch);
                for b in 0..total {
                    if tx.send(loader.assemble(&order, epoch, b)).is_err() {
                        break; // the consumer hung up
                    }
                }
            });
        let source = match spawned {
            Ok(handle) => Source::Thread {
                rx: Some(rx),
                handle: Some(handle),
            },
            Err(_) => Source::Inline {
                loader: self.clone(),
                order: self.order(epoch),
                epoch,
                next: 0,
            },
        };
        EpochBatches {
            source,
            remaining: total,
        }
    }

    fn assemble(&self, order: &[usize], epoch: u64, index: usize) -> Batch {
        let d = &*self.dataset;
        let bs = self.config.batch_size;
        let indices = order[index * bs..((index + 1) * bs).min(order.len())].to_vec();
        let n = d.image_len();
        let mut images = vec![0.0f32; indices.len() * n];
        let mut labels = Vec::with_capacity(indices.len());
        let aug = self.config.augmentation;
        let mut rng =
            ChaCha8Rng::seed_from_u64(derive_seed(self.config.seed, &[2, epoch, index as u64]));
        for (slot, &i) in images.chunks_exact_mut(n).zip(&indices) {
            let crop = aug.sample(&mut rng);
            write_augmented(
                d.image(i),
                d.channels,
                d.height,
                d.width,
                aug.pad,
                crop,
                &self.table,
                slot,
            );
            labels.push(d.labels[i]);
        }
        Batch {
            images,
            labels,
            indices,
            channels: d.channels,
            height: d.height,
            width: d.width,
        }
    }
}

/// The batches of one epoch, assembled ahead on a background thread.
#[derive(Debug)]
pub struct EpochBatches {
    source: Source,
    remaining: usize,
}

#[derive(Debug)]
enum Source {
    Thread {
        rx: Option<Receiver<Batch>>,
        handle: Option<JoinHandle<()>>,
    },
    Inline {
        loader: BatchLoader,
        order: Vec<usize>,
        epoch: u64,
        next: usize,
    },
}

impl Iterator for EpochBatches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let batch = match &mut self.source {
            Source::Thread { rx, handle } => match rx.as_ref()?.recv() {
                Ok(batch) => batch,
                Err(_) => {
                    // The thread finished (or died): surface a panic rather than a short epoch.
                    *rx = None;
                    if let Some(handle) = handle.take() {
                        if let Err(panic) = handle.join() {
                            std::panic::resume_unwind(panic);
                        }
                    }
                    return None;
                }
            },
            Source::Inline {
                loader,
                order,
                epoch,
                next,
            } => {
                if self.remaining == 0 {
                    return None;
                }
                let batch = loader.assemble(order, *epoch, *next);
                *next += 1;
                batch
            }
        };
        self.remaining -= 1;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for EpochBatches {}

impl Drop for EpochBatches {
    fn drop(&mut self) {
        if let Source::Thread { rx, handle } = &mut self.source {
            // Hang up first so a blocked sender wakes, then wait for the thread to end.
            *rx = None;
            if let Some(handle) = handle.take() {
                let _ = handle.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> Arc<Dataset> {
        Arc::new(
            Dataset::new(
                "n",
                1,
                2,
                2,
                3,
                vec!["a".into(), "b".into(), "c".into()],
                (0..n).flat_map(|i| [i as u8; 4]).collect(),
                (0..n).map(|i| (i % 3) as u16).collect(),
            )
            .unwrap(),
        )
    }

    #[test]
    fn eval_batches_cover_the_dataset_in_order() {
        let loader =
            BatchLoader::new(numbered(10), LoaderConfig::eval(4, Normalization::unit(1))).unwrap();
        let batches: Vec<Batch> = loader.epoch(0).collect();
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[2].shape(), [2, 1, 2, 2]);
        let idx: Vec<usize> = batches.iter().flat_map(|b| b.indices.clone()).collect();
        assert_eq!(idx, (0..10).collect::<Vec<_>>());
        assert_eq!(batches[1].images[0], 4.0 / 255.0);
        assert_eq!(batches[1].labels, vec![1, 2, 0, 1]);
    }

    #[test]
    fn drop_last_and_shuffle() {
        let cfg = LoaderConfig::train(4, Normalization::unit(1), Augmentation::NONE, 9);
        let loader = BatchLoader::new(numbered(10), cfg).unwrap();
        assert_eq!(loader.batches_per_epoch(), 2);
        let e0: Vec<Batch> = loader.epoch(0).collect();
        assert_eq!(e0.len(), 2);
        assert!(e0.iter().all(|b| b.len() == 4));
        assert_ne!(loader.order(0), loader.order(1));
        let mut sorted = loader.order(0);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn dropping_an_epoch_early_stops_the_thread() {
        let cfg = LoaderConfig {
            prefetch: 1,
            ..LoaderConfig::eval(1, Normalization::unit(1))
        };
        let loader = BatchLoader::new(numbered(100), cfg).unwrap();
        let mut epoch = loader.epoch(0);
        assert_eq!(epoch.len(), 100);
        assert!(epoch.next().is_some());
        assert_eq!(epoch.len(), 99);
        drop(epoch); // must not hang
    }

    #[test]
    fn bad_configs_are_errors() {
        let d = numbered(3);
        let cfg = LoaderConfig::eval(0, Normalization::unit(1));
        assert!(BatchLoader::new(d.clone(), cfg).is_err());
        let cfg = LoaderConfig::eval(2, Normalization::unit(3));
        let msg = BatchLoader::new(d, cfg).unwrap_err().to_string();
        assert!(msg.contains("3 means and 3 stds for 1 channels"), "{msg}");
    }
}
