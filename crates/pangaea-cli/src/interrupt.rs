//! Ctrl-C: the first one asks the running work to stop cleanly (the library sees a raised
//! [`CancelToken`]: a search stores what finished, cancels what is in flight and can be
//! resumed); a second one exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

use pangaea_search::CancelToken;

/// Installs the process's Ctrl-C handler (once) and returns the token it raises. `what` is
/// printed on the first Ctrl-C: `stopping the search`.
pub fn on_ctrl_c(what: &'static str) -> anyhow::Result<CancelToken> {
    static PRESSED: AtomicBool = AtomicBool::new(false);
    let token = CancelToken::new();
    let raised = token.clone();
    ctrlc::set_handler(move || {
        if PRESSED.swap(true, Ordering::SeqCst) {
            std::process::exit(crate::exit::INTERRUPTED);
        }
        eprintln!("\ninterrupted: {what} (Ctrl-C again to exit at once)");
        raised.cancel();
    })
    .map_err(|e| anyhow::anyhow!("failed to install the Ctrl-C handler: {e}"))?;
    Ok(token)
}
