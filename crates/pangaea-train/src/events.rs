//! Progress of a run as typed events, so that a caller chooses how to show it: the CLI draws a
//! progress bar, the search stays silent or logs JSON (ARCHITECTURE.md, convention 14).

use pangaea_wire::EpochRecord;

/// Something that happened during a training run.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent<'a> {
    /// Data and network are ready; training is about to start.
    RunStarted {
        /// Epochs the run will train.
        epochs: usize,
        /// Training steps per epoch.
        batches_per_epoch: usize,
        /// Images in the training set.
        train_images: usize,
        /// Images in the validation set.
        val_images: usize,
        /// Trainable scalars of the network, activation parameters excluded.
        num_weights: usize,
        /// The compute device, in words.
        device: &'a str,
    },
    /// An epoch begins.
    EpochStarted {
        /// 1-based epoch number.
        epoch: usize,
        /// Learning rate of its first step.
        lr: f64,
    },
    /// One training step finished.
    BatchFinished {
        /// 1-based epoch number.
        epoch: usize,
        /// 1-based step number within the epoch.
        batch: usize,
        /// Steps in the epoch.
        batches: usize,
        /// Mean cross-entropy of this batch.
        loss: f64,
        /// Accuracy on this batch, a fraction in [0, 1].
        accuracy: f64,
        /// Images per second of this step (forward, backward, optimizer).
        images_per_second: f64,
    },
    /// Training of the epoch is done; the validation set is being measured.
    Validating {
        /// 1-based epoch number.
        epoch: usize,
    },
    /// An epoch finished, validation included.
    EpochFinished {
        /// Its metrics, as they appear in the result.
        record: &'a EpochRecord,
    },
    /// The test set is being measured (after the last epoch).
    Testing,
}

/// Receives the events of a run.
pub trait TrainObserver {
    /// Called for each event, on the training thread; keep it cheap.
    fn on_event(&mut self, event: &TrainEvent<'_>);
}

impl<F: FnMut(&TrainEvent<'_>)> TrainObserver for F {
    fn on_event(&mut self, event: &TrainEvent<'_>) {
        self(event)
    }
}

/// An observer that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl TrainObserver for Silent {
    fn on_event(&mut self, _event: &TrainEvent<'_>) {}
}
