//! `resnet-v1-56` and `resnet-v1-20`: the CIFAR ResNet of He et al. (2016), §4.2, with n = 9
//! and n = 3 blocks per stage.
//!
//! Stem conv3×3(16)-BN-act, then 3 stages × 9 basic blocks with 16, 32, 64 filters (the first
//! block of stages 2 and 3 has stride 2), global average pooling and a linear layer; 6·9 + 2 = 56
//! weighted layers. A block is conv3×3-BN-act-conv3×3-BN, plus the shortcut, then act.
//! Shortcuts are **option A**, as the paper uses for CIFAR: identity, and where the shape
//! changes, the input subsampled by 2 and zero-padded with the new channels (half before, half
//! after) — no parameters. Convolutions have no bias (BN follows each one).
//!
//! 55 sites (`stem.act`, `stage{1,2,3}.block{0..8}.act{1,2}`, where `act2` follows the
//! addition). Weights for 3 input channels and 10 classes: 853,018 — the paper's Table 6 gives
//! 0.85M for ResNet-56. With n = 3 (`resnet-v1-20`): 19 sites and 269,722 weights (0.27M in
//! the same table).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::{AvgPoolOptions, PadMode};
use burn::tensor::{Device, Tensor};

use super::layers::{batch_norm, classifier, conv3x3, global_avg_pool};
use crate::activation::{Activation, ActivationContext, SiteBuilder};

/// Filters per stage.
const WIDTHS: [usize; 3] = [16, 32, 64];

/// A basic block with an option-A shortcut.
#[derive(Module, Debug)]
struct Block {
    conv1: Conv2d,
    bn1: BatchNorm,
    act1: Activation,
    conv2: Conv2d,
    bn2: BatchNorm,
    act2: Activation,
    /// Whether the shortcut subsamples by 2.
    stride: usize,
    /// Zero channels added (before, after) by the shortcut.
    pad_before: usize,
    pad_after: usize,
}

impl Block {
    fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<4> {
        let y = self
            .act1
            .forward(self.bn1.forward(self.conv1.forward(x.clone())), ctx);
        let y = self.bn2.forward(self.conv2.forward(y));
        let shortcut = if self.stride == 2 {
            // x[:, :, ::2, ::2], as a 1×1 average pool with stride 2: the same values, and a
            // backward every backend has (LibTorch's backward of a strided slice fails on a
            // non-contiguous gradient in burn-tch 0.22.1).
            avg_pool2d(x, AvgPoolOptions::new([1, 1]).with_stride([2, 2]))
        } else {
            x
        };
        let shortcut = if self.pad_before + self.pad_after > 0 {
            shortcut.pad(
                [(self.pad_before, self.pad_after), (0, 0), (0, 0)],
                PadMode::Constant(0.0),
            )
        } else {
            shortcut
        };
        self.act2.forward(y.add(shortcut), ctx)
    }
}

/// ResNet-v1 of depth 6n + 2.
#[derive(Module, Debug)]
pub struct ResNetV1 {
    stem: Conv2d,
    bn: BatchNorm,
    act: Activation,
    blocks: Vec<Block>,
    fc: Linear,
}

impl ResNetV1 {
    /// The network with `blocks_per_stage` (n) basic blocks per stage, depth 6n + 2, for
    /// `in_channels`-channel images and `classes` classes.
    pub fn new(
        blocks_per_stage: usize,
        in_channels: usize,
        classes: usize,
        sites: &SiteBuilder,
        device: &Device,
    ) -> ResNetV1 {
        let mut blocks = Vec::new();
        let mut channels = WIDTHS[0];
        for (stage, &width) in WIDTHS.iter().enumerate() {
            for b in 0..blocks_per_stage {
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                let name = |i: usize| format!("stage{}.block{b}.act{i}", stage + 1);
                let extra = width - channels;
                blocks.push(Block {
                    conv1: conv3x3(channels, width, stride, false, device),
                    bn1: batch_norm(width, device),
                    act1: sites.site(name(1), width),
                    conv2: conv3x3(width, width, 1, false, device),
                    bn2: batch_norm(width, device),
                    act2: sites.site(name(2), width),
                    stride,
                    pad_before: extra / 2,
                    pad_after: extra - extra / 2,
                });
                channels = width;
            }
        }
        ResNetV1 {
            stem: conv3x3(in_channels, WIDTHS[0], 1, false, device),
            bn: batch_norm(WIDTHS[0], device),
            act: sites.site("stem.act", WIDTHS[0]),
            blocks,
            fc: classifier(channels, classes, device),
        }
    }

    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<2> {
        let mut x = self.act.forward(self.bn.forward(self.stem.forward(x)), ctx);
        for block in &self.blocks {
            x = block.forward(x, ctx);
        }
        self.fc.forward(global_avg_pool(x))
    }

    /// The activation sites, in forward order.
    pub fn sites(&self) -> Vec<&Activation> {
        let mut sites = vec![&self.act];
        for block in &self.blocks {
            sites.push(&block.act1);
            sites.push(&block.act2);
        }
        sites
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{s, Distribution};

    /// The shortcut's subsampling is exactly `x[:, :, ::2, ::2]`, for even and odd sizes.
    #[test]
    fn the_one_by_one_pool_with_stride_2_is_the_strided_slice() {
        let device = crate::device::default_device();
        for size in [8, 7] {
            let x =
                Tensor::<4>::random([2, 3, size, size], Distribution::Normal(0.0, 1.0), &device);
            let pooled = avg_pool2d(x.clone(), AvgPoolOptions::new([1, 1]).with_stride([2, 2]));
            let sliced = x.slice(s![.., .., ..;2, ..;2]);
            assert_eq!(pooled.dims(), sliced.dims());
            let diff: f32 = (pooled - sliced).abs().max().into_scalar();
            assert_eq!(diff, 0.0, "size {size}");
        }
    }
}
