//! [`CancelToken`]: how the caller asks a running search to stop (the CLI raises it on Ctrl-C).
//!
//! The library installs no signal handler: a caller decides what interrupts a search and
//! raises the token; the executors watch it while they wait (the local one kills its workers,
//! the Slurm one cancels its tasks with `scancel`), and the search stops as interrupted, with
//! its store ready for `--resume`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag shared between the caller and a running search; clones share it.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not raised.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Raises the token (safe to call from a signal-handling thread).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the token was raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let token = CancelToken::new();
        let other = token.clone();
        assert!(!other.is_cancelled());
        token.cancel();
        assert!(other.is_cancelled());
    }
}
