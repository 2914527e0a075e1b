//! A concurrency soak: 32 tasks, each running 200 mixed operations through
//! `Client<HyperTransport>` (four clients, so four connection pools shared
//! by eight tasks each) against one fake on loopback, all at once.
//!
//! Each task owns the webhooks it creates (fresh target URLs), so its own
//! sequential model of them is exact whatever the others do: every answer
//! about its webhooks must match the model. Besides, every few operations
//! all tasks race to create the same shared webhook: exactly one create
//! per shared webhook may succeed, every other attempt gets 409.
//!
//! Retries are off, so any 5xx or failed connection surfaces as an error
//! and fails the test; each task has a deadline, so none may hang. At
//! quiescence the fake must hold exactly the union of the models (no lost
//! or duplicated webhook, ids unique), and its list pages, at several page
//! sizes, must tile one listing that keeps each task's creation order and
//! the order the shared webhooks were raced in.
//!
//! The seed is printed; `ATTIO_SOAK_SEED=<seed>` replays the workload of
//! every task (the interleaving is the scheduler's).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attio_webhooks::operations::{ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    transport::HyperTransport, Client, Condition, Error, EventType, Filter, RetryPolicy,
    Subscription, Webhook, WebhookId,
};
use attio_webhooks_testkit::FakeAttio;

const TASKS: usize = 32;
const OPERATIONS: usize = 200;
const CLIENTS: usize = 4;
/// Every this many operations a task joins the race for the next shared webhook.
const RACE_EVERY: usize = 20;
const TASK_DEADLINE: Duration = Duration::from_secs(100);

fn seed() -> u64 {
    match std::env::var("ATTIO_SOAK_SEED") {
        Ok(text) => text.parse().expect("ATTIO_SOAK_SEED is a u64"),
        Err(_) => fastrand::u64(..),
    }
}

/// Who won each shared webhook: race number to (task, webhook).
type Winners = Arc<Mutex<HashMap<usize, (usize, Webhook)>>>;

/// One task's webhooks, in the order it created them, as they must be now.
struct Own {
    task: usize,
    seed: u64,
    rng: fastrand::Rng,
    client: Client<HyperTransport>,
    live: Vec<Webhook>,
    deleted: Vec<WebhookId>,
    made: usize,
}

impl Own {
    fn what(&self, n: usize) -> String {
        format!("task {} operation {n} (seed {})", self.task, self.seed)
    }

    fn url(&mut self) -> String {
        self.made += 1;
        format!(
            "https://soak.example/{}/{}/{}",
            self.seed, self.task, self.made
        )
    }

    fn subscriptions(&mut self) -> Vec<Subscription> {
        let event_type = [
            EventType::RecordCreated,
            EventType::NoteUpdated,
            EventType::TaskDeleted,
        ][self.rng.usize(0..3)]
        .clone();
        let subscription = Subscription::new(event_type);
        if self.rng.bool() {
            vec![subscription]
        } else {
            vec![subscription.with_filter(Filter::And(vec![Condition::equals(
                "id.object_id",
                format!("object-{}", self.rng.u8(..)),
            )]))]
        }
    }

    async fn run(mut self, winners: Winners) -> Vec<Webhook> {
        for n in 0..OPERATIONS {
            let what = self.what(n);
            if n % RACE_EVERY == RACE_EVERY - 1 {
                self.race(n / RACE_EVERY, &winners, &what).await;
                continue;
            }
            let pick = (!self.live.is_empty()).then(|| self.rng.usize(0..self.live.len()));
            match (self.rng.u8(0..100), pick) {
                (0..=29, _) | (_, None) => self.create(&what).await,
                (30..=49, Some(i)) => {
                    let got = self.client.get_webhook(self.live[i].webhook_id()).await;
                    assert_eq!(ok(got, &what), self.live[i], "{what}");
                }
                (50..=64, Some(i)) => self.update(i, &what).await,
                (65..=74, Some(i)) => {
                    let id = self.live.remove(i).webhook_id();
                    ok(self.client.delete_webhook(id).await, &what);
                    self.deleted.push(id);
                }
                (75..=79, _) if !self.deleted.is_empty() => {
                    let id = self.deleted[self.rng.usize(0..self.deleted.len())];
                    let err = self.client.get_webhook(id).await.unwrap_err();
                    assert!(err.is_not_found(), "{what}: {err:?}");
                }
                _ => self.list(&what).await,
            }
        }
        self.live
    }

    async fn create(&mut self, what: &str) {
        let (url, subscriptions) = (self.url(), self.subscriptions());
        let created = ok(
            self.client
                .create_webhook(url.clone(), subscriptions.clone())
                .await,
            what,
        );
        assert_eq!(created.webhook.target_url, url, "{what}");
        assert_eq!(created.webhook.subscriptions, subscriptions, "{what}");
        self.live.push(created.webhook);
    }

    async fn update(&mut self, i: usize, what: &str) {
        let mut expected = self.live[i].clone();
        let mut update = UpdateWebhook::new(expected.webhook_id());
        if self.rng.bool() {
            expected.target_url = self.url();
            update = update.target_url(expected.target_url.clone());
        }
        if self.rng.bool() {
            expected.subscriptions = self.subscriptions();
            update = update.subscriptions(expected.subscriptions.clone());
        }
        let updated = ok(self.client.update_webhook(update).await, what);
        assert_eq!(updated, expected, "{what}");
        // An update moves nothing in the list: it keeps its place.
        self.live[i] = updated;
    }

    /// One page from anywhere in the list: what it shows of this task's
    /// webhooks is exactly their current state, in creation order.
    async fn list(&mut self, what: &str) {
        let limit = self.rng.u32(10..=100);
        let offset = self.rng.u32(0..=(TASKS * OPERATIONS / 4) as u32);
        let page = ListWebhooks::new().limit(limit).offset(offset);
        let page = ok(self.client.list_webhooks(page).await, what);
        assert!(page.len() <= limit as usize, "{what}");
        let prefix = format!("https://soak.example/{}/{}/", self.seed, self.task);
        let mine = page.iter().filter(|w| w.target_url.starts_with(&prefix));
        let mut position = 0;
        for webhook in mine {
            let at = self.live[position..]
                .iter()
                .position(|w| w.webhook_id() == webhook.webhook_id())
                .unwrap_or_else(|| panic!("{what}: listed {webhook:?}, not live or out of order"));
            position += at + 1;
            assert_eq!(webhook, &self.live[position - 1], "{what}");
        }
    }

    /// Races every other task to create shared webhook `race`.
    async fn race(&mut self, race: usize, winners: &Winners, what: &str) {
        let url = format!("https://soak.example/{}/shared/{race}", self.seed);
        let result = self
            .client
            .create_webhook(url, vec![Subscription::new(EventType::RecordCreated)])
            .await;
        match result {
            Ok(created) => {
                let previous = winners
                    .lock()
                    .unwrap()
                    .insert(race, (self.task, created.webhook));
                assert!(
                    previous.is_none(),
                    "{what}: race {race} won twice: {previous:?}"
                );
            }
            Err(err) => assert!(err.is_conflict(), "{what}: {err:?}"),
        }
    }
}

/// Every operation of the soak must succeed (retries are off, so this is
/// also "no 5xx and no failed connection").
fn ok<T>(result: Result<T, Error>, what: &str) -> T {
    result.unwrap_or_else(|err| panic!("{what}: {err:?}"))
}

async fn list_all(client: &Client<HyperTransport>, limit: u32) -> Vec<Webhook> {
    let mut all = Vec::new();
    loop {
        let page = ListWebhooks::new().limit(limit).offset(all.len() as u32);
        let page = ok(client.list_webhooks(page).await, "final listing");
        let done = page.len() < limit as usize;
        all.extend(page);
        if done {
            return all;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_tasks_two_hundred_operations_each() {
    let seed = seed();
    eprintln!("soak seed {seed}; replay with ATTIO_SOAK_SEED={seed} cargo test --test soak");
    let server = FakeAttio::start().await;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            Client::builder(server.token())
                .base_url(server.base_url())
                .timeout(Duration::from_secs(20))
                .retry_policy(RetryPolicy::disabled())
                .build(HyperTransport::new().unwrap())
                .unwrap()
        })
        .collect();
    let winners = Winners::default();
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let own = Own {
                task,
                seed,
                rng: fastrand::Rng::with_seed(
                    seed ^ (task as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                ),
                client: clients[task % CLIENTS].clone(),
                live: Vec::new(),
                deleted: Vec::new(),
                made: 0,
            };
            let winners = Arc::clone(&winners);
            tokio::spawn(tokio::time::timeout(TASK_DEADLINE, own.run(winners)))
        })
        .collect();
    let mut expected: Vec<Webhook> = Vec::new();
    let mut per_task = Vec::new();
    for (task, handle) in tasks.into_iter().enumerate() {
        let live = handle
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
            .unwrap_or_else(|_| panic!("task {task} stuck past {TASK_DEADLINE:?}"));
        expected.extend(live.iter().cloned());
        per_task.push(live);
    }
    let elapsed = started.elapsed();

    let winners = std::mem::take(&mut *winners.lock().unwrap());
    assert_eq!(
        winners.len(),
        OPERATIONS / RACE_EVERY,
        "every race has one winner"
    );
    let mut races: Vec<_> = winners.into_iter().collect();
    races.sort_by_key(|(race, _)| *race);
    expected.extend(races.iter().map(|(_, (_, webhook))| webhook.clone()));

    // No lost or duplicated webhook, unique ids.
    let state = server.webhooks();
    let ids: HashSet<WebhookId> = state.iter().map(Webhook::webhook_id).collect();
    assert_eq!(ids.len(), state.len(), "duplicate ids");
    let by_id = |list: &[Webhook]| -> HashMap<WebhookId, Webhook> {
        list.iter().map(|w| (w.webhook_id(), w.clone())).collect()
    };
    assert_eq!(
        by_id(&state),
        by_id(&expected),
        "the fake holds exactly the models' union"
    );
    assert_eq!(state.len(), expected.len());

    // Pages of every size tile the same listing, the fake's own state.
    let full = list_all(&clients[0], 100).await;
    assert_eq!(full, state);
    for limit in [10, 37, 64] {
        assert_eq!(list_all(&clients[1], limit).await, full, "pages of {limit}");
    }
    // The listing keeps each task's creation order and the race order.
    let position: HashMap<WebhookId, usize> = full
        .iter()
        .enumerate()
        .map(|(i, w)| (w.webhook_id(), i))
        .collect();
    let shared: Vec<Webhook> = races.iter().map(|(_, (_, w))| w.clone()).collect();
    for live in per_task.iter().chain(std::iter::once(&shared)) {
        let places: Vec<usize> = live.iter().map(|w| position[&w.webhook_id()]).collect();
        assert!(
            places.windows(2).all(|p| p[0] < p[1]),
            "out of order: {places:?}"
        );
    }
    eprintln!(
        "{} operations in {elapsed:?}; {} webhooks at the end, {} requests recorded",
        TASKS * OPERATIONS,
        state.len(),
        server.requests().len()
    );
}
