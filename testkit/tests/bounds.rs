//! Hostile or unroutable traffic costs the fake no more than its budget.
//! (A file of its own: it reads the process's memory use, which other
//! tests running beside it in one process would disturb.)

use crate::common;

use std::time::Instant;

use attio_webhooks_testkit::{limits::MAX_BODY_BYTES, FakeAttio};
use bytes::Bytes;

/// The resident set size of this process, from /proc (Linux).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_unauthenticated_megabyte_requests_stay_within_the_recording_budget() {
    const REQUESTS: usize = 2_000;
    const CONNECTIONS: usize = 4;
    let fake = FakeAttio::new();
    let budget = fake.limits().recorded_bytes;
    let server = fake.serve().await.unwrap();
    let url = format!("{}/nope", server.base_url());
    let before = rss_bytes();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = common::raw_client();
            for _ in 0..REQUESTS / CONNECTIONS {
                // A fresh megabyte each time, as a real sender's would be.
                let body = Bytes::from(vec![b'x'; MAX_BODY_BYTES]);
                let answer = common::send(&http, "POST", &url, &[], body).await.unwrap();
                assert_eq!(answer.status, 404);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let took = started.elapsed();
    let recorded = fake.requests();
    let kept_bytes: usize = recorded.iter().map(|r| r.body.len()).sum();
    let after = rss_bytes();
    eprintln!(
        "{REQUESTS} x 1 MiB in {took:?}: {} kept ({} MiB of bodies), {} dropped; RSS {:?} -> {:?} MiB",
        recorded.len(),
        kept_bytes >> 20,
        recorded.dropped(),
        before.map(|b| b >> 20),
        after.map(|b| b >> 20),
    );
    assert!(
        kept_bytes <= budget,
        "{kept_bytes} bytes kept, budget {budget}"
    );
    assert!(
        recorded.len() >= budget / MAX_BODY_BYTES / 2,
        "the budget is used, not ignored"
    );
    assert_eq!(recorded.len() as u64 + recorded.dropped(), REQUESTS as u64);
    // 2 GiB went through; what stays is the budget plus working memory.
    if let (Some(before), Some(after)) = (before, after) {
        let grown = after.saturating_sub(before);
        assert!(grown < 3 * budget as u64, "RSS grew by {} MiB", grown >> 20);
    }
}

/// A create body of `subscriptions` distinct subscriptions, each with a
/// filter of `conditions` one-letter conditions: the shape that costs the
/// most memory per byte of JSON (every condition two small strings, kept
/// twice: as sent and in the uniqueness key).
fn worst_shaped_create(target: &str, subscriptions: usize, conditions: usize) -> String {
    let subscriptions: Vec<serde_json::Value> = (0..subscriptions)
        .map(|i| {
            let mut all = vec![
                serde_json::json!({"field": "a", "operator": "equals", "value": i.to_string()}),
            ];
            all.extend((1..conditions).map(|j| {
                let letter = char::from(b'a' + (j % 26) as u8).to_string();
                serde_json::json!({"field": letter, "operator": "equals", "value": "b"})
            }));
            serde_json::json!({"event_type": "note.created", "filter": {"$and": all}})
        })
        .collect();
    serde_json::json!({"data": {"target_url": target, "subscriptions": subscriptions}}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_filled_to_its_budget_with_the_worst_shaped_webhooks_holds_about_its_budget() {
    const BUDGET_MIB: u64 = 64;
    let binary = common::Binary::start(&["--max-stored-mib", "64"], &[]);
    let http = common::raw_client();
    let url = format!("{}/v2/webhooks", binary.base_url);
    let auth = [
        ("authorization", "Bearer fake-attio-token"),
        ("content-type", "application/json"),
    ];
    // Warm up (the first request sets up the runtime's and hyper's buffers).
    common::send(&http, "GET", &url, &auth, "").await.unwrap();
    let baseline = binary.rss_bytes().expect("/proc is readable");
    let started = Instant::now();
    let (mut stored, mut body_bytes) = (0, 0);
    let refusal = loop {
        let body = worst_shaped_create(&format!("https://example.com/{stored}"), 1_000, 20);
        assert!(body.len() <= MAX_BODY_BYTES, "{}", body.len());
        let answer = common::send(&http, "POST", &url, &auth, body.clone())
            .await
            .unwrap();
        if answer.status != 200 {
            break answer;
        }
        stored += 1;
        body_bytes += body.len();
        assert!(stored < 1_000, "the budget never ran out");
    };
    assert_eq!(refusal.status, 400, "{:?}", refusal.body);
    assert!(
        refusal.json()["message"]
            .as_str()
            .unwrap()
            .contains("at most"),
        "{:?}",
        refusal.body
    );
    let after = binary.rss_bytes().unwrap();
    let grown = after.saturating_sub(baseline);
    eprintln!(
        "{stored} creates ({} MiB of JSON) until refused in {:?}; RSS {} MiB -> {} MiB (+{} MiB) for a {BUDGET_MIB} MiB budget",
        body_bytes >> 20,
        started.elapsed(),
        baseline >> 20,
        after >> 20,
        grown >> 20
    );
    assert!(stored > 0, "not even one webhook fits");
    assert!(
        grown < (BUDGET_MIB * 3 / 2) << 20,
        "RSS grew by {} MiB filling a {BUDGET_MIB} MiB store",
        grown >> 20
    );
}
