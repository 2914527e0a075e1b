//! A [`SeenKeys`] store timed call by call: what [`Once`](super::Once)
//! talks to when the `metrics` feature records `attio.once.store.duration`.

use std::sync::Arc;
use std::time::Duration;

use crate::error::BoxError;
use crate::metrics::{self, Stopwatch};
use crate::receive::seen_keys::{Claim, ClaimToken, SeenKeys, Settled};
use crate::receive::trace;

/// Forwards every call to the store inside, timing it.
pub(crate) struct TimedKeys(pub(crate) Arc<dyn SeenKeys>);

#[async_trait::async_trait]
impl SeenKeys for TimedKeys {
    async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
        let watch = Stopwatch::start();
        let claimed = self.0.claim(key).await;
        if let Some(took) = watch.elapsed() {
            metrics::store("claim", trace::claim_code(&claimed), took);
        }
        claimed
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let watch = Stopwatch::start();
        let result = self.0.complete(key, token).await;
        if let Some(took) = watch.elapsed() {
            metrics::store("complete", trace::settle_code(&result), took);
        }
        result
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let watch = Stopwatch::start();
        let result = self.0.release(key, token).await;
        if let Some(took) = watch.elapsed() {
            metrics::store("release", trace::settle_code(&result), took);
        }
        result
    }

    // Forwarded: the trait's default would turn renewal off.
    fn lease(&self) -> Option<Duration> {
        self.0.lease()
    }

    async fn renew(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let watch = Stopwatch::start();
        let result = self.0.renew(key, token).await;
        if let Some(took) = watch.elapsed() {
            metrics::store("renew", trace::settle_code(&result), took);
        }
        result
    }
}
