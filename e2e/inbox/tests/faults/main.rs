//! The durable inbox under faults, with real processes: two receivers
//! (`inbox-node receive`) behind a round-robin proxy and four workers
//! (`inbox-node work`) on one private PostgreSQL, fed by the fake's
//! signed, batched, duplicated and redelivered deliveries. Mid-run a
//! worker is SIGKILLed inside its handler and PostgreSQL is restarted
//! with `pg_ctl restart -m immediate`; the handler fails every third
//! event's first attempt, and two poison events always fail.
//!
//! The oracle is outside the code under test: the workers' ledger files
//! (one line per handler start and end, with a timestamp) and an effects
//! table with no unique key (a duplicate effect would show). Afterwards:
//! every event was handled and its effect recorded exactly once; each
//! record's events started in order; the dead letters are exactly the
//! poison events; replayed after the fix, each runs once.
//!
//! Needs PostgreSQL's server binaries (`initdb`, `pg_ctl`; `scripts/test-servers.sh
//! start --install` installs them). It starts its own server on a free
//! port, never the shared one. Without them it says it skipped, except
//! under `CI=true`, where it fails.

mod pg;
#[path = "../../../replicas/tests/replicas/proxy.rs"]
mod proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use attio_webhooks::operations::UpdateWebhook;
use attio_webhooks::receive::{Actor, Event};
use attio_webhooks::{EventType, Subscription};
use attio_webhooks_postgres::PostgresInbox;
use attio_webhooks_testkit::delivery::{DeliveryOutcome, DeliveryPolicy, DeliveryProfile};
use attio_webhooks_testkit::FakeAttio;

use pg::PrivatePg;
use proxy::Proxy;

const TABLE: &str = "inbox_faults";
const RECORDS: usize = 8;
const ROUNDS: i32 = 5;
const PER_BATCH: i32 = 3;
/// (record, seq) of the events that always fail.
const POISON: [(usize, i32); 2] = [(2, 4), (5, 10)];

/// A node process, killed (SIGKILL) when dropped.
struct Node(Child);

impl Node {
    fn spawn(args: &[&str]) -> (Self, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_inbox-node"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        (Self(child), line.trim().to_owned())
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL, as the kernel's OOM killer or a lost machine ends it.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One ledger line: `kind record seq attempt id nanos pid`.
#[derive(Clone, Debug)]
struct Entry {
    kind: String,
    record: String,
    seq: i32,
    attempt: u32,
    at: u128,
    pid: u32,
}

fn ledger(dir: &Path) -> Vec<Entry> {
    let mut entries = Vec::new();
    for file in std::fs::read_dir(dir).unwrap().flatten() {
        if !file.file_name().to_string_lossy().starts_with("ledger-") {
            continue;
        }
        for line in std::fs::read_to_string(file.path()).unwrap().lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() != 7 {
                continue; // a line cut by the SIGKILL
            }
            entries.push(Entry {
                kind: f[0].to_owned(),
                record: f[1].to_owned(),
                seq: f[2].parse().unwrap(),
                attempt: f[3].parse().unwrap(),
                at: f[5].parse().unwrap(),
                pid: f[6].parse().unwrap(),
            });
        }
    }
    entries.sort_by_key(|e| e.at);
    entries
}

fn record(r: usize) -> String {
    format!("rec-{r}")
}

fn is_poison(r: usize, seq: i32) -> bool {
    POISON.contains(&(r, seq))
}

/// The test's own SQL.
async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Effects per (record, seq), from the effects table.
async fn effects(url: &str) -> BTreeMap<(String, i32), i64> {
    sql(url)
        .await
        .query(
            &format!("SELECT record, seq, count(*) FROM {TABLE}_effects GROUP BY record, seq"),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect()
}

/// Waits up to 60 s for `done`, checking every 50 ms.
async fn until<F: std::future::Future<Output = bool>>(what: &str, done: impl Fn() -> F) {
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: not within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_survive_worker_kills_and_a_database_restart_in_order_and_once() {
    let Some(pg) = PrivatePg::start("inbox-faults") else {
        return;
    };
    let url = pg.url();
    let inbox = PostgresInbox::connect(&url)
        .unwrap()
        .with_table(TABLE)
        .unwrap();
    inbox.migrate().await.unwrap();
    sql(&url)
        .await
        .batch_execute(&format!(
            "CREATE TABLE {TABLE}_effects (n bigserial, record text NOT NULL, seq int NOT NULL, pid int NOT NULL)"
        ))
        .await
        .unwrap();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("attio-inbox-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.display().to_string();

    // The fake: quick retries, 30 % of messages sent twice.
    let fake = FakeAttio::builder()
        .allow_loopback_http_targets()
        .delivery_policy(
            DeliveryPolicy::default()
                .retries(10)
                .first_retry_after(Duration::from_millis(50))
                .attempt_timeout(Duration::from_secs(5)),
        )
        .delivery_profile(
            DeliveryProfile::default()
                .seed(7)
                .duplicates(0.3, Duration::from_millis(300)),
        )
        .build();
    let webhook = fake
        .client()
        .create_webhook(
            "http://127.0.0.1:9/attio",
            vec![Subscription::new(EventType::RecordUpdated)],
        )
        .await
        .unwrap();
    let secret = webhook.secret.expose().to_owned();
    let mut receivers = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..2 {
        let (node, line) = Node::spawn(&["receive", &url, TABLE, &secret]);
        let addr = line.strip_prefix("listening on ").unwrap().parse().unwrap();
        receivers.push(node);
        addrs.push(addr);
    }
    let proxy = Proxy::start(addrs).await;
    let mut update = UpdateWebhook::new(webhook.webhook.webhook_id());
    update.target_url = Some(proxy.url());
    fake.client().update_webhook(update).await.unwrap();
    let mut workers: Vec<Node> = (0..4)
        .map(|_| Node::spawn(&["work", &url, TABLE, &dir_arg]).0)
        .collect();

    let mut keys = Vec::new();
    let mut killed = None;
    for round in 0..ROUNDS {
        let mut sent = Vec::new();
        for r in 0..RECORDS {
            let events: Vec<Event> = (0..PER_BATCH)
                .map(|i| {
                    let seq = round * PER_BATCH + i;
                    let event = Event::new(
                        EventType::RecordUpdated,
                        fake.workspace_id(),
                        Actor::system(),
                    )
                    .with_id("object_id", "people")
                    .with_id("record_id", record(r))
                    .with_field("seq", seq);
                    if is_poison(r, seq) {
                        event.with_field("poison", true)
                    } else {
                        event
                    }
                })
                .collect();
            let queued = fake.emit_batch(events);
            assert_eq!(queued.len(), 1);
            sent.push(queued[0].idempotency_key.clone());
        }
        match round {
            // A worker SIGKILLed inside its handler (its ledger's last
            // line a `start`), and a new one started.
            1 => {
                let start = Instant::now();
                let victim = loop {
                    let entries = ledger(&dir);
                    let running = workers.iter().position(|w| {
                        entries
                            .iter()
                            .rev()
                            .find(|e| e.pid == w.pid())
                            .is_some_and(|e| e.kind == "start")
                    });
                    if let Some(i) = running {
                        break i;
                    }
                    assert!(
                        start.elapsed() < Duration::from_secs(30),
                        "no handler ever ran"
                    );
                    tokio::time::sleep(Duration::from_millis(2)).await;
                };
                let pid = workers[victim].pid();
                workers[victim].kill();
                killed = Some(pid);
                workers[victim] = Node::spawn(&["work", &url, TABLE, &dir_arg]).0;
            }
            // PostgreSQL restarted under the receivers and workers.
            3 => {
                tokio::time::sleep(Duration::from_millis(30)).await;
                tokio::task::block_in_place(|| pg.restart_immediate());
            }
            _ => {}
        }
        // The next round once every message of this one was delivered
        // (a 200 from the inbox): Attio's order is then the order of
        // the rounds, the order the per-record check expects.
        until("this round delivered", || async {
            let log = fake.delivery_log();
            sent.iter().all(|key| {
                log.iter().any(|a| {
                    &a.idempotency_key == key
                        && matches!(a.outcome, DeliveryOutcome::Delivered { .. })
                })
            })
        })
        .await;
        // And a late redelivery of a message of this round.
        fake.redeliver(&sent[round as usize % RECORDS]).unwrap();
        keys.extend(sent);
    }

    // Everything settles: every event done but the poison ones, dead.
    let total = (RECORDS as i64) * i64::from(ROUNDS * PER_BATCH);
    until("all events done or dead", || async {
        let status = inbox.status().await.unwrap();
        status.ready == 0 && status.done + status.dead == total
    })
    .await;
    let entries = ledger(&dir);
    let killed = killed.unwrap();
    assert!(
        entries
            .iter()
            .rev()
            .find(|e| e.pid == killed)
            .is_some_and(|e| e.kind == "start"),
        "the killed worker died inside a handler"
    );

    // Dead letters: exactly the poison events.
    let mut dead = BTreeSet::new();
    for row in inbox.list(true, 100).await.unwrap() {
        let shown = inbox.show(row.id).await.unwrap().unwrap();
        let event = attio_webhooks::receive::InboxEvent::parse(&shown.body.unwrap()).unwrap();
        dead.insert((
            event.record_id().unwrap().to_owned(),
            event.fields["seq"].as_i64().unwrap() as i32,
        ));
    }
    let poison: BTreeSet<(String, i32)> =
        POISON.iter().map(|(r, seq)| (record(*r), *seq)).collect();
    assert_eq!(dead, poison);

    // Per record: runs start in Attio's order (seq never goes back) and
    // never overlap, but for the one the kill cut short.
    let mut by_record: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for entry in &entries {
        by_record.entry(&entry.record).or_default().push(entry);
    }
    assert_eq!(by_record.len(), RECORDS);
    for (name, runs) in &by_record {
        let mut last_seq = -1;
        let mut open: Option<&Entry> = None;
        for entry in runs {
            if entry.kind == "start" {
                assert!(
                    entry.seq >= last_seq,
                    "{name}: seq {} started after seq {last_seq}",
                    entry.seq
                );
                if let Some(running) = open {
                    assert_eq!(
                        running.pid, killed,
                        "{name}: seq {} started while seq {} ran",
                        entry.seq, running.seq
                    );
                }
                last_seq = entry.seq;
                open = Some(entry);
            } else if open.is_some_and(|o| {
                o.pid == entry.pid && o.seq == entry.seq && o.attempt == entry.attempt
            }) {
                open = None;
            }
        }
    }

    // Every event handled, its effect recorded once; the poison ones not yet.
    let made = effects(&url).await;
    for r in 0..RECORDS {
        for seq in 0..ROUNDS * PER_BATCH {
            let want = i64::from(!is_poison(r, seq));
            assert_eq!(
                made.get(&(record(r), seq)).copied().unwrap_or(0),
                want,
                "{} {seq}",
                record(r)
            );
        }
    }

    // The fix, then a replay of the dead letters: each runs once.
    std::fs::write(dir.join("fixed"), "").unwrap();
    let fixed_at = entries.last().map_or(0, |e| e.at);
    assert_eq!(inbox.replay_dead().await.unwrap(), POISON.len() as u64);
    until("the replayed events done", || async {
        inbox.status().await.unwrap().done == total
    })
    .await;
    let made = effects(&url).await;
    assert!(made.values().all(|n| *n == 1), "{made:?}");
    assert_eq!(made.len() as i64, total);
    let after = ledger(&dir);
    let replayed: Vec<&Entry> = after
        .iter()
        .filter(|e| e.at > fixed_at && e.kind == "start")
        .collect();
    assert_eq!(replayed.len(), POISON.len(), "{replayed:?}");

    // The counts, for the record.
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &after {
        *kinds.entry(&entry.kind).or_default() += 1;
    }
    let log = fake.delivery_log();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for attempt in log.iter() {
        let answer = match &attempt.outcome {
            DeliveryOutcome::Delivered { status } => status.to_string(),
            DeliveryOutcome::Failed {
                status: Some(status),
                ..
            } => status.to_string(),
            other => format!("{other:?}")
                .split_whitespace()
                .next()
                .unwrap_or("other")
                .to_owned(),
        };
        *answers.entry(answer).or_default() += 1;
    }
    println!(
        "ledger: {total} events in {} messages; handler lines {kinds:?}; delivery attempts by answer {answers:?}; effects {}",
        keys.len(),
        made.values().sum::<i64>()
    );
    drop(proxy);
    let _ = std::fs::remove_dir_all(&dir);
}
