//! Readers (and writers) for the CIFAR-10 and CIFAR-100 binary files.
//!
//! CIFAR-10 (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`): records of 1 label
//! byte then 3072 bytes of image, the 1024 red, 1024 green and 1024 blue bytes of a 32×32 image
//! in row order. CIFAR-100 (`train.bin`, `test.bin`): records of a coarse label byte, a fine
//! label byte, then the same 3072 bytes. A file is nothing but whole records.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::DataError;

/// Bytes of one CIFAR image: 3 planes of 32×32.
pub const CIFAR_IMAGE_BYTES: usize = 3 * 32 * 32;
/// Bytes of one CIFAR-10 record: label + image.
pub const CIFAR10_RECORD_BYTES: usize = 1 + CIFAR_IMAGE_BYTES;
/// Bytes of one CIFAR-100 record: coarse label + fine label + image.
pub const CIFAR100_RECORD_BYTES: usize = 2 + CIFAR_IMAGE_BYTES;

/// CIFAR-10 training files, in order.
pub const CIFAR10_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The CIFAR-10 test file.
pub const CIFAR10_TEST_FILE: &str = "test_batch.bin";
/// The CIFAR-100 training file.
pub const CIFAR100_TRAIN_FILE: &str = "train.bin";
/// The CIFAR-100 test file.
pub const CIFAR100_TEST_FILE: &str = "test.bin";

/// CIFAR-10 class names, by label.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// CIFAR-100 fine class names, by fine label.
pub const CIFAR100_FINE_CLASSES: [&str; 100] = [
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
];

/// CIFAR-100 coarse class (superclass) names, by coarse label.
pub const CIFAR100_COARSE_CLASSES: [&str; 20] = [
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
];

/// Which CIFAR-100 label to use as the class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cifar100Labels {
    /// The 100 fine classes (the default, and what the paper's CIFAR-100 results use).
    #[default]
    Fine,
    /// The 20 coarse superclasses.
    Coarse,
}

/// The record layouts, with what distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Cifar10,
    Cifar100,
}

impl Layout {
    fn record_bytes(self) -> usize {
        match self {
            Layout::Cifar10 => CIFAR10_RECORD_BYTES,
            Layout::Cifar100 => CIFAR100_RECORD_BYTES,
        }
    }

    /// Label fields: (name, number of classes), in record order.
    fn label_fields(self) -> &'static [(&'static str, usize)] {
        match self {
            Layout::Cifar10 => &[("label", 10)],
            Layout::Cifar100 => &[("coarse label", 20), ("fine label", 100)],
        }
    }
}

/// Images and labels read from one file.
struct Records {
    images: Vec<u8>,
    /// One vector per label field.
    labels: Vec<Vec<u16>>,
}

fn parse_records(path: &Path, bytes: &[u8], layout: Layout) -> Result<Records, DataError> {
    let record = layout.record_bytes();
    let len = bytes.len() as u64;
    if bytes.is_empty() {
        return Err(DataError::Truncated {
            path: path.to_owned(),
            what: "record 0".to_owned(),
            offset: 0,
            needed: record as u64,
            available: 0,
        });
    }
    if !bytes.len().is_multiple_of(record) {
        let other = match layout {
            Layout::Cifar10 => CIFAR100_RECORD_BYTES,
            Layout::Cifar100 => CIFAR10_RECORD_BYTES,
        };
        if bytes.len().is_multiple_of(other) {
            let hint = match layout {
                Layout::Cifar10 => "it is a whole number of 3074-byte CIFAR-100 records",
                Layout::Cifar100 => "it is a whole number of 3073-byte CIFAR-10 records",
            };
            return Err(DataError::RecordSize {
                path: path.to_owned(),
                len,
                record_size: record,
                hint: hint.to_owned(),
            });
        }
        let whole = bytes.len() / record;
        let offset = (whole * record) as u64;
        return Err(DataError::Truncated {
            path: path.to_owned(),
            what: format!("record {whole}"),
            offset,
            needed: record as u64,
            available: len - offset,
        });
    }
    let fields = layout.label_fields();
    let count = bytes.len() / record;
    let mut images = Vec::with_capacity(count * CIFAR_IMAGE_BYTES);
    let mut labels = vec![Vec::with_capacity(count); fields.len()];
    for (index, rec) in bytes.chunks_exact(record).enumerate() {
        for (f, &(field, num_classes)) in fields.iter().enumerate() {
            let label = rec[f];
            if usize::from(label) >= num_classes {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_owned(),
                    record: index,
                    offset: (index * record + f) as u64,
                    field,
                    label: u32::from(label),
                    num_classes,
                });
            }
            labels[f].push(u16::from(label));
        }
        images.extend_from_slice(&rec[fields.len()..]);
    }
    Ok(Records { images, labels })
}

fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::read(path, e))
}

/// Reads one CIFAR-10 binary file: `(images, labels)`, images as 3×32×32 planes.
pub fn read_cifar10_file(path: &Path) -> Result<(Vec<u8>, Vec<u16>), DataError> {
    let bytes = read_file(path)?;
    let mut records = parse_records(path, &bytes, Layout::Cifar10)?;
    Ok((records.images, records.labels.remove(0)))
}

/// Reads one CIFAR-100 binary file: `(images, labels)` with the fine or coarse labels.
/// Both label bytes of every record are checked, whichever is kept.
pub fn read_cifar100_file(
    path: &Path,
    which: Cifar100Labels,
) -> Result<(Vec<u8>, Vec<u16>), DataError> {
    let bytes = read_file(path)?;
    let mut records = parse_records(path, &bytes, Layout::Cifar100)?;
    let field = match which {
        Cifar100Labels::Coarse => 0,
        Cifar100Labels::Fine => 1,
    };
    Ok((records.images, records.labels.swap_remove(field)))
}

/// Reads and concatenates CIFAR-10 files into one dataset named `name`.
pub fn read_cifar10(name: &str, paths: &[PathBuf]) -> Result<Dataset, DataError> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for path in paths {
        let (i, l) = read_cifar10_file(path)?;
        images.extend_from_slice(&i);
        labels.extend_from_slice(&l);
    }
    Dataset::new(
        name,
        3,
        32,
        32,
        10,
        CIFAR10_CLASSES.iter().map(|s| (*s).to_owned()).collect(),
        images,
        labels,
    )
}

/// Reads a CIFAR-100 file into a dataset named `name`, with fine or coarse classes.
pub fn read_cifar100(name: &str, path: &Path, which: Cifar100Labels) -> Result<Dataset, DataError> {
    let (images, labels) = read_cifar100_file(path, which)?;
    let names: &[&str] = match which {
        Cifar100Labels::Fine => &CIFAR100_FINE_CLASSES,
        Cifar100Labels::Coarse => &CIFAR100_COARSE_CLASSES,
    };
    Dataset::new(
        name,
        3,
        32,
        32,
        names.len(),
        names.iter().map(|s| (*s).to_owned()).collect(),
        images,
        labels,
    )
}

/// Encodes images (3×32×32 each) and labels as CIFAR-10 records, the inverse of
/// [`read_cifar10_file`]. Errors when the lengths disagree or a label does not fit a byte.
pub fn encode_cifar10(images: &[u8], labels: &[u16]) -> Result<Vec<u8>, DataError> {
    encode(images, &[labels])
}

/// Encodes images (3×32×32 each) with coarse and fine labels as CIFAR-100 records.
pub fn encode_cifar100(images: &[u8], coarse: &[u16], fine: &[u16]) -> Result<Vec<u8>, DataError> {
    encode(images, &[coarse, fine])
}

fn encode(images: &[u8], labels: &[&[u16]]) -> Result<Vec<u8>, DataError> {
    let n = labels.first().map_or(0, |l| l.len());
    if labels.iter().any(|l| l.len() != n) || images.len() != n * CIFAR_IMAGE_BYTES {
        return Err(DataError::config(
            "cifar records",
            format!(
                "{} image bytes and label lists of lengths {:?} do not make whole 3072-byte records",
                images.len(),
                labels.iter().map(|l| l.len()).collect::<Vec<_>>()
            ),
        ));
    }
    let mut out = Vec::with_capacity(n * (labels.len() + CIFAR_IMAGE_BYTES));
    for (i, image) in images.chunks_exact(CIFAR_IMAGE_BYTES).enumerate() {
        for field in labels {
            let label = u8::try_from(field[i]).map_err(|_| {
                DataError::config(
                    "cifar records",
                    format!("label {} of record {i} exceeds 255", field[i]),
                )
            })?;
            out.push(label);
        }
        out.extend_from_slice(image);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_lists_have_the_right_lengths_and_no_duplicates() {
        for list in [
            &CIFAR10_CLASSES[..],
            &CIFAR100_FINE_CLASSES,
            &CIFAR100_COARSE_CLASSES,
        ] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len());
        }
        // The fine names are in alphabetical order, as in the official meta file.
        let mut sorted = CIFAR100_FINE_CLASSES.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, CIFAR100_FINE_CLASSES.to_vec());
    }

    #[test]
    fn parse_detects_the_other_layout() {
        let bytes = encode_cifar100(&[0; 2 * CIFAR_IMAGE_BYTES], &[1, 2], &[3, 4]).unwrap();
        let err = parse_records(Path::new("x.bin"), &bytes, Layout::Cifar10)
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("3074-byte CIFAR-100 records"), "{msg}");
    }

    #[test]
    fn encode_rejects_mismatched_lengths() {
        assert!(encode_cifar10(&[0; CIFAR_IMAGE_BYTES], &[1, 2]).is_err());
        assert!(encode_cifar10(&[0; CIFAR_IMAGE_BYTES], &[300]).is_err());
    }
}
