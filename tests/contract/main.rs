//! One contract suite, run against every backend: the in-process fake, the
//! fake over loopback HTTP, the wiremock fixtures, and the fake over
//! loopback through the reqwest and tower transports.

mod backends;
mod suite;
#[cfg(any(feature = "reqwest", feature = "tower"))]
mod transports;

macro_rules! contract_suite {
    ($($module:ident => $backend:ty),* $(,)?) => {$(
        mod $module {
            use crate::backends::Backend;

            async fn backend() -> $backend {
                <$backend>::start().await
            }

            #[tokio::test]
            async fn lifecycle() {
                crate::suite::lifecycle(&backend().await).await;
            }

            #[tokio::test]
            async fn pagination_over_many_webhooks() {
                crate::suite::pagination_over_many_webhooks(&backend().await).await;
            }

            #[tokio::test]
            async fn every_error_status() {
                crate::suite::every_error_status(&backend().await).await;
            }

            #[tokio::test]
            async fn uniqueness() {
                crate::suite::uniqueness(&backend().await).await;
            }

            #[tokio::test]
            async fn retries_on_injected_faults() {
                crate::suite::retries_on_injected_faults(&backend().await).await;
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
