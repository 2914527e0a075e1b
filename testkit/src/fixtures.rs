//! wiremock fixtures: Attio-exact answers for each operation and each
//! documented error, mounted on a [`wiremock::MockServer`].
//!
//! Each function returns a [`Mock`] whose matchers check what Attio would
//! check: the method and path, a `Bearer` token, and for create, update and
//! list a body or query that the fake itself would accept (the same strict
//! checks as [`crate::FakeAttio`]). A request the real API would reject
//! matches no fixture, so wiremock answers 404 and the test fails loudly.
//! Chain `.expect(n)` to also check how often it was called.
//!
//! ```
//! use attio_webhooks::{Client, HyperTransport};
//! use attio_webhooks_testkit::fixtures::{self, examples, Route};
//! use wiremock::MockServer;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), attio_webhooks::Error> {
//! let server = MockServer::start().await;
//! fixtures::get_webhook(&examples::webhook()).expect(1).mount(&server).await;
//! fixtures::error(Route::Delete(examples::webhook().webhook_id()), 404).mount(&server).await;
//!
//! let client = Client::builder("sk_test").base_url(server.uri()).build(HyperTransport::new()?)?;
//! let webhook = client.get_webhook(examples::webhook().webhook_id()).await?;
//! assert_eq!(webhook, examples::webhook());
//! assert!(client.delete_webhook(webhook.webhook_id()).await.unwrap_err().is_not_found());
//! # Ok(()) }
//! ```

use attio_webhooks::{
    ApiErrorBody, CreatedWebhook, TargetUrlPolicy, Timestamp, Webhook, WebhookId, WorkspaceId,
};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, Request, Respond, ResponseTemplate};

use crate::store::Store;
use crate::{errors, responses, validate};

/// The example bodies of Attio's OpenAPI document.
pub mod examples {
    use attio_webhooks::{
        Condition, CreatedWebhook, EventType, Filter, Secret, Subscription, Webhook,
        WebhookIdentifier, WebhookStatus,
    };

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

    /// The example webhook.
    pub fn webhook() -> Webhook {
        Webhook::new(
            WebhookIdentifier::new(
                WORKSPACE_ID.parse().expect("a valid UUID"),
                WEBHOOK_ID.parse().expect("a valid UUID"),
            ),
            TARGET_URL,
            vec![subscription()],
            CREATED_AT.parse().expect("a valid timestamp"),
        )
        .with_status(WebhookStatus::Active)
    }

    /// The example webhook as create returns it, with the example secret.
    pub fn created_webhook() -> CreatedWebhook {
        CreatedWebhook::new(webhook(), Secret::new(SECRET))
    }
}

/// Which operation an error fixture answers.
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

    fn mock(self) -> wiremock::MockBuilder {
        Mock::given(method(self.method()))
            .and(path(self.path()))
            .and(BearerToken)
    }
}

/// `GET /v2/webhooks` with any valid `limit`/`offset`, answering `page`.
pub fn list_webhooks(page: &[Webhook]) -> Mock {
    Route::List
        .mock()
        .and(ValidListQuery)
        .respond_with(data(page))
}

/// `GET /v2/webhooks` with exactly this `limit` and `offset` (as the client
/// sends them: only when set), answering `page`.
pub fn list_webhooks_at(limit: Option<u32>, offset: Option<u32>, page: &[Webhook]) -> Mock {
    Route::List
        .mock()
        .and(ExactQuery { limit, offset })
        .respond_with(data(page))
}

/// `POST /v2/webhooks` with a body Attio accepts, answering `created`.
pub fn create_webhook(created: &CreatedWebhook) -> Mock {
    Route::Create
        .mock()
        .and(ValidCreateBody(TargetUrlPolicy::HttpsOnly))
        .respond_with(data(created))
}

/// `POST /v2/webhooks` with a body Attio accepts, answering what Attio
/// would: the request's target and subscriptions with a fresh id in
/// `workspace_id`, status `active`, `created_at` now and a random secret.
pub fn create_webhook_echo(workspace_id: WorkspaceId) -> Mock {
    Route::Create
        .mock()
        .and(ValidCreateBody(TargetUrlPolicy::HttpsOnly))
        .respond_with(EchoCreate { workspace_id })
}

/// `GET /v2/webhooks/{id}` answering `webhook`.
pub fn get_webhook(webhook: &Webhook) -> Mock {
    Route::Get(webhook.webhook_id())
        .mock()
        .respond_with(data(webhook))
}

/// `PATCH /v2/webhooks/{id}` with a body Attio accepts, answering `updated`.
pub fn update_webhook(updated: &Webhook) -> Mock {
    Route::Update(updated.webhook_id())
        .mock()
        .and(ValidUpdateBody(TargetUrlPolicy::HttpsOnly))
        .respond_with(data(updated))
}

/// `DELETE /v2/webhooks/{id}` answering `{}`.
pub fn delete_webhook(webhook_id: WebhookId) -> Mock {
    Route::Delete(webhook_id)
        .mock()
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/json"))
}

/// `route` answering `status` with Attio's error body for it: 404 with
/// `Webhook with ID "<id>" was not found.`, 429 with a `Retry-After` of the
/// next second, and [`errors::for_status`] otherwise.
///
/// For create and update, the body decides too, as it would at Attio: a
/// 400 fixture matches only bodies Attio would reject, and a 409 fixture
/// only bodies it would accept (a conflict needs a valid request). Other
/// statuses match any body.
pub fn error(route: Route, status: u16) -> Mock {
    let body = match (route, status) {
        (Route::Get(id) | Route::Update(id) | Route::Delete(id), 404) => {
            errors::not_found(&id.to_string())
        }
        _ => errors::for_status(status),
    };
    let update = matches!(route, Route::Update(_));
    let mock = route.mock();
    let mock = match (route, status) {
        (Route::Create | Route::Update(_), 400) => mock.and(BodyCheck {
            update,
            valid: false,
        }),
        (Route::Create | Route::Update(_), 409) => mock.and(BodyCheck {
            update,
            valid: true,
        }),
        _ => mock,
    };
    mock.respond_with(AttioError(body))
}

fn data<T: serde::Serialize + ?Sized>(value: &T) -> ResponseTemplate {
    template(responses::data(value))
}

fn template(response: http::Response<bytes::Bytes>) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(response.status().as_u16());
    for (name, value) in response.headers() {
        if name != http::header::CONTENT_TYPE {
            template = template.insert_header(name.as_str(), value.as_bytes());
        }
    }
    template.set_body_raw(response.into_body().to_vec(), "application/json")
}

/// Answers an Attio error body, with `Retry-After` computed when the request arrives.
struct AttioError(ApiErrorBody);

impl Respond for AttioError {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        // `responses::error` adds the 429's `Retry-After` as of now.
        template(responses::error(&self.0))
    }
}

struct EchoCreate {
    workspace_id: WorkspaceId,
}

impl Respond for EchoCreate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        // A one-off store makes the webhook exactly as the fake's create does.
        let created =
            validate::create_body(&request.body, TargetUrlPolicy::HttpsOnly).and_then(|new| {
                Store::new(self.workspace_id)
                    .create(new, Timestamp::now())
                    .map(|s| s.created())
            });
        match created {
            Ok(created) => data(&created),
            Err(body) => template(responses::error(&body)),
        }
    }
}

/// Matches requests with `Authorization: Bearer <non-empty token>`.
#[derive(Debug, Clone, Copy)]
pub struct BearerToken;

impl Match for BearerToken {
    fn matches(&self, request: &Request) -> bool {
        request
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| !token.trim().is_empty())
    }
}

fn is_json(request: &Request) -> bool {
    request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Whether a request's body passes (or, with `valid: false`, fails) the
/// fake's checks for create or update, with Attio's https-only rule.
#[derive(Debug, Clone, Copy)]
struct BodyCheck {
    update: bool,
    valid: bool,
}

impl BodyCheck {
    fn accepts(update: bool, policy: TargetUrlPolicy, request: &Request) -> bool {
        is_json(request)
            && if update {
                validate::update_body(&request.body, policy).is_ok()
            } else {
                validate::create_body(&request.body, policy).is_ok()
            }
    }
}

impl Match for BodyCheck {
    fn matches(&self, request: &Request) -> bool {
        Self::accepts(self.update, TargetUrlPolicy::HttpsOnly, request) == self.valid
    }
}

/// Matches a JSON create body that Attio (and the fake) would accept.
#[derive(Debug, Clone, Copy)]
pub struct ValidCreateBody(pub TargetUrlPolicy);

impl Match for ValidCreateBody {
    fn matches(&self, request: &Request) -> bool {
        BodyCheck::accepts(false, self.0, request)
    }
}

/// Matches a JSON update body that Attio (and the fake) would accept.
#[derive(Debug, Clone, Copy)]
pub struct ValidUpdateBody(pub TargetUrlPolicy);

impl Match for ValidUpdateBody {
    fn matches(&self, request: &Request) -> bool {
        BodyCheck::accepts(true, self.0, request)
    }
}

/// Matches a list query with a `limit` in 10..=100 (if any) and an
/// `offset` of 0 or more (if any).
#[derive(Debug, Clone, Copy)]
pub struct ValidListQuery;

impl Match for ValidListQuery {
    fn matches(&self, request: &Request) -> bool {
        validate::list_query(request.url.query()).is_ok()
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
        ValidListQuery.matches(request) && actual == expected
    }
}
