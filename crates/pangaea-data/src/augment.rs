//! Training-time augmentation: pad-and-random-crop plus horizontal flip (docs/method.md §5: "pad-4
//! random crops and horizontal flips").
//!
//! The image is padded with `pad` zero pixels (black, before normalization) on every side, an
//! H×W window is cut at a random offset, and the window is mirrored left–right with
//! probability ½. This is torchvision's `RandomCrop(32, padding=4)` + `RandomHorizontalFlip()`.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::normalize::NormalizationTable;
use pangaea_wire::DatasetName;

/// Which augmentation to apply to training images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Augmentation {
    /// Zero padding on each side before the random crop; 0 disables cropping. Default 4.
    pub pad: usize,
    /// Mirror left–right with probability ½. Default per dataset:
    /// [`DatasetName::flips_by_default`].
    pub flip: bool,
}

/// One drawn augmentation: the crop window's top-left corner in the padded image
/// (`0..=2*pad` each; `(pad, pad)` is no shift) and whether to mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropFlip {
    /// Row of the window's top edge in the padded image.
    pub dy: usize,
    /// Column of the window's left edge in the padded image.
    pub dx: usize,
    /// Mirror the window left–right.
    pub flip: bool,
}

impl Augmentation {
    /// No augmentation (for validation and test images).
    pub const NONE: Augmentation = Augmentation {
        pad: 0,
        flip: false,
    };

    /// The paper's augmentation with the dataset's flip default: pad 4, flip except for
    /// `mnist` and `synthetic`.
    pub fn default_for(name: DatasetName) -> Self {
        Augmentation {
            pad: 4,
            flip: name.flips_by_default(),
        }
    }

    /// Whether this augmentation changes anything.
    pub fn is_none(&self) -> bool {
        self.pad == 0 && !self.flip
    }

    /// Draws one crop offset and flip. Draws nothing when the augmentation is
    /// [`Augmentation::NONE`].
    pub fn sample(&self, rng: &mut impl Rng) -> CropFlip {
        let (dy, dx) = if self.pad > 0 {
            (
                rng.random_range(0..=2 * self.pad),
                rng.random_range(0..=2 * self.pad),
            )
        } else {
            (0, 0)
        };
        let flip = self.flip && rng.random_bool(0.5);
        CropFlip { dy, dx, flip }
    }
}

/// Writes the augmented, normalized version of one C×H×W image into `out`.
///
/// `out[c][y][x] = table[c][p]` where `p` is pixel `(c, y + dy - pad, x' + dx - pad)` of the
/// image, or 0 outside it, and `x' = width - 1 - x` when mirrored (else `x`).
///
/// # Panics
/// When `image` or `out` is not `channels * height * width` long, or `table` has fewer than
/// `channels` entries.
#[expect(
    clippy::too_many_arguments,
    reason = "a hot inner routine on plain slices"
)]
pub fn write_augmented(
    image: &[u8],
    channels: usize,
    height: usize,
    width: usize,
    pad: usize,
    crop: CropFlip,
    table: &NormalizationTable,
    out: &mut [f32],
) {
    let len = channels * height * width;
    assert!(
        image.len() == len && out.len() == len && table.len() >= channels,
        "augment: image {} bytes, output {} slots, table {} channels for a {channels}×{height}×{width} image",
        image.len(),
        out.len(),
        table.len()
    );
    // Source row/column of output (y, x) is (y + dy - pad, x + dx - pad) before mirroring.
    let shift_y = crop.dy as isize - pad as isize;
    let shift_x = crop.dx as isize - pad as isize;
    for c in 0..channels {
        let lut = &table[c];
        let zero = lut[0];
        let src_plane = &image[c * height * width..(c + 1) * height * width];
        let dst_plane = &mut out[c * height * width..(c + 1) * height * width];
        for y in 0..height {
            let dst_row = &mut dst_plane[y * width..(y + 1) * width];
            let sy = y as isize + shift_y;
            if sy < 0 || sy >= height as isize {
                dst_row.fill(zero);
                continue;
            }
            let src_row = &src_plane[sy as usize * width..(sy as usize + 1) * width];
            for (x, o) in dst_row.iter_mut().enumerate() {
                let xc = if crop.flip { width - 1 - x } else { x };
                let sx = xc as isize + shift_x;
                *o = if sx < 0 || sx >= width as isize {
                    zero
                } else {
                    lut[usize::from(src_row[sx as usize])]
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalization;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A 1×3×3 image with pixel values 1..=9 and the identity-like table `v / 255`.
    fn setup() -> (Vec<u8>, NormalizationTable) {
        ((1..=9).collect(), Normalization::unit(1).table())
    }

    fn run(crop: CropFlip, pad: usize) -> Vec<u8> {
        let (image, table) = setup();
        let mut out = vec![0.0; 9];
        write_augmented(&image, 1, 3, 3, pad, crop, &table, &mut out);
        out.iter().map(|v| (v * 255.0).round() as u8).collect()
    }

    #[test]
    fn centred_crop_without_flip_is_the_identity() {
        let crop = CropFlip {
            dy: 1,
            dx: 1,
            flip: false,
        };
        assert_eq!(run(crop, 1), (1..=9).collect::<Vec<u8>>());
    }

    #[test]
    fn crops_shift_and_fill_with_zero() {
        // Window one row down and one column right: the image moves up-left.
        let crop = CropFlip {
            dy: 2,
            dx: 2,
            flip: false,
        };
        assert_eq!(run(crop, 1), vec![5, 6, 0, 8, 9, 0, 0, 0, 0]);
        // Window at the padded corner: the image moves down-right.
        let crop = CropFlip {
            dy: 0,
            dx: 0,
            flip: false,
        };
        assert_eq!(run(crop, 1), vec![0, 0, 0, 0, 1, 2, 0, 4, 5]);
    }

    #[test]
    fn flip_mirrors_each_row_of_the_window() {
        let crop = CropFlip {
            dy: 1,
            dx: 1,
            flip: true,
        };
        assert_eq!(run(crop, 1), vec![3, 2, 1, 6, 5, 4, 9, 8, 7]);
        let crop = CropFlip {
            dy: 1,
            dx: 2,
            flip: true,
        };
        assert_eq!(run(crop, 1), vec![0, 3, 2, 0, 6, 5, 0, 9, 8]);
    }

    #[test]
    fn sampling_is_seeded_and_covers_the_range() {
        let aug = Augmentation { pad: 2, flip: true };
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..200).map(|_| aug.sample(&mut rng)).collect::<Vec<_>>()
        };
        let a = draw(3);
        assert_eq!(a, draw(3));
        assert_ne!(a, draw(4));
        assert!(a.iter().all(|c| c.dy <= 4 && c.dx <= 4));
        assert!(a.iter().any(|c| c.dy == 0) && a.iter().any(|c| c.dx == 4));
        let flips = a.iter().filter(|c| c.flip).count();
        assert!((60..140).contains(&flips), "{flips} flips of 200");
        let none = Augmentation::NONE.sample(&mut ChaCha8Rng::seed_from_u64(0));
        assert_eq!(
            none,
            CropFlip {
                dy: 0,
                dx: 0,
                flip: false
            }
        );
    }

    #[test]
    fn flip_defaults_follow_the_dataset() {
        assert!(Augmentation::default_for(DatasetName::Cifar10).flip);
        assert!(Augmentation::default_for(DatasetName::FashionMnist).flip);
        assert!(!Augmentation::default_for(DatasetName::Mnist).flip);
        assert_eq!(Augmentation::default_for(DatasetName::Mnist).pad, 4);
    }
}
