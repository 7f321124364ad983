//! `pangaea noise`: how much one fitness evaluation of a search varies from seed to seed.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pangaea_report::{noise_requests, run_requests, NoiseReport};
use pangaea_search::{SearchConfig, Store};
use pangaea_wire::EvalResult;

use crate::exit::usage;
use crate::recipe_flags::RecipeFlags;
use crate::report_cmd::{write_files, RunFlags};
use crate::train_cmd::check_activation;

/// Train activations several times under a search's recipe with different seeds and report the
/// spread of the search's fitness: mean, std, standard error per activation, the std of the
/// difference of two single runs, and the difference two single runs need before it is unlikely
/// to be noise.
///
/// The recipe is a preset's (`--preset`, default `quick`) or a store's (`--store RUN.db`), kept
/// as the search trains it (its training subset, its validation images), with the training
/// flags applied.
#[derive(Debug, Args)]
pub struct NoiseArgs {
    /// The preset whose recipe and fitness metric are measured.
    #[arg(long, value_parser = pangaea_search::PRESETS, conflicts_with = "store")]
    preset: Option<String>,
    /// A search store whose recipe and fitness metric are measured.
    #[arg(long, value_name = "RUN.db")]
    store: Option<PathBuf>,
    /// Activations (baseline names or expressions), comma-separated; the first is the
    /// reference of the differences.
    #[arg(long, value_delimiter = ',', default_value = "relu,swish")]
    acts: Vec<String>,
    /// Runs per activation (at least 2).
    #[arg(long, default_value_t = 10)]
    runs: usize,
    #[command(flatten)]
    run: RunFlags,
    /// Output directory for noise.md, noise.json and the run files (created).
    #[arg(long, value_name = "DIR", default_value = "noise-out")]
    out: PathBuf,
    #[command(flatten)]
    recipe: RecipeFlags,
}

impl NoiseArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        let (config, source) = match (&self.store, &self.preset) {
            (Some(path), _) => (
                Store::open_read_only(path)?.config()?,
                format!("the recipe of `{}`", path.display()),
            ),
            (None, preset) => {
                let name = preset.as_deref().unwrap_or("quick");
                let config = SearchConfig::preset(name).expect("clap only accepts known presets");
                (config, format!("the `{name}` preset's recipe"))
            }
        };
        let mut recipe = config.training;
        self.recipe.apply(&mut recipe);
        recipe.check().map_err(usage)?;
        let acts: Vec<String> = self.acts.iter().map(|a| a.trim().to_owned()).collect();
        for act in &acts {
            check_activation(act)?;
        }
        let requests = noise_requests(&acts, &recipe, self.runs, self.run.seed).map_err(usage)?;
        let mut executor = self.run.executor(&self.out)?;
        let mut title = format!(
            "{source}: {} on {} ({} training images{}), {} epoch{}, {} runs each",
            recipe.architecture,
            recipe.dataset.name,
            recipe
                .dataset
                .limit_train
                .map_or_else(|| "all".to_owned(), |n| n.to_string()),
            recipe
                .dataset
                .limit_val
                .map_or_else(String::new, |n| format!(", {n} validation images")),
            recipe.epochs,
            if recipe.epochs == 1 { "" } else { "s" },
            self.runs
        );
        if self.recipe.any() {
            title = format!("{title} (overridden: {})", self.recipe.describe());
        }
        eprintln!(
            "{} runs of {} activations, {} at a time",
            requests.len(),
            acts.len(),
            self.run.workers
        );
        let cancel = crate::interrupt::on_ctrl_c("stopping the runs")?;
        let results = run_requests(
            &requests,
            &mut executor,
            &cancel,
            &mut |done, total, r: &EvalResult| {
                let value = pangaea_report::noise::metric_value(config.fitness, r)
                    .map_or_else(|| r.status.name().to_owned(), |v| format!("{v:.4}"));
                eprintln!("[{done}/{total}] {}: {value}", r.activation);
            },
        )?;
        if cancel.is_cancelled() {
            anyhow::bail!("interrupted: the noise report was not written");
        }
        let groups: Vec<(String, Vec<EvalResult>)> = acts
            .iter()
            .enumerate()
            .map(|(i, act)| {
                let rs = results[i * self.runs..(i + 1) * self.runs]
                    .iter()
                    .flatten()
                    .cloned()
                    .collect();
                (act.clone(), rs)
            })
            .collect();
        let report = NoiseReport::from_results(&title, config.fitness, &groups)
            .context("not enough finished runs")?;
        write_files(
            &self.out,
            [
                ("noise.md", report.to_markdown()),
                ("noise.json", report.to_json()),
            ],
        )?;
        print!("{}", report.to_markdown());
        Ok(())
    }
}
