//! Split, normalization, augmentation and the batch loader end to end, on the synthetic set;
//! and a check that the synthetic classes are really in the images.

use std::sync::Arc;
use std::time::Duration;

use pangaea_data::augment::write_augmented;
use pangaea_data::normalize::channel_stats;
use pangaea_data::synthetic::{class_angle, class_period};
use pangaea_data::{
    load, prepare, prepare_from, Augmentation, Batch, BatchLoader, CropFlip, Dataset, DatasetName,
    LoadOptions, LoaderConfig, Normalization, SyntheticConfig, DEFAULT_VALIDATION_FRACTION,
};

fn synthetic(train: usize, test: usize, seed: u64) -> LoadOptions {
    LoadOptions {
        synthetic: SyntheticConfig {
            train,
            test,
            seed,
            ..SyntheticConfig::default()
        },
        ..LoadOptions::default()
    }
}

#[test]
fn prepare_splits_stratified_and_normalizes_from_the_train_split() {
    let data = prepare(
        DatasetName::Synthetic,
        &synthetic(2000, 300, 1),
        DEFAULT_VALIDATION_FRACTION,
        5,
    )
    .unwrap();
    assert_eq!(
        (data.train.len(), data.validation.len(), data.test.len()),
        (1800, 200, 300)
    );
    assert_eq!(data.train.class_counts(), vec![180; 10]);
    assert_eq!(data.validation.class_counts(), vec![20; 10]);

    let (mean, std) = channel_stats(&data.train);
    assert_eq!(
        data.normalization.mean,
        mean.iter().map(|&m| m as f32).collect::<Vec<_>>()
    );
    assert_eq!(
        data.normalization.std,
        std.iter().map(|&s| s as f32).collect::<Vec<_>>()
    );
    // Not the statistics of the whole training set: the validation images are left out.
    let full = load(DatasetName::Synthetic, &synthetic(2000, 300, 1)).unwrap();
    assert_ne!(channel_stats(&full.train).0, mean);

    // Normalized training batches have mean 0 and std 1 per channel.
    let loader = BatchLoader::new(
        data.train.clone(),
        LoaderConfig::eval(256, data.normalization.clone()),
    )
    .unwrap();
    let plane = 16 * 16;
    let (mut sum, mut sq, mut n) = ([0f64; 3], [0f64; 3], 0f64);
    for batch in loader.epoch(0) {
        for image in batch.images.chunks_exact(3 * plane) {
            for c in 0..3 {
                for &v in &image[c * plane..(c + 1) * plane] {
                    sum[c] += f64::from(v);
                    sq[c] += f64::from(v) * f64::from(v);
                }
            }
            n += plane as f64;
        }
    }
    for c in 0..3 {
        let m = sum[c] / n;
        let var = sq[c] / n - m * m;
        assert!(m.abs() < 1e-4, "channel {c} mean {m}");
        assert!(
            (var.sqrt() - 1.0).abs() < 1e-4,
            "channel {c} std {}",
            var.sqrt()
        );
    }
}

#[test]
fn split_depends_on_the_seed_only() {
    let full = load(DatasetName::Synthetic, &synthetic(500, 10, 2)).unwrap();
    let a = prepare_from(DatasetName::Synthetic, full.clone(), 0.2, 9).unwrap();
    let b = prepare_from(DatasetName::Synthetic, full.clone(), 0.2, 9).unwrap();
    let c = prepare_from(DatasetName::Synthetic, full, 0.2, 10).unwrap();
    assert_eq!(a.validation, b.validation);
    assert_eq!(a.train, b.train);
    assert_ne!(a.validation.images, c.validation.images);
    assert_eq!(a.validation.len(), 100);
}

fn train_loader(dataset: Arc<Dataset>, seed: u64, aug: Augmentation) -> BatchLoader {
    let norm = Normalization::from_dataset(&dataset);
    BatchLoader::new(dataset, LoaderConfig::train(32, norm, aug, seed)).unwrap()
}

#[test]
fn same_seed_same_batches_regardless_of_timing() {
    let data = Arc::new(
        load(DatasetName::Synthetic, &synthetic(300, 10, 3))
            .unwrap()
            .train,
    );
    let aug = Augmentation { pad: 4, flip: true };
    let fast: Vec<Vec<Batch>> = {
        let loader = train_loader(data.clone(), 11, aug);
        (0..2).map(|e| loader.epoch(e).collect()).collect()
    };
    // A fresh loader, a slow consumer, and epoch 1 first.
    let loader = train_loader(data.clone(), 11, aug);
    let slow1: Vec<Batch> = loader
        .epoch(1)
        .inspect(|_| std::thread::sleep(Duration::from_millis(2)))
        .collect();
    let slow0: Vec<Batch> = loader.epoch(0).collect();
    assert_eq!(fast[0], slow0);
    assert_eq!(fast[1], slow1);
    assert_eq!(loader.batch(1, 3).unwrap(), fast[1][3]);
    assert!(loader.batch(1, 9).is_none(), "300 / 32 = 9 full batches");
    assert_eq!(fast[0].len(), 9);

    assert_ne!(fast[0][0].indices, fast[1][0].indices, "epochs reshuffle");
    let other: Vec<Batch> = train_loader(data, 12, aug).epoch(0).collect();
    assert_ne!(
        other[0].images, fast[0][0].images,
        "another seed, other batches"
    );
}

/// Every crop/flip the augmentation can draw.
fn candidates(pad: usize, flip: bool) -> Vec<CropFlip> {
    let mut all = Vec::new();
    for dy in 0..=2 * pad {
        for dx in 0..=2 * pad {
            for f in [false, true] {
                if f && !flip {
                    continue;
                }
                all.push(CropFlip { dy, dx, flip: f });
            }
        }
    }
    all
}

#[test]
fn augmented_batches_are_crops_and_flips_of_their_images_and_vary() {
    let data = Arc::new(
        load(DatasetName::Synthetic, &synthetic(64, 10, 4))
            .unwrap()
            .train,
    );
    let aug = Augmentation { pad: 2, flip: true };
    let loader = train_loader(data.clone(), 5, aug);
    let table = loader.config().normalization.table();
    let n = data.image_len();
    let mut seen_flip = false;
    let mut seen_shift = false;
    for batch in loader.epoch(0) {
        for (slot, &i) in batch.images.chunks_exact(n).zip(&batch.indices) {
            let found = candidates(2, true).into_iter().find(|&crop| {
                let mut out = vec![0f32; n];
                write_augmented(data.image(i), 3, 16, 16, 2, crop, &table, &mut out);
                out == slot
            });
            let crop = found.unwrap_or_else(|| panic!("image {i} is no crop/flip of its source"));
            seen_flip |= crop.flip;
            seen_shift |= (crop.dy, crop.dx) != (2, 2);
        }
    }
    assert!(seen_flip && seen_shift);

    // Without augmentation the batch is the plain normalized image.
    let plain = BatchLoader::new(
        data.clone(),
        LoaderConfig::eval(8, loader.config().normalization.clone()),
    )
    .unwrap();
    let first = plain.epoch(0).next().unwrap();
    let mut expected = vec![0f32; n];
    loader
        .config()
        .normalization
        .apply(data.image(0), &mut expected);
    assert_eq!(&first.images[..n], &expected[..]);
    assert_eq!(first.labels[0], data.labels[0]);
}

#[test]
fn eval_epoch_visits_each_image_once() {
    let data = Arc::new(
        load(DatasetName::Synthetic, &synthetic(10, 103, 6))
            .unwrap()
            .test,
    );
    let loader =
        BatchLoader::new(data.clone(), LoaderConfig::eval(25, Normalization::unit(3))).unwrap();
    let batches: Vec<Batch> = loader.epoch(0).collect();
    assert_eq!(
        batches.iter().map(Batch::len).collect::<Vec<_>>(),
        vec![25, 25, 25, 25, 3]
    );
    let labels: Vec<u16> = batches.iter().flat_map(|b| b.labels.clone()).collect();
    assert_eq!(labels, data.labels);
    let mut shuffled = LoaderConfig::train(25, Normalization::unit(3), Augmentation::NONE, 1);
    shuffled.drop_last = false;
    let loader = BatchLoader::new(data, shuffled).unwrap();
    let mut seen: Vec<usize> = loader.epoch(0).flat_map(|b| b.indices).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..103).collect::<Vec<_>>());
}

/// Classifies a synthetic image by the energy of its matched stripe filter per class.
fn matched_filter_class(image: &[u8], channels: usize, h: usize, w: usize) -> usize {
    let plane = h * w;
    let mut best = (0, f32::MIN);
    for k in 0..10 {
        let (a, p) = (class_angle(k), class_period(k));
        let (kx, ky) = (
            a.cos() * 2.0 * std::f32::consts::PI / p,
            a.sin() * 2.0 * std::f32::consts::PI / p,
        );
        let mut energy = 0.0;
        for c in 0..channels {
            let px = &image[c * plane..(c + 1) * plane];
            let mean = px.iter().map(|&v| f32::from(v)).sum::<f32>() / plane as f32;
            let (mut re, mut im) = (0.0f32, 0.0f32);
            for (i, &v) in px.iter().enumerate() {
                let (y, x) = ((i / w) as f32, (i % w) as f32);
                let t = kx * x + ky * y;
                re += (f32::from(v) - mean) * t.cos();
                im += (f32::from(v) - mean) * t.sin();
            }
            energy += re * re + im * im;
        }
        if energy > best.1 {
            best = (k, energy);
        }
    }
    best.0
}

#[test]
fn synthetic_classes_are_recoverable_from_the_pixels() {
    let data = load(DatasetName::Synthetic, &LoadOptions::default()).unwrap();
    let test = &data.test;
    assert_eq!(
        (test.channels, test.height, test.width, test.len()),
        (3, 16, 16, 1000)
    );
    let correct = (0..test.len())
        .filter(|&i| matched_filter_class(test.image(i), 3, 16, 16) == usize::from(test.labels[i]))
        .count();
    let accuracy = correct as f64 / test.len() as f64;
    assert!(accuracy > 0.9, "matched-filter accuracy {accuracy}");
    // ... and the labels matter: against shuffled labels the same classifier is at chance.
    let wrong = (0..test.len())
        .filter(|&i| {
            matched_filter_class(test.image(i), 3, 16, 16)
                == usize::from(test.labels[(i + 1) % test.len()])
        })
        .count();
    assert!((wrong as f64 / test.len() as f64) < 0.2);
}
