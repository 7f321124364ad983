//! The results side of pangaea (docs/method.md §5, "Final evaluation"): statistics over repeated
//! runs ([`stats`]), the comparison table of `pangaea compare` / `pangaea final` ([`table`],
//! [`compare`]), the noise of one fitness evaluation (`pangaea noise`, [`noise`]), and the
//! offline HTML report of a search store ([`report`]), and the transfer study of `pangaea study`
//! ([`study`]).
//!
//! It reads searches only through `pangaea-search`'s [`pangaea_search::Store`] and runs
//! trainings only through its [`pangaea_search::Executor`], so it never compiles burn.
#![warn(missing_docs)]

pub mod claim;
pub mod compare;
mod error;
mod html;
pub mod noise;
pub mod plot;
pub mod report;
pub mod stats;
pub mod study;
pub mod table;

pub use claim::{search_claim, Claim};
pub use compare::{final_plan, run_plan, run_requests, ComparePlan, PlannedRun};
pub use error::ReportError;
pub use noise::{noise_requests, NoiseReport};
pub use report::{write_report, ReportFiles};
pub use stats::{summarize, welch, Summary, WelchTest};
pub use table::{ComparisonRow, ComparisonTable};
