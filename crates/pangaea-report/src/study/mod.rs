//! `pangaea study`: the paper's transfer study as one command (docs/method.md §5, "Transfer").
//!
//! Given functions and a grid of (architecture, dataset) cells with a recipe per cell
//! ([`StudyConfig`], TOML or a preset), every function is trained in every cell N times with
//! seeds `seed + r` through any [`pangaea_search::Executor`], each finished run stored at once in
//! the study's results file so that a killed study resumes without re-running what finished
//! ([`run_study`]). The results become a table in the paper's layout ([`StudyTable`]: mean ±
//! std, best of each column marked, Welch's p against ReLU, wins / ties / losses, and whether
//! each function is general or specialised), written as markdown, JSON, LaTeX and an offline
//! HTML page with a strip plot of the runs per cell and the learned parameters
//! ([`write_study`]).
//!
//! | module | what |
//! |---|---|
//! | `config` | the TOML configuration, the presets, resolving functions into a [`StudyPlan`] |
//! | `run` | running the plan resumably through an executor and a results file |
//! | `table` | the table, its verdicts and readings; markdown, JSON, LaTeX |
//! | `page` | the files: tables and the HTML page with its charts |

mod config;
mod page;
mod run;
mod table;

pub use config::{
    CellSpec, RecipeError, StudyCell, StudyConfig, StudyFunction, StudyPlan, StudyRun,
    STUDY_PRESETS,
};
pub use page::{write_study, StudyFiles};
pub use run::{run_study, StudyEvent, StudyResults};
pub use table::{StudyEntry, StudyRow, StudyTable, Verdict, ALPHA};
