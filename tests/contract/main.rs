//! One contract suite, run against every backend: the in-process fake, the
//! fake over loopback HTTP, the wiremock fixtures, and the fake over
//! loopback through the reqwest and tower transports. After each run the
//! backend's record of requests is checked against the requests the suite
//! wrote down.

mod backends;
mod live;
mod live_stand_in;
#[path = "../../testkit/tests/snapshot/mod.rs"]
mod snapshot;
mod suite;
#[cfg(any(feature = "reqwest", feature = "tower"))]
mod transports;
mod wrong_client;

macro_rules! contract_suite {
    ($($module:ident => $backend:ty),* $(,)?) => {$(
        mod $module {
            use crate::backends::{Backend, Contract};

            async fn contract() -> Contract<$backend> {
                Contract::new(<$backend>::start().await)
            }

            #[tokio::test]
            async fn lifecycle() {
                let c = contract().await;
                crate::suite::lifecycle(&c).await;
                c.verify().await;
            }

            #[tokio::test]
            async fn pagination_over_many_webhooks() {
                let c = contract().await;
                crate::suite::pagination_over_many_webhooks(&c).await;
                c.verify().await;
            }

            #[tokio::test]
            async fn every_error_status() {
                let c = contract().await;
                crate::suite::every_error_status(&c).await;
                c.verify().await;
            }

            #[tokio::test]
            async fn uniqueness() {
                let c = contract().await;
                crate::suite::uniqueness(&c).await;
                c.verify().await;
            }

            #[tokio::test]
            async fn retries_on_injected_faults() {
                let c = contract().await;
                crate::suite::retries_on_injected_faults(&c).await;
                c.verify().await;
            }
        }
    )*};
}

contract_suite! {
    in_process => crate::backends::InProcess,
    loopback => crate::backends::Loopback,
    wiremock => crate::backends::Wiremock,
}

#[cfg(feature = "reqwest")]
contract_suite! {
    reqwest => crate::transports::Reqwest,
}

#[cfg(feature = "tower")]
contract_suite! {
    tower => crate::transports::Tower,
}
