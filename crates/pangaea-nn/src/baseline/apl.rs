//! The `apl` baseline: the adaptive piecewise linear unit of Agostinelli et al. (2015), with S
//! hinges learned per channel.
//!
//! h(x) = max(0, x) + Σₛ aₛ·max(0, −x + bₛ)
//!
//! Initialisation (ours; the paper does not fix one): every aₛ = 0, so the unit starts as ReLU,
//! and the hinges bₛ spread evenly over [−1, 1] (S = 1: b = 0; S = 2: b = −1, 1), the range of a
//! batch-normalised pre-activation, so that each hinge can bend where the inputs are.

use std::collections::BTreeMap;

use burn::module::{Module, Param, ParamId};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use crate::site_params::named_columns;

/// An APL unit with S hinges per channel.
#[derive(Module, Debug)]
pub struct Apl {
    /// Slopes aₛ. Shape `[channels, S]`.
    slopes: Param<Tensor<2>>,
    /// Hinge positions bₛ. Shape `[channels, S]`.
    hinges: Param<Tensor<2>>,
}

impl Apl {
    /// An APL unit for `channels` channels with `hinges` hinges each, starting as ReLU.
    ///
    /// # Panics
    ///
    /// If `hinges` is 0.
    pub fn new(channels: usize, hinges: usize, device: &Device) -> Apl {
        assert!(hinges >= 1, "APL needs at least one hinge, got {hinges}");
        let positions: Vec<f32> = (0..hinges)
            .map(|s| {
                if hinges == 1 {
                    0.0
                } else {
                    -1.0 + 2.0 * s as f32 / (hinges - 1) as f32
                }
            })
            .collect();
        let b: Vec<f32> = (0..channels)
            .flat_map(|_| positions.iter().copied())
            .collect();
        Apl {
            slopes: Param::from_tensor(Tensor::zeros([channels, hinges], device)),
            hinges: Param::from_tensor(Tensor::from_data(
                TensorData::new(b, [channels, hinges]),
                device,
            )),
        }
    }

    /// Applies the unit.
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, channels, height, width]`, output the same.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [channels, hinges] = self.slopes.dims();
        let a = self.slopes.val();
        let b = self.hinges.val();
        let column =
            |t: &Tensor<2>, s: usize| t.clone().narrow(1, s, 1).reshape([1, channels, 1, 1]);
        let mut y = relu(x.clone());
        for s in 0..hinges {
            let hinge = relu(x.clone().neg().add(column(&b, s)));
            y = y.add(hinge.mul(column(&a, s)));
        }
        y
    }

    /// `a1`…`aS`, `b1`…`bS` → one value per channel.
    pub fn params(&self) -> BTreeMap<String, Vec<f32>> {
        let [_, hinges] = self.slopes.dims();
        let a_names: Vec<String> = (1..=hinges).map(|s| format!("a{s}")).collect();
        let b_names: Vec<String> = (1..=hinges).map(|s| format!("b{s}")).collect();
        let mut params = named_columns(self.slopes.val(), a_names.iter().map(String::as_str));
        params.extend(named_columns(
            self.hinges.val(),
            b_names.iter().map(String::as_str),
        ));
        params
    }

    /// The ids of the slopes and the hinge positions.
    pub fn param_ids(&self) -> Vec<ParamId> {
        vec![self.slopes.id, self.hinges.id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::device;

    #[test]
    fn starts_as_relu_with_spread_hinges() {
        let device = device();
        let apl = Apl::new(3, 2, &device);
        let x = Tensor::<1>::from_floats([-2.0, -0.5, 0.0, 1.5, -1.0, 3.0], &device)
            .reshape([1, 3, 1, 2]);
        let y: Vec<f32> = apl.forward(x).into_data().try_into_vec_as::<f32>().unwrap();
        assert_eq!(y, [0.0, 0.0, 0.0, 1.5, 0.0, 3.0]);
        let params = apl.params();
        assert_eq!(params.keys().collect::<Vec<_>>(), ["a1", "a2", "b1", "b2"]);
        assert_eq!(params["b1"], [-1.0; 3]);
        assert_eq!(params["b2"], [1.0; 3]);
        assert_eq!(params["a1"], [0.0; 3]);
    }

    #[test]
    fn hinges_bend_the_negative_side() {
        let device = device();
        let apl = Apl::new(1, 1, &device);
        let apl = Apl {
            slopes: Param::from_tensor(Tensor::from_floats([[0.5]], &device)),
            ..apl
        };
        // h(−2) = 0 + 0.5·max(0, 2 + 0) = 1
        let x = Tensor::<1>::from_floats([-2.0, 2.0], &device).reshape([1, 1, 1, 2]);
        let y: Vec<f32> = apl.forward(x).into_data().try_into_vec_as::<f32>().unwrap();
        assert_eq!(y, [1.0, 2.0]);
    }
}
