//! An expression run at one site with its learnable parameters (docs/method.md §2).

use std::collections::BTreeMap;

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor};
use pangaea_expr::{Expr, PARAM_INIT};

use super::apply::apply;
use crate::site_params::named_columns;
use crate::Granularity;

/// The parameters of `expr` for `units` units, every one [`PARAM_INIT`] (1.0, so the expression
/// starts equal to its plain form), or `None` when the expression has none.
///
/// # Shapes
///
/// - output: `[units, expr.params().len()]`, columns in the order of [`Expr::params`].
pub fn init_params(expr: &Expr, units: usize, device: &Device) -> Option<Param<Tensor<2>>> {
    let n = expr.params().len();
    (n > 0).then(|| Param::from_tensor(Tensor::full([units, n], PARAM_INIT, device)))
}

/// An expression activation at one site.
///
/// Its parameters are one `Param<Tensor<2>>` shaped `[units, n_params]` (units: channels, or 1
/// per layer), or nothing here under [`Granularity::Shared`], where the network holds the single
/// shared tensor and passes it to [`ExprActivation::forward`].
#[derive(Module, Debug)]
pub struct ExprActivation {
    #[module(skip)]
    expr: Expr,
    #[module(skip)]
    granularity: Granularity,
    params: Option<Param<Tensor<2>>>,
}

impl ExprActivation {
    /// The activation `expr` for a site with `channels` channels.
    pub fn new(expr: Expr, granularity: Granularity, channels: usize, device: &Device) -> Self {
        let params = match granularity {
            Granularity::Shared => None,
            g => init_params(&expr, g.units(channels), device),
        };
        ExprActivation {
            expr,
            granularity,
            params,
        }
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The site's own parameter tensor (`None` without parameters or when they are shared).
    pub fn param_tensor(&self) -> Option<&Param<Tensor<2>>> {
        self.params.as_ref()
    }

    /// Applies the expression through [`apply`], with `shared` as the parameters under
    /// [`Granularity::Shared`].
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, channels, height, width]`, output the same.
    /// - `shared`: `[1, n_params]`
    ///
    /// # Panics
    ///
    /// Under [`Granularity::Shared`], if the expression has parameters and `shared` is `None`.
    pub fn forward(&self, x: Tensor<4>, shared: Option<&Tensor<2>>) -> Tensor<4> {
        let params = match self.granularity {
            Granularity::Shared => shared.cloned(),
            _ => self.params.as_ref().map(|p| p.val()),
        };
        apply(&self.expr, x, params)
    }

    /// Parameter name → one value per unit, read from the site's own tensor or from `shared`.
    pub fn params(&self, shared: Option<&Param<Tensor<2>>>) -> BTreeMap<String, Vec<f32>> {
        let tensor = match self.granularity {
            Granularity::Shared => shared,
            _ => self.params.as_ref(),
        };
        match tensor {
            Some(t) => named_columns(t.val(), self.expr.params().iter().map(|p| p.name())),
            None => BTreeMap::new(),
        }
    }

    /// The id of the site's own parameter tensor, if it has one.
    pub fn param_ids(&self) -> Vec<ParamId> {
        self.params.iter().map(|p| p.id).collect()
    }
}
