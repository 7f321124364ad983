//! The Slurm executor: evaluations as Slurm array tasks over a shared run directory.
//!
//! - [`executor`] — [`SlurmExecutor`], the [`Executor`](super::Executor) that submits batches,
//!   tracks their tasks in the store's ledger, retries failures and adopts live tasks after a
//!   resume;
//! - [`protocol`] — everything said to and heard from the outside programs: the batch script,
//!   `sbatch`, `squeue`, `sacct`, `scancel`, and the task logs, with a typed
//!   [`SlurmCommandError`];
//! - [`state`] — [`SlurmState`], Slurm's job states as an enum.

mod executor;
mod protocol;
mod state;

pub use executor::SlurmExecutor;
pub use protocol::SlurmCommandError;
pub use state::SlurmState;
