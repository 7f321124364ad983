//! [`SlurmState`]: the state of a Slurm job as `squeue` and `sacct` print it.

use std::fmt;

/// A Slurm job state (`squeue --format=%T`, `sacct --format=State`), plus [`Vanished`] for a
/// task that left the queue without a trace.
///
/// [`Vanished`]: SlurmState::Vanished
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SlurmState {
    /// Waiting for resources.
    Pending,
    /// Running.
    Running,
    /// Suspended (runs again later).
    Suspended,
    /// Finishing; some processes may still run.
    Completing,
    /// Allocated nodes are booting.
    Configuring,
    /// Put back in the queue.
    Requeued,
    /// Finished with exit code 0.
    Completed,
    /// Finished with a non-zero exit code or another failure.
    Failed,
    /// Killed at its time limit.
    Timeout,
    /// Killed because a node failed.
    NodeFail,
    /// Killed for using more memory than allowed.
    OutOfMemory,
    /// Preempted by a job of higher priority.
    Preempted,
    /// Cancelled by a user or an administrator.
    Cancelled,
    /// Its nodes failed to boot.
    BootFail,
    /// Missed its deadline.
    Deadline,
    /// Ours, not Slurm's: the task left `squeue`, accounting does not know it, and it left no
    /// exit status and no log line that tells how it ended.
    Vanished,
    /// Any other word Slurm prints (`RESIZING`, `SIGNALING`, `STAGE_OUT`, `STOPPED`, …): a
    /// task in such a state is still there.
    Other(String),
}

impl SlurmState {
    /// Reads a state word, ignoring what follows it (`CANCELLED by 0` → `Cancelled`).
    pub fn parse(text: &str) -> SlurmState {
        let word = text.split_whitespace().next().unwrap_or("");
        match word {
            "PENDING" => SlurmState::Pending,
            "RUNNING" => SlurmState::Running,
            "SUSPENDED" => SlurmState::Suspended,
            "COMPLETING" => SlurmState::Completing,
            "CONFIGURING" => SlurmState::Configuring,
            "REQUEUED" => SlurmState::Requeued,
            "COMPLETED" => SlurmState::Completed,
            "FAILED" => SlurmState::Failed,
            "TIMEOUT" => SlurmState::Timeout,
            "NODE_FAIL" => SlurmState::NodeFail,
            "OUT_OF_MEMORY" => SlurmState::OutOfMemory,
            "PREEMPTED" => SlurmState::Preempted,
            "CANCELLED" => SlurmState::Cancelled,
            "BOOT_FAIL" => SlurmState::BootFail,
            "DEADLINE" => SlurmState::Deadline,
            "VANISHED" => SlurmState::Vanished,
            other => SlurmState::Other(other.to_owned()),
        }
    }

    /// Slurm's word for the state.
    pub fn as_str(&self) -> &str {
        match self {
            SlurmState::Pending => "PENDING",
            SlurmState::Running => "RUNNING",
            SlurmState::Suspended => "SUSPENDED",
            SlurmState::Completing => "COMPLETING",
            SlurmState::Configuring => "CONFIGURING",
            SlurmState::Requeued => "REQUEUED",
            SlurmState::Completed => "COMPLETED",
            SlurmState::Failed => "FAILED",
            SlurmState::Timeout => "TIMEOUT",
            SlurmState::NodeFail => "NODE_FAIL",
            SlurmState::OutOfMemory => "OUT_OF_MEMORY",
            SlurmState::Preempted => "PREEMPTED",
            SlurmState::Cancelled => "CANCELLED",
            SlurmState::BootFail => "BOOT_FAIL",
            SlurmState::Deadline => "DEADLINE",
            SlurmState::Vanished => "VANISHED",
            SlurmState::Other(word) => word,
        }
    }

    /// Whether a task in this state runs no more.
    pub fn is_terminal(&self) -> bool {
        match self {
            SlurmState::Completed
            | SlurmState::Failed
            | SlurmState::Timeout
            | SlurmState::NodeFail
            | SlurmState::OutOfMemory
            | SlurmState::Preempted
            | SlurmState::Cancelled
            | SlurmState::BootFail
            | SlurmState::Deadline
            | SlurmState::Vanished => true,
            SlurmState::Pending
            | SlurmState::Running
            | SlurmState::Suspended
            | SlurmState::Completing
            | SlurmState::Configuring
            | SlurmState::Requeued
            | SlurmState::Other(_) => false,
        }
    }
}

impl fmt::Display for SlurmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::types::ToSql for SlurmState {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for SlurmState {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value.as_str().map(SlurmState::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_only_ended_states_are_terminal() {
        for word in [
            "PENDING",
            "RUNNING",
            "COMPLETED",
            "FAILED",
            "TIMEOUT",
            "NODE_FAIL",
            "OUT_OF_MEMORY",
            "PREEMPTED",
            "CANCELLED",
            "BOOT_FAIL",
            "DEADLINE",
            "VANISHED",
            "RESIZING",
        ] {
            assert_eq!(SlurmState::parse(word).as_str(), word);
        }
        assert_eq!(SlurmState::parse("CANCELLED by 0"), SlurmState::Cancelled);
        assert!(SlurmState::Timeout.is_terminal());
        assert!(SlurmState::Vanished.is_terminal());
        assert!(!SlurmState::Running.is_terminal());
        assert!(!SlurmState::parse("STAGE_OUT").is_terminal());
    }
}
