//! The wall clock as Unix seconds, for the timestamps the store, the Slurm ledger and the event
//! log record.

/// Seconds since the Unix epoch (0 on a clock set before 1970).
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
