//! The timer the client uses for timeouts and retry backoff.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A future that completes after a delay.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Something that can wait: the only thing [`crate::Client`] needs from an
/// async runtime. With the `tokio` feature (on by default) the client uses
/// [`TokioSleep`]; on another runtime, implement this and pass it to
/// [`crate::ClientBuilder::sleep`].
///
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::{runtime::AsyncSleep, runtime::Sleep};
///
/// /// A timer that needs no runtime at all: a thread per sleep.
/// #[derive(Debug)]
/// struct ThreadSleep;
/// impl AsyncSleep for ThreadSleep {
///     fn sleep(&self, duration: Duration) -> Sleep {
///         let (done, wait) = futures::channel::oneshot::channel::<()>();
///         std::thread::spawn(move || {
///             std::thread::sleep(duration);
///             let _ = done.send(());
///         });
///         Box::pin(async move {
///             let _ = wait.await;
///         })
///     }
/// }
/// futures::executor::block_on(ThreadSleep.sleep(Duration::from_millis(1)));
/// ```
#[cfg_attr(not(feature = "tokio"), doc = "")]
#[cfg_attr(not(feature = "tokio"), doc = "[`TokioSleep`]: crate#features")]
pub trait AsyncSleep: std::fmt::Debug + Send + Sync + 'static {
    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// [`AsyncSleep`] on tokio's timer.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleep;

#[cfg(feature = "tokio")]
impl AsyncSleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}
