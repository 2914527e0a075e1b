//! A fault storm: a seeded random workload of 500 operations through
//! `Client<HyperTransport>` against the fake on loopback, while the fake
//! injects, in random order, 429s (HTTP-date and seconds `Retry-After`,
//! short enough to wait for and too long to), 5xx before and after
//! executing the operation, dropped connections before and after, answers
//! delayed past the client's timeout, truncated and malformed bodies.
//!
//! The oracle is a model of what each operation's reported outcome allows:
//!
//! - `Ok` means the operation happened, with exactly the result it returned;
//! - a 404 means the webhook is not there (now);
//! - a create that fails with 429 did not happen: the client retries a
//!   `POST` only after 429s, which Attio never processes;
//! - every other failure (timeout, transport error, 5xx, an undecodable
//!   answer, or a 429 after an earlier attempt that may have been
//!   processed) is an unknown outcome: the webhook's possible states are
//!   those with and those without the operation.
//!
//! Each webhook keeps the set of states it may be in (absent, or present
//! with given target URL and subscriptions). Every answer seen must be in
//! that set, and collapses it; at the end the fake's state must be one of
//! the possibilities of every webhook, with no webhook the workload did not
//! create and none created twice (every target URL is fresh, so a repeated
//! create would show up as a 409 or as two webhooks for one create).
//!
//! The seed is printed; `ATTIO_STORM_SEED=<seed>` replays a run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use attio_webhooks::operations::{ListWebhooks, UpdateWebhook};
use attio_webhooks::{
    transport::HyperTransport, Client, Condition, Error, EventType, Filter, RetryPolicy,
    Subscription, Webhook, WebhookId, WebhookStatus,
};
use attio_webhooks_testkit::{FakeAttio, FakeServer, Fault, FaultRule};

const OPERATIONS: usize = 500;
/// The client's per-attempt timeout; `Delay` faults hold answers longer.
const TIMEOUT: Duration = Duration::from_millis(300);
const DELAY: Duration = Duration::from_millis(700);
/// Planned uses of faults that cost real waiting, so the storm stays short.
const MAX_WAITING_429S: u32 = 8;
const MAX_DELAYS: u32 = 20;
/// No single operation may take longer than this.
const STUCK: Duration = Duration::from_secs(30);

/// What a webhook holds that operations change.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    target_url: String,
    subscriptions: Vec<Subscription>,
}

impl State {
    fn of(webhook: &Webhook) -> Self {
        State {
            target_url: webhook.target_url.clone(),
            subscriptions: webhook.subscriptions.clone(),
        }
    }
}

/// One webhook of the workload: made by one create, possibly never known
/// by id (when the create's outcome was unknown).
#[derive(Debug)]
struct Slot {
    id: Option<WebhookId>,
    /// `None` is "absent". Never empty.
    possible: Vec<Option<State>>,
    /// The first time the webhook was seen: fields nothing may change.
    first_seen: Option<Webhook>,
    versions: u32,
}

impl Slot {
    fn allow(&mut self, state: Option<State>) {
        if !self.possible.contains(&state) {
            self.possible.push(state);
        }
    }

    fn may_exist(&self) -> bool {
        self.possible.iter().any(Option::is_some)
    }
}

/// How an operation ended, as the client reported it.
#[derive(Debug)]
enum Outcome<T> {
    Done(T),
    NotFound,
    RateLimited,
    Unknown(Error),
}

fn outcome<T>(result: Result<T, Error>, what: &str) -> Outcome<T> {
    let error = match result {
        Ok(value) => return Outcome::Done(value),
        Err(error) => error,
    };
    // Formatting never fails and says something.
    assert!(!error.to_string().is_empty() && !format!("{error:?}").is_empty());
    match &error {
        Error::Api(api) if api.status.as_u16() == 404 => Outcome::NotFound,
        Error::Api(api) if api.status.as_u16() == 409 => {
            panic!("{what}: every target URL is fresh, so a 409 means an operation ran twice: {error:?}")
        }
        Error::Api(api) if api.status.is_server_error() => Outcome::Unknown(error),
        Error::RateLimited(_) => Outcome::RateLimited,
        Error::Timeout(limit) => {
            assert_eq!(*limit, TIMEOUT, "{what}");
            Outcome::Unknown(error)
        }
        Error::Transport(_) | Error::Decode(_) => Outcome::Unknown(error),
        _ => panic!("{what}: not an error this workload can cause: {error:?}"),
    }
}

struct Storm {
    seed: u64,
    rng: fastrand::Rng,
    server: FakeServer,
    client: Client<HyperTransport>,
    slots: Vec<Slot>,
    slot_of_url: HashMap<String, usize>,
    slot_of_id: HashMap<WebhookId, usize>,
    waiting_429s: u32,
    delays: u32,
    tally: HashMap<String, u32>,
}

impl Storm {
    fn count(&mut self, what: impl Into<String>) {
        *self.tally.entry(what.into()).or_default() += 1;
    }

    fn fresh_url(&mut self, slot: usize) -> String {
        let version = self.slots.get(slot).map_or(0, |s| s.versions);
        let url = format!("https://storm.example/{}/{slot}/v{version}", self.seed);
        self.slot_of_url.insert(url.clone(), slot);
        url
    }

    fn subscriptions(&mut self) -> Vec<Subscription> {
        let mut types = vec![
            EventType::RecordCreated,
            EventType::NoteCreated,
            EventType::TaskUpdated,
            EventType::ListEntryDeleted,
            EventType::CommentResolved,
        ];
        self.rng.shuffle(&mut types);
        let count = self.rng.usize(1..=2);
        types
            .into_iter()
            .take(count)
            .map(|event_type| {
                let subscription = Subscription::new(event_type);
                let condition = || Condition::equals("id.object_id", "people");
                match self.rng.u8(0..3) {
                    0 => subscription,
                    1 => subscription.with_filter(Filter::And(vec![condition()])),
                    _ => subscription.with_filter(Filter::Or(vec![
                        condition(),
                        Condition::not_equals("actor.type", "system"),
                    ])),
                }
            })
            .collect()
    }

    /// Injects this operation's faults (often none), restricted to its
    /// method and path.
    fn inject_faults(&mut self, method: &str, path: &str) {
        if self.rng.bool() {
            return;
        }
        let rules = if self.rng.u8(0..5) == 0 { 2 } else { 1 };
        for _ in 0..rules {
            let times = match self.rng.u8(0..10) {
                0 => 4,
                1 | 2 => 2,
                _ => 1,
            };
            let fault = loop {
                let fault = match self.rng.u8(0..11) {
                    0 => Fault::status([500, 502, 503, 504][self.rng.usize(0..4)]),
                    1 => Fault::StatusAfterHandling {
                        status: [500, 503][self.rng.usize(0..2)],
                    },
                    2 => Fault::RateLimited,
                    3 => Fault::RateLimitedFor { seconds: 1 },
                    4 => Fault::RateLimitedFor { seconds: 3600 },
                    5 => Fault::delay(DELAY),
                    6 => Fault::TruncatedBody,
                    7 => Fault::DropConnection,
                    8 => Fault::DropConnectionAfterHandling,
                    9 => Fault::MalformedBody { status: 502 },
                    _ => Fault::MalformedBody { status: 200 },
                };
                let affordable = match fault {
                    Fault::RateLimited | Fault::RateLimitedFor { seconds: 1 } => {
                        self.waiting_429s + times <= MAX_WAITING_429S
                    }
                    Fault::Delay { .. } => self.delays + times <= MAX_DELAYS,
                    _ => true,
                };
                if affordable {
                    break fault;
                }
            };
            match fault {
                Fault::RateLimited | Fault::RateLimitedFor { seconds: 1 } => {
                    self.waiting_429s += times
                }
                Fault::Delay { .. } => self.delays += times,
                _ => {}
            }
            self.count(format!("fault {fault:?}"));
            self.server
                .inject(FaultRule::new(fault).method(method).path(path).times(times));
        }
    }

    /// Checks a webhook seen in an answer against its slot and collapses
    /// the slot to it.
    fn observe(&mut self, webhook: &Webhook, what: &str) -> usize {
        let Some(&index) = self.slot_of_url.get(&webhook.target_url) else {
            panic!("{what}: a webhook no operation made: {webhook:?}");
        };
        let id = webhook.webhook_id();
        match self.slot_of_id.insert(id, index) {
            Some(other) if other != index => panic!("{what}: id {id} of slots {other} and {index}"),
            _ => {}
        }
        let slot = &mut self.slots[index];
        if let Some(known) = slot.id {
            assert_eq!(known, id, "{what}: slot {index} changed id");
        }
        slot.id = Some(id);
        let state = Some(State::of(webhook));
        assert!(
            slot.possible.contains(&state),
            "{what}: slot {index} shows {state:?}, possible: {:?}",
            slot.possible
        );
        slot.possible = vec![state];
        match &slot.first_seen {
            None => {
                assert_eq!(webhook.status, WebhookStatus::Active, "{what}");
                assert_eq!(webhook.id.workspace_id, self.server.workspace_id());
                slot.first_seen = Some(webhook.clone());
            }
            Some(first) => {
                assert_eq!(webhook.created_at, first.created_at, "{what}");
                assert_eq!(webhook.status, first.status, "{what}");
            }
        }
        index
    }

    async fn create(&mut self, what: &str) {
        let index = self.slots.len();
        self.slots.push(Slot {
            id: None,
            possible: vec![None],
            first_seen: None,
            versions: 1,
        });
        let target_url = self.fresh_url(index);
        let subscriptions = self.subscriptions();
        self.inject_faults("POST", "/v2/webhooks");
        let state = State {
            target_url: target_url.clone(),
            subscriptions: subscriptions.clone(),
        };
        let result = timed(what, self.client.create_webhook(target_url, subscriptions)).await;
        match outcome(result, what) {
            Outcome::Done(created) => {
                assert_eq!(State::of(&created.webhook), state, "{what}");
                let secret = created.secret.expose();
                assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()));
                self.slots[index].allow(Some(state));
                self.observe(&created.webhook, what);
                self.count("create: ok");
            }
            Outcome::NotFound => panic!("{what}: create answered 404"),
            Outcome::RateLimited => self.count("create: rate limited, not made"),
            Outcome::Unknown(error) => {
                self.slots[index].allow(Some(state));
                self.count(format!("create: unknown ({})", kind(&error)));
            }
        }
    }

    /// A slot known by id, mostly one that may exist; `None` when there is none.
    fn pick(&mut self) -> Option<usize> {
        let known: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].id.is_some())
            .collect();
        let live: Vec<usize> = known
            .iter()
            .copied()
            .filter(|&i| self.slots[i].may_exist())
            .collect();
        let from = if !live.is_empty() && self.rng.u8(0..5) != 0 {
            live
        } else {
            known
        };
        (!from.is_empty()).then(|| from[self.rng.usize(0..from.len())])
    }

    async fn get(&mut self, index: usize, what: &str) {
        let id = self.slots[index].id.expect("picked slots have ids");
        self.inject_faults("GET", &format!("/v2/webhooks/{id}"));
        match outcome(timed(what, self.client.get_webhook(id)).await, what) {
            Outcome::Done(webhook) => {
                self.observe(&webhook, what);
                self.count("get: ok");
            }
            Outcome::NotFound => {
                self.gone(index, what, false);
                self.count("get: 404");
            }
            Outcome::RateLimited => self.count("get: rate limited"),
            Outcome::Unknown(error) => self.count(format!("get: failed ({})", kind(&error))),
        }
    }

    async fn update(&mut self, index: usize, what: &str) {
        let id = self.slots[index].id.expect("picked slots have ids");
        // A partial update leaves a field as it is, which is one known value
        // only when the webhook has one possible present state.
        let presents: Vec<State> = self.slots[index]
            .possible
            .iter()
            .flatten()
            .cloned()
            .collect();
        let base = match presents.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        };
        let change_url = base.is_none() || self.rng.bool();
        let change_subscriptions = base.is_none() || !change_url || self.rng.bool();
        let mut next = base.unwrap_or(State {
            target_url: String::new(),
            subscriptions: Vec::new(),
        });
        let mut update = UpdateWebhook::new(id);
        if change_url {
            self.slots[index].versions += 1;
            next.target_url = self.fresh_url(index);
            update = update.target_url(next.target_url.clone());
        }
        if change_subscriptions {
            next.subscriptions = self.subscriptions();
            update = update.subscriptions(next.subscriptions.clone());
        }
        self.inject_faults("PATCH", &format!("/v2/webhooks/{id}"));
        match outcome(timed(what, self.client.update_webhook(update)).await, what) {
            Outcome::Done(webhook) => {
                assert_eq!(State::of(&webhook), next, "{what}");
                assert!(
                    self.slots[index].may_exist(),
                    "{what}: updated a deleted webhook"
                );
                self.slots[index].allow(Some(next));
                self.observe(&webhook, what);
                self.count("update: ok");
            }
            Outcome::NotFound => {
                self.gone(index, what, false);
                self.count("update: 404");
            }
            Outcome::RateLimited | Outcome::Unknown(_) => {
                let slot = &mut self.slots[index];
                if slot.may_exist() {
                    slot.allow(Some(next));
                }
                self.count("update: unknown");
            }
        }
    }

    async fn delete(&mut self, index: usize, what: &str) {
        let id = self.slots[index].id.expect("picked slots have ids");
        self.inject_faults("DELETE", &format!("/v2/webhooks/{id}"));
        let recorded = self.server.requests().len();
        match outcome(timed(what, self.client.delete_webhook(id)).await, what) {
            Outcome::Done(()) => {
                self.slots[index].possible = vec![None];
                self.count("delete: ok");
            }
            Outcome::NotFound => {
                let attempts = self.server.requests()[recorded..].len();
                self.gone(index, what, attempts > 1);
                self.count("delete: 404");
            }
            Outcome::RateLimited | Outcome::Unknown(_) => {
                self.slots[index].allow(None);
                self.count("delete: unknown");
            }
        }
    }

    /// A 404: the webhook is not there now. Only a DELETE that made more
    /// than one attempt (the fake's recording says how many) can see 404
    /// for a webhook that surely existed before: an earlier attempt
    /// deleted it. (The client reports that as `Ok` once it knows an
    /// earlier attempt's outcome was unknown.)
    fn gone(&mut self, index: usize, what: &str, retried_delete: bool) {
        let slot = &mut self.slots[index];
        if !slot.possible.contains(&None) {
            assert!(
                retried_delete,
                "{what}: 404 for a webhook that exists: {:?}",
                slot.possible
            );
            self.count("delete: 404 after its own ambiguous attempt");
        }
        self.slots[index].possible = vec![None];
    }

    async fn list(&mut self, what: &str) {
        let limit = self.rng.u32(10..=100);
        let offset = self.rng.u32(0..=self.slots.len() as u32 + 5);
        self.inject_faults("GET", "/v2/webhooks");
        let page = ListWebhooks::new().limit(limit).offset(offset);
        match outcome(timed(what, self.client.list_webhooks(page)).await, what) {
            Outcome::Done(webhooks) => {
                assert!(webhooks.len() <= limit as usize, "{what}");
                let mut previous = None;
                for webhook in &webhooks {
                    let index = self.observe(webhook, what);
                    assert!(previous < Some(index), "{what}: not in creation order");
                    previous = Some(index);
                }
                self.count("list: ok");
            }
            Outcome::NotFound => panic!("{what}: list answered 404"),
            Outcome::RateLimited | Outcome::Unknown(_) => self.count("list: failed"),
        }
    }

    /// The fake's final state against every slot's possibilities.
    async fn check_final_state(&mut self) {
        self.server.clear_faults();
        let mut listed = Vec::new();
        loop {
            let page = ListWebhooks::new().limit(100).offset(listed.len() as u32);
            let page = self
                .client
                .list_webhooks(page)
                .await
                .expect("no faults left");
            let done = page.len() < 100;
            listed.extend(page);
            if done {
                break;
            }
        }
        assert_eq!(
            listed,
            self.server.webhooks(),
            "the list shows the whole state"
        );
        let mut present: HashMap<usize, Option<State>> = HashMap::new();
        for webhook in &listed {
            let index = self.observe(webhook, "final list");
            let previous = present.insert(index, Some(State::of(webhook)));
            assert!(previous.is_none(), "slot {index} was created twice");
        }
        for (index, slot) in self.slots.iter().enumerate() {
            let actual = present.remove(&index).flatten();
            assert!(
                slot.possible.contains(&actual),
                "slot {index}: the fake has {actual:?}, possible: {:?}",
                slot.possible
            );
        }
    }
}

/// Runs one call, failing the test if it does not end.
async fn timed<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STUCK, call)
        .await
        .unwrap_or_else(|_| panic!("{what}: stuck for {STUCK:?}"))
}

fn kind(error: &Error) -> &'static str {
    match error {
        Error::Api(_) => "5xx",
        Error::Timeout(_) => "timeout",
        Error::Transport(_) => "transport",
        Error::Decode(_) => "decode",
        _ => "other",
    }
}

fn seed() -> u64 {
    match std::env::var("ATTIO_STORM_SEED") {
        Ok(text) => text.parse().expect("ATTIO_STORM_SEED is a u64"),
        Err(_) => fastrand::u64(..),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_storm() {
    let seed = seed();
    eprintln!("fault storm seed {seed}; replay with ATTIO_STORM_SEED={seed} cargo test --test fault_storm");
    let server = FakeAttio::start().await;
    let client = Client::builder(server.token())
        .base_url(server.base_url())
        .timeout(TIMEOUT)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(20))
                .max_retry_after(Duration::from_secs(2)),
        )
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let mut storm = Storm {
        seed,
        rng: fastrand::Rng::with_seed(seed),
        server,
        client,
        slots: Vec::new(),
        slot_of_url: HashMap::new(),
        slot_of_id: HashMap::new(),
        waiting_429s: 0,
        delays: 0,
        tally: HashMap::new(),
    };
    let started = Instant::now();
    for n in 0..OPERATIONS {
        let what = format!("operation {n} (seed {seed})");
        let choice = storm.rng.u8(0..100);
        let target = if choice < 30 { None } else { storm.pick() };
        match (choice, target) {
            (30..=49, Some(index)) => storm.get(index, &what).await,
            (50..=69, Some(index)) => storm.update(index, &what).await,
            (70..=81, Some(index)) => storm.delete(index, &what).await,
            (82.., _) => storm.list(&what).await,
            _ => storm.create(&what).await,
        }
        storm.server.clear_faults();
    }
    storm.check_final_state().await;
    let mut tally: Vec<_> = storm.tally.iter().collect();
    tally.sort();
    eprintln!(
        "{OPERATIONS} operations in {:?}, {} webhooks made, {} left; {tally:?}",
        started.elapsed(),
        storm.slots.len(),
        storm.server.webhooks().len()
    );
}
