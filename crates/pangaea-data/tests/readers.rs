//! Readers on files the tests write themselves: CIFAR-10, CIFAR-100, idx raw and gzipped, and
//! every kind of corruption, with the error message checked for file and position.

mod common;

use std::path::{Path, PathBuf};

use common::{gzip, random_images, write_cifar10_dir};
use pangaea_data::cifar::{encode_cifar10, encode_cifar100, read_cifar100_file, read_cifar10_file};
use pangaea_data::idx::{encode_idx, read_idx_labels, read_idx_pair};
use pangaea_data::{load, load_from_dir, Cifar100Labels, DataError, DatasetName, LoadOptions};

fn assert_mentions(err: &DataError, path: &Path, parts: &[&str]) {
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("`{}`", path.display())),
        "no path in: {msg}"
    );
    for part in parts {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
}

#[test]
fn cifar10_folder_loads_by_name_under_the_data_root() {
    let root = tempfile::tempdir().unwrap();
    let (ti, tl, si, sl) = write_cifar10_dir(&root.path().join("cifar-10-batches-bin"), 3, 1);
    let data = load(
        DatasetName::Cifar10,
        &LoadOptions::with_data_dir(root.path()),
    )
    .unwrap();
    assert_eq!(data.train.len(), 15);
    assert_eq!(
        (data.train.channels, data.train.height, data.train.width),
        (3, 32, 32)
    );
    assert_eq!(data.train.images, ti);
    assert_eq!(data.train.labels, tl);
    assert_eq!(data.test.images, si);
    assert_eq!(data.test.labels, sl);
    assert_eq!(data.train.class_names[0], "airplane");
    assert_eq!(data.train.name, "cifar10/train");

    // A data dir that points straight at the folder works too.
    let dir = root.path().join("cifar-10-batches-bin");
    let again = load(DatasetName::Cifar10, &LoadOptions::with_data_dir(&dir)).unwrap();
    assert_eq!(again, data);
}

#[test]
fn cifar10_record_layout_is_label_then_rgb_planes() {
    let dir = tempfile::tempdir().unwrap();
    let mut record = vec![7u8];
    record.extend(std::iter::repeat_n(10u8, 1024)); // red
    record.extend(std::iter::repeat_n(20u8, 1024)); // green
    record.extend(std::iter::repeat_n(30u8, 1024)); // blue
    let path = dir.path().join("b.bin");
    std::fs::write(&path, &record).unwrap();
    let (images, labels) = read_cifar10_file(&path).unwrap();
    assert_eq!(labels, vec![7]);
    assert_eq!(
        (images[0], images[1024], images[2048], images[3071]),
        (10, 20, 30, 30)
    );
}

#[test]
fn cifar100_reads_fine_by_default_and_coarse_on_request() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cifar-100-binary");
    std::fs::create_dir_all(&dir).unwrap();
    let (images, fine) = random_images(6, 3072, 100, 5);
    let coarse: Vec<u16> = fine.iter().map(|f| f % 20).collect();
    let bytes = encode_cifar100(&images, &coarse, &fine).unwrap();
    std::fs::write(dir.join("train.bin"), &bytes).unwrap();
    std::fs::write(dir.join("test.bin"), &bytes[..2 * 3074]).unwrap();

    let data = load(
        DatasetName::Cifar100,
        &LoadOptions::with_data_dir(root.path()),
    )
    .unwrap();
    assert_eq!(data.train.num_classes, 100);
    assert_eq!(data.train.labels, fine);
    assert_eq!(data.train.images, images);
    assert_eq!(data.test.len(), 2);
    assert_eq!(data.train.class_names[99], "worm");

    let options = LoadOptions {
        cifar100_labels: Cifar100Labels::Coarse,
        ..LoadOptions::with_data_dir(root.path())
    };
    let data = load(DatasetName::Cifar100, &options).unwrap();
    assert_eq!(data.train.num_classes, 20);
    assert_eq!(data.train.labels, coarse);
    assert_eq!(data.train.class_names[19], "vehicles_2");
}

/// Writes MNIST-style files into `dir`, the training images gzipped and the rest raw.
fn write_idx_dir(
    dir: &Path,
    n_train: usize,
    n_test: usize,
) -> (Vec<u8>, Vec<u16>, Vec<u8>, Vec<u16>) {
    std::fs::create_dir_all(dir).unwrap();
    let (ti, tl) = random_images(n_train, 28 * 28, 10, 11);
    let (si, sl) = random_images(n_test, 28 * 28, 10, 12);
    let bytes = |l: &[u16]| l.iter().map(|&x| x as u8).collect::<Vec<u8>>();
    let write = |name: &str, data: Vec<u8>| std::fs::write(dir.join(name), data).unwrap();
    write(
        "train-images-idx3-ubyte.gz",
        gzip(&encode_idx(&[n_train, 28, 28], &ti).unwrap()),
    );
    write(
        "train-labels-idx1-ubyte.gz",
        gzip(&encode_idx(&[n_train], &bytes(&tl)).unwrap()),
    );
    write(
        "t10k-images-idx3-ubyte",
        encode_idx(&[n_test, 28, 28], &si).unwrap(),
    );
    write(
        "t10k-labels-idx1-ubyte",
        encode_idx(&[n_test], &bytes(&sl)).unwrap(),
    );
    (ti, tl, si, sl)
}

#[test]
fn idx_files_load_raw_and_gzipped() {
    let root = tempfile::tempdir().unwrap();
    let (ti, tl, si, sl) = write_idx_dir(&root.path().join("mnist"), 9, 4);
    let data = load(DatasetName::Mnist, &LoadOptions::with_data_dir(root.path())).unwrap();
    assert_eq!(
        (data.train.channels, data.train.height, data.train.width),
        (1, 28, 28)
    );
    assert_eq!(data.train.images, ti);
    assert_eq!(data.train.labels, tl);
    assert_eq!(data.test.images, si);
    assert_eq!(data.test.labels, sl);
    assert_eq!(data.train.class_names[3], "3");

    // The same files serve as Fashion-MNIST when placed in its folder (names differ only).
    let froot = tempfile::tempdir().unwrap();
    write_idx_dir(&froot.path().join("fashion-mnist"), 9, 4);
    let fashion = load(
        DatasetName::FashionMnist,
        &LoadOptions::with_data_dir(froot.path()),
    )
    .unwrap();
    assert_eq!(fashion.train.images, ti);
    assert_eq!(fashion.train.class_names[9], "Ankle boot");
}

#[test]
fn missing_dataset_names_the_searched_folders_and_the_fetch_command() {
    let root = tempfile::tempdir().unwrap();
    let err = load(DatasetName::Mnist, &LoadOptions::with_data_dir(root.path())).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("`{}`", root.path().join("mnist").display())),
        "{msg}"
    );
    assert!(msg.contains("pangaea data fetch mnist"), "{msg}");
    assert!(matches!(err, DataError::NotFound { .. }));
}

#[test]
fn missing_file_names_its_path() {
    let root = tempfile::tempdir().unwrap();
    write_cifar10_dir(root.path(), 1, 0);
    let missing = root.path().join("test_batch.bin");
    std::fs::remove_file(&missing).unwrap();
    let err =
        load_from_dir(DatasetName::Cifar10, root.path(), &LoadOptions::default()).unwrap_err();
    assert_mentions(&err, &missing, &["failed to read"]);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn truncated_cifar_file_names_the_record_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = random_images(3, 3072, 10, 2);
    let bytes = encode_cifar10(&images, &labels).unwrap();
    let path = write(dir.path(), "data_batch_1.bin", &bytes[..2 * 3073 + 100]);
    let err = read_cifar10_file(&path).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &[
            "truncated",
            "record 2 at byte 6146 needs 3073 bytes, only 100 remain",
        ],
    );
    let empty = write(dir.path(), "empty.bin", &[]);
    let err = read_cifar10_file(&empty).unwrap_err();
    assert_mentions(&err, &empty, &["record 0 at byte 0"]);
}

#[test]
fn wrong_record_size_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = random_images(4, 3072, 10, 3);
    let cifar100 = encode_cifar100(&images, &labels, &labels).unwrap();
    let path = write(dir.path(), "train.bin", &cifar100);
    let err = read_cifar10_file(&path).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &["wrong record size", "12296 bytes", "3073-byte records"],
    );
    let cifar10 = encode_cifar10(&images, &labels).unwrap();
    let path = write(dir.path(), "c10.bin", &cifar10);
    let err = read_cifar100_file(&path, Cifar100Labels::Fine).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &["wrong record size", "3074-byte records", "CIFAR-10"],
    );
}

#[test]
fn labels_out_of_range_name_record_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (images, mut labels) = random_images(3, 3072, 10, 4);
    labels[1] = 10;
    let path = write(
        dir.path(),
        "b.bin",
        &encode_cifar10(&images, &labels).unwrap(),
    );
    let err = read_cifar10_file(&path).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &["record 1 (byte 3073) has label 10, expected below 10"],
    );

    // CIFAR-100: a bad coarse label is caught even when fine labels are read.
    let coarse = vec![0, 0, 20];
    let fine = vec![5, 99, 7];
    let path = write(
        dir.path(),
        "train.bin",
        &encode_cifar100(&images, &coarse, &fine).unwrap(),
    );
    let err = read_cifar100_file(&path, Cifar100Labels::Fine).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &["record 2 (byte 6148) has coarse label 20, expected below 20"],
    );
    let path = write(
        dir.path(),
        "t.bin",
        &encode_cifar100(&images, &[0, 0, 0], &[0, 100, 0]).unwrap(),
    );
    let err = read_cifar100_file(&path, Cifar100Labels::Coarse).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &["record 1 (byte 3075) has fine label 100, expected below 100"],
    );

    // idx labels.
    let path = write(
        dir.path(),
        "labels",
        &encode_idx(&[4], &[1, 2, 12, 3]).unwrap(),
    );
    let err = read_idx_labels(&path, 10).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &["record 2 (byte 10) has label 12, expected below 10"],
    );
}

#[test]
fn bad_idx_magic_is_named_raw_and_gzipped() {
    let dir = tempfile::tempdir().unwrap();
    let images = encode_idx(&[2, 28, 28], &[0; 2 * 784]).unwrap();
    let labels = encode_idx(&[2], &[0, 1]).unwrap();
    // Images and labels swapped.
    let path = write(dir.path(), "train-labels-idx1-ubyte", &images);
    let err = read_idx_labels(&path, 10).unwrap_err();
    assert_mentions(
        &err,
        &path,
        &[
            "bad magic number",
            "at byte 0",
            "expected 0x00000801, found 0x00000803",
        ],
    );
    let lpath = write(dir.path(), "labels.gz", &gzip(&labels));
    let err = read_idx_pair(&lpath, &lpath, 10, None).unwrap_err();
    assert_mentions(&err, &lpath, &["expected 0x00000803, found 0x00000801"]);
    // Not an idx file at all.
    let junk = write(dir.path(), "junk", b"PK\x03\x04 a zip file");
    let err = read_idx_labels(&junk, 10).unwrap_err();
    assert_mentions(&err, &junk, &["bad magic number"]);
}

#[test]
fn truncated_idx_names_the_image_and_offset_also_inside_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let images = encode_idx(&[3, 28, 28], &[9; 3 * 784]).unwrap();
    let labels = write(dir.path(), "labels", &encode_idx(&[3], &[0, 1, 2]).unwrap());
    let cut = &images[..16 + 784 + 500];
    let raw = write(dir.path(), "imgs", cut);
    let err = read_idx_pair(&raw, &labels, 10, None).unwrap_err();
    assert_mentions(
        &err,
        &raw,
        &[
            "truncated",
            "image 1 at byte 800 needs 784 bytes, only 500 remain",
        ],
    );
    let gz = write(dir.path(), "imgs.gz", &gzip(cut));
    let err = read_idx_pair(&gz, &labels, 10, None).unwrap_err();
    assert_mentions(&err, &gz, &["image 1 at byte 800"]);
    // A cut gzip stream is a decompression error naming the file.
    let whole = gzip(&images);
    let broken = write(dir.path(), "broken.gz", &whole[..whole.len() / 2]);
    let err = read_idx_pair(&broken, &labels, 10, None).unwrap_err();
    assert_mentions(&err, &broken, &["failed to decompress"]);
}

#[test]
fn image_label_count_mismatch_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let images = write(
        dir.path(),
        "imgs",
        &encode_idx(&[5, 2, 2], &[0; 20]).unwrap(),
    );
    let labels = write(dir.path(), "labels", &encode_idx(&[4], &[0; 4]).unwrap());
    let err = read_idx_pair(&images, &labels, 10, None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("`{}` has 5 images", images.display())),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("`{}` has 4 labels", labels.display())),
        "{msg}"
    );
}

#[test]
fn test_images_of_another_size_are_a_shape_error() {
    let dir = tempfile::tempdir().unwrap();
    write_idx_dir(dir.path(), 2, 2);
    let test_images = write(
        dir.path(),
        "t10k-images-idx3-ubyte",
        &encode_idx(&[2, 14, 14], &[0; 392]).unwrap(),
    );
    let err = load_from_dir(DatasetName::Mnist, dir.path(), &LoadOptions::default()).unwrap_err();
    assert_mentions(
        &err,
        &test_images,
        &["expected 28×28 images, found 14×14 images"],
    );
}
