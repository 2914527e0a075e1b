//! `inbox-node`: one process of the fault test, a receiver or a worker,
//! written as a user of the inbox would write it.
//!
//! ```text
//! inbox-node receive DATABASE_URL TABLE SECRET
//!     an axum app: VerifiedDelivery, then PostgresInbox::accept; prints
//!     `listening on ADDR` once it serves
//! inbox-node work DATABASE_URL TABLE LEDGER_DIR
//!     one worker (PostgresInbox::run) whose handler writes its effect in
//!     a transaction with record_in, and appends what it does to
//!     LEDGER_DIR/ledger-PID (the test's oracle, outside the database)
//! ```
//!
//! The handler, per event (`record_id`, `seq`, optional `poison`):
//! appends `start`, takes 20 ms, then fails if the event is poison (until
//! the file LEDGER_DIR/fixed exists) or if this is the first attempt of an
//! event whose `seq` is a multiple of 3; otherwise inserts
//! `(record, seq, pid)` into `TABLE_effects` and marks the event done in
//! the same transaction. Each outcome is appended as `end`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attio_webhooks::receive::{Accepted, Inbox, Settled, VerifiedDelivery, Verifier};
use attio_webhooks::Secret;
use attio_webhooks_postgres::{InboxItem, PostgresInbox};
use axum::extract::{FromRef, State};
use axum::routing::post;
use axum::Router;

#[derive(Clone)]
struct App {
    verifier: Verifier,
    inbox: PostgresInbox,
}

impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

/// The receiver: store, answer.
async fn hook(State(app): State<App>, verified: VerifiedDelivery) -> Accepted {
    app.inbox.accept(&verified).await
}

/// The inbox as both kinds of node use it: a lease of 1 s (renewed every
/// third of it while a handler runs), 5 attempts, quick retries.
fn inbox(url: &str, table: &str) -> PostgresInbox {
    PostgresInbox::connect(url)
        .expect("a PostgreSQL URL")
        .with_table(table)
        .expect("a table name")
        .with_lease(Duration::from_secs(1))
        .with_max_attempts(5)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .with_poll_interval(Duration::from_millis(20))
}

/// Appends lines to this process's ledger file, one `write` each.
struct Ledger(std::fs::File);

impl Ledger {
    fn open(dir: &Path) -> Self {
        let path = dir.join(format!("ledger-{}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the ledger file");
        Self(file)
    }

    fn append(&self, line: &str) {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let text = format!("{line} {nanos} {}\n", std::process::id());
        (&self.0)
            .write_all(text.as_bytes())
            .expect("a ledger write");
    }
}

async fn handle(
    inbox: &PostgresInbox,
    effects: &str,
    ledger: &Ledger,
    fixed: &Path,
    item: InboxItem,
) -> Result<(), String> {
    let event = item.event().map_err(|e| e.to_string())?;
    let record = event.record_id().unwrap_or("-").to_owned();
    let seq = event.fields["seq"].as_i64().unwrap_or(-1);
    let poison = event.fields.get("poison").is_some();
    let tag = format!("{record} {seq} {} {}", item.attempt, item.id);
    ledger.append(&format!("start {tag}"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    if poison && !fixed.exists() {
        ledger.append(&format!("end-poison {tag}"));
        return Err("poison".to_owned());
    }
    if item.attempt == 1 && seq % 3 == 0 {
        ledger.append(&format!("end-first-fails {tag}"));
        return Err("every third event fails its first attempt".to_owned());
    }
    let outcome = async {
        let mut connection = inbox.pool().get().await.map_err(|e| e.to_string())?;
        let transaction = connection.transaction().await.map_err(|e| e.to_string())?;
        let pid = i32::try_from(std::process::id()).unwrap_or(-1);
        transaction
            .execute(
                &format!("INSERT INTO {effects} (record, seq, pid) VALUES ($1, $2, $3)"),
                &[&record, &i32::try_from(seq).unwrap_or(-1), &pid],
            )
            .await
            .map_err(|e| e.to_string())?;
        match inbox
            .record_in(&transaction, &item)
            .await
            .map_err(|e| e.to_string())?
        {
            Settled::Held => {
                // Written before the commit: once it lands, the next
                // event of the record may start at once.
                ledger.append(&format!("end-commit {tag}"));
                transaction.commit().await.map_err(|e| e.to_string())
            }
            _ => Err("lost the claim; rolled back".to_owned()),
        }
    }
    .await;
    match &outcome {
        Ok(()) => ledger.append(&format!("end-ok {tag}")),
        Err(_) => ledger.append(&format!("end-error {tag}")),
    }
    outcome
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["receive", url, table, secret] => {
            let app = App {
                verifier: Verifier::new(Secret::new(secret)),
                inbox: inbox(url, table),
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a port");
            println!(
                "listening on {}",
                listener.local_addr().expect("an address")
            );
            let router = Router::new().route("/attio", post(hook)).with_state(app);
            axum::serve(listener, router).await.expect("serving");
        }
        ["work", url, table, ledger_dir] => {
            let inbox = inbox(url, table);
            let ledger = Arc::new(Ledger::open(Path::new(ledger_dir)));
            let fixed: Arc<PathBuf> = Arc::new(Path::new(ledger_dir).join("fixed"));
            let effects: Arc<str> = format!("{table}_effects").into();
            println!("working");
            let handler = {
                let inbox = inbox.clone();
                move |item: InboxItem| {
                    let (inbox, ledger, fixed, effects) = (
                        inbox.clone(),
                        ledger.clone(),
                        fixed.clone(),
                        effects.clone(),
                    );
                    async move { handle(&inbox, &effects, &ledger, &fixed, item).await }
                }
            };
            inbox.run(handler, 1).await;
        }
        _ => {
            eprintln!("usage: inbox-node receive URL TABLE SECRET | work URL TABLE LEDGER_DIR");
            std::process::exit(2);
        }
    }
}
