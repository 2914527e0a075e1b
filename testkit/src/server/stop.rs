//! When a program that serves the fake should stop: the `fake-attio`
//! binary waits for it, and so can any program that embeds a
//! [`crate::FakeServer`] (a dev server, a CLI).

/// The process's stop signals (SIGTERM and SIGINT), listened for from the
/// moment [`StopSignals::install`] returns: a signal that arrives before
/// anything awaits [`StopSignals::wait`] is kept, not fatal.
///
/// Install them before announcing readiness (binding the port, printing
/// the URL): a supervisor or test that signals the instant it sees the
/// process ready then gets a clean stop, never death by the default
/// action. The handlers are installed even when the shell started the
/// process with SIGINT ignored, as background jobs are.
///
/// ```no_run
/// # async fn serve() {
/// let stop = attio_webhooks_testkit::server::StopSignals::install();
/// let server = attio_webhooks_testkit::FakeAttio::start().await;
/// println!("{}", server.base_url());
/// stop.wait().await;
/// server.shutdown().await;
/// # }
/// ```
#[derive(Debug)]
pub struct StopSignals {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignals {
    /// Installs the handlers, now. Call it inside a tokio runtime with
    /// signals enabled (`#[tokio::main]` does). Should the operating system
    /// refuse them, [`StopSignals::wait`] never resolves (the process then
    /// stops the default way).
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(int)) => Some((term, int)),
                _ => None,
            };
            Self { signals }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Resolves when a stop signal has arrived since [`StopSignals::install`].
    /// (Elsewhere than Unix: when Ctrl-C is pressed, listened for from the
    /// first poll.)
    pub async fn wait(self) {
        #[cfg(unix)]
        {
            let Some((mut term, mut int)) = self.signals else {
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
}

/// Resolves when the process is asked to stop: SIGTERM or SIGINT. The
/// handlers are installed when this is first polled; a program that
/// announces readiness should [`StopSignals::install`] them before it does.
pub async fn stop_requested() {
    StopSignals::install().wait().await;
}
