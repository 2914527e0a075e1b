//! Live mode: the contract's scenarios against Attio itself (issue 29,
//! item 1), run by `live::against_attio` when `ATTIO_LIVE_API_KEY` is set.
//!
//! A run owns the target URLs under its prefix,
//! `https://{ATTIO_LIVE_TARGET_HOST}/attio-webhooks-contract/{run id}/`, and
//! nothing else. [`LiveRun`] is the only way the scenarios reach the API:
//! it creates only under the run's prefix, gets, updates and deletes only
//! ids it created (or, with `ATTIO_LIVE_CLEAN=1`, ids under the family
//! prefix `https://{host}/attio-webhooks-contract/` left by a crashed run),
//! and lists (the one call that shows other webhooks, which it only
//! filters by prefix). It deletes what it created at the end, when a
//! scenario fails or panics (its `Drop`, on a thread of its own) and on
//! SIGINT or SIGTERM (a handler that stops new requests, cleans up and
//! exits 130). A SIGKILL leaves webhooks behind: the next run finds them
//! under the family prefix and refuses to start until told to clean them.
//!
//! Every attempt goes through [`Metered`], which paces reads and writes
//! under Attio's 100 reads and 25 writes per second and counts them.
//! `live_stand_in.rs` runs all of this against the fake served over TLS.
//!
//! With `ATTIO_SNAPSHOTS_WRITE=live` a run also sends the masked
//! snapshots' scenarios ([`snapshots`]) and rewrites each file it may
//! send from Attio's answer, through the snapshot module's `write_live`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attio_webhooks::operations::{CreateWebhook, UpdateWebhook};
use attio_webhooks::transport::HyperTransport;
use attio_webhooks::{
    async_trait, Client, Condition, CreatedWebhook, Error, EventType, Filter, Subscription,
    Transport, Webhook, WebhookId, WebhookStatus,
};
use bytes::Bytes;
use futures::TryStreamExt;

use crate::snapshot::{self, json::Json, Recorded, Snapshot, Source, Token};

/// The path under the named host that marks this suite's webhooks.
pub const FAMILY_PATH: &str = "/attio-webhooks-contract/";

/// Attio's documented limits, with a margin: the pacer's rates.
pub const READS_PER_SECOND: u32 = 80;
pub const WRITES_PER_SECOND: u32 = 20;

/// What a live run needs, read from the environment by [`LiveConfig::from_env`].
#[derive(Clone)]
pub struct LiveConfig {
    pub api_key: String,
    pub base_url: String,
    pub target_host: String,
    pub run_id: String,
    /// Delete leftovers under the family prefix before starting.
    pub clean: bool,
    /// PEM root certificates to trust besides Mozilla's (a TLS-inspecting
    /// proxy's, or the stand-in's test root).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// With `ATTIO_SNAPSHOTS_WRITE=live`: the snapshot directory to
    /// rewrite (`ATTIO_SNAPSHOTS_DIR`, default [`default_snapshot_dir`]).
    pub snapshots: Option<PathBuf>,
    /// `ATTIO_LIVE_READ_ONLY_API_KEY`: a key with webhook:read only, for
    /// the snapshots whose token is `read-only`.
    pub read_only_api_key: Option<String>,
}

/// The repository's masked snapshots of Attio's answers.
pub fn default_snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testkit/tests/snapshots/attio")
}

impl std::fmt::Debug for LiveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConfig")
            .field("base_url", &self.base_url)
            .field("target_host", &self.target_host)
            .field("run_id", &self.run_id)
            .field("clean", &self.clean)
            .field("snapshots", &self.snapshots)
            .finish_non_exhaustive()
    }
}

pub const HOW_TO_RUN: &str = "ATTIO_LIVE_API_KEY=<key with webhook:read-write> \
ATTIO_LIVE_TARGET_HOST=<a host you own, e.g. hooks.example.com> \
cargo test -p attio-webhooks --test contract live::against_attio -- --nocapture";

/// Whether and how to run live, from the environment.
pub enum FromEnv {
    Run(LiveConfig),
    /// Not asked for: the one line to print.
    Skip(String),
}

/// The one line a run without a key prints.
pub fn skip_line(ci: bool) -> String {
    let why = if ci {
        "CI=true and no ATTIO_LIVE_API_KEY: expected in CI, not a failure"
    } else {
        "ATTIO_LIVE_API_KEY is not set"
    };
    format!("skipped: live contract checks against Attio ({why}); run them with `{HOW_TO_RUN}`")
}

impl LiveConfig {
    pub fn from_env() -> Result<FromEnv, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`LiveConfig::from_env`] with `var` in place of the environment.
    /// `Err` is a misconfiguration: the run must fail, saying why.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<FromEnv, String> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let Some(api_key) = var("ATTIO_LIVE_API_KEY") else {
            return Ok(FromEnv::Skip(skip_line(
                var("CI").as_deref() == Some("true"),
            )));
        };
        let Some(target_host) = var("ATTIO_LIVE_TARGET_HOST") else {
            return Err(format!(
                "ATTIO_LIVE_API_KEY is set but ATTIO_LIVE_TARGET_HOST is not: name a host \
                 you control (e.g. hooks.example.com); the run creates webhooks only under \
                 https://<host>{FAMILY_PATH}<run id>/ (Attio may try to deliver to them)"
            ));
        };
        if target_host.is_empty() || target_host.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!(
                "ATTIO_LIVE_TARGET_HOST must be a bare host (and port), got {target_host:?}"
            ));
        }
        let extra_roots_pem = match var("ATTIO_LIVE_EXTRA_ROOTS") {
            Some(path) => Some(
                std::fs::read(&path).map_err(|e| format!("ATTIO_LIVE_EXTRA_ROOTS={path}: {e}"))?,
            ),
            None => None,
        };
        Ok(FromEnv::Run(LiveConfig {
            api_key,
            base_url: var("ATTIO_LIVE_BASE_URL")
                .unwrap_or_else(|| "https://api.attio.com".to_owned()),
            target_host,
            run_id: new_run_id(),
            clean: var("ATTIO_LIVE_CLEAN").as_deref() == Some("1"),
            extra_roots_pem,
            snapshots: snapshot::writes_live(var(snapshot::WRITE_VAR).as_deref()).then(|| {
                var("ATTIO_SNAPSHOTS_DIR").map_or_else(default_snapshot_dir, PathBuf::from)
            }),
            read_only_api_key: var("ATTIO_LIVE_READ_ONLY_API_KEY"),
        }))
    }

    /// `https://{host}/attio-webhooks-contract/`: every run's prefix starts so.
    pub fn family_prefix(&self) -> String {
        format!("https://{}{FAMILY_PATH}", self.target_host)
    }

    /// `https://{host}/attio-webhooks-contract/{run id}/`.
    pub fn run_prefix(&self) -> String {
        format!("{}{}/", self.family_prefix(), self.run_id)
    }

    fn client(&self, meter: &Arc<Meter>, gate: Option<Arc<AtomicBool>>) -> LiveClient {
        self.client_with_key(&self.api_key, meter, gate)
    }

    fn client_with_key(
        &self,
        key: &str,
        meter: &Arc<Meter>,
        gate: Option<Arc<AtomicBool>>,
    ) -> LiveClient {
        Client::builder(key)
            .base_url(&self.base_url)
            .build(self.transport(meter, gate))
            .expect("ATTIO_LIVE_BASE_URL must be an https:// URL")
    }

    /// The paced, counted transport every call of the run goes through.
    fn transport(
        &self,
        meter: &Arc<Meter>,
        gate: Option<Arc<AtomicBool>>,
    ) -> Metered<HyperTransport> {
        let mut transport = HyperTransport::builder();
        if let Some(pem) = &self.extra_roots_pem {
            transport = transport.add_root_certificates_pem(pem.clone());
        }
        Metered {
            inner: transport.build().expect("the TLS configuration"),
            meter: meter.clone(),
            gate,
        }
    }
}

/// Seconds since the epoch and the process id: unique per run, sortable.
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}-{}-{}",
        now.as_secs(),
        now.subsec_millis(),
        std::process::id()
    )
}

/// Counts and paces every attempt, across all of a run's clients.
#[derive(Debug, Default)]
pub struct Meter {
    pub reads: AtomicU64,
    pub writes: AtomicU64,
    pub rate_limited: AtomicU64,
    in_flight: AtomicUsize,
    /// The earliest moments the next read and the next write may start.
    slots: Mutex<Option<(Instant, Instant)>>,
}

impl Meter {
    pub fn calls(&self) -> u64 {
        self.reads.load(Ordering::SeqCst) + self.writes.load(Ordering::SeqCst)
    }

    pub fn summary(&self) -> String {
        format!(
            "{} API calls ({} reads, {} writes), {} answered 429",
            self.calls(),
            self.reads.load(Ordering::SeqCst),
            self.writes.load(Ordering::SeqCst),
            self.rate_limited.load(Ordering::SeqCst)
        )
    }

    /// Waits for this request's slot: reads at most [`READS_PER_SECOND`],
    /// writes at most [`WRITES_PER_SECOND`], evenly spaced.
    async fn pace(&self, write: bool) {
        let at = {
            let mut slots = self.slots.lock().unwrap();
            let now = Instant::now();
            let (read, write_slot) = slots.get_or_insert((now, now));
            let (slot, per_second) = if write {
                (write_slot, WRITES_PER_SECOND)
            } else {
                (read, READS_PER_SECOND)
            };
            let at = (*slot).max(now);
            *slot = at + Duration::from_secs(1) / per_second;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// A transport that paces and counts, and (with a gate) sends nothing
/// more once the run is stopping.
pub struct Metered<T> {
    inner: T,
    meter: Arc<Meter>,
    gate: Option<Arc<AtomicBool>>,
}

#[async_trait]
impl<T: Transport> Transport for Metered<T> {
    type Error = T::Error;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, Self::Error> {
        let stopping = || self.gate.as_ref().is_some_and(|g| g.load(Ordering::SeqCst));
        // A stopping run's scenario waits here for good: the signal
        // handler cleans up and exits, and nothing races it.
        if stopping() {
            std::future::pending::<()>().await;
        }
        let write = request.method() != http::Method::GET;
        self.meter.pace(write).await;
        if stopping() {
            std::future::pending::<()>().await;
        }
        let counter = if write {
            &self.meter.writes
        } else {
            &self.meter.reads
        };
        counter.fetch_add(1, Ordering::SeqCst);
        self.meter.in_flight.fetch_add(1, Ordering::SeqCst);
        let answer = self.inner.send(request).await;
        self.meter.in_flight.fetch_sub(1, Ordering::SeqCst);
        if answer
            .as_ref()
            .is_ok_and(|a| a.status() == http::StatusCode::TOO_MANY_REQUESTS)
        {
            self.meter.rate_limited.fetch_add(1, Ordering::SeqCst);
        }
        answer
    }

    fn is_retryable(error: &Self::Error) -> bool {
        T::is_retryable(error)
    }

    fn request_may_have_been_sent(error: &Self::Error) -> bool {
        T::request_may_have_been_sent(error)
    }
}

pub type LiveClient = Client<Metered<HyperTransport>>;

/// Why a run would not start.
#[derive(Debug)]
pub enum Refusal {
    /// Webhooks under the family prefix exist: a crashed earlier run's.
    Leftovers(Vec<Webhook>),
    /// Listing the workspace failed.
    Api(Error),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Leftovers(found) => {
                writeln!(
                    f,
                    "the workspace holds {} webhook(s) under this suite's prefix, left by an \
                     earlier run that did not finish; rerun with ATTIO_LIVE_CLEAN=1 to delete \
                     them (and only them):",
                    found.len()
                )?;
                for w in found {
                    writeln!(f, "  {} {}", w.webhook_id(), w.target_url)?;
                }
                Ok(())
            }
            Refusal::Api(e) => write!(f, "listing the workspace's webhooks failed: {e}"),
        }
    }
}

/// Whether a run handles SIGINT and SIGTERM (only the process that runs
/// `live::against_attio` does; a test that runs in-process does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signals {
    Handle,
    Leave,
}

/// The ids a run made and which of them are gone.
#[derive(Debug, Default)]
struct Owned {
    created: BTreeSet<WebhookId>,
    deleted: BTreeSet<WebhookId>,
}

/// One live run: the guard through which every call goes.
pub struct LiveRun {
    config: LiveConfig,
    client: LiveClient,
    meter: Arc<Meter>,
    stopping: Arc<AtomicBool>,
    owned: Arc<Mutex<Owned>>,
    /// Leftovers found under the family prefix and deleted (with `clean`).
    pub cleaned: Vec<WebhookId>,
    signal_task: Option<tokio::task::JoinHandle<()>>,
    finished: bool,
}

/// Lists every webhook, 100 a page, through `client`.
async fn list_everything(client: &LiveClient) -> Result<Vec<Webhook>, Error> {
    client.list_all(100).try_collect().await
}

/// Deletes one of the run's webhooks; 404 counts as gone.
async fn delete_owned(
    client: &LiveClient,
    owned: &Mutex<Owned>,
    id: WebhookId,
    deleted: &mut usize,
    errors: &mut Vec<String>,
) {
    match client.delete_webhook(id).await {
        Ok(()) => {
            owned.lock().unwrap().deleted.insert(id);
            *deleted += 1;
        }
        Err(e) if e.is_not_found() => {
            owned.lock().unwrap().deleted.insert(id);
        }
        Err(e) => errors.push(format!("delete {id}: {e}")),
    }
}

/// Deletes what the run created and has not deleted, then anything left
/// under the run's own prefix (a create whose answer was lost). Returns
/// how many it deleted and the errors it met.
async fn clean_up(
    config: &LiveConfig,
    client: &LiveClient,
    owned: &Mutex<Owned>,
) -> (usize, Vec<String>) {
    let mut deleted = 0;
    let mut errors = Vec::new();
    let pending: Vec<WebhookId> = {
        let owned = owned.lock().unwrap();
        owned.created.difference(&owned.deleted).copied().collect()
    };
    for id in pending {
        delete_owned(client, owned, id, &mut deleted, &mut errors).await;
    }
    let prefix = config.run_prefix();
    match list_everything(client).await {
        Ok(all) => {
            for w in all.iter().filter(|w| w.target_url.starts_with(&prefix)) {
                owned.lock().unwrap().created.insert(w.webhook_id());
                delete_owned(client, owned, w.webhook_id(), &mut deleted, &mut errors).await;
            }
        }
        Err(e) => errors.push(format!("list: {e}")),
    }
    (deleted, errors)
}

impl LiveRun {
    /// Checks the workspace for leftovers under the family prefix (refusing,
    /// or with `clean` deleting exactly those), then installs the signal
    /// handler if asked.
    pub async fn start(config: LiveConfig, signals: Signals) -> Result<LiveRun, Refusal> {
        let meter = Arc::new(Meter::default());
        let stopping = Arc::new(AtomicBool::new(false));
        let client = config.client(&meter, Some(stopping.clone()));
        let family = config.family_prefix();
        let leftovers: Vec<Webhook> = list_everything(&client)
            .await
            .map_err(Refusal::Api)?
            .into_iter()
            .filter(|w| w.target_url.starts_with(&family))
            .collect();
        let mut cleaned = Vec::new();
        if !leftovers.is_empty() {
            if !config.clean {
                return Err(Refusal::Leftovers(leftovers));
            }
            for w in &leftovers {
                match client.delete_webhook(w.webhook_id()).await {
                    Ok(()) => cleaned.push(w.webhook_id()),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(Refusal::Api(e)),
                }
            }
            eprintln!(
                "live: deleted {} leftover webhook(s) under {family}",
                cleaned.len()
            );
        }
        let owned = Arc::new(Mutex::new(Owned::default()));
        let signal_task = (signals == Signals::Handle).then(|| {
            let stop = attio_webhooks_testkit::server::StopSignals::install();
            let (config, meter, stopping, owned) = (
                config.clone(),
                meter.clone(),
                stopping.clone(),
                owned.clone(),
            );
            tokio::spawn(async move {
                stop.wait().await;
                stopping.store(true, Ordering::SeqCst);
                eprintln!("live: stop signal; cleaning up before exiting");
                // Let requests already sent come back, so their ids are known.
                let deadline = Instant::now() + Duration::from_secs(40);
                while meter.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let client = config.client(&meter, None);
                let (deleted, errors) = clean_up(&config, &client, &owned).await;
                eprintln!(
                    "live: interrupted; deleted {deleted} webhook(s); {}; errors: {errors:?}",
                    meter.summary()
                );
                std::process::exit(130);
            })
        });
        Ok(LiveRun {
            config,
            client,
            meter,
            stopping,
            owned,
            cleaned,
            signal_task,
            finished: false,
        })
    }

    pub fn prefix(&self) -> String {
        self.config.run_prefix()
    }

    /// Every id the run created so far.
    pub fn created(&self) -> BTreeSet<WebhookId> {
        self.owned.lock().unwrap().created.clone()
    }

    fn ours(&self, id: WebhookId) {
        assert!(
            self.owned.lock().unwrap().created.contains(&id),
            "live run: {id} is not a webhook this run created; refusing to touch it"
        );
    }

    /// Creates a webhook at the run's prefix + `path`.
    pub async fn create(
        &self,
        path: &str,
        subscriptions: Vec<Subscription>,
    ) -> Result<CreatedWebhook, Error> {
        let url = format!("{}{path}", self.prefix());
        let created = self
            .client
            .send(&CreateWebhook::new(url, subscriptions))
            .await;
        if let Ok(created) = &created {
            self.owned
                .lock()
                .unwrap()
                .created
                .insert(created.webhook.webhook_id());
        }
        created
    }

    pub async fn get(&self, id: WebhookId) -> Result<Webhook, Error> {
        self.ours(id);
        self.client.get_webhook(id).await
    }

    /// `update` must keep any new target under the run's prefix.
    pub async fn update(
        &self,
        id: WebhookId,
        target_path: Option<&str>,
        subs: Option<Vec<Subscription>>,
    ) -> Result<Webhook, Error> {
        self.ours(id);
        let mut update = UpdateWebhook::new(id);
        if let Some(path) = target_path {
            update = update.target_url(format!("{}{path}", self.prefix()));
        }
        if let Some(subs) = subs {
            update = update.subscriptions(subs);
        }
        self.client.update_webhook(update).await
    }

    pub async fn delete(&self, id: WebhookId) -> Result<(), Error> {
        self.ours(id);
        let result = self.client.delete_webhook(id).await;
        if result.is_ok() {
            self.owned.lock().unwrap().deleted.insert(id);
        }
        result
    }

    /// The run's own webhooks, in the order the listing gives them, paging
    /// through the whole workspace `page_size` at a time.
    pub async fn list_ours(&self, page_size: u32) -> Result<Vec<Webhook>, Error> {
        let prefix = self.prefix();
        let all: Vec<Webhook> = self.client.list_all(page_size).try_collect().await?;
        Ok(all
            .into_iter()
            .filter(|w| w.target_url.starts_with(&prefix))
            .collect())
    }

    /// A client with another key, for the 401 scenario (lists only).
    pub async fn list_with_key(&self, key: &str) -> Result<Vec<Webhook>, Error> {
        let client = self
            .config
            .client_with_key(key, &self.meter, Some(self.stopping.clone()));
        client
            .list_webhooks(attio_webhooks::operations::ListWebhooks::new())
            .await
    }

    /// Deletes everything the run made; the normal end of a run.
    pub async fn finish(mut self) -> usize {
        let (deleted, errors) = clean_up(&self.config, &self.client, &self.owned).await;
        self.finished = true;
        assert!(errors.is_empty(), "live run: cleanup failed: {errors:?}");
        deleted
    }
}

impl Drop for LiveRun {
    /// A run that did not finish (a failed assertion, a panic, an early
    /// return) cleans up here. The test's runtime may be the one unwinding,
    /// so the deletes run on a thread of their own, with a runtime and a
    /// fresh connection pool of their own, and this waits for them.
    fn drop(&mut self) {
        if let Some(task) = self.signal_task.take() {
            task.abort();
        }
        if self.finished {
            return;
        }
        let (config, meter, owned) = (self.config.clone(), self.meter.clone(), self.owned.clone());
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup");
            runtime.block_on(async {
                let client = config.client(&meter, None);
                clean_up(&config, &client, &owned).await
            })
        });
        match cleanup.join() {
            Ok((deleted, errors)) if errors.is_empty() => eprintln!(
                "live: run {} did not finish; deleted its {deleted} remaining webhook(s)",
                self.config.run_id
            ),
            Ok((deleted, errors)) => eprintln!(
                "live: run {} did not finish; deleted {deleted} webhook(s), but: {errors:?}; \
                 the next run will refuse until ATTIO_LIVE_CLEAN=1",
                self.config.run_id
            ),
            Err(_) => eprintln!("live: the cleanup thread panicked"),
        }
    }
}

// The scenarios. Ids, secrets and times are compared by shape, never by
// value: a real workspace makes its own.

fn filtered_subscriptions() -> Vec<Subscription> {
    vec![
        Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
            Condition::equals("id.object_id", "people"),
            Condition::not_equals("actor.type", "system"),
        ])),
        Subscription::new(EventType::NoteCreated),
    ]
}

fn is_lower_hex_64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Create, get, update (target, then subscriptions), list, delete, and
/// the 404s for the deleted id.
pub async fn lifecycle(run: &LiveRun) {
    let created = run
        .create("lifecycle/a", filtered_subscriptions())
        .await
        .unwrap();
    let webhook = created.webhook.clone();
    assert_eq!(webhook.target_url, format!("{}lifecycle/a", run.prefix()));
    assert_eq!(webhook.subscriptions, filtered_subscriptions());
    assert_eq!(webhook.status, WebhookStatus::Active);
    assert!(
        is_lower_hex_64(created.secret.expose()),
        "the secret's shape"
    );
    let id = webhook.webhook_id();

    assert_eq!(run.get(id).await.unwrap(), webhook);

    let moved = run.update(id, Some("lifecycle/b"), None).await.unwrap();
    let mut expected = webhook.clone();
    expected.target_url = format!("{}lifecycle/b", run.prefix());
    assert_eq!(moved, expected, "only the target changed");

    let task_deleted = vec![Subscription::new(EventType::TaskDeleted)];
    let replaced = run
        .update(id, None, Some(task_deleted.clone()))
        .await
        .unwrap();
    expected.subscriptions = task_deleted;
    assert_eq!(replaced, expected, "subscriptions replaced, target kept");

    assert_eq!(run.list_ours(100).await.unwrap(), vec![replaced]);

    run.delete(id).await.unwrap();
    let err = run.get(id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.api_error().unwrap().message.contains(&id.to_string()),
        "the 404 names the id: {err}"
    );
    assert!(run.delete(id).await.unwrap_err().is_not_found());
    let err = run.update(id, Some("lifecycle/c"), None).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(run.list_ours(100).await.unwrap().is_empty());
}

/// How many webhooks the paging scenario makes: more than a page of 10.
pub const PAGED: usize = 12;

/// Twelve webhooks, listed in pages of 10 through the whole workspace:
/// each of ours exactly once, in creation order.
pub async fn paging(run: &LiveRun) {
    let mut made = Vec::new();
    for i in 0..PAGED {
        let created = run
            .create(
                &format!("paging/{i}"),
                vec![Subscription::new(EventType::ListEntryCreated)],
            )
            .await
            .unwrap();
        made.push(created.webhook);
    }
    let listed = run.list_ours(10).await.unwrap();
    assert_eq!(listed, made, "each of ours once, in creation order");
    for w in &made {
        run.delete(w.webhook_id()).await.unwrap();
    }
    assert!(run.list_ours(100).await.unwrap().is_empty());
}

/// The refusals: an unknown event type (400 `validation_type`) and a key
/// Attio does not know (401).
pub async fn refusals(run: &LiveRun) {
    let err = run
        .create(
            "refusals/unknown-event",
            vec![Subscription::new(EventType::from("meeting.created"))],
        )
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert_eq!(err.api_error().unwrap().code.as_str(), "validation_type");

    let err = run
        .list_with_key("attio-webhooks-contract-not-a-key")
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

/// Why a snapshot's scenario is not sent to a real workspace, if it is not.
/// `listed`: the ids of the workspace's webhooks.
fn not_sent_because(
    snapshot: &Snapshot,
    read_only_key: bool,
    listed: &BTreeSet<String>,
) -> Option<String> {
    let request = &snapshot.request;
    let path = request.path.split('?').next().unwrap_or_default();
    if request.method == "GET"
        && path == "/v2/webhooks"
        && matches!(request.token, Token::ReadOnly | Token::ReadWrite)
    {
        return Some(
            "a listing answers with the workspace's other webhooks, which a run never \
             records (and a real workspace is seldom empty)"
                .to_owned(),
        );
    }
    if request.token == Token::ReadOnly && !read_only_key {
        return Some(
            "its token is read-only; set ATTIO_LIVE_READ_ONLY_API_KEY to a key with \
             webhook:read only to send it"
                .to_owned(),
        );
    }
    if request.method != "GET" && !path.starts_with("/v2/webhooks") {
        return Some(format!("a {} outside /v2/webhooks", request.method));
    }
    if let Some(id) = path.strip_prefix("/v2/webhooks/") {
        if listed.contains(id) {
            return Some(format!(
                "{id} is a webhook of this workspace, which a run never touches"
            ));
        }
    }
    None
}

/// `data.target_url` of a request body, if it has one.
fn target_url(body: &mut Json) -> Option<&mut String> {
    let Json::Object(entries) = body else {
        return None;
    };
    let (_, Json::Object(data)) = entries.iter_mut().find(|(k, _)| k == "data")? else {
        return None;
    };
    match data.iter_mut().find(|(k, _)| k == "target_url")? {
        (_, Json::String(url)) => Some(url),
        _ => None,
    }
}

/// Replaces every string equal to `from` in `json` with `to`.
fn replace_strings(json: &mut Json, from: &str, to: &str) {
    match json {
        Json::String(s) if s == from => *s = to.to_owned(),
        Json::Array(items) => items.iter_mut().for_each(|v| replace_strings(v, from, to)),
        Json::Object(entries) => entries
            .iter_mut()
            .for_each(|(_, v)| replace_strings(v, from, to)),
        _ => {}
    }
}

/// The masked snapshots against the workspace: each scenario it is safe
/// to send is sent as its file says, except that a `data.target_url` is
/// moved under the run's prefix (and the answer's copy of it put back),
/// and its file in `dir` is rewritten from the answer by `write_live`.
/// Every call goes through the run's meter; a webhook a scenario creates
/// is the run's, deleted by its cleanup. Returns one line per file.
pub async fn snapshots(run: &LiveRun, dir: &Path) -> Vec<String> {
    let date = time::OffsetDateTime::now_utc().date().to_string();
    let host = run
        .config
        .base_url
        .parse::<http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(str::to_owned))
        .unwrap_or_default();
    let base = run.config.base_url.trim_end_matches('/');
    let transport = run.config.transport(&run.meter, Some(run.stopping.clone()));
    let listed: BTreeSet<String> = list_everything(&run.client)
        .await
        .expect("listing the workspace")
        .iter()
        .map(|w| w.webhook_id().to_string())
        .collect();
    let token = |kind: Token| match kind {
        Token::None => None,
        Token::Unknown => Some(snapshot::UNKNOWN_TOKEN.to_owned()),
        Token::ReadOnly => run.config.read_only_api_key.clone(),
        Token::ReadWrite => Some(run.config.api_key.clone()),
    };
    let mut lines = Vec::new();
    for (file, _, seeded) in snapshot::load_all(dir) {
        let read_only = run.config.read_only_api_key.is_some();
        if let Some(why) = not_sent_because(&seeded, read_only, &listed) {
            lines.push(format!("{file}: skipped: {why}"));
            continue;
        }
        let mut sent = seeded.request.clone();
        let stem = file.trim_end_matches(".json");
        let moved = sent.body.as_mut().and_then(target_url).map(|url| {
            let live = format!("{}snapshots/{stem}", run.prefix());
            (std::mem::replace(url, live.clone()), live)
        });
        let mut attempt = 0;
        let answer = loop {
            let request = snapshot::http_request(&sent, base, token);
            let answer = transport
                .send(request)
                .await
                .unwrap_or_else(|e| panic!("live: {file}: {e}"));
            attempt += 1;
            if answer.status() != http::StatusCode::TOO_MANY_REQUESTS || attempt == 3 {
                break answer;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let mut body = answer.into_body();
        if let Ok(mut json) = Json::parse(&String::from_utf8_lossy(&body)) {
            if sent.method == "POST" && (200..300).contains(&status) {
                let id = json
                    .get("data")
                    .and_then(|d| d.get("id"))
                    .and_then(|d| d.get("webhook_id"))
                    .and_then(Json::as_str)
                    .and_then(|id| id.parse::<WebhookId>().ok());
                if let Some(id) = id {
                    run.owned.lock().unwrap().created.insert(id);
                }
            }
            if let Some((original, live)) = &moved {
                replace_strings(&mut json, live, original);
                body = Bytes::from(json.compact());
            }
        }
        if status == 429 {
            lines.push(format!("{file}: not rewritten: answered 429 three times"));
            continue;
        }
        let source = Source {
            kind: "observed live".to_owned(),
            from: format!("recorded live by the contract suite's live mode, {date}, {host}"),
            date: date.clone(),
            fidelity: seeded.source.fidelity.clone(),
            notes: moved.is_some().then(|| {
                "Sent with data.target_url under the run's prefix; the answer's copy of it \
                 is written as the request's."
                    .to_owned()
            }),
        };
        let recorded = Recorded {
            status,
            headers,
            body,
        };
        snapshot::write_live(
            dir,
            &file,
            &seeded.scenario,
            &seeded.request,
            &recorded,
            source,
        )
        .unwrap_or_else(|e| panic!("live: writing {file}: {e}"));
        lines.push(format!("{file}: rewritten ({status})"));
    }
    lines
}

/// The whole live run: start (refusing on leftovers), the scenarios,
/// finish. Returns the run's meter.
pub async fn run_all(config: LiveConfig, signals: Signals) -> Arc<Meter> {
    let started = Instant::now();
    let run = match LiveRun::start(config, signals).await {
        Ok(run) => run,
        Err(refusal) => panic!("live run refused: {refusal}"),
    };
    eprintln!("live: run prefix {}", run.prefix());
    lifecycle(&run).await;
    paging(&run).await;
    refusals(&run).await;
    match run.config.snapshots.clone() {
        Some(dir) => {
            for line in snapshots(&run, &dir).await {
                eprintln!("live: snapshot {line}");
            }
        }
        None => eprintln!(
            "live: snapshots not rewritten (set {}=live to rewrite them)",
            snapshot::WRITE_VAR
        ),
    }
    let meter = run.meter.clone();
    run.finish().await;
    eprintln!(
        "live: done; {} in {:.1?}",
        meter.summary(),
        started.elapsed()
    );
    meter
}

/// The live run itself: skipped, in one line, without a key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_attio() {
    match LiveConfig::from_env().unwrap_or_else(|why| panic!("{why}")) {
        FromEnv::Skip(line) => {
            // Straight to stderr: the harness hides a passing test's output.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        FromEnv::Run(config) => {
            run_all(config, Signals::Handle).await;
        }
    }
}
