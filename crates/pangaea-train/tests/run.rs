//! End-to-end runs of the `tiny` network on the synthetic dataset: a few hundred 3×16×16 images,
//! seconds per run.

use pangaea_train::{run, Silent, TrainEvent};
use pangaea_wire::JsonFile;
use pangaea_wire::{Arch, DatasetName, EvalRequest, EvalResult, Status};

/// A quick request: 400 training and 200 validation images of the synthetic task.
fn quick(activation: &str) -> EvalRequest {
    let mut r = EvalRequest::recipe(Arch::Tiny);
    r.activation = activation.to_owned();
    r.dataset.name = DatasetName::Synthetic;
    r.dataset.limit_train = Some(400);
    r.dataset.limit_val = Some(200);
    r.batch_size = 32;
    r.epochs = 3;
    r.seed = 3;
    r
}

/// The numbers of a result, without the timings.
fn numbers(r: &EvalResult) -> String {
    let mut r = r.clone();
    r.wall_seconds = 0.0;
    r.images_per_second = 0.0;
    for e in &mut r.epochs {
        e.seconds = 0.0;
    }
    r.to_json()
}

#[test]
fn tiny_learns_the_synthetic_task() {
    let result = run(&quick("relu"), &mut Silent);
    assert_eq!(result.status, Status::Ok, "{:?}", result.reason);
    let acc = result.val_accuracy.unwrap();
    assert!(acc > 0.5, "validation accuracy {acc} (chance is 0.1)");
    assert_eq!(result.epochs.len(), 3);
    assert!(result.epochs[2].train_loss < result.epochs[0].train_loss);
    assert_eq!(result.train_images, 400);
    assert_eq!(result.val_images, 200);
    assert!(result.images_per_second > 0.0 && result.wall_seconds > 0.0);
    assert!(result.num_weights > 0);
    assert_eq!(result.num_activation_params, 0);
    assert!(result.activation_params.is_empty());
    assert!(result.test_accuracy.is_none());
}

#[test]
fn same_request_same_numbers() {
    let request = quick("alpha * x * sigmoid(beta * x)");
    let a = run(&request, &mut Silent);
    let b = run(&request, &mut Silent);
    assert_eq!(a.status, Status::Ok, "{:?}", a.reason);
    assert_eq!(numbers(&a), numbers(&b));
    let mut other = request.clone();
    other.seed += 1;
    assert_ne!(numbers(&a), numbers(&run(&other, &mut Silent)));
}

#[test]
fn per_channel_parameters_are_recorded_over_training_and_learn() {
    // 3 epochs of 12 full batches: the default 20 snapshots spread over the 36 steps, plus one
    // at initialisation, every snapshot with every site.
    let mut request = quick("alpha * x * sigmoid(beta * x)");
    request.dataset.measure_test = true;
    let result = run(&request, &mut Silent);
    assert_eq!(result.status, Status::Ok, "{:?}", result.reason);
    let snapshots = &result.activation_params;
    assert_eq!(snapshots.len(), 1 + 20);
    let steps: Vec<usize> = snapshots.iter().map(|s| s.step.unwrap()).collect();
    assert_eq!(steps[0], 0);
    assert_eq!(*steps.last().unwrap(), 36);
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
    // Evenly spread: no gap larger than two steps.
    assert!(steps.windows(2).all(|w| w[1] - w[0] <= 2), "{steps:?}");
    let progress: Vec<f64> = snapshots.iter().map(|s| s.progress.unwrap()).collect();
    assert_eq!(progress[0], 0.0);
    assert_eq!(*progress.last().unwrap(), 1.0);
    // Snapshots inside an epoch count the epochs finished before them.
    for s in snapshots {
        assert_eq!(s.epoch, s.step.unwrap() / 12, "step {:?}", s.step);
        assert_eq!(s.sites.len(), snapshots[0].sites.len());
    }
    // Parameters move between consecutive snapshots, not only across epochs.
    let alpha = |k: usize| snapshots[k].sites[0].params["alpha"].clone();
    assert_ne!(alpha(1), alpha(2));
    let init = &snapshots[0];
    assert!(init.sites.len() >= 2);
    for site in &init.sites {
        for values in site.params.values() {
            assert!(
                values.iter().all(|&v| v == 1.0),
                "{}: {values:?}",
                site.site
            );
        }
    }
    let last = snapshots.last().unwrap();
    let alpha0 = &last.sites[0].params["alpha"];
    assert!(alpha0.len() > 1, "one value per channel");
    assert!(alpha0.windows(2).any(|w| w[0] != w[1]), "channels differ");
    assert_ne!(last.sites[0].params, last.sites[1].params, "sites differ");
    let total: usize = last
        .sites
        .iter()
        .flat_map(|s| s.params.values())
        .map(Vec::len)
        .sum();
    assert_eq!(total, result.num_activation_params);
    assert!(result.test_accuracy.is_some());
    assert_eq!(result.test_images, Some(1000));
}

#[test]
fn a_non_finite_loss_is_a_diverged_result_with_its_epoch() {
    let mut request = quick("exp(exp(x))");
    request.optimizer.lr = 10.0;
    let result = run(&request, &mut Silent);
    assert_eq!(result.status, Status::Diverged, "{result:?}");
    let epoch = result.diverged_epoch.unwrap();
    assert!((1..=3).contains(&epoch));
    assert_eq!(result.epochs.len(), epoch - 1);
    assert!(result.reason.unwrap().contains("non-finite"));
    assert!(result.val_accuracy.is_none());
}

#[test]
fn bad_activations_are_rejected_and_missing_data_fails() {
    let result = run(&quick("tanh(x"), &mut Silent);
    assert_eq!(result.status, Status::Rejected);
    assert!(result.reason.unwrap().contains("tanh(x"));

    let mut request = quick("relu");
    request.dataset.name = DatasetName::Cifar10;
    request.dataset.data_dir = Some("/nonexistent/pangaea-data".into());
    let result = run(&request, &mut Silent);
    assert_eq!(result.status, Status::Failed);
    assert!(result.reason.is_some());
}

#[test]
fn events_arrive_in_order() {
    let mut request = quick("relu");
    request.epochs = 1;
    request.dataset.limit_train = Some(96);
    let mut seen = Vec::new();
    let mut observer = |e: &TrainEvent<'_>| {
        seen.push(match e {
            TrainEvent::RunStarted {
                batches_per_epoch, ..
            } => format!("run {batches_per_epoch}"),
            TrainEvent::EpochStarted { epoch, .. } => format!("epoch {epoch}"),
            TrainEvent::BatchFinished { batch, .. } => format!("batch {batch}"),
            TrainEvent::Validating { .. } => "validating".into(),
            TrainEvent::EpochFinished { record } => format!("finished {}", record.epoch),
            TrainEvent::Testing => "testing".into(),
        })
    };
    let result = run(&request, &mut observer);
    assert_eq!(result.status, Status::Ok);
    assert_eq!(
        seen,
        [
            "run 3",
            "epoch 1",
            "batch 1",
            "batch 2",
            "batch 3",
            "validating",
            "finished 1"
        ]
    );
}

/// The four architectures of the paper train end to end with a parametric activation: a few
/// steps each on the synthetic 3×16×16 images (their global pooling takes any size), with the
/// activation parameters recorded per site and moved by training.
#[test]
fn the_paper_architectures_train_a_few_steps() {
    for arch in [
        Arch::Wrn10_4,
        Arch::ResNetV1_56,
        Arch::ResNetV2_56,
        Arch::AllCnnC,
    ] {
        let mut r = EvalRequest::recipe(arch);
        r.activation = "alpha * x * sigmoid(beta * x)".to_owned();
        r.dataset.name = DatasetName::Synthetic;
        r.dataset.limit_train = Some(24);
        r.dataset.limit_val = Some(10);
        r.dataset.augment = false;
        r.batch_size = 8;
        r.epochs = 1;
        r.seed = 1;
        let result = run(&r, &mut Silent);
        assert_eq!(result.status, Status::Ok, "{arch}: {:?}", result.reason);
        assert_eq!(result.train_images, 24, "{arch}");
        assert!(result.epochs[0].train_loss.is_finite(), "{arch}");
        assert!(result.num_activation_params > 0, "{arch}");
        let (init, last) = (
            &result.activation_params[0],
            result.activation_params.last().unwrap(),
        );
        assert_eq!(init.epoch, 0, "{arch}");
        assert_eq!(last.epoch, 1, "{arch}");
        let moved = init
            .sites
            .iter()
            .zip(&last.sites)
            .any(|(a, b)| a.params != b.params);
        assert!(moved, "{arch}: no activation parameter moved in 3 steps");
    }
}
