//! A deliberately wrong client must make the wiremock backend fail.
//!
//! The wiremock backend has no state of its own: everything it knows about
//! the right request comes from the suite's hand-written expectations. So
//! the suite's lifecycle is run through a transport that changes one thing
//! in what the client sends, and the run must fail; the same run through an
//! unchanged transport passes, so the failure is the change's doing.

use std::marker::PhantomData;

use attio_webhooks::{transport::HyperTransport, Client, Transport, WorkspaceId};
use attio_webhooks_testkit::fixtures::Route;
use attio_webhooks_testkit::test_retry_policy;
use bytes::Bytes;
use serde_json::Value;

use crate::backends::{Backend, Contract, Expected, Seen, Wiremock, READ_ONLY_TOKEN};

/// One change to the requests a client sends.
trait Tamper: Send + Sync + 'static {
    fn tamper(request: &mut http::Request<Bytes>);
}

/// Sends what the client built, unchanged.
struct Untouched;

impl Tamper for Untouched {
    fn tamper(_: &mut http::Request<Bytes>) {}
}

/// Rewrites JSON request bodies with `edit`.
fn edit_body(request: &mut http::Request<Bytes>, edit: impl FnOnce(&mut Value)) {
    if let Ok(mut body) = serde_json::from_slice::<Value>(request.body()) {
        edit(&mut body);
        *request.body_mut() = Bytes::from(serde_json::to_vec(&body).unwrap());
    }
}

/// An update that sends another target URL than the one asked for.
struct WrongUpdateBody;

impl Tamper for WrongUpdateBody {
    fn tamper(request: &mut http::Request<Bytes>) {
        if request.method() == http::Method::PATCH {
            edit_body(request, |body| {
                if let Some(url) = body["data"].get_mut("target_url") {
                    *url = Value::from("https://example.com/hooks/c");
                }
            });
        }
    }
}

/// Reads sent with another token the service knows (one whose scope allows
/// reads, so only the exact `authorization` header tells it apart).
struct WrongToken;

impl Tamper for WrongToken {
    fn tamper(request: &mut http::Request<Bytes>) {
        if request.method() == http::Method::GET {
            let value = format!("Bearer {READ_ONLY_TOKEN}").parse().unwrap();
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
    }
}

/// Subscriptions without a filter leave out the `filter` key instead of
/// sending `null`.
struct MissingFilterKey;

impl Tamper for MissingFilterKey {
    fn tamper(request: &mut http::Request<Bytes>) {
        edit_body(request, |body| {
            if let Some(subs) = body["data"]["subscriptions"].as_array_mut() {
                for sub in subs.iter_mut().filter_map(Value::as_object_mut) {
                    if sub.get("filter") == Some(&Value::Null) {
                        sub.remove("filter");
                    }
                }
            }
        });
    }
}

/// A transport that applies `T` to each request before sending it.
struct Tampering<T> {
    inner: HyperTransport,
    tamper: PhantomData<T>,
}

#[async_trait::async_trait]
impl<T: Tamper> Transport for Tampering<T> {
    type Error = <HyperTransport as Transport>::Error;

    async fn send(
        &self,
        mut request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        T::tamper(&mut request);
        self.inner.send(request).await
    }
}

/// The wiremock backend, reached by a client whose requests `T` changes.
struct WrongClient<T> {
    wiremock: Wiremock,
    tamper: PhantomData<T>,
}

#[async_trait::async_trait]
impl<T: Tamper> Backend for WrongClient<T> {
    type Transport = Tampering<T>;

    async fn start() -> Self {
        WrongClient {
            wiremock: Wiremock::start().await,
            tamper: PhantomData,
        }
    }
    fn client_with_token(&self, token: &str) -> Client<Tampering<T>> {
        let transport = Tampering {
            inner: HyperTransport::new().unwrap(),
            tamper: PhantomData,
        };
        Client::builder(token)
            .base_url(self.wiremock.server().uri())
            .retry_policy(test_retry_policy())
            .build(transport)
            .unwrap()
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.wiremock.workspace_id()
    }
    async fn seen(&self) -> Vec<Seen> {
        self.wiremock.seen().await
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.wiremock.fail_next(route, status, times).await;
    }
    async fn answer(&self, expected: &Expected) {
        self.wiremock.answer(expected).await;
    }
}

/// Runs the suite's lifecycle with requests changed by `T`: `Ok` if it
/// passes, otherwise the message it failed with.
async fn lifecycle<T: Tamper>() -> Result<(), String> {
    let run = tokio::spawn(async {
        let c = Contract::new(WrongClient::<T>::start().await);
        crate::suite::lifecycle(&c).await;
        c.verify().await;
    });
    run.await.map_err(|e| {
        let panic = e.into_panic();
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

/// The run fails because wiremock matched no mock: its bare 404.
async fn fails_unmatched<T: Tamper>() {
    let message = lifecycle::<T>().await.unwrap_err();
    assert!(message.contains("404"), "{message}");
}

#[tokio::test]
async fn the_unchanged_client_passes() {
    lifecycle::<Untouched>().await.unwrap();
}

#[tokio::test]
async fn a_wrong_update_body_fails() {
    fails_unmatched::<WrongUpdateBody>().await;
}

#[tokio::test]
async fn a_wrong_token_fails() {
    fails_unmatched::<WrongToken>().await;
}

#[tokio::test]
async fn a_missing_filter_key_fails() {
    fails_unmatched::<MissingFilterKey>().await;
}
