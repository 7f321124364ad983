//! `all-cnn-c`: All-CNN-C of Springenberg, Dosovitskiy, Brox & Riedmiller (2015), Table 2.
//!
//! dropout 20 % on the input; conv3×3(96)-act ×2; conv3×3(96, stride 2)-act; dropout 50 %;
//! conv3×3(192)-act ×2; conv3×3(192, stride 2)-act; dropout 50 %; conv3×3(192, valid)-act;
//! conv1×1(192)-act; conv1×1(classes)-act; global average pooling → logits. Convolutions have
//! biases; there is no batch normalisation (none in the paper). The paper applies ReLU after
//! the last 1×1 convolution too, so that is a site as well.
//!
//! The valid 3×3 convolution needs a 3×3 map: on inputs smaller than 9×9 (where the two
//! stride-2 layers leave less than that) it gets padding 1 instead. Parameter counts do not
//! depend on the padding.
//!
//! 9 sites (`conv1.act` … `conv9.act`). Weights for 3 input channels and 10 classes:
//! 1,369,738 — exactly what the paper's layer table gives (its results table rounds it).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Tensor};

use super::layers::{conv, global_avg_pool, out_size};
use crate::activation::{Activation, ActivationContext, SiteBuilder};

/// Dropout on the input.
const INPUT_DROPOUT: f64 = 0.2;
/// Dropout after each stride-2 layer.
const HIDDEN_DROPOUT: f64 = 0.5;

/// A convolution, its activation, and the dropout that follows (if any).
#[derive(Module, Debug)]
struct Layer {
    conv: Conv2d,
    act: Activation,
    dropout: Option<Dropout>,
}

/// All-CNN-C.
#[derive(Module, Debug)]
pub struct AllCnnC {
    input_dropout: Dropout,
    layers: Vec<Layer>,
}

impl AllCnnC {
    /// The network for `in_channels`-channel images of `image_size`² pixels and `classes`
    /// classes.
    pub fn new(
        in_channels: usize,
        image_size: usize,
        classes: usize,
        sites: &SiteBuilder,
        device: &Device,
    ) -> AllCnnC {
        // (out channels, kernel, stride, dropout after)
        let plan: [(usize, usize, usize, bool); 9] = [
            (96, 3, 1, false),
            (96, 3, 1, false),
            (96, 3, 2, true),
            (192, 3, 1, false),
            (192, 3, 1, false),
            (192, 3, 2, true),
            (192, 3, 1, false),
            (192, 1, 1, false),
            (classes, 1, 1, false),
        ];
        let mut layers = Vec::new();
        let mut channels = in_channels;
        let mut size = image_size;
        for (i, &(out, kernel, stride, dropout)) in plan.iter().enumerate() {
            let padding = match (i, kernel) {
                // The paper's valid convolution, unless the map is too small for it.
                (6, _) if size >= 3 => 0,
                (_, 3) => 1,
                _ => 0,
            };
            layers.push(Layer {
                conv: conv(channels, out, kernel, stride, padding, true, device),
                act: sites.site(format!("conv{}.act", i + 1), out),
                dropout: dropout.then(|| DropoutConfig::new(HIDDEN_DROPOUT).init()),
            });
            channels = out;
            size = out_size(size, kernel, stride, padding);
        }
        AllCnnC {
            input_dropout: DropoutConfig::new(INPUT_DROPOUT).init(),
            layers,
        }
    }

    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<2> {
        let mut x = self.input_dropout.forward(x);
        for layer in &self.layers {
            x = layer.act.forward(layer.conv.forward(x), ctx);
            if let Some(dropout) = &layer.dropout {
                x = dropout.forward(x);
            }
        }
        global_avg_pool(x)
    }

    /// The activation sites, in forward order.
    pub fn sites(&self) -> Vec<&Activation> {
        self.layers.iter().map(|l| &l.act).collect()
    }
}
