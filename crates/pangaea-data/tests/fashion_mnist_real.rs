//! Real data: Fashion-MNIST from the Debian package `dataset-fashion-mnist` (gzipped idx files
//! in /usr/share/datasets/fashion-mnist/), converted into the CIFAR-10 record layout and read
//! back through the CIFAR reader. Skips, with a notice, where the package is not installed,
//! unless `PANGAEA_REQUIRE_FASHION_MNIST` is set (as in CI).

use std::path::Path;

use pangaea_data::cifar::{encode_cifar10, CIFAR10_TRAIN_FILES};
use pangaea_data::location::DEBIAN_FASHION_MNIST_DIR;
use pangaea_data::{load, load_from_dir, locate, Dataset, DatasetName, LoadOptions};

/// Pads a 28×28 grey image to 32×32 (2 zero pixels each side) and repeats it in 3 planes.
fn to_cifar_layout(grey: &[u8]) -> Vec<u8> {
    let mut plane = vec![0u8; 32 * 32];
    for y in 0..28 {
        plane[(y + 2) * 32 + 2..(y + 2) * 32 + 30].copy_from_slice(&grey[y * 28..(y + 1) * 28]);
    }
    plane.repeat(3)
}

fn convert(d: &Dataset, range: std::ops::Range<usize>) -> Vec<u8> {
    let images: Vec<u8> = range
        .clone()
        .flat_map(|i| to_cifar_layout(d.image(i)))
        .collect();
    encode_cifar10(&images, &d.labels[range]).unwrap()
}

#[test]
fn real_fashion_mnist_reads_and_survives_conversion_to_cifar_records() {
    let dir = Path::new(DEBIAN_FASHION_MNIST_DIR);
    if !dir.join("train-images-idx3-ubyte.gz").is_file() {
        // CI installs the package and sets PANGAEA_REQUIRE_FASHION_MNIST=1: there, missing is a
        // failure.
        assert!(
            std::env::var_os("PANGAEA_REQUIRE_FASHION_MNIST").is_none(),
            "PANGAEA_REQUIRE_FASHION_MNIST is set but {DEBIAN_FASHION_MNIST_DIR} has no \
             train-images-idx3-ubyte.gz (apt-get install dataset-fashion-mnist)"
        );
        eprintln!(
            "NOTICE: {DEBIAN_FASHION_MNIST_DIR} is absent; skipping the real Fashion-MNIST test \
             (apt-get install dataset-fashion-mnist)"
        );
        return;
    }
    let data = load_from_dir(DatasetName::FashionMnist, dir, &LoadOptions::default()).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    assert_eq!(
        (data.train.channels, data.train.height, data.train.width),
        (1, 28, 28)
    );
    assert_eq!(data.train.class_counts(), vec![6_000; 10]);
    assert_eq!(data.test.class_counts(), vec![1_000; 10]);

    // The Debian folder is also found by name, whatever the data root.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        locate(DatasetName::FashionMnist, Some(empty.path())).unwrap(),
        dir
    );

    // 2,000 training images per CIFAR batch file, the whole test set as the test file.
    let root = tempfile::tempdir().unwrap();
    let cifar_dir = root.path().join("cifar-10-batches-bin");
    std::fs::create_dir_all(&cifar_dir).unwrap();
    for (k, name) in CIFAR10_TRAIN_FILES.iter().enumerate() {
        std::fs::write(
            cifar_dir.join(name),
            convert(&data.train, k * 2000..(k + 1) * 2000),
        )
        .unwrap();
    }
    std::fs::write(
        cifar_dir.join("test_batch.bin"),
        convert(&data.test, 0..10_000),
    )
    .unwrap();

    let back = load(
        DatasetName::Cifar10,
        &LoadOptions::with_data_dir(root.path()),
    )
    .unwrap();
    assert_eq!((back.train.len(), back.test.len()), (10_000, 10_000));
    assert_eq!(back.train.labels[..], data.train.labels[..10_000]);
    assert_eq!(back.test.labels, data.test.labels);
    for i in (0..10_000).step_by(97) {
        let grey = data.test.image(i);
        let rgb = back.test.image(i);
        for c in 0..3 {
            for y in 0..28 {
                let row = &rgb[c * 1024 + (y + 2) * 32..][..32];
                assert_eq!(
                    &row[2..30],
                    &grey[y * 28..(y + 1) * 28],
                    "image {i} plane {c} row {y}"
                );
                assert_eq!((row[0], row[1], row[30], row[31]), (0, 0, 0, 0));
            }
        }
        assert_eq!(
            back.train.image(i),
            &to_cifar_layout(data.train.image(i))[..]
        );
    }
}
