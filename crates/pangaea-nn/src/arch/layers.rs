//! Layer constructors shared by the architectures.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

/// He-normal initialisation (std √(2/fan_in)), as the ResNet papers and the Keras examples use.
fn he_normal() -> Initializer {
    Initializer::KaimingNormal {
        gain: std::f64::consts::SQRT_2,
        fan_out_only: false,
    }
}

/// A square convolution `in_ch → out_ch` with symmetric zero padding, He-normal weights.
pub fn conv(
    in_ch: usize,
    out_ch: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    bias: bool,
    device: &Device,
) -> Conv2d {
    Conv2dConfig::new([in_ch, out_ch], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_bias(bias)
        .with_initializer(he_normal())
        .init(device)
}

/// A 3×3 convolution with padding 1 ("same" at stride 1).
pub fn conv3x3(in_ch: usize, out_ch: usize, stride: usize, bias: bool, device: &Device) -> Conv2d {
    conv(in_ch, out_ch, 3, stride, 1, bias, device)
}

/// A 1×1 convolution.
pub fn conv1x1(in_ch: usize, out_ch: usize, stride: usize, bias: bool, device: &Device) -> Conv2d {
    conv(in_ch, out_ch, 1, stride, 0, bias, device)
}

/// Batch normalisation with burn's defaults (momentum 0.1, ε = 1e-5).
pub fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// The classifier: a fully connected layer with burn's default (PyTorch-style) initialisation.
pub fn classifier(features: usize, classes: usize, device: &Device) -> Linear {
    LinearConfig::new(features, classes).init(device)
}

/// The mean over the spatial dimensions.
///
/// # Shapes
///
/// - `x`: `[batch, channels, height, width]`
/// - output: `[batch, channels]`
pub fn global_avg_pool(x: Tensor<4>) -> Tensor<2> {
    let [n, c, _, _] = x.dims();
    x.mean_dim(3).mean_dim(2).reshape([n, c])
}

/// The spatial size after a convolution or pooling with this kernel, stride and padding.
pub fn out_size(size: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    (size + 2 * padding - kernel) / stride + 1
}
