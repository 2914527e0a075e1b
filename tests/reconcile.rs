//! The reconcile engine against the fake: `ensure` from many tasks at once
//! (in-process and over loopback HTTP), the two races it must survive made
//! to happen on purpose (a create answered 409, an update answered 404),
//! and `apply` stopping at the first failure with what it did.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use attio_webhooks::reconcile::{
    apply, ensure, plan, Change, Desired, DesiredWebhook, Done, Ensured, Prune,
};
use attio_webhooks::{Condition, EventType, Filter, Subscription, Transport, Webhook};
use attio_webhooks_testkit::{test_retry_policy, FakeAttio, Fault, FaultRule, InProcessTransport};
use bytes::Bytes;

const URL: &str = "https://hooks.example.com/attio";

fn wanted() -> Vec<Subscription> {
    vec![
        Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
            Condition::equals("id.object_id", "people"),
            Condition::equals("actor.type", "workspace-member"),
        ])),
        Subscription::new(EventType::NoteCreated),
    ]
}

/// The same subscriptions in another order, conditions reversed: Attio
/// sees the same set.
fn wanted_reordered() -> Vec<Subscription> {
    vec![
        Subscription::new(EventType::NoteCreated),
        Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
            Condition::equals("actor.type", "workspace-member"),
            Condition::equals("id.object_id", "people"),
        ])),
    ]
}

fn with_url(fake: &FakeAttio, url: &str) -> Vec<Webhook> {
    fake.webhooks()
        .into_iter()
        .filter(|w| w.target_url == url)
        .collect()
}

/// Checks the end state of any number of concurrent `ensure`s: one
/// webhook, the wanted subscriptions (as a set), one `Created`.
fn one_webhook_as_wanted(fake: &FakeAttio, outcomes: &[Ensured]) {
    let found = with_url(fake, URL);
    assert_eq!(found.len(), 1, "{found:?}");
    let planned = plan(
        &Desired::new().with(DesiredWebhook::new(URL, wanted())),
        &found,
        Prune::No,
    )
    .unwrap();
    assert!(planned.changes.is_empty(), "{planned:?}");
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Ensured::Created(_)))
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    for outcome in outcomes {
        assert_eq!(outcome.webhook().webhook_id(), found[0].webhook_id());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_ensuring_at_once_in_process_end_with_one_webhook() {
    for _ in 0..5 {
        let fake = FakeAttio::new();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let client = fake.client();
                let subscriptions = if i % 2 == 0 {
                    wanted()
                } else {
                    wanted_reordered()
                };
                tokio::spawn(async move {
                    ensure(&client, &DesiredWebhook::new(URL, subscriptions)).await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap().unwrap());
        }
        one_webhook_as_wanted(&fake, &outcomes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_ensuring_at_once_over_http_end_with_one_webhook() {
    let fake = FakeAttio::new();
    let server = fake.serve().await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = server.client();
            tokio::spawn(async move { ensure(&client, &DesiredWebhook::new(URL, wanted())).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }
    one_webhook_as_wanted(&fake, &outcomes);
}

/// A transport that, the first time it is asked to send `method`, first
/// runs `race` (another replica's doing) and then sends.
struct Racing<F> {
    inner: InProcessTransport,
    method: http::Method,
    race: F,
    raced: AtomicBool,
}

#[attio_webhooks::async_trait]
impl<F: Fn() + Send + Sync> Transport for Racing<F> {
    type Error = <InProcessTransport as Transport>::Error;
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        if request.method() == self.method && !self.raced.swap(true, Ordering::SeqCst) {
            (self.race)();
        }
        self.inner.send(request).await
    }
}

fn racing_client<F: Fn() + Send + Sync>(
    fake: &FakeAttio,
    method: http::Method,
    race: F,
) -> attio_webhooks::Client<Racing<F>> {
    attio_webhooks::Client::builder(fake.token())
        .base_url(InProcessTransport::BASE_URL)
        .retry_policy(test_retry_policy())
        .build(Racing {
            inner: fake.transport(),
            method,
            race,
            raced: AtomicBool::new(false),
        })
        .unwrap()
}

/// Runs `f` on another thread with its own runtime (the race happens
/// inside a transport call, which must not block on the caller's runtime).
fn elsewhere<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn a_create_that_loses_the_race_finds_the_winners_webhook() {
    let fake = Arc::new(FakeAttio::new());
    let other = fake.client();
    // Just before this replica's create, another replica creates the same.
    let client = racing_client(&fake, http::Method::POST, move || {
        let other = other.clone();
        elsewhere(async move { other.create_webhook(URL, wanted()).await.unwrap() });
    });
    let outcome = ensure(&client, &DesiredWebhook::new(URL, wanted()))
        .await
        .unwrap();
    assert!(matches!(outcome, Ensured::Unchanged(_)), "{outcome:?}");
    assert_eq!(with_url(&fake, URL).len(), 1);
    // Two creates were sent (the other replica's and this one's, refused
    // 409); the listing after found the other's.
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 2);
}

#[tokio::test]
async fn an_update_whose_webhook_was_deleted_meanwhile_creates_it() {
    let fake = FakeAttio::new();
    let old = fake
        .client()
        .create_webhook(URL, vec![Subscription::new(EventType::TaskCreated)])
        .await
        .unwrap();
    let other = fake.client();
    let id = old.webhook.webhook_id();
    let client = racing_client(&fake, http::Method::PATCH, move || {
        let other = other.clone();
        elsewhere(async move { other.delete_webhook(id).await.unwrap() });
    });
    let outcome = ensure(&client, &DesiredWebhook::new(URL, wanted()))
        .await
        .unwrap();
    let Ensured::Created(created) = outcome else {
        panic!("{outcome:?}")
    };
    assert_ne!(created.webhook.webhook_id(), id);
    assert_eq!(with_url(&fake, URL).len(), 1);
}

#[tokio::test]
async fn apply_stops_at_the_first_failure_and_reports_what_it_did() {
    let fake = FakeAttio::new();
    let client = fake.client();
    let desired = Desired::new()
        .owns("https://hooks.example.com/")
        .with(DesiredWebhook::new("https://hooks.example.com/a", wanted()))
        .with(DesiredWebhook::new("https://hooks.example.com/b", wanted()))
        .with(DesiredWebhook::new("https://hooks.example.com/c", wanted()));
    let planned = plan(&desired, &[], Prune::Owned).unwrap();
    assert_eq!(planned.counts(), (3, 0, 0));
    let mut seen = Vec::new();
    let failed = apply(&client, &planned, |i, done| {
        seen.push((i, matches!(done, Done::Created(_))));
        // After the first create, the next is refused (a 400 is not retried).
        fake.inject(
            FaultRule::new(Fault::status(400))
                .method("POST")
                .path("/v2/webhooks"),
        );
        ControlFlow::Continue(())
    })
    .await
    .unwrap_err();
    assert_eq!(failed.index, 1);
    assert_eq!(failed.target_url, "https://hooks.example.com/b");
    assert_eq!(failed.applied.done.len(), 1);
    assert_eq!(seen, [(0, true)]);
    let created: Vec<_> = failed.applied.created().collect();
    assert_eq!(created[0].webhook.target_url, "https://hooks.example.com/a");
    assert!(!created[0].secret.expose().is_empty());
    assert_eq!(fake.webhooks().len(), 1, "nothing after the failure ran");
    assert!(matches!(planned.changes[2], Change::Create { .. }));
}
