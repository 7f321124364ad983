//! `resnet-v2-56`: the pre-activation bottleneck ResNet of He et al. (2016b) as the Keras
//! CIFAR-10 example builds it (`resnet_v2`, depth 56 = 9·6 + 2).
//!
//! Stem conv3×3(16)-BN-act. Then 3 stages × 6 bottleneck blocks; stage widths (in → out) 16 → 64,
//! 64 → 128, 128 → 256, stride 2 in the first block of stages 2 and 3. A block is
//! BN-act-conv1×1(in, stride)-BN-act-conv3×3(in)-BN-act-conv1×1(out) plus the shortcut: a 1×1
//! convolution of the block input (stride as above) in each stage's first block, identity
//! otherwise. As in Keras, the very first block skips its first BN-act (the stem just did it).
//! Head: BN-act, global average pooling (Keras: 8×8 average pooling, the same on 32×32 images),
//! linear. Convolutions have biases (Keras's default).
//! The example's `num_res_blocks = (depth − 2)/9` gives 6 blocks per stage for depth 56, each
//! with 3 weighted layers: 3·6·3 + 2 = 56.
//!
//! 55 sites (`stem.act`, `stage{1,2,3}.block{0..5}.act{1,2,3}` except `stage1.block0.act1`,
//! `head.act`). Weights for 3 input channels and 10 classes: 1,663,338 — the trainable
//! parameters of the Keras model; Keras's summary total adds the 10,400 batch-norm moving
//! statistics (5,200 channels × 2), 1,673,738.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::{Device, Tensor};

use super::layers::{batch_norm, classifier, conv1x1, conv3x3, global_avg_pool};
use crate::activation::{Activation, ActivationContext, SiteBuilder};

/// Blocks per stage: (depth − 2)/9 with depth 56.
const BLOCKS_PER_STAGE: usize = 6;

/// A pre-activation bottleneck block.
#[derive(Module, Debug)]
struct Block {
    /// Absent in the network's first block.
    pre: Option<(BatchNorm, Activation)>,
    conv1: Conv2d,
    bn2: BatchNorm,
    act2: Activation,
    conv2: Conv2d,
    bn3: BatchNorm,
    act3: Activation,
    conv3: Conv2d,
    shortcut: Option<Conv2d>,
}

impl Block {
    fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<4> {
        let y = match &self.pre {
            Some((bn, act)) => act.forward(bn.forward(x.clone()), ctx),
            None => x.clone(),
        };
        let y = self.conv1.forward(y);
        let y = self
            .conv2
            .forward(self.act2.forward(self.bn2.forward(y), ctx));
        let y = self
            .conv3
            .forward(self.act3.forward(self.bn3.forward(y), ctx));
        let shortcut = match &self.shortcut {
            Some(conv) => conv.forward(x),
            None => x,
        };
        y.add(shortcut)
    }
}

/// ResNet-v2-56.
#[derive(Module, Debug)]
pub struct ResNetV2 {
    stem: Conv2d,
    stem_bn: BatchNorm,
    stem_act: Activation,
    blocks: Vec<Block>,
    bn: BatchNorm,
    act: Activation,
    fc: Linear,
}

impl ResNetV2 {
    /// The network for `in_channels`-channel images and `classes` classes.
    pub fn new(
        in_channels: usize,
        classes: usize,
        sites: &SiteBuilder,
        device: &Device,
    ) -> ResNetV2 {
        let mut blocks = Vec::new();
        let mut filters_in = 16;
        let mut channels = 16;
        for stage in 0..3 {
            let filters_out = if stage == 0 {
                filters_in * 4
            } else {
                filters_in * 2
            };
            for b in 0..BLOCKS_PER_STAGE {
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                let name = |i: usize| format!("stage{}.block{b}.act{i}", stage + 1);
                let pre = (stage > 0 || b > 0)
                    .then(|| (batch_norm(channels, device), sites.site(name(1), channels)));
                blocks.push(Block {
                    pre,
                    conv1: conv1x1(channels, filters_in, stride, true, device),
                    bn2: batch_norm(filters_in, device),
                    act2: sites.site(name(2), filters_in),
                    conv2: conv3x3(filters_in, filters_in, 1, true, device),
                    bn3: batch_norm(filters_in, device),
                    act3: sites.site(name(3), filters_in),
                    conv3: conv1x1(filters_in, filters_out, 1, true, device),
                    shortcut: (b == 0)
                        .then(|| conv1x1(channels, filters_out, stride, true, device)),
                });
                channels = filters_out;
            }
            filters_in = filters_out;
        }
        ResNetV2 {
            stem: conv3x3(in_channels, 16, 1, true, device),
            stem_bn: batch_norm(16, device),
            stem_act: sites.site("stem.act", 16),
            blocks,
            bn: batch_norm(channels, device),
            act: sites.site("head.act", channels),
            fc: classifier(channels, classes, device),
        }
    }

    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<2> {
        let x = self.stem.forward(x);
        let mut x = self.stem_act.forward(self.stem_bn.forward(x), ctx);
        for block in &self.blocks {
            x = block.forward(x, ctx);
        }
        let x = self.act.forward(self.bn.forward(x), ctx);
        self.fc.forward(global_avg_pool(x))
    }

    /// The activation sites, in forward order.
    pub fn sites(&self) -> Vec<&Activation> {
        let mut sites = vec![&self.stem_act];
        for block in &self.blocks {
            if let Some((_, act)) = &block.pre {
                sites.push(act);
            }
            sites.push(&block.act2);
            sites.push(&block.act3);
        }
        sites.push(&self.act);
        sites
    }
}
