//! The backends the contract suite runs against, and the record of what
//! the suite expects each of them to see.
//!
//! The suite writes every request it expects by hand ([`Expected`]: route,
//! exact query, exact token, exact JSON body) together with the answer.
//! [`Contract::verify`] then checks, on every backend alike, that the
//! requests the backend saw contain the expected ones in order. The
//! stateful fakes produce their answers themselves; the wiremock backend
//! has no state, so [`Backend::answer`] mounts the suite's answer on a mock
//! that matches exactly the expected request (`body_json`, the exact
//! `authorization` header and query) on top of the testkit's fixture for
//! the route (spec-valid request, a known token with the right scope), with
//! `.expect(1)` so an unsent request fails the test when the server drops.

use std::sync::Mutex;

use attio_webhooks::{transport::HyperTransport, Client, WorkspaceId};
use attio_webhooks_testkit::fixtures::{self, Fixtures, Route};
use attio_webhooks_testkit::{
    test_retry_policy, FakeAttio, FakeServer, Fault, FaultRule, InProcessTransport, Scope,
};
use serde_json::Value;
use wiremock::matchers::{body_json, header};
use wiremock::{MockServer, ResponseTemplate};

pub const TOKEN: &str = "contract-read-write";
pub const READ_ONLY_TOKEN: &str = "contract-read-only";
pub const UNKNOWN_TOKEN: &str = "contract-unknown";

/// What the backend should answer an expected request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with this JSON body.
    Json(Value),
    /// 200 with the webhook the create body asks for (fresh id and secret).
    Created,
    /// Attio's error body for this status.
    Error(u16),
}

/// One request the suite expects the backend to see, and its answer.
#[derive(Clone, Debug)]
pub struct Expected {
    pub route: Route,
    pub query: Vec<(String, String)>,
    pub token: &'static str,
    pub body: Option<Value>,
    pub answer: Answer,
}

impl Expected {
    /// `route` with no query and no body, sent with [`TOKEN`].
    pub fn new(route: Route, answer: Answer) -> Self {
        Self {
            route,
            query: Vec::new(),
            token: TOKEN,
            body: None,
            answer,
        }
    }

    pub fn token(mut self, token: &'static str) -> Self {
        self.token = token;
        self
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn matches(&self, seen: &Seen) -> bool {
        seen.method == self.route.method()
            && seen.path == self.route.path()
            && seen.query == self.query
            && seen.authorization.as_deref() == Some(&format!("Bearer {}", self.token))
            && seen.body == self.body
    }
}

/// One API request as a backend received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    /// `None` for an empty body; a body that is not JSON is kept as a string.
    pub body: Option<Value>,
}

impl Seen {
    fn new(method: &str, path_and_query: &str, authorization: Option<&str>, body: &[u8]) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Seen {
            method: method.to_owned(),
            path: path.to_owned(),
            query: form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            authorization: authorization.map(str::to_owned),
            body: (!body.is_empty()).then(|| {
                serde_json::from_slice(body)
                    .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(body).into_owned()))
            }),
        }
    }
}

/// What the suite needs from a backend.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + Sized {
    type Transport: attio_webhooks::Transport + 'static;

    async fn start() -> Self;
    fn client_with_token(&self, token: &str) -> Client<Self::Transport>;
    fn workspace_id(&self) -> WorkspaceId;
    /// Every API request that reached the backend so far, in order.
    async fn seen(&self) -> Vec<Seen>;
    /// The next `times` requests to `route` fail with `status` (429 with `Retry-After`).
    async fn fail_next(&self, route: Route, status: u16, times: u32);
    /// Prepares `expected.answer` for the expected request: only a backend
    /// without state of its own (wiremock) needs to.
    async fn answer(&self, _expected: &Expected) {}
}

/// A backend and the requests the suite expects it to see.
pub struct Contract<B> {
    backend: B,
    expected: Mutex<Vec<Expected>>,
}

impl<B: Backend> Contract<B> {
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            expected: Mutex::new(Vec::new()),
        }
    }

    pub fn client(&self) -> Client<B::Transport> {
        self.backend.client_with_token(TOKEN)
    }

    pub fn client_with_token(&self, token: &str) -> Client<B::Transport> {
        self.backend.client_with_token(token)
    }

    pub fn workspace_id(&self) -> WorkspaceId {
        self.backend.workspace_id()
    }

    /// How many API requests reached the backend so far.
    pub async fn request_count(&self) -> usize {
        self.backend.seen().await.len()
    }

    pub async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.backend.fail_next(route, status, times).await;
    }

    /// The suite expects the next request to be `expected`.
    pub async fn expect(&self, expected: Expected) {
        if let Some(body) = &expected.body {
            let bytes = serde_json::to_vec(body).unwrap();
            let check = fixtures::spec::check_request(
                expected.route.method(),
                &expected.route.path(),
                None,
                &bytes,
            );
            let meant_invalid = matches!(expected.answer, Answer::Error(400));
            assert_eq!(
                check.is_ok(),
                !meant_invalid,
                "the suite's own body disagrees with the spec: {check:?}"
            );
        }
        self.backend.answer(&expected).await;
        self.expected.lock().unwrap().push(expected);
    }

    /// Every expected request reached the backend, in the order expected
    /// (other requests, such as retried attempts, may come between).
    pub async fn verify(&self) {
        let seen = self.backend.seen().await;
        let expected = self.expected.lock().unwrap().clone();
        let mut rest = seen.iter();
        for (i, e) in expected.iter().enumerate() {
            assert!(
                rest.any(|s| e.matches(s)),
                "expected request #{i} was not seen (in order): {e:#?}\nseen: {seen:#?}"
            );
        }
    }
}

pub fn fake() -> FakeAttio {
    FakeAttio::builder()
        .token(TOKEN, [Scope::ReadWrite])
        .token(READ_ONLY_TOKEN, [Scope::Read])
        .build()
}

pub fn fault_rule(route: Route, status: u16, times: u32) -> FaultRule {
    let fault = if status == 429 {
        Fault::RateLimited
    } else {
        Fault::status(status)
    };
    FaultRule::new(fault)
        .method(route.method())
        .path(route.path())
        .times(times)
}

fn seen_by_fake(requests: Vec<attio_webhooks_testkit::RecordedRequest>) -> Vec<Seen> {
    requests
        .iter()
        .map(|r| Seen::new(&r.method, &r.path, r.header("authorization"), &r.body))
        .collect()
}

pub struct InProcess(FakeAttio);

#[async_trait::async_trait]
impl Backend for InProcess {
    type Transport = InProcessTransport;

    async fn start() -> Self {
        InProcess(fake())
    }
    fn client_with_token(&self, token: &str) -> Client<InProcessTransport> {
        self.0.client_with_token(token)
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.0.workspace_id()
    }
    async fn seen(&self) -> Vec<Seen> {
        seen_by_fake(self.0.requests().into_vec())
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.0.inject(fault_rule(route, status, times));
    }
}

/// How a backend makes its transport, as an application would.
pub trait MakeTransport: Send + Sync + 'static {
    type Transport: attio_webhooks::Transport + 'static;
    fn make() -> Self::Transport;
}

/// The fake served on loopback, reached through `M`'s transport.
pub struct Served<M>(FakeServer, std::marker::PhantomData<M>);

#[async_trait::async_trait]
impl<M: MakeTransport> Backend for Served<M> {
    type Transport = M::Transport;

    async fn start() -> Self {
        Served(fake().serve().await.unwrap(), std::marker::PhantomData)
    }
    fn client_with_token(&self, token: &str) -> Client<M::Transport> {
        Client::builder(token)
            .base_url(self.0.base_url())
            .retry_policy(test_retry_policy())
            .build(M::make())
            .unwrap()
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.0.workspace_id()
    }
    async fn seen(&self) -> Vec<Seen> {
        seen_by_fake(self.0.requests().into_vec())
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.0.inject(fault_rule(route, status, times));
    }
}

/// The default `HyperTransport`.
pub struct DefaultHyper;

impl MakeTransport for DefaultHyper {
    type Transport = HyperTransport;
    fn make() -> HyperTransport {
        HyperTransport::new().unwrap()
    }
}

/// The fake over loopback HTTP through the default transport.
pub type Loopback = Served<DefaultHyper>;

pub struct Wiremock {
    server: MockServer,
    fixtures: Fixtures,
    workspace_id: WorkspaceId,
}

impl Wiremock {
    pub fn server(&self) -> &MockServer {
        &self.server
    }
}

/// Mocks mounted for injected faults outrank the expected answers.
const FAULT: u8 = 1;

#[async_trait::async_trait]
impl Backend for Wiremock {
    type Transport = HyperTransport;

    async fn start() -> Self {
        Wiremock {
            server: MockServer::start().await,
            fixtures: Fixtures::new(TOKEN).read_only_token(READ_ONLY_TOKEN),
            workspace_id: fixtures::examples::WORKSPACE_ID.parse().unwrap(),
        }
    }
    fn client_with_token(&self, token: &str) -> Client<HyperTransport> {
        Client::builder(token)
            .base_url(self.server.uri())
            .retry_policy(test_retry_policy())
            .build(HyperTransport::new().unwrap())
            .unwrap()
    }
    fn workspace_id(&self) -> WorkspaceId {
        self.workspace_id
    }
    async fn seen(&self) -> Vec<Seen> {
        let requests = self.server.received_requests().await.unwrap();
        requests
            .iter()
            .map(|r| {
                let path = match r.url.query() {
                    Some(q) => format!("{}?{q}", r.url.path()),
                    None => r.url.path().to_owned(),
                };
                let authorization = r
                    .headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                Seen::new(r.method.as_str(), &path, authorization, &r.body)
            })
            .collect()
    }
    async fn fail_next(&self, route: Route, status: u16, times: u32) {
        self.fixtures
            .error(route, status)
            .mock()
            .with_priority(FAULT)
            .up_to_n_times(u64::from(times))
            .expect(1..=u64::from(times))
            .mount(&self.server)
            .await;
    }
    async fn answer(&self, expected: &Expected) {
        let fixture = match &expected.answer {
            Answer::Created => self.fixtures.create_webhook_echo(self.workspace_id),
            Answer::Json(value) => self.fixtures.respond(
                expected.route,
                ResponseTemplate::new(200).set_body_json(value),
            ),
            Answer::Error(status) => self.fixtures.error(expected.route, *status),
        };
        let query = expected.query.clone();
        let mut fixture = fixture
            .and(header(
                "authorization",
                format!("Bearer {}", expected.token).as_str(),
            ))
            .and(move |request: &wiremock::Request| {
                let sent: Vec<(String, String)> = request
                    .url
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                sent == query
            });
        if let Some(body) = &expected.body {
            fixture = fixture.and(body_json(body));
        }
        fixture
            .mock()
            .up_to_n_times(1)
            .expect(1)
            .mount(&self.server)
            .await;
    }
}
