//! Hostile or unroutable traffic costs the fake no more than its budget.
//! (A file of its own: it reads the process's memory use, which other
//! tests running beside it in one process would disturb.)

use crate::common;

use std::time::Instant;

use attio_webhooks_testkit::{FakeAttio, MAX_BODY_BYTES};
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
