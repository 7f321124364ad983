//! Reader (and writer) for idx files, raw or gzipped: the format of MNIST and Fashion-MNIST.
//!
//! An idx file is a 4-byte magic number `00 00 08 NDIM` (type 0x08: unsigned bytes), NDIM
//! big-endian `u32` dimension sizes, then the elements in row-major order. Images are
//! `[N, rows, cols]` (magic 0x00000803), labels `[N]` (magic 0x00000801). A file that starts with
//! the gzip magic `1f 8b` is decompressed first, whatever its name; byte offsets in errors then
//! count into the decompressed data.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::DataError;

/// Magic number of a `u8` idx file with three dimensions (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a `u8` idx file with one dimension (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// Names of the four MNIST-style files, without `.gz`: train images, train labels, test
/// images, test labels.
pub const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// The contents of an idx file: dimension sizes and elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimension sizes, outermost first.
    pub dims: Vec<usize>,
    /// Elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// Images read from an idx file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
    /// The pixels, one image after the other, row-major.
    pub pixels: Vec<u8>,
}

/// Reads a file whole, decompressing it when it starts with the gzip magic.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::read(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 2);
        MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::Decompress {
                path: path.to_owned(),
                source: e,
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses idx bytes (already decompressed); `path` is only for messages.
///
/// `expected_magic` is the magic number the caller needs (it fixes the number of dimensions).
pub fn parse_idx(path: &Path, bytes: &[u8], expected_magic: u32) -> Result<IdxArray, DataError> {
    let truncated = |what: &str, offset: usize, needed: usize| DataError::Truncated {
        path: path.to_owned(),
        what: what.to_owned(),
        offset: offset as u64,
        needed: needed as u64,
        available: bytes.len().saturating_sub(offset) as u64,
    };
    let Some(magic_bytes) = bytes.get(0..4) else {
        return Err(truncated("idx magic number", 0, 4));
    };
    let magic = u32::from_be_bytes([
        magic_bytes[0],
        magic_bytes[1],
        magic_bytes[2],
        magic_bytes[3],
    ]);
    if magic != expected_magic {
        return Err(DataError::BadMagic {
            path: path.to_owned(),
            expected: expected_magic,
            found: magic,
        });
    }
    let ndim = usize::from(magic_bytes[3]);
    let header_len = 4 + 4 * ndim;
    let Some(dim_bytes) = bytes.get(4..header_len) else {
        return Err(truncated("idx header", 0, header_len));
    };
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let Some(count) = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) else {
        return Err(DataError::Shape {
            path: path.to_owned(),
            expected: "dimensions whose product fits in memory".to_owned(),
            found: format!("{dims:?}"),
        });
    };
    let body = &bytes[header_len..];
    if body.len() < count {
        // Name the first incomplete item: for images the image index, for labels the label.
        let item = dims.iter().skip(1).product::<usize>().max(1);
        let index = body.len() / item;
        let what = if dims.len() > 1 {
            format!("image {index}")
        } else {
            format!("label {index}")
        };
        let offset = header_len + index * item;
        return Err(truncated(&what, offset, item));
    }
    if body.len() > count {
        return Err(DataError::TrailingData {
            path: path.to_owned(),
            offset: (header_len + count) as u64,
            extra: (body.len() - count) as u64,
        });
    }
    Ok(IdxArray {
        dims,
        data: body.to_vec(),
    })
}

/// Reads an idx images file (`[N, rows, cols]`, raw or gzipped).
pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    let bytes = read_maybe_gz(path)?;
    let array = parse_idx(path, &bytes, IDX_IMAGES_MAGIC)?;
    Ok(IdxImages {
        count: array.dims[0],
        height: array.dims[1],
        width: array.dims[2],
        pixels: array.data,
    })
}

/// Reads an idx labels file (`[N]`, raw or gzipped), checking every label is below
/// `num_classes`.
pub fn read_idx_labels(path: &Path, num_classes: usize) -> Result<Vec<u16>, DataError> {
    let bytes = read_maybe_gz(path)?;
    let array = parse_idx(path, &bytes, IDX_LABELS_MAGIC)?;
    let header_len = 8;
    array
        .data
        .iter()
        .enumerate()
        .map(|(i, &label)| {
            if usize::from(label) < num_classes {
                Ok(u16::from(label))
            } else {
                Err(DataError::LabelOutOfRange {
                    path: path.to_owned(),
                    record: i,
                    offset: (header_len + i) as u64,
                    field: "label",
                    label: u32::from(label),
                    num_classes,
                })
            }
        })
        .collect()
}

/// Reads an images file and its labels file and checks that they agree in count and, when
/// `shape` is given, that the images are `height × width`.
pub fn read_idx_pair(
    images_path: &Path,
    labels_path: &Path,
    num_classes: usize,
    shape: Option<(usize, usize)>,
) -> Result<(IdxImages, Vec<u16>), DataError> {
    let images = read_idx_images(images_path)?;
    if let Some((h, w)) = shape {
        if (images.height, images.width) != (h, w) {
            return Err(DataError::Shape {
                path: images_path.to_owned(),
                expected: format!("{h}×{w} images"),
                found: format!("{}×{} images", images.height, images.width),
            });
        }
    }
    let labels = read_idx_labels(labels_path, num_classes)?;
    if labels.len() != images.count {
        return Err(DataError::CountMismatch {
            images_path: images_path.to_owned(),
            images: images.count,
            labels_path: labels_path.to_owned(),
            labels: labels.len(),
        });
    }
    Ok((images, labels))
}

/// Encodes an idx `u8` array: the inverse of [`parse_idx`]. Errors when `data.len()` is not
/// the product of `dims`, or when there are more than 255 dimensions or a dimension exceeds
/// `u32`.
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Result<Vec<u8>, DataError> {
    let ndim = u8::try_from(dims.len()).map_err(|_| {
        DataError::config(
            "idx dims",
            format!("{} dimensions (at most 255)", dims.len()),
        )
    })?;
    if dims.iter().product::<usize>() != data.len() {
        return Err(DataError::config(
            "idx data",
            format!("{} bytes for dimensions {dims:?}", data.len()),
        ));
    }
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&[0, 0, 0x08, ndim]);
    for &d in dims {
        let d = u32::try_from(d)
            .map_err(|_| DataError::config("idx dims", format!("dimension {d} exceeds u32")))?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    Ok(out)
}

/// The path of an idx file in `dir`: `name` if present, else `name.gz` if present.
pub fn find_idx_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Some(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    gz.is_file().then_some(gz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_parse_round_trips() {
        let data: Vec<u8> = (0..24).collect();
        let bytes = encode_idx(&[2, 3, 4], &data).unwrap();
        assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
        let array = parse_idx(Path::new("a"), &bytes, IDX_IMAGES_MAGIC).unwrap();
        assert_eq!(array.dims, vec![2, 3, 4]);
        assert_eq!(array.data, data);
    }

    #[test]
    fn short_header_and_short_body_name_the_offset() {
        let bytes = encode_idx(&[2, 3, 4], &[7; 24]).unwrap();
        let msg = parse_idx(Path::new("imgs"), &bytes[..10], IDX_IMAGES_MAGIC)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("idx header at byte 0 needs 16 bytes, only 10 remain"),
            "{msg}"
        );
        let msg = parse_idx(Path::new("imgs"), &bytes[..16 + 13], IDX_IMAGES_MAGIC)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("image 1 at byte 28 needs 12 bytes, only 1 remain"),
            "{msg}"
        );
        let msg = parse_idx(Path::new("imgs"), &bytes[..2], IDX_IMAGES_MAGIC)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("idx magic number at byte 0"), "{msg}");
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = encode_idx(&[3], &[1, 2, 3]).unwrap();
        bytes.push(9);
        let msg = parse_idx(Path::new("labels"), &bytes, IDX_LABELS_MAGIC)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("1 bytes after the last element, which ends at byte 11"),
            "{msg}"
        );
    }

    #[test]
    fn huge_dimensions_do_not_overflow() {
        let mut bytes = vec![0, 0, 8, 3];
        for _ in 0..3 {
            bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        let result = parse_idx(Path::new("big"), &bytes, IDX_IMAGES_MAGIC);
        assert!(result.is_err());
    }
}
