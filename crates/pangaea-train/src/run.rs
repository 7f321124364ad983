//! [`run`]: one training run, from an [`EvalRequest`] to an [`EvalResult`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::Instant;

use burn::tensor::Device;
use pangaea_nn::device::ResolvedDevice;
use pangaea_nn::{ActivationSpec, Net, NetConfig};
use pangaea_wire::{
    EpochRecord, EvalRequest, EvalResult, ParamSnapshot, SiteRecord, Status, RESULT_VERSION,
};

use crate::data::{prepare, RunData};
use crate::events::{TrainEvent, TrainObserver};
use crate::optimizer::SgdOptimizer;
use crate::schedule::LrSchedule;
use crate::step::{batch_tensors, evaluate, train_step};

/// Trains the network the request describes and measures it.
///
/// Never fails: an activation that does not parse is [`Status::Rejected`]; a bad architecture
/// or dataset name, missing data, or a panic inside the engine is [`Status::Failed`]; a
/// non-finite loss (training or validation) or activation parameter stops the run as
/// [`Status::Diverged`] with the epoch. Each carries its reason (ARCHITECTURE.md, convention 8).
///
/// Deterministic on CPU: the device RNG (weight initialisation) and the batch loader (order and
/// augmentation) are seeded from `request.seed`, so the same request gives the same numbers.
/// The device RNG belongs to the whole process (it also drives dropout), so runs in one process
/// take turns: two at once would draw from each other's generator. Parallel evaluations run as
/// separate processes (`pangaea worker`), as the executors do.
pub fn run(request: &EvalRequest, observer: &mut dyn TrainObserver) -> EvalResult {
    static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());
    // A run that panicked is caught below and leaves no state behind: a poisoned lock is fine.
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let started = Instant::now();
    let mut result = match catch_unwind(AssertUnwindSafe(|| run_inner(request, observer))) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            EvalResult::not_run(
                request.label.clone(),
                &request.activation,
                Status::Failed,
                format!("internal error: {message}"),
            )
        }
    };
    result.wall_seconds = started.elapsed().as_secs_f64();
    result
}

fn run_inner(request: &EvalRequest, observer: &mut dyn TrainObserver) -> EvalResult {
    let not_run = |status, reason: String| {
        EvalResult::not_run(request.label.clone(), &request.activation, status, reason)
    };
    if let Err(e) = request.check() {
        return not_run(Status::Failed, e.to_string());
    }
    let activation = match ActivationSpec::parse(&request.activation) {
        Ok(a) => a,
        Err(e) => return not_run(Status::Rejected, e.to_string()),
    };
    let data = match prepare(&request.dataset, request.batch_size, request.seed) {
        Ok(d) => d,
        Err(e) => return not_run(Status::Failed, e),
    };
    if data.height != data.width {
        return not_run(
            Status::Failed,
            format!(
                "images of {}×{} are not square; the networks take square images",
                data.height, data.width
            ),
        );
    }
    let config = NetConfig {
        arch: request.architecture,
        in_channels: data.channels,
        image_size: data.height,
        num_classes: data.num_classes,
        activation: activation.clone(),
        granularity: request.granularity,
    };
    let device = match pangaea_nn::device::resolve(request.device) {
        Ok(d) => d,
        Err(e) => return not_run(Status::Failed, e.to_string()),
    };
    match Trainer::new(request, config, data, activation.to_string(), device) {
        Ok(trainer) => trainer.train(observer),
        Err(e) => not_run(Status::Failed, format!("cannot build the network: {e}")),
    }
}

/// The state of a run between epochs.
struct Trainer<'r> {
    request: &'r EvalRequest,
    data: RunData,
    /// Autodiff device for training.
    device: Device,
    /// The same device without autodiff, for evaluation.
    eval_device: Device,
    net: Net,
    optim: SgdOptimizer,
    schedule: LrSchedule,
    result: EvalResult,
}

impl<'r> Trainer<'r> {
    fn new(
        request: &'r EvalRequest,
        config: NetConfig,
        data: RunData,
        activation: String,
        device: ResolvedDevice,
    ) -> Result<Self, pangaea_nn::NnError> {
        let backend = device.backend;
        let eval_device = device.device;
        let device = eval_device.clone().autodiff();
        eval_device.seed(request.seed);
        device.seed(request.seed);
        let net = config.try_init(&device)?;
        let act_ids: Vec<_> = net.activation_param_ids().into_iter().collect();
        let optim = SgdOptimizer::new(&request.optimizer, act_ids);
        let steps = data.train.batches_per_epoch();
        let schedule = LrSchedule::new(
            &request.schedule,
            request.optimizer.lr,
            steps,
            request.epochs,
        );
        let mut result = EvalResult::not_run(
            request.label.clone(),
            &activation,
            Status::Ok,
            String::new(),
        );
        result.reason = None;
        result.device = backend.to_string();
        result.num_weights = net.num_weights();
        result.train_images = data.train.dataset().len();
        result.val_images = data.val.dataset().len();
        result.test_images = data.test.as_ref().map(|t| t.dataset().len());
        Ok(Self {
            request,
            data,
            device,
            eval_device,
            net,
            optim,
            schedule,
            result,
        })
    }

    fn train(mut self, observer: &mut dyn TrainObserver) -> EvalResult {
        let steps = self.data.train.batches_per_epoch();
        observer.on_event(&TrainEvent::RunStarted {
            epochs: self.request.epochs,
            batches_per_epoch: steps,
            train_images: self.result.train_images,
            val_images: self.result.val_images,
            num_weights: self.result.num_weights,
            device: &self.result.device,
        });
        let total_steps = steps * self.request.epochs;
        let first = self.snapshot(0, 0, total_steps);
        self.result.num_activation_params = first
            .sites
            .iter()
            .flat_map(|s| s.params.values())
            .map(Vec::len)
            .sum();
        // Global step counts after which the parameters are recorded (docs: RecordSpec).
        let plan = if self.records_params() {
            self.result.activation_params.push(first);
            self.request.record.snapshot_steps(total_steps)
        } else {
            Vec::new()
        };
        let mut plan = plan.into_iter().peekable();
        let mut train_images = 0usize;
        let mut train_seconds = 0.0f64;
        for epoch in 1..=self.request.epochs {
            let epoch_start = Instant::now();
            let first_step = (epoch - 1) * steps;
            let lr = self.schedule.lr(first_step);
            observer.on_event(&TrainEvent::EpochStarted { epoch, lr });
            let mut loss_sum = 0.0f64;
            let mut correct = 0usize;
            let mut seen = 0usize;
            for (b, batch) in self.data.train.epoch((epoch - 1) as u64).enumerate() {
                let n = batch.len();
                let step_lr = self.schedule.lr(first_step + b);
                let step_start = Instant::now();
                let (images, labels) = batch_tensors(batch, &self.device);
                let (net, outcome) = train_step(self.net, &mut self.optim, step_lr, images, labels);
                self.net = net;
                let seconds = step_start.elapsed().as_secs_f64();
                if !outcome.loss.is_finite() {
                    return self.diverged(
                        epoch,
                        format!(
                            "non-finite training loss ({}) at epoch {epoch}, batch {}",
                            outcome.loss,
                            b + 1
                        ),
                    );
                }
                let done = first_step + b + 1;
                if plan.next_if_eq(&done).is_some() {
                    let finished = if b + 1 == steps { epoch } else { epoch - 1 };
                    let snapshot = self.snapshot(finished, done, total_steps);
                    if let Some(bad) = first_non_finite(&snapshot) {
                        return self.diverged(
                            epoch,
                            format!(
                                "non-finite activation parameter {bad} at epoch {epoch}, batch {}",
                                b + 1
                            ),
                        );
                    }
                    self.result.activation_params.push(snapshot);
                }
                train_seconds += seconds;
                train_images += n;
                loss_sum += outcome.loss * n as f64;
                correct += outcome.correct;
                seen += n;
                observer.on_event(&TrainEvent::BatchFinished {
                    epoch,
                    batch: b + 1,
                    batches: steps,
                    loss: outcome.loss,
                    accuracy: outcome.correct as f64 / n as f64,
                    images_per_second: n as f64 / seconds.max(1e-9),
                });
            }
            observer.on_event(&TrainEvent::Validating { epoch });
            let val = evaluate(&self.net, &self.data.val, &self.eval_device);
            if !val.loss.is_finite() {
                return self.diverged(
                    epoch,
                    format!(
                        "non-finite validation loss ({}) after epoch {epoch}",
                        val.loss
                    ),
                );
            }
            let record = EpochRecord {
                epoch,
                train_loss: loss_sum / seen.max(1) as f64,
                train_accuracy: correct as f64 / seen.max(1) as f64,
                val_loss: val.loss,
                val_accuracy: val.accuracy,
                lr,
                seconds: epoch_start.elapsed().as_secs_f64(),
            };
            observer.on_event(&TrainEvent::EpochFinished { record: &record });
            self.result.val_loss = Some(record.val_loss);
            self.result.val_accuracy = Some(record.val_accuracy);
            self.result.epochs.push(record);
            self.result.images_per_second = train_images as f64 / train_seconds.max(1e-9);
        }
        if let Some(test) = &self.data.test {
            observer.on_event(&TrainEvent::Testing);
            let outcome = evaluate(&self.net, test, &self.eval_device);
            self.result.test_loss = Some(outcome.loss).filter(|l| l.is_finite());
            self.result.test_accuracy = Some(outcome.accuracy);
        }
        self.result.version = RESULT_VERSION;
        self.result
    }

    /// Whether snapshots are recorded: asked for, and there is something to record.
    fn records_params(&self) -> bool {
        self.request.record.activation_param_points > 0 && self.result.num_activation_params > 0
    }

    /// The parameters now, `step` of `total_steps` training steps done, `epoch` epochs finished.
    fn snapshot(&self, epoch: usize, step: usize, total_steps: usize) -> ParamSnapshot {
        ParamSnapshot {
            epoch,
            step: Some(step),
            progress: Some(step as f64 / total_steps.max(1) as f64),
            sites: self
                .net
                .activation_params()
                .into_iter()
                .filter(|s| !s.params.is_empty())
                .map(|s| SiteRecord {
                    site: s.site,
                    params: s.params,
                })
                .collect(),
        }
    }

    fn diverged(mut self, epoch: usize, reason: String) -> EvalResult {
        self.result.status = Status::Diverged;
        self.result.reason = Some(reason);
        self.result.diverged_epoch = Some(epoch);
        self.result.val_accuracy = None;
        self.result.val_loss = None;
        self.result
    }
}

/// `site.param[unit]` of the first non-finite value in a snapshot, if any.
fn first_non_finite(snapshot: &ParamSnapshot) -> Option<String> {
    snapshot.sites.iter().find_map(|site| {
        site.params.iter().find_map(|(name, values)| {
            values
                .iter()
                .position(|v| !v.is_finite())
                .map(|i| format!("{}.{name}[{i}]", site.site))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pangaea_nn::Granularity;
    use pangaea_wire::{Arch, DatasetSpec};

    /// A configuration the network cannot be built from is an error for a `failed` result, not
    /// a panic that kills the worker (`NetConfig::init` panics; the trainer uses `try_init`).
    #[test]
    fn an_invalid_network_configuration_is_an_error_not_a_panic() {
        let spec = DatasetSpec {
            limit_train: Some(16),
            limit_val: Some(8),
            ..DatasetSpec::default()
        };
        let data = prepare(&spec, 8, 0).unwrap();
        let request = EvalRequest::default();
        let config = NetConfig {
            arch: Arch::Tiny,
            in_channels: 3,
            image_size: 4,
            num_classes: 10,
            activation: ActivationSpec::parse("relu").unwrap(),
            granularity: Granularity::Channel,
        };
        let device = pangaea_nn::device::resolve(request.device).unwrap();
        let err = Trainer::new(&request, config, data, "relu".to_owned(), device)
            .err()
            .expect("an image size of 4 is below the minimum");
        assert!(err.to_string().contains("image_size"), "{err}");
    }
}
