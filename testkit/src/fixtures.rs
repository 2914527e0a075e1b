//! wiremock fixtures: Attio-exact answers for each operation and each
//! documented error, mounted on a [`wiremock::MockServer`].
//!
//! [`Fixtures`] knows the bearer tokens the test hands its client. Each of
//! its methods returns a [`Fixture`] whose matchers check what Attio would
//! check: the method and path, one of those exact tokens (with the scope
//! the route needs), and a path, query and body that Attio's OpenAPI
//! document accepts ([`spec`], an independent reading of the document that
//! shares no code with [`crate::FakeAttio`]). Fixtures that answer with a
//! given webhook also require the request to ask for that webhook: create
//! and update bodies must carry its target URL and subscriptions. A request
//! the real API would reject matches no fixture, so wiremock answers 404
//! and the test fails loudly.
//!
//! Add matchers of your own with [`Fixture::and`] (an exact
//! `wiremock::matchers::body_json`, say), then turn it into a
//! [`wiremock::Mock`] with [`Fixture::mock`] and chain `.expect(n)` to
//! check how often it was called.
//!
//! ```
//! use attio_webhooks::{Client, transport::HyperTransport};
//! use attio_webhooks_testkit::fixtures::{examples, Fixtures, Route};
//! use wiremock::MockServer;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), attio_webhooks::Error> {
//! let server = MockServer::start().await;
//! let fixtures = Fixtures::new("sk_test");
//! fixtures.get_webhook(&examples::webhook()).mock().expect(1).mount(&server).await;
//! fixtures.error(Route::Delete(examples::webhook().webhook_id()), 404).mock().mount(&server).await;
//!
//! let client = Client::builder("sk_test").base_url(server.uri()).build(HyperTransport::new()?)?;
//! let webhook = client.get_webhook(examples::webhook().webhook_id()).await?;
//! assert_eq!(webhook, examples::webhook());
//! assert!(client.delete_webhook(webhook.webhook_id()).await.unwrap_err().is_not_found());
//!
//! // Another token matches no fixture: wiremock's 404 has no Attio body.
//! let stranger = Client::builder("sk_other").base_url(server.uri()).build(HyperTransport::new()?)?;
//! assert!(stranger.get_webhook(webhook.webhook_id()).await.is_err());
//! # Ok(()) }
//! ```

pub mod spec;

use attio_webhooks::{
    error::{ApiErrorBody, ValidationError},
    model::Timestamp,
    CreatedWebhook, Webhook, WebhookId, WorkspaceId,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockBuilder, Request, Respond, ResponseTemplate};

use crate::api::errors;

/// The example bodies of Attio's OpenAPI document.
pub mod examples {
    use attio_webhooks::{Condition, CreatedWebhook, EventType, Filter, Subscription, Webhook};
    use serde_json::json;

    /// The example `workspace_id`.
    pub const WORKSPACE_ID: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";
    /// The example `webhook_id`.
    pub const WEBHOOK_ID: &str = "23e42eaf-323a-41da-b5bb-fd67eebda553";
    /// The example `target_url`.
    pub const TARGET_URL: &str = "https://example.com/webhook";
    /// The example `created_at`.
    pub const CREATED_AT: &str = "2023-04-27T13:22:49.061281000Z";
    /// The example `secret`.
    pub const SECRET: &str = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
    /// The example filter's `parent_object_id`.
    pub const PARENT_OBJECT_ID: &str = "97052eb9-e65e-443f-a297-f2d9a4a7f795";

    /// The example subscription: `note.created` filtered on `parent_object_id`.
    pub fn subscription() -> Subscription {
        Subscription::new(EventType::NoteCreated).with_filter(Filter::And(vec![Condition::equals(
            "parent_object_id",
            PARENT_OBJECT_ID,
        )]))
    }

    fn created_json() -> serde_json::Value {
        json!({
            "target_url": TARGET_URL,
            "subscriptions": [subscription()],
            "id": {"workspace_id": WORKSPACE_ID, "webhook_id": WEBHOOK_ID},
            "status": "active",
            "created_at": CREATED_AT,
            "secret": SECRET,
        })
    }

    /// The example webhook.
    pub fn webhook() -> Webhook {
        serde_json::from_value(created_json()).expect("the spec's example is a webhook")
    }

    /// The example webhook as create returns it, with the example secret.
    pub fn created_webhook() -> CreatedWebhook {
        serde_json::from_value(created_json()).expect("the spec's example is a created webhook")
    }
}

/// Which operation a fixture answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /v2/webhooks`
    List,
    /// `POST /v2/webhooks`
    Create,
    /// `GET /v2/webhooks/{id}`
    Get(WebhookId),
    /// `PATCH /v2/webhooks/{id}`
    Update(WebhookId),
    /// `DELETE /v2/webhooks/{id}`
    Delete(WebhookId),
}

impl Route {
    /// The HTTP method.
    pub fn method(self) -> &'static str {
        match self {
            Route::List | Route::Get(_) => "GET",
            Route::Create => "POST",
            Route::Update(_) => "PATCH",
            Route::Delete(_) => "DELETE",
        }
    }

    /// The path.
    pub fn path(self) -> String {
        match self {
            Route::List | Route::Create => "/v2/webhooks".to_owned(),
            Route::Get(id) | Route::Update(id) | Route::Delete(id) => format!("/v2/webhooks/{id}"),
        }
    }

    /// Whether the route changes state (and so needs `webhook:read-write`).
    pub fn is_write(self) -> bool {
        !matches!(self, Route::List | Route::Get(_))
    }
}

/// The tokens a test's clients send, and the fixtures that answer them.
///
/// A read-write token (`webhook:read-write`) may use every route; a
/// read-only token (`webhook:read`) only list and get.
#[derive(Clone, Debug)]
pub struct Fixtures {
    read_write: Vec<String>,
    read_only: Vec<String>,
}

impl Fixtures {
    /// Fixtures for a client that sends `Authorization: Bearer <token>`,
    /// a token with `webhook:read-write`.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            read_write: vec![token.into()],
            read_only: Vec::new(),
        }
    }

    /// Also knows `token`, with `webhook:read` only.
    pub fn read_only_token(mut self, token: impl Into<String>) -> Self {
        self.read_only.push(token.into());
        self
    }

    /// The tokens allowed on `route`.
    fn allowed(&self, route: Route) -> BearerToken {
        let mut tokens = self.read_write.clone();
        if !route.is_write() {
            tokens.extend(self.read_only.iter().cloned());
        }
        BearerToken { tokens }
    }

    /// Method, path and an allowed token for `route`.
    fn given(&self, route: Route) -> MockBuilder {
        Mock::given(method(route.method()))
            .and(path(route.path()))
            .and(self.allowed(route))
    }

    /// A request to `route` that the spec accepts, by an allowed token,
    /// answered with `template`.
    pub fn respond(&self, route: Route, template: ResponseTemplate) -> Fixture {
        Fixture::new(
            self.given(route).and(SpecRequest::valid()),
            Answer::Template(template),
        )
    }

    /// `GET /v2/webhooks` with any valid `limit`/`offset`, answering `page`.
    pub fn list_webhooks(&self, page: &[Webhook]) -> Fixture {
        Fixture::new(
            self.given(Route::List).and(SpecRequest::valid()),
            Answer::Template(data(page)),
        )
    }

    /// `GET /v2/webhooks` with exactly this `limit` and `offset` (as the
    /// client sends them: only when set), answering `page`.
    pub fn list_webhooks_at(
        &self,
        limit: Option<u32>,
        offset: Option<u32>,
        page: &[Webhook],
    ) -> Fixture {
        Fixture::new(
            self.given(Route::List)
                .and(SpecRequest::valid())
                .and(ExactQuery { limit, offset }),
            Answer::Template(data(page)),
        )
    }

    /// `POST /v2/webhooks` with a valid body asking for `created`'s target
    /// URL and subscriptions (as JSON, in the same order), answering `created`.
    pub fn create_webhook(&self, created: &CreatedWebhook) -> Fixture {
        Fixture::new(
            self.given(Route::Create)
                .and(SpecRequest::valid())
                .and(BodyAsks::for_webhook(&created.webhook, true)),
            Answer::Template(data(created)),
        )
    }

    /// `POST /v2/webhooks` with a valid body, answering what Attio would:
    /// the request's target and subscriptions with a fresh id in
    /// `workspace_id`, status `active`, `created_at` now and a random secret.
    pub fn create_webhook_echo(&self, workspace_id: WorkspaceId) -> Fixture {
        Fixture::new(
            self.given(Route::Create).and(SpecRequest::valid()),
            Answer::Echo(EchoCreate { workspace_id }),
        )
    }

    /// `GET /v2/webhooks/{id}` answering `webhook`.
    pub fn get_webhook(&self, webhook: &Webhook) -> Fixture {
        self.respond(Route::Get(webhook.webhook_id()), data(webhook))
    }

    /// `PATCH /v2/webhooks/{id}` with a valid body whose fields (each
    /// optional) equal `updated`'s, answering `updated`.
    pub fn update_webhook(&self, updated: &Webhook) -> Fixture {
        Fixture::new(
            self.given(Route::Update(updated.webhook_id()))
                .and(SpecRequest::valid())
                .and(BodyAsks::for_webhook(updated, false)),
            Answer::Template(data(updated)),
        )
    }

    /// `DELETE /v2/webhooks/{id}` answering `{}`.
    pub fn delete_webhook(&self, webhook_id: WebhookId) -> Fixture {
        self.respond(
            Route::Delete(webhook_id),
            ResponseTemplate::new(200).set_body_raw("{}", crate::api::responses::JSON_UTF8),
        )
    }

    /// `route` answering `status` with Attio's error body for it: 404 with
    /// `Webhook with ID "<id>" was not found.`, 429 with a `Retry-After` of
    /// the next second, and the testkit's body for that status otherwise
    /// (listed in the crate docs).
    ///
    /// Which requests it matches depends on the status, as at Attio:
    ///
    /// | status | matches |
    /// |---|---|
    /// | 401 | a missing, malformed or unknown token |
    /// | 403 | a read-only token |
    /// | 400 | an allowed token and a request the spec rejects |
    /// | 409 | an allowed token and a request the spec accepts |
    /// | others | an allowed token |
    pub fn error(&self, route: Route, status: u16) -> Fixture {
        let body = match (route, status) {
            (Route::Get(id) | Route::Update(id) | Route::Delete(id), 404) => {
                errors::not_found(&id.to_string())
            }
            _ => errors::for_status(status),
        };
        let on_route = Mock::given(method(route.method())).and(path(route.path()));
        let given = match status {
            401 => on_route.and(UnknownToken {
                known: self
                    .read_write
                    .iter()
                    .chain(&self.read_only)
                    .cloned()
                    .collect(),
            }),
            403 => on_route.and(BearerToken {
                tokens: self.read_only.clone(),
            }),
            400 => self.given(route).and(SpecRequest::invalid()),
            409 => self.given(route).and(SpecRequest::valid()),
            _ => self.given(route),
        };
        Fixture::new(given, Answer::Error(body))
    }
}

/// A fixture not yet mounted: its matchers and its answer.
pub struct Fixture {
    given: MockBuilder,
    answer: Answer,
}

impl Fixture {
    fn new(given: MockBuilder, answer: Answer) -> Self {
        Self { given, answer }
    }

    /// Adds a matcher: the fixture answers only requests that also match it.
    pub fn and<M: Match + 'static>(self, matcher: M) -> Self {
        Self {
            given: self.given.and(matcher),
            answer: self.answer,
        }
    }

    /// The [`wiremock::Mock`], ready for `.expect(n)` and `.mount(&server)`.
    pub fn mock(self) -> Mock {
        self.given.respond_with(self.answer)
    }
}

/// What a fixture answers.
enum Answer {
    Template(ResponseTemplate),
    Echo(EchoCreate),
    Error(ApiErrorBody),
}

/// `{"data": value}` with 200, keys in the order `value` writes them.
fn data<T: serde::Serialize + ?Sized>(value: &T) -> ResponseTemplate {
    json_template(200, &attio_webhooks::operations::Envelope { data: value })
}

/// `value` as a JSON answer with `status`, with the content type of
/// Attio's answers. Written straight from `value` (not through a
/// `serde_json::Value`, which would sort the keys).
fn json_template<T: serde::Serialize + ?Sized>(status: u16, value: &T) -> ResponseTemplate {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    ResponseTemplate::new(status).set_body_raw(body, crate::api::responses::JSON_UTF8)
}

impl Respond for Answer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let template = match self {
            Answer::Template(template) => template.clone(),
            Answer::Echo(echo) => echo.respond(request),
            Answer::Error(body) => error_template(body),
        };
        // Every answer of Attio's names itself, afresh each time.
        template.insert_header(
            attio_webhooks::error::EXECUTION_ID_HEADER,
            crate::api::responses::execution_id(),
        )
    }
}

/// An Attio error body with its status; a 429 gets `Retry-After` as of now.
fn error_template(body: &ApiErrorBody) -> ResponseTemplate {
    let template = json_template(body.status_code, body);
    if body.status_code == 429 {
        let at = crate::retry_after_next_second(std::time::SystemTime::now());
        template.insert_header("retry-after", at)
    } else {
        template
    }
}

/// Answers a create with the webhook the request asks for.
struct EchoCreate {
    workspace_id: WorkspaceId,
}

impl EchoCreate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let checked = spec::check_request("POST", request.url.path(), None, &request.body)
            .and_then(|()| {
                serde_json::from_slice::<Value>(&request.body).map_err(|e| spec::Violation {
                    at: "body".into(),
                    message: e.to_string(),
                })
            });
        let asked = match checked {
            Ok(mut body) => body["data"].take(),
            Err(violation) => {
                return error_template(&errors::invalid_body(vec![ValidationError::new(
                    "custom",
                    crate::api::validation::segments(&violation.at),
                    violation.message,
                )]))
            }
        };
        /// A created webhook with the request's own target and
        /// subscriptions, in Attio's key order.
        #[derive(serde::Serialize)]
        struct Echoed<'a> {
            id: Value,
            target_url: &'a Value,
            status: &'static str,
            subscriptions: &'a Value,
            created_at: String,
            secret: String,
        }
        let answer = Echoed {
            id: json!({
                "workspace_id": self.workspace_id.to_string(),
                "webhook_id": uuid::Uuid::new_v4().to_string(),
            }),
            target_url: &asked["target_url"],
            status: "active",
            subscriptions: &asked["subscriptions"],
            created_at: crate::api::webhooks::to_millis(Timestamp::now()).to_string(),
            secret: random_secret(),
        };
        data(&answer)
    }
}

/// 32 random bytes as 64 lowercase hex characters, like Attio's secrets.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    const_hex::encode(bytes)
}

/// The bearer token of a request, if it has the form `Bearer <token>`.
fn bearer(request: &Request) -> Option<&str> {
    request
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// Matches requests with `Authorization: Bearer <token>` for exactly one
/// of these tokens.
///
/// ```
/// use attio_webhooks_testkit::fixtures::BearerToken;
/// use wiremock::Mock;
/// let mock = Mock::given(BearerToken::one_of(["sk_test"]));
/// # let _ = mock;
/// ```
#[derive(Debug, Clone)]
pub struct BearerToken {
    tokens: Vec<String>,
}

impl BearerToken {
    /// Matches any of `tokens`, exactly.
    pub fn one_of<T: Into<String>>(tokens: impl IntoIterator<Item = T>) -> Self {
        Self {
            tokens: tokens.into_iter().map(Into::into).collect(),
        }
    }
}

impl Match for BearerToken {
    fn matches(&self, request: &Request) -> bool {
        bearer(request).is_some_and(|token| self.tokens.iter().any(|t| t == token))
    }
}

/// Matches a missing or malformed `Authorization`, or a token not in `known`.
#[derive(Debug, Clone)]
struct UnknownToken {
    known: Vec<String>,
}

impl Match for UnknownToken {
    fn matches(&self, request: &Request) -> bool {
        !bearer(request).is_some_and(|token| self.known.iter().any(|t| t == token))
    }
}

/// Matches requests that Attio's OpenAPI document accepts (or, with
/// [`SpecRequest::invalid`], rejects): path parameters, query parameters,
/// and for operations with a body a JSON `Content-Type` and a body that
/// fits the schema. See [`spec`] for the rules.
#[derive(Debug, Clone, Copy)]
pub struct SpecRequest {
    valid: bool,
}

impl SpecRequest {
    /// Matches requests the spec accepts.
    pub fn valid() -> Self {
        Self { valid: true }
    }

    /// Matches requests the spec rejects.
    pub fn invalid() -> Self {
        Self { valid: false }
    }

    fn accepts(request: &Request) -> bool {
        let json = request
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        (request.body.is_empty() || json)
            && spec::check_request(
                request.method.as_str(),
                request.url.path(),
                request.url.query(),
                &request.body,
            )
            .is_ok()
    }
}

impl Match for SpecRequest {
    fn matches(&self, request: &Request) -> bool {
        Self::accepts(request) == self.valid
    }
}

/// Matches a create or update body whose `target_url` and `subscriptions`
/// are the webhook's (as JSON); on update each may be absent.
#[derive(Debug, Clone)]
struct BodyAsks {
    target_url: Value,
    subscriptions: Value,
    required: bool,
}

impl BodyAsks {
    fn for_webhook(webhook: &Webhook, required: bool) -> Self {
        Self {
            target_url: Value::from(webhook.target_url.as_str()),
            subscriptions: serde_json::to_value(&webhook.subscriptions).unwrap_or_default(),
            required,
        }
    }
}

impl Match for BodyAsks {
    fn matches(&self, request: &Request) -> bool {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        let fits = |key: &str, expected: &Value| match body["data"].get(key) {
            Some(sent) => sent == expected,
            None => !self.required,
        };
        fits("target_url", &self.target_url) && fits("subscriptions", &self.subscriptions)
    }
}

/// Matches a list query that has exactly these parameters.
#[derive(Debug, Clone, Copy)]
struct ExactQuery {
    limit: Option<u32>,
    offset: Option<u32>,
}

impl Match for ExactQuery {
    fn matches(&self, request: &Request) -> bool {
        let mut expected = Vec::new();
        if let Some(limit) = self.limit {
            expected.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some(offset) = self.offset {
            expected.push(("offset".to_owned(), offset.to_string()));
        }
        let actual: Vec<(String, String)> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        actual == expected
    }
}
