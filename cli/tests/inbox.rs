//! The durable inbox through the built binary, on a real PostgreSQL:
//! `listen --inbox` storing each event's exact bytes once (and answering
//! 503 when it cannot), and `inbox status | list | show | replay | drop`
//! with their exit codes. The oracle is the test's own SQL.
//!
//! Needs a PostgreSQL at `ATTIO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5440/postgres`); `scripts/test-servers.sh
//! start` starts one. Without it the tests print that they skipped, except
//! under `CI=true`, where they fail.

use crate::common;

use std::time::Duration;

use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;
use common::{hmac_hex, raw_request, Cli};

const WAIT: Duration = Duration::from_secs(15);
const SECRET: &str = "inbox-test-secret";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5440/postgres";

fn url() -> String {
    std::env::var("ATTIO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The test's own SQL, on a runtime of its own.
struct Sql {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Sql {
    /// A connection, or `None` (after saying so) when no PostgreSQL
    /// answers and this is not CI.
    fn connect() -> Option<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let connected = runtime.block_on(async {
            let url = url();
            let connecting = tokio_postgres::connect(&url, tokio_postgres::NoTls);
            match tokio::time::timeout(Duration::from_secs(5), connecting).await {
                Ok(Ok((client, connection))) => {
                    tokio::spawn(connection);
                    Ok(client)
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer within 5 s".to_owned()),
            }
        });
        match connected {
            Ok(client) => Some(Self { runtime, client }),
            Err(why) => {
                skip_without_server(
                    &format!("PostgreSQL at {}", url()),
                    why,
                    "scripts/test-servers.sh start",
                );
                None
            }
        }
    }

    fn execute(&self, sql: &str) {
        self.runtime
            .block_on(self.client.batch_execute(sql))
            .unwrap();
    }

    fn rows(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.runtime.block_on(self.client.query(sql, &[])).unwrap()
    }
}

/// A delivery of two events of record `r1`, spaced as no serializer
/// would, and the exact bytes of each event.
fn delivery() -> (String, [String; 2]) {
    let event = |seq: u32| {
        format!(
            r#"{{"event_type":"record.updated", "id":{{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"people","record_id":"r1"}},"seq":{seq} ,"actor":{{"type":"system","id":null}}}}"#
        )
    };
    let events = [event(1), event(2)];
    let body = format!(
        r#"{{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{}, {}]}}"#,
        events[0], events[1]
    );
    (body, events)
}

fn inbox(table: &str) -> Cli {
    Cli::new().args(["inbox", "--database", &url(), "--table", table])
}

#[test]
fn listen_inbox_stores_each_event_once_and_the_inbox_commands_operate_it() {
    let Some(sql) = Sql::connect() else {
        return;
    };
    let table = format!("cli_inbox_{}", std::process::id());
    sql.execute(&format!("DROP TABLE IF EXISTS {table}"));
    let listen = Cli::new()
        .env("HOOK_SECRET", SECRET)
        .args(["listen", "--port", "0", "--secret-env", "HOOK_SECRET"])
        .args(["--inbox", &url(), "--inbox-table", &table])
        .spawn();
    let addr = listen.listening_addr(WAIT);
    let (body, events) = delivery();
    let signature = hmac_hex(SECRET, body.as_bytes());
    let headers = [
        ("attio-signature", signature.as_str()),
        ("idempotency-key", "msg-1"),
        ("content-type", "application/json"),
    ];
    // The message, and Attio's retry of it: stored once.
    for _ in 0..2 {
        assert_eq!(
            raw_request(addr, "POST", "/attio", &headers, body.as_bytes()),
            200
        );
    }
    let rows = sql.rows(&format!("SELECT id, body, state FROM {table} ORDER BY id"));
    assert_eq!(rows.len(), 2);
    for (row, event) in rows.iter().zip(&events) {
        assert_eq!(row.get::<_, Vec<u8>>(1), event.as_bytes());
        assert_eq!(row.get::<_, &str>(2), "ready");
    }
    let (first, second): (i64, i64) = (rows[0].get(0), rows[1].get(0));

    // A dead letter, made by hand.
    sql.execute(&format!(
        "UPDATE {table} SET state = 'dead', attempts = 8, last_error = 'boom' WHERE id = {first}"
    ));
    let status = inbox(&table)
        .args(["status", "--json"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(
        (status["ready"].as_i64(), status["dead"].as_i64()),
        (Some(1), Some(1))
    );
    let dead = inbox(&table)
        .args(["list", "--dead", "--json"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(dead.as_array().unwrap().len(), 1);
    assert_eq!(
        (dead[0]["id"].as_i64(), dead[0]["last_error"].as_str()),
        (Some(first), Some("boom"))
    );
    let shown = inbox(&table)
        .args(["show", &first.to_string(), "--json"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(shown["body"].as_str(), Some(events[0].as_str()));
    assert_eq!(shown["event"]["seq"].as_u64(), Some(1));
    let listed = inbox(&table).args(["list"]).run().expect_code(0);
    assert!(
        listed.stdout.contains("boom") && listed.stdout.contains("record.updated"),
        "{}",
        listed.stdout
    );

    // Replay: ready again, as new.
    inbox(&table)
        .args(["replay", &first.to_string()])
        .run()
        .expect_code(0);
    let replayed = sql.rows(&format!(
        "SELECT state, attempts FROM {table} WHERE id = {first}"
    ));
    assert_eq!(
        (replayed[0].get::<_, &str>(0), replayed[0].get::<_, i32>(1)),
        ("ready", 0)
    );
    let none = inbox(&table)
        .args(["replay", "--dead", "--json"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(none["replayed"].as_u64(), Some(0));

    // Drop; a second drop, and a missing id, exit 3.
    inbox(&table)
        .args(["drop", &second.to_string()])
        .run()
        .expect_code(0);
    assert_eq!(
        sql.rows(&format!("SELECT 1 FROM {table} WHERE id = {second}"))
            .len(),
        0
    );
    inbox(&table)
        .args(["drop", &second.to_string()])
        .run()
        .expect_code(3);
    inbox(&table)
        .args(["show", "999999999"])
        .run()
        .expect_code(3);

    // The store failing (its table gone): 503, never 200.
    sql.execute(&format!("DROP TABLE {table}"));
    let (body, _) = delivery();
    let headers = [
        ("attio-signature", signature.as_str()),
        ("idempotency-key", "msg-2"),
    ];
    assert_eq!(
        raw_request(addr, "POST", "/attio", &headers, body.as_bytes()),
        503
    );
}

#[test]
fn inbox_exit_codes_say_usage_and_unreachable_apart() {
    Cli::new()
        .args(["inbox", "--database", "not a url", "status"])
        .run()
        .expect_code(2);
    Cli::new()
        .args([
            "inbox",
            "--database",
            "postgres://postgres@127.0.0.1:1/postgres",
            "status",
        ])
        .run()
        .expect_code(4);
    Cli::new()
        .args([
            "inbox",
            "--database",
            &url(),
            "--table",
            "bad;name",
            "status",
        ])
        .run()
        .expect_code(2);
}
