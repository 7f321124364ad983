//! `pangaea export`: an expression as NumPy or PyTorch code, LaTeX, or JSON.

use pangaea_wire::JsonFile;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use pangaea_expr::export::{to_json, to_latex, to_numpy, to_pytorch, LearnedParams};
use pangaea_expr::Expr;
use pangaea_search::Store;
use pangaea_wire::EvalResult;

use crate::exit::usage;

/// What to export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// A `torch.nn.Module` with per-channel parameters.
    Pytorch,
    /// A NumPy function `activation(x, alpha=1.0, beta=1.0, gamma=1.0)`.
    Numpy,
    /// A LaTeX formula (math mode).
    Latex,
    /// The expression tree as JSON, with its canonical text and, when known, every site's learned
    /// parameter values (`learned.sites`: site name → parameter name → values).
    Json,
}

/// Export an activation function: `pangaea export EXPR --to pytorch|numpy|latex|json`.
///
/// The source is an expression (`"alpha * x * sigmoid(beta * x)"`) or `RUN.db#ID`: candidate ID
/// of a search store, as its best parametric version. For PyTorch, the module's parameters are
/// initialised from the learned values of the last recorded point of training: from
/// `--params RESULT.json`, or for `RUN.db#ID` from that version's stored result. Every site's
/// values go into the module (`LEARNED_PARAMS`); `Activation.from_learned(site)` builds one
/// site's module, so the whole network's activations can be rebuilt site by site. JSON carries
/// the same values as a map per site (`learned`).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// An expression, or `RUN.db#ID` (a candidate of a search store).
    #[arg(value_name = "EXPR|RUN.db#ID")]
    source: String,
    /// The output format.
    #[arg(long, value_enum)]
    to: Target,
    /// An EvalResult JSON whose last recorded activation parameters initialise the PyTorch module
    /// (or go into the JSON document's `learned` map).
    #[arg(long, value_name = "RESULT.json")]
    params: Option<PathBuf>,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The candidate reference in `RUN.db#ID`, when the source has that form.
fn store_ref(source: &str) -> Option<(&Path, &str)> {
    let (db, id) = source.rsplit_once('#')?;
    let looks_like_store = db.ends_with(".db") || Path::new(db).is_file();
    (looks_like_store && !id.is_empty()).then_some((Path::new(db), id))
}

/// The expression of a store candidate's best version, and that version's result if stored.
fn from_store(db: &Path, id: &str) -> anyhow::Result<(Expr, Option<EvalResult>)> {
    let id: i64 = id.parse().map_err(|_| {
        usage(format!(
            "`{id}` after `#` is not a candidate id (an integer)"
        ))
    })?;
    let store = Store::open_read_only(db)?;
    let candidate = store
        .candidate(id)?
        .ok_or_else(|| usage(format!("store `{}` has no candidate {id}", db.display())))?;
    let (text, result) = match candidate.best_evaluation {
        Some(e) => {
            let record = store
                .evaluation(e)?
                .with_context(|| format!("candidate {id}'s best evaluation {e} is missing"))?;
            let result = record.result().map_err(anyhow::Error::msg)?;
            (record.expr, result)
        }
        None => (candidate.expr, None),
    };
    let expr = Expr::parse(&text)
        .map_err(|e| anyhow::anyhow!("candidate {id} of `{}`: {e}", db.display()))?;
    Ok((expr, result))
}

/// Every site's parameters at the last recorded point of training.
fn learned(result: &EvalResult) -> Option<LearnedParams> {
    let last = result.activation_params.last()?;
    Some(LearnedParams {
        epoch: last.epoch,
        sites: last
            .sites
            .iter()
            .map(|s| {
                let params = s
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (s.site.clone(), params)
            })
            .collect(),
    })
}

impl ExportArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        if self.params.is_some() && !matches!(self.to, Target::Pytorch | Target::Json) {
            return Err(usage("--params only applies to --to pytorch and --to json"));
        }
        let (expr, stored) = match store_ref(&self.source) {
            Some((db, id)) => from_store(db, id)?,
            None => (
                Expr::parse(&self.source).map_err(|e| usage(e.render()))?,
                None,
            ),
        };
        let result = match &self.params {
            Some(path) => Some(EvalResult::read(path)?),
            None => stored,
        };
        let learned = result.as_ref().and_then(learned);
        if self.params.is_some() && learned.is_none() {
            eprintln!("note: the result records no activation parameters; initialising to 1.0");
        }
        let text = match self.to {
            Target::Pytorch => to_pytorch(&expr, learned.as_ref()),
            Target::Numpy => to_numpy(&expr),
            Target::Latex => to_latex(&expr) + "\n",
            Target::Json => to_json(&expr, learned.as_ref()),
        };
        match &self.output {
            Some(path) => std::fs::write(path, text)
                .with_context(|| format!("failed to write `{}`", path.display()))?,
            None => print!("{text}"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_references_are_told_from_expressions() {
        assert_eq!(store_ref("run.db#12"), Some((Path::new("run.db"), "12")));
        assert_eq!(store_ref("alpha * x"), None);
        assert_eq!(store_ref("run.db#"), None);
    }
}
