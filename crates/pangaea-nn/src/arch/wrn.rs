//! `wrn-10-4`: a Wide ResNet (Zagoruyko & Komodakis 2016) of depth 10 and widening factor 4.
//!
//! Pre-activation basic blocks, (10 − 4)/6 = 1 block per stage, widths 16 (stem) and 64, 128,
//! 256, strides 1, 2, 2, no dropout, convolutions without bias. A block is
//! BN-act-conv3×3-BN-act-conv3×3 plus the shortcut: identity when the shape is unchanged,
//! otherwise a 1×1 convolution of the first pre-activation (as in the authors' code). The head is
//! BN-act, global average pooling and a linear layer.
//!
//! 7 sites (`stage{1,2,3}.block0.act{1,2}`, `head.act`). Weights for 3 input channels and 10
//! classes: 1,198,810 (1,194,416 in convolutions). Zagoruyko & Komodakis tabulate no depth-10
//! network; the count follows from the layer widths above.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::{Device, Tensor};

use super::layers::{batch_norm, classifier, conv1x1, conv3x3, global_avg_pool};
use crate::activation::{Activation, ActivationContext, SiteBuilder};

/// The widening factor k.
const WIDEN: usize = 4;
/// Blocks per stage: (depth − 4)/6 with depth 10.
const BLOCKS_PER_STAGE: usize = 1;

/// A pre-activation basic block.
#[derive(Module, Debug)]
struct Block {
    bn1: BatchNorm,
    act1: Activation,
    conv1: Conv2d,
    bn2: BatchNorm,
    act2: Activation,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
}

impl Block {
    fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<4> {
        let pre = self.act1.forward(self.bn1.forward(x.clone()), ctx);
        let y = self.conv1.forward(pre.clone());
        let y = self
            .conv2
            .forward(self.act2.forward(self.bn2.forward(y), ctx));
        let shortcut = match &self.shortcut {
            Some(conv) => conv.forward(pre),
            None => x,
        };
        y.add(shortcut)
    }
}

/// WRN-10-4.
#[derive(Module, Debug)]
pub struct Wrn {
    stem: Conv2d,
    blocks: Vec<Block>,
    bn: BatchNorm,
    act: Activation,
    fc: Linear,
}

impl Wrn {
    /// The network for `in_channels`-channel images and `classes` classes.
    pub fn new(in_channels: usize, classes: usize, sites: &SiteBuilder, device: &Device) -> Wrn {
        let mut blocks = Vec::new();
        let mut channels = 16;
        for stage in 0..3 {
            let width = (16 * WIDEN) << stage;
            for b in 0..BLOCKS_PER_STAGE {
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                let name = |i: usize| format!("stage{}.block{b}.act{i}", stage + 1);
                let shortcut = (stride != 1 || channels != width)
                    .then(|| conv1x1(channels, width, stride, false, device));
                blocks.push(Block {
                    bn1: batch_norm(channels, device),
                    act1: sites.site(name(1), channels),
                    conv1: conv3x3(channels, width, stride, false, device),
                    bn2: batch_norm(width, device),
                    act2: sites.site(name(2), width),
                    conv2: conv3x3(width, width, 1, false, device),
                    shortcut,
                });
                channels = width;
            }
        }
        Wrn {
            stem: conv3x3(in_channels, 16, 1, false, device),
            blocks,
            bn: batch_norm(channels, device),
            act: sites.site("head.act", channels),
            fc: classifier(channels, classes, device),
        }
    }

    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<2> {
        let mut x = self.stem.forward(x);
        for block in &self.blocks {
            x = block.forward(x, ctx);
        }
        let x = self.act.forward(self.bn.forward(x), ctx);
        self.fc.forward(global_avg_pool(x))
    }

    /// The activation sites, in forward order.
    pub fn sites(&self) -> Vec<&Activation> {
        let mut sites = Vec::new();
        for block in &self.blocks {
            sites.push(&block.act1);
            sites.push(&block.act2);
        }
        sites.push(&self.act);
        sites
    }
}
