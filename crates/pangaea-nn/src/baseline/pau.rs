//! The `pau` baseline: the Padé activation unit of Molina, Schramowski & Kersting (2020),
//! P(x)/Q(x) of degrees 5 and 4 with the "safe" denominator, one set of coefficients per site.
//!
//! f(x) = (a₀ + a₁x + … + a₅x⁵) / (1 + |b₁x + b₂x² + b₃x³ + b₄x⁴|)
//!
//! The absolute value keeps the denominator ≥ 1, so f has no poles whatever the training does.

use std::collections::BTreeMap;

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use crate::site_params::tensor_values;

/// a₀…a₅ of the leaky-ReLU (slope 0.01) initialisation.
///
/// Obtained by `tools/fit_coefficients.py`: least squares on 2001 equally spaced points of
/// [−3, 3], linearised (P − f·(Q − 1) = f) and then refined by Gauss–Newton on the true
/// residuals. Max |error| 0.034 (at the kink), RMS 0.0055 — the same fit as the PAU paper's
/// published leaky-ReLU initialisation to about two digits.
pub const PAU_LEAKY_RELU_NUMERATOR: [f64; 6] = [
    0.033_572_103_647_708_454,
    0.505,
    1.652_675_050_784_901_3,
    2.008_122_660_087_215_5,
    0.930_575_447_311_880_2,
    0.152_132_753_424_677_85,
];

/// b₁…b₄ of the leaky-ReLU initialisation (same fit). The fit puts b₁ and b₃ below 1e-18: Q is
/// even, as the symmetric part of leaky ReLU suggests; they are stored as 0.
pub const PAU_LEAKY_RELU_DENOMINATOR: [f64; 4] =
    [0.0, 3.976_480_515_024_189, 0.0, 0.301_252_977_078_57];

/// The names under which [`Pau::params`] reports the coefficients.
const NAMES: [&str; 10] = ["a0", "a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4"];

/// A Padé activation unit with one set of coefficients for the whole site.
#[derive(Module, Debug)]
pub struct Pau {
    /// a₀…a₅. Shape `[6]`.
    numerator: Param<Tensor<1>>,
    /// b₁…b₄. Shape `[4]`.
    denominator: Param<Tensor<1>>,
}

impl Pau {
    /// A PAU initialised to approximate leaky ReLU.
    pub fn new(device: &Device) -> Pau {
        let tensor = |values: &[f64]| {
            let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            let n = values.len();
            Param::from_tensor(Tensor::from_data(TensorData::new(values, [n]), device))
        };
        Pau {
            numerator: tensor(&PAU_LEAKY_RELU_NUMERATOR),
            denominator: tensor(&PAU_LEAKY_RELU_DENOMINATOR),
        }
    }

    /// Applies P(x)/(1 + |b₁x + … + b₄x⁴|).
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, channels, height, width]`, output the same.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let coefficient = |t: &Tensor<1>, k: usize| t.clone().narrow(0, k, 1).reshape([1, 1, 1, 1]);
        let a = self.numerator.val();
        let b = self.denominator.val();
        // Horner: a₀ + x(a₁ + x(a₂ + x(a₃ + x(a₄ + x a₅))))
        let mut p = x.clone().mul(coefficient(&a, 5));
        for k in (1..5).rev() {
            p = p.add(coefficient(&a, k)).mul(x.clone());
        }
        let p = p.add(coefficient(&a, 0));
        // x(b₁ + x(b₂ + x(b₃ + x b₄)))
        let mut q = x.clone().mul(coefficient(&b, 3));
        for k in (0..3).rev() {
            q = q.add(coefficient(&b, k)).mul(x.clone());
        }
        p.div(q.abs().add_scalar(1.0))
    }

    /// `a0`…`a5`, `b1`…`b4` → one value each.
    pub fn params(&self) -> BTreeMap<String, Vec<f32>> {
        let values: Vec<f32> = tensor_values(self.numerator.val())
            .into_iter()
            .chain(tensor_values(self.denominator.val()))
            .collect();
        NAMES
            .iter()
            .zip(values)
            .map(|(name, v)| (name.to_string(), vec![v]))
            .collect()
    }

    /// The ids of the numerator and denominator coefficients.
    pub fn param_ids(&self) -> Vec<ParamId> {
        vec![self.numerator.id, self.denominator.id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_close, device, grid};

    fn scalar(x: f64) -> f64 {
        let a = PAU_LEAKY_RELU_NUMERATOR;
        let b = PAU_LEAKY_RELU_DENOMINATOR;
        let p: f64 = (0..6).map(|k| a[k] * x.powi(k as i32)).sum();
        let q: f64 = (1..5).map(|k| b[k - 1] * x.powi(k as i32)).sum();
        p / (1.0 + q.abs())
    }

    #[test]
    fn forward_is_the_rational_function() {
        let device = device();
        let xs = grid(-5.0, 5.0, 101);
        let x = Tensor::<1>::from_floats(xs.as_slice(), &device).reshape([1, 1, 1, 101]);
        let y: Vec<f32> = Pau::new(&device)
            .forward(x)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        let want: Vec<f32> = xs.iter().map(|&x| scalar(x as f64) as f32).collect();
        assert_close(&y, &want, 1e-5, 1e-6, "pau");
    }

    #[test]
    fn initialisation_approximates_leaky_relu() {
        for x in grid(-3.0, 3.0, 601) {
            let leaky = if x >= 0.0 { x } else { 0.01 * x };
            let err = (scalar(x as f64) as f32 - leaky).abs();
            assert!(err < 0.035, "pau({x}) is {err} from leaky_relu");
        }
    }

    #[test]
    fn reports_ten_coefficients() {
        let params = Pau::new(&device()).params();
        assert_eq!(params.len(), 10);
        assert_eq!(params["a1"], [0.505]);
        assert!(params.values().all(|v| v.len() == 1));
    }
}
