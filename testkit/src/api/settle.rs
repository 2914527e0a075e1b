//! `POST /__fake/deliveries/settle`: the one control route a door must
//! wait on. Its handler marks its answer ([`SettleFor`]); the dispatcher
//! turns the mark into a [`Settle`] reply, which the door awaits.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::errors;
use super::responses;
use crate::delivery::Deliveries;

/// A wait for a workspace's deliveries to settle, with its timeout.
#[derive(Debug)]
pub(crate) struct Settle {
    pub(crate) deliveries: Arc<Deliveries>,
    pub(crate) timeout: Duration,
}

/// The marker a control handler puts on its answer to ask the door to
/// wait for the deliveries to settle first, for at most this long.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SettleFor(pub(crate) Duration);

impl Settle {
    /// Waits (at most the timeout): 200 `{}` once every attempt due by the
    /// workspace's clock has been made, else 504 `settle_timeout`.
    pub(crate) async fn answer(self) -> http::Response<Bytes> {
        match tokio::time::timeout(self.timeout, self.deliveries.settle()).await {
            Ok(()) => responses::empty(),
            Err(_) => responses::error(
                &errors::settle_timeout(self.timeout),
                std::time::SystemTime::now(),
            ),
        }
    }
}
