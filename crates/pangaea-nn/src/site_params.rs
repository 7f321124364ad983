//! The learned activation parameters of one site, as plain numbers for records.

use std::collections::BTreeMap;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// The activation parameters of one site at one moment of training.
///
/// `params` maps a parameter name (`alpha`, `beta`, `gamma` for expressions; the baseline's own
/// names for learnable baselines) to one value per unit: per channel, or a single value for
/// per-layer and shared parameters. It is empty for an activation without parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteParams {
    /// The site's name, e.g. `stage1.block0.act1`.
    pub site: String,
    /// Parameter name → one value per unit.
    pub params: BTreeMap<String, Vec<f32>>,
}

/// The values of a tensor in row-major order, read back to the host.
pub(crate) fn tensor_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .expect("a float tensor reads back as f32")
}

/// The columns of a `[units, n]` tensor under the given names: name j → column j.
pub(crate) fn named_columns<'a>(
    t: Tensor<2>,
    names: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, Vec<f32>> {
    let [units, n] = t.dims();
    let values = tensor_values(t);
    names
        .into_iter()
        .enumerate()
        .map(|(j, name)| {
            assert!(j < n, "column {j} of a tensor with {n} columns");
            let column = (0..units).map(|u| values[u * n + j]).collect();
            (name.to_string(), column)
        })
        .collect()
}
