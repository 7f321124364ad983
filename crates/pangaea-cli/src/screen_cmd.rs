//! `pangaea screen`: how well the kNN pre-screen would have predicted a stored search.

use std::path::PathBuf;

use clap::Args;
use pangaea_search::{screen, Store};

use crate::exit::usage;

/// Replay the pre-screen on a stored search: predict each child's fitness from the forms of
/// earlier generations (k nearest neighbours on the form's values and derivatives at fixed
/// N(0, 1) samples, parameters at 1; with `--network`, also on how a random deep network at
/// initialisation carries signal and gradients through it; with `--own-network`, on statistics
/// of the search's own network at initialisation), and report the Spearman correlation
/// of prediction and trained fitness (rung-0 fitness in a search with rungs), and what skipping
/// the predicted-worst fraction of each generation would have saved (training seconds) and lost
/// (was the best form among the skipped?).
///
/// It measures whether a search should screen (`pangaea search --screen-skip`).
#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// The search store.
    #[arg(value_name = "RUN.db")]
    store: PathBuf,
    /// Neighbours averaged.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Fraction of each generation's children the screen would skip.
    #[arg(long, default_value_t = 0.25)]
    skip: f64,
    /// Also use the network features (`[screening] network = true`).
    #[arg(long)]
    network: bool,
    /// Also use the statistics of the search's own network at initialisation on one batch of
    /// its rung-0 recipe's training data (`[screening] own_network = true`; loads the dataset).
    #[arg(long)]
    own_network: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl ScreenArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        if self.k == 0 {
            return Err(usage("--k must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.skip) {
            return Err(usage("--skip must be in [0, 1)"));
        }
        let store = Store::open_read_only(&self.store)?;
        let own = if self.own_network {
            Some(screen::OwnNetwork::new(crate::own_network::probe(
                &store.config()?,
            )?))
        } else {
            None
        };
        let set = screen::FeatureSet {
            network: self.network,
            own_network: own.as_ref(),
        };
        let r = screen::replay(&store, self.k, self.skip, set)?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
            return Ok(());
        }
        println!(
            "{}: {} children predicted from earlier generations (k = {})",
            self.store.display(),
            r.predicted,
            r.k
        );
        match r.spearman {
            Some(rho) => println!("Spearman correlation of prediction and fitness: {rho:.3}"),
            None => println!("Spearman correlation: undefined (fewer than 3 predictions)"),
        }
        let share = if r.seconds_total > 0.0 {
            100.0 * r.seconds_skipped / r.seconds_total
        } else {
            0.0
        };
        println!(
            "skipping the predicted-worst {:.0} % of each generation: {} forms, {:.0} s of {:.0} s \
             training ({share:.1} %)",
            100.0 * r.skip_fraction,
            r.skipped,
            r.seconds_skipped,
            r.seconds_total
        );
        if let Some((id, expr, skipped)) = &r.best {
            println!(
                "the search's best form, candidate {id} `{expr}`, {}",
                if *skipped {
                    "would have been SKIPPED"
                } else {
                    "would have been kept"
                }
            );
        }
        if let Some(f) = r.best_kept_fitness {
            println!("best fitness among the forms kept: {f:.4}");
        }
        Ok(())
    }
}
