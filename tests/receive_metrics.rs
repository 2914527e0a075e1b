//! The receiving side's metrics, read through `metrics-util`'s debugging
//! recorder: each delivery a `Verifier` checks counts once by its outcome,
//! each `Once::run` counts once by its outcome, and `Once` times its
//! handler and each call it makes to its store (and only those). No label
//! holds the secret, a signature or the idempotency key.

use std::collections::BTreeMap;
use std::sync::Arc;

use attio_webhooks::error::BoxError;
use attio_webhooks::receive::{
    signature, Claim, ClaimToken, MemorySeenKeys, Once, Outcome, SeenKeys, Settled, Verifier,
};
use attio_webhooks::Secret;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

const SECRET: &str = "0b7d4e1a9c3f5e8b2d6a0c4f8e1b5d9a3c7f0e4b8d2a6c9f3e7b1d5a8c2f6e0b";
const KEY: &str = "idem-metrics-4e8f-a6c0-d2b4f6e8a1c3";

/// Name and labels of each series, and its value.
type Metrics = BTreeMap<(String, Vec<(String, String)>), DebugValue>;

/// Runs `test` with a debugging recorder as this thread's recorder.
fn recorded<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) -> Metrics {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || runtime.block_on(test()));
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            ((key.name().to_owned(), labels), value)
        })
        .collect()
}

/// The counters, as `name{label=value,...} = n` lines.
fn counters(metrics: &Metrics) -> Vec<String> {
    metrics
        .iter()
        .filter_map(|((name, labels), value)| match value {
            DebugValue::Counter(n) => Some(format!("{name}{} = {n}", show(labels))),
            _ => None,
        })
        .collect()
}

/// The histograms, as `name{label=value,...} x samples` lines.
fn histograms(metrics: &Metrics) -> Vec<String> {
    metrics
        .iter()
        .filter_map(|((name, labels), value)| match value {
            DebugValue::Histogram(samples) => {
                assert!(samples.iter().all(|s| s.0 >= 0.0 && s.0 < 60.0));
                Some(format!("{name}{} x{}", show(labels), samples.len()))
            }
            _ => None,
        })
        .collect()
}

fn show(labels: &[(String, String)]) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(","))
}

const BODY: &str = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"record.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"o","record_id":"r"},"actor":{"type":"workspace-member","id":"m"}}]}"#;

#[test]
fn each_delivery_counts_once_by_its_outcome() {
    let verifier = Verifier::new(Secret::new(SECRET)).with_max_body_bytes(1024);
    let good = signature::sign(&Secret::new(SECRET), BODY.as_bytes());
    let foreign = signature::sign(&Secret::new("not the secret"), BODY.as_bytes());
    let headers = |signature: Option<&str>| {
        let mut headers = http::HeaderMap::new();
        if let Some(signature) = signature {
            headers.insert("attio-signature", signature.parse().unwrap());
        }
        headers.insert("idempotency-key", KEY.parse().unwrap());
        headers
    };
    let metrics = recorded(|| async {
        assert!(verifier
            .verify(&headers(Some(&good)), BODY.as_bytes())
            .is_ok());
        assert!(verifier
            .verify(&headers(Some(&good)), BODY.as_bytes())
            .is_ok());
        assert!(verifier.verify(&headers(None), BODY.as_bytes()).is_err());
        assert!(verifier
            .verify(&headers(Some(&foreign)), BODY.as_bytes())
            .is_err());
        let big = vec![b' '; 2048];
        assert!(verifier.verify(&headers(Some(&good)), &big).is_err());
    });
    assert_eq!(
        counters(&metrics),
        [
            "attio.webhook.deliveries{attio.receive.outcome=refused:bad_signature} = 1",
            "attio.webhook.deliveries{attio.receive.outcome=refused:body_too_large} = 1",
            "attio.webhook.deliveries{attio.receive.outcome=refused:missing_signature} = 1",
            "attio.webhook.deliveries{attio.receive.outcome=verified} = 2",
        ]
    );
    for (_, labels) in metrics.keys() {
        for (_, value) in labels {
            assert!(!value.contains(SECRET) && !value.contains(KEY));
            assert!(!value.contains(good.as_str()) && !value.contains(foreign.as_str()));
        }
    }
}

/// A store that is down.
struct Down;

#[async_trait::async_trait]
impl SeenKeys for Down {
    async fn claim(&self, _: &str) -> Result<Claim, BoxError> {
        Err("connection refused".into())
    }
    async fn complete(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
        Err("connection refused".into())
    }
    async fn release(&self, _: &str, _: &ClaimToken) -> Result<Settled, BoxError> {
        Err("connection refused".into())
    }
}

#[test]
fn once_counts_each_outcome_and_times_its_handler_and_store_calls() {
    let keys = Arc::new(MemorySeenKeys::new());
    let once = Once::from_arc(keys.clone());
    let down = Once::new(Down);
    let metrics = recorded(|| async {
        let ok = || async { Ok::<_, &str>(()) };
        assert!(matches!(
            once.run(Some("k-1"), ok).await,
            Outcome::Handled(())
        ));
        assert!(matches!(
            once.run(Some("k-1"), ok).await,
            Outcome::AlreadyHandled
        ));
        let failing = || async { Err::<(), _>("the CRM said no") };
        assert!(matches!(
            once.run(Some("k-2"), failing).await,
            Outcome::Failed(_)
        ));
        // Another replica holds k-3: that claim is not `Once`'s, so not timed.
        assert!(matches!(
            keys.claim("k-3").await.unwrap(),
            Claim::Claimed(_)
        ));
        assert!(matches!(
            once.run(Some("k-3"), ok).await,
            Outcome::InProgress
        ));
        assert!(matches!(
            down.run(Some("k-4"), ok).await,
            Outcome::Unavailable(_)
        ));
        // No key: the handler runs, no store call.
        assert!(matches!(once.run(None, ok).await, Outcome::Handled(())));
    });
    assert_eq!(
        counters(&metrics),
        [
            "attio.once.outcomes{attio.receive.outcome=already_handled} = 1",
            "attio.once.outcomes{attio.receive.outcome=failed} = 1",
            "attio.once.outcomes{attio.receive.outcome=handled} = 2",
            "attio.once.outcomes{attio.receive.outcome=in_progress} = 1",
            "attio.once.outcomes{attio.receive.outcome=store_error} = 1",
        ]
    );
    assert_eq!(
        histograms(&metrics),
        [
            "attio.once.handler.duration{attio.receive.outcome=failed} x1",
            "attio.once.handler.duration{attio.receive.outcome=handled} x2",
            "attio.once.store.duration{attio.once.operation=claim,attio.once.result=claimed} x2",
            "attio.once.store.duration{attio.once.operation=claim,attio.once.result=done} x1",
            "attio.once.store.duration{attio.once.operation=claim,attio.once.result=in_progress} x1",
            "attio.once.store.duration{attio.once.operation=claim,attio.once.result=store_error} x1",
            "attio.once.store.duration{attio.once.operation=complete,attio.once.result=held} x1",
            "attio.once.store.duration{attio.once.operation=release,attio.once.result=held} x1",
        ]
    );
}

#[test]
fn once_times_the_renewals_of_a_slow_handlers_claim() {
    // A handler of 2.5 leases: `Once` renews every third of a lease.
    let once = Once::new(MemorySeenKeys::new().with_lease(std::time::Duration::from_millis(150)));
    let metrics = recorded(|| async {
        let slow = || async {
            tokio::time::sleep(std::time::Duration::from_millis(375)).await;
            Ok::<_, ()>(())
        };
        assert!(matches!(
            once.run(Some("k-slow"), slow).await,
            Outcome::Handled(())
        ));
    });
    let renewals = metrics
        .iter()
        .find_map(|((name, labels), value)| {
            let renew = ("attio.once.operation".to_owned(), "renew".to_owned());
            let held = ("attio.once.result".to_owned(), "held".to_owned());
            (name == "attio.once.store.duration"
                && labels.contains(&renew)
                && labels.contains(&held))
            .then_some(value)
        })
        .unwrap_or_else(|| panic!("no renewal timed: {:#?}", metrics.keys()));
    match renewals {
        // 375 ms / 50 ms: about seven; at least three whatever the load.
        DebugValue::Histogram(samples) => assert!(samples.len() >= 3, "{samples:?}"),
        other => panic!("{other:?}"),
    }
}
