//! The `prelu` baseline: x if x ≥ 0 else a·x with a learned per channel (He et al. 2015).

use std::collections::BTreeMap;

use burn::module::{Module, ParamId};
use burn::nn::{PRelu, PReluConfig};
use burn::tensor::{Device, Tensor};

use crate::site_params::tensor_values;

/// The initial negative slope, as in He et al. (2015).
pub const PRELU_INIT: f64 = 0.25;

/// PReLU with one slope per channel, on burn's [`PRelu`].
#[derive(Module, Debug)]
pub struct Prelu {
    inner: PRelu,
}

impl Prelu {
    /// A PReLU for `channels` channels, every slope [`PRELU_INIT`].
    pub fn new(channels: usize, device: &Device) -> Prelu {
        Prelu {
            inner: PReluConfig::new()
                .with_num_parameters(channels)
                .with_alpha(PRELU_INIT)
                .init(device),
        }
    }

    /// Applies PReLU.
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, channels, height, width]`, output the same.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.inner.forward(x)
    }

    /// `alpha` → one slope per channel.
    pub fn params(&self) -> BTreeMap<String, Vec<f32>> {
        BTreeMap::from([("alpha".to_string(), tensor_values(self.inner.alpha.val()))])
    }

    /// The id of the slope parameter.
    pub fn param_ids(&self) -> Vec<ParamId> {
        vec![self.inner.alpha.id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::device;

    #[test]
    fn slope_applies_per_channel() {
        let device = device();
        let prelu = Prelu::new(2, &device);
        let x = Tensor::<4>::from_floats([[[[-4.0, 2.0]], [[-8.0, 0.0]]]], &device);
        let y: Vec<f32> = prelu
            .forward(x)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert_eq!(y, [-1.0, 2.0, -2.0, 0.0]);
        assert_eq!(prelu.params()["alpha"], [0.25, 0.25]);
        assert_eq!(prelu.param_ids().len(), 1);
    }
}
