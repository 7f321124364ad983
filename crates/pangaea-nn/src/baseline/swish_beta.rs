//! The `swish_beta` baseline: x·σ(βx) with β learned per channel (Ramachandran et al. 2017).

use std::collections::BTreeMap;

use burn::module::{Module, Param, ParamId};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use crate::site_params::tensor_values;

/// Swish with a trainable β per channel, initialised to 1 (plain Swish).
#[derive(Module, Debug)]
pub struct SwishBeta {
    /// β, one per channel. Shape `[channels]`.
    beta: Param<Tensor<1>>,
}

impl SwishBeta {
    /// Swish-β for `channels` channels, every β = 1.
    pub fn new(channels: usize, device: &Device) -> SwishBeta {
        SwishBeta {
            beta: Param::from_tensor(Tensor::ones([channels], device)),
        }
    }

    /// Applies x·σ(βx).
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, channels, height, width]`, output the same.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [channels] = self.beta.dims();
        let beta = self.beta.val().reshape([1, channels, 1, 1]);
        x.clone().mul(sigmoid(x.mul(beta)))
    }

    /// `beta` → one value per channel.
    pub fn params(&self) -> BTreeMap<String, Vec<f32>> {
        BTreeMap::from([("beta".to_string(), tensor_values(self.beta.val()))])
    }

    /// The id of β.
    pub fn param_ids(&self) -> Vec<ParamId> {
        vec![self.beta.id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_close, device};
    use pangaea_expr::Unary;

    #[test]
    fn starts_as_swish() {
        let device = device();
        let xs = [-3.0f32, -0.5, 0.0, 0.7, 4.0, 2.0];
        let x = Tensor::<1>::from_floats(xs, &device).reshape([1, 2, 1, 3]);
        let y: Vec<f32> = SwishBeta::new(2, &device)
            .forward(x)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        let want: Vec<f32> = xs.iter().map(|&x| Unary::Swish.eval_f32(x)).collect();
        assert_close(&y, &want, 1e-6, 1e-7, "swish_beta");
    }
}
