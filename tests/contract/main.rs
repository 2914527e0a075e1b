//! One contract suite, run against three backends: the in-process fake, the
//! fake over loopback HTTP, and the wiremock fixtures. After each run the
//! backend's record of requests is checked against the requests the suite
//! wrote down.

mod backends;
mod suite;
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
