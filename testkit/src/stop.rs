//! When a program that serves the fake should stop: the `fake-attio`
//! binary waits for it, and so can any program that embeds a
//! [`crate::FakeServer`] (a dev server, a CLI).

/// Resolves when the process is asked to stop: SIGTERM or SIGINT (the
/// handlers are installed even when the shell started the process with
/// SIGINT ignored, as background jobs are).
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
