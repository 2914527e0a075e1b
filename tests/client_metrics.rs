//! The client's metrics, read through `metrics-util`'s debugging recorder:
//! a GET the fake answers 503 twice and then 200 is three
//! `http.client.request.duration` samples (two `503`, one `200`), three
//! attempts, two retries for `503`, one call duration and no error; a call
//! that fails counts as an error by its `error.type`. No label holds the
//! token or the webhook id.

use std::collections::BTreeMap;
use std::time::Duration;

use attio_webhooks::{Client, EventType, RetryPolicy, Subscription};
use attio_webhooks_testkit::{FakeAttio, Fault, FaultRule, InProcessTransport, Scope};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

const TOKEN: &str = "sk_live_metrics_must_not_show_me";

/// One metric as the recorder holds it: name and labels, and its value.
type Metrics = BTreeMap<(String, BTreeMap<String, String>), DebugValue>;

fn read(snapshotter: &Snapshotter) -> Metrics {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            ((key.name().to_owned(), labels), value)
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn counter(metrics: &Metrics, name: &str, pairs: &[(&str, &str)]) -> Option<u64> {
    match metrics.get(&(name.to_owned(), labels(pairs)))? {
        DebugValue::Counter(n) => Some(*n),
        other => panic!("{name} is {other:?}"),
    }
}

fn samples(metrics: &Metrics, name: &str, pairs: &[(&str, &str)]) -> Vec<f64> {
    match metrics.get(&(name.to_owned(), labels(pairs))) {
        Some(DebugValue::Histogram(values)) => values.iter().map(|v| v.0).collect(),
        other => panic!("{name} {pairs:?} is {other:?}; all: {:#?}", metrics.keys()),
    }
}

/// Runs `test` on a current-thread runtime with `recorder` as this
/// thread's recorder, and answers what it recorded.
fn recorded<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) -> Metrics {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = runtime();
    metrics::with_local_recorder(&recorder, || runtime.block_on(test()));
    read(&snapshotter)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn retrying_client(fake: &FakeAttio) -> Client<InProcessTransport> {
    Client::builder(TOKEN)
        .base_url(InProcessTransport::BASE_URL)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(2))
                .max_attempts(3),
        )
        .build(fake.transport())
        .unwrap()
}

#[test]
fn a_get_retried_twice_on_503_is_three_attempts_two_retries_and_one_call() {
    let fake = FakeAttio::builder()
        .token(TOKEN, [Scope::ReadWrite])
        .build();
    let client = retrying_client(&fake);
    let created = runtime()
        .block_on(client.create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::RecordCreated)],
        ))
        .unwrap();
    let webhook_id = created.webhook.id.webhook_id;
    fake.inject(FaultRule::new(Fault::status(503)).times(2));

    let metrics = recorded(|| async {
        let got = client.get_webhook(webhook_id).await.unwrap();
        assert_eq!(got.id.webhook_id, webhook_id);
    });

    // The attempts, by the OpenTelemetry HTTP client conventions.
    let attempt = |status: &'static str, error: Option<&'static str>| {
        let mut pairs = vec![
            ("attio.operation", "attio.webhooks.get"),
            ("http.request.method", "GET"),
            ("server.address", "localhost"),
            ("server.port", "80"),
            ("url.template", "/v2/webhooks/{webhook_id}"),
            ("http.response.status_code", status),
        ];
        pairs.extend(error.map(|e| ("error.type", e)));
        pairs
    };
    let failed = samples(
        &metrics,
        "http.client.request.duration",
        &attempt("503", Some("503")),
    );
    let answered = samples(
        &metrics,
        "http.client.request.duration",
        &attempt("200", None),
    );
    assert_eq!((failed.len(), answered.len()), (2, 1));
    let call = samples(
        &metrics,
        "attio.webhooks.call.duration",
        &[("attio.operation", "attio.webhooks.get")],
    );
    assert_eq!(call.len(), 1);
    // The call's time holds its attempts and the two waits of at least 1 ms.
    let attempts_total: f64 = failed.iter().chain(&answered).sum();
    assert!(
        call[0] >= attempts_total + 0.002,
        "{call:?} vs {attempts_total}"
    );
    let get = [("attio.operation", "attio.webhooks.get")];
    assert_eq!(
        counter(&metrics, "attio.webhooks.call.attempts", &get),
        Some(3)
    );
    assert_eq!(
        counter(
            &metrics,
            "attio.webhooks.call.retries",
            &[
                ("attio.operation", "attio.webhooks.get"),
                ("attio.retry.reason", "503")
            ]
        ),
        Some(2)
    );
    // Exactly these five series: no error series for a call that succeeded.
    let names: Vec<&str> = metrics.keys().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "attio.webhooks.call.attempts",
            "attio.webhooks.call.duration",
            "attio.webhooks.call.retries",
            "http.client.request.duration",
            "http.client.request.duration",
        ]
    );

    // Nothing secret or unbounded in a label.
    for (name, labels) in metrics.keys() {
        for value in labels.values() {
            assert!(!value.contains(TOKEN), "{name}: {value}");
            assert!(!value.contains(&webhook_id.to_string()), "{name}: {value}");
        }
    }
}

#[test]
fn a_failed_call_counts_as_an_error_by_its_type() {
    let fake = FakeAttio::builder()
        .token(TOKEN, [Scope::ReadWrite])
        .build();
    let client = retrying_client(&fake);
    let missing: attio_webhooks::WebhookId =
        "3b8c26d6-34d9-4b8c-9b56-2c1f1c9e9f4a".parse().unwrap();
    fake.inject(FaultRule::new(Fault::status(503)).times(3));

    let metrics = recorded(|| async {
        assert!(client.get_webhook(missing).await.is_err());
        assert!(client.delete_webhook(missing).await.is_err());
    });

    let get = [("attio.operation", "attio.webhooks.get")];
    let delete = [("attio.operation", "attio.webhooks.delete")];
    // The GET ran out of attempts on 503; the DELETE got Attio's 404.
    assert_eq!(
        counter(
            &metrics,
            "attio.webhooks.call.errors",
            &[
                ("attio.operation", "attio.webhooks.get"),
                ("error.type", "503")
            ]
        ),
        Some(1)
    );
    assert_eq!(
        counter(
            &metrics,
            "attio.webhooks.call.errors",
            &[
                ("attio.operation", "attio.webhooks.delete"),
                ("error.type", "404")
            ]
        ),
        Some(1)
    );
    assert_eq!(
        counter(&metrics, "attio.webhooks.call.attempts", &get),
        Some(3)
    );
    assert_eq!(
        counter(&metrics, "attio.webhooks.call.attempts", &delete),
        Some(1)
    );
    let failed_call = samples(
        &metrics,
        "attio.webhooks.call.duration",
        &[
            ("attio.operation", "attio.webhooks.get"),
            ("error.type", "503"),
        ],
    );
    assert_eq!(failed_call.len(), 1);
}

#[test]
fn describe_gives_the_durations_seconds() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        attio_webhooks::metrics::describe();
        metrics::histogram!("http.client.request.duration").record(0.5);
        metrics::counter!("attio.webhooks.call.attempts").increment(1);
    });
    let units: BTreeMap<String, Option<metrics::Unit>> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, unit, _, _)| (key.key().name().to_owned(), unit))
        .collect();
    assert_eq!(
        units["http.client.request.duration"],
        Some(metrics::Unit::Seconds)
    );
    assert_eq!(
        units["attio.webhooks.call.attempts"],
        Some(metrics::Unit::Count)
    );
}
