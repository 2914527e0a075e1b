//! Verified and deduplicated deliveries per second, end to end: a signed
//! delivery POSTed over a keep-alive loopback connection to the replica
//! app of the tests (axum, the `VerifiedDelivery` extractor, `Once`),
//! each with a fresh `Idempotency-Key`, answered 200. The store behind
//! `Once` is Redis or PostgreSQL, each measured against the same app on
//! `MemorySeenKeys` (one process, no network) in the same run,
//! interleaved: the ratio is what sharing the store across replicas costs.
//!
//! Needs the servers of `scripts/test-servers.sh start`; a store whose
//! server does not answer is left out with a line saying so.

#[allow(dead_code)]
#[path = "../../../benches/common/interleave.rs"]
mod interleave;
#[allow(dead_code)]
#[path = "../tests/replicas/replica.rs"]
mod replica;

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::receive::{signature, MemorySeenKeys, SeenKeys};
use attio_webhooks::Secret;
use attio_webhooks_postgres::PostgresSeenKeys;
use attio_webhooks_redis::RedisSeenKeys;
use bytes::Bytes;
use criterion::{Criterion, Throughput};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

use replica::{Ledger, Replica};

const BODY: &str = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"record.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b"},"actor":{"type":"system","id":null}}]}"#;

/// A replica on `store` and what it takes to post to it.
struct Side {
    _replica: Replica,
    url: String,
    client: Client<HttpConnector, Full<Bytes>>,
    tag: String,
    next: Cell<u64>,
    name: &'static str,
}

impl Side {
    fn start(name: &'static str, store: Arc<dyn SeenKeys>) -> Self {
        let secret = Secret::new("bench secret");
        let replica = Replica::start("bench", secret.clone(), store, Arc::new(Ledger::default()));
        Self {
            url: format!("http://{}/attio", replica.addr),
            _replica: replica,
            client: Client::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
            tag: signature::sign(&secret, BODY.as_bytes()),
            next: Cell::new(0),
            name,
        }
    }

    /// One delivery with a fresh key, which must be handled (200).
    async fn deliver(&self) {
        let n = self.next.replace(self.next.get() + 1);
        let request = hyper::Request::post(&self.url)
            .header("content-type", "application/json")
            .header("attio-signature", &self.tag)
            .header(
                "idempotency-key",
                format!("{}-{}-{n}", self.name, std::process::id()),
            )
            .body(Full::new(Bytes::from_static(BODY.as_bytes())))
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.unwrap();
    }
}

async fn redis() -> Result<Arc<dyn SeenKeys>, String> {
    let url = std::env::var("ATTIO_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6390/".to_owned());
    let store = tokio::time::timeout(Duration::from_secs(2), RedisSeenKeys::connect(&url))
        .await
        .map_err(|_| format!("no Redis at {url} within 2 s"))?
        .map_err(|e| format!("no Redis at {url}: {e}"))?;
    let prefix = format!("attio-webhooks-bench-e2e:{}:", std::process::id());
    Ok(Arc::new(
        store.with_prefix(prefix).with_ttl(Duration::from_secs(60)),
    ))
}

async fn postgres(table: &str) -> Result<Arc<dyn SeenKeys>, String> {
    let url = std::env::var("ATTIO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5440/postgres".to_owned());
    let store = PostgresSeenKeys::connect(&url)
        .and_then(|s| s.with_table(table))
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(Duration::from_secs(5), store.migrate())
        .await
        .map_err(|_| format!("no PostgreSQL at {url} within 5 s"))?
        .map_err(|e| format!("no PostgreSQL at {url}: {e}"))?;
    Ok(Arc::new(store))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let table = format!("bench_e2e_{}", std::process::id());
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let shared = [
        ("redis", runtime.block_on(redis())),
        ("postgres", runtime.block_on(postgres(&table))),
    ];
    for (name, store) in shared {
        let store = match store {
            Ok(store) => store,
            Err(why) => {
                println!("skipped {name}: {why}; start it with `scripts/test-servers.sh start`");
                continue;
            }
        };
        let _guard = runtime.enter();
        let memory = Side::start("memory", Arc::new(MemorySeenKeys::new()));
        let shared = Side::start(name, store);
        runtime.block_on(async {
            memory.deliver().await;
            shared.deliver().await;
        });
        let mut group = criterion.benchmark_group(format!("deliveries_{name}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| {
            interleave::interleaved_async(b, &runtime, || shared.deliver(), || memory.deliver())
        });
        group.bench_function("memory", |b| {
            interleave::interleaved_async(b, &runtime, || memory.deliver(), || shared.deliver())
        });
        group.finish();
    }
    if let Ok(store) = runtime.block_on(postgres(&table)) {
        drop(store);
        let url = std::env::var("ATTIO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5440/postgres".to_owned());
        runtime.block_on(async {
            if let Ok((client, connection)) =
                tokio_postgres::connect(&url, tokio_postgres::NoTls).await
            {
                tokio::spawn(connection);
                let _ = client
                    .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
                    .await;
            }
        });
    }
    criterion.final_summary();
}
