//! What the spans and metrics cost a GET (issue 31, item 6): a fixed number
//! of GETs through the client (the default `HyperTransport`) over loopback
//! to the fake, which is served from a thread of its own so that
//! callgrind's count of the calling thread is the client's side alone, with
//!
//! - `none`: no subscriber and no recorder, as most users run;
//! - `off`: a subscriber that drops everything (a registry filtered OFF);
//! - `registry`: a subscriber that takes every span and drops it when it
//!   closes (the registry alone, no layer);
//! - `metrics` (built with `--features metrics`): no subscriber, and
//!   `metrics-util`'s debugging recorder, atomic storage as exporters keep it.
//!
//! The file builds against the code before the spans existed too (its
//! `metrics` mode needs the feature), so `benches/telemetry.py` builds it
//! at that commit and here, and compares instructions per GET (callgrind,
//! two counts so start-up cancels) and time per GET (interleaved runs):
//!
//! ```sh
//! python3 benches/telemetry.py        # see its docstring
//! ```
//!
//! By hand: `telemetry <mode> <gets>` prints `ns/GET <time>`.

use std::time::Instant;

use attio_webhooks::{Client, EventType, Subscription};
use attio_webhooks_testkit::FakeAttio;

mod common;

fn main() {
    // `cargo bench` passes `--bench`: only a mode and a number given by hand count.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("none", String::as_str).to_owned();
    let gets: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base_url = common::serve_on_own_thread(FakeAttio::new());
    let client = runtime.block_on(async {
        Client::builder(attio_webhooks_testkit::DEFAULT_TOKEN)
            .base_url(base_url.as_str())
            .build(attio_webhooks::transport::HyperTransport::new().unwrap())
            .unwrap()
    });
    let id = runtime
        .block_on(client.create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::RecordCreated)],
        ))
        .unwrap()
        .webhook
        .id
        .webhook_id;
    let run = || {
        let started = Instant::now();
        runtime.block_on(async {
            for _ in 0..gets {
                let got = client.get_webhook(id).await.unwrap();
                assert_eq!(got.id.webhook_id, id);
            }
        });
        started.elapsed()
    };
    let took = match mode.as_str() {
        "none" => run(),
        "off" => {
            use tracing_subscriber::layer::SubscriberExt as _;
            let subscriber =
                tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::OFF);
            tracing::subscriber::with_default(subscriber, run)
        }
        "registry" => tracing::subscriber::with_default(tracing_subscriber::registry(), run),
        #[cfg(feature = "metrics")]
        "metrics" => {
            let recorder = metrics_util::debugging::DebuggingRecorder::new();
            metrics::with_local_recorder(&recorder, run)
        }
        other => panic!("unknown mode {other}"),
    };
    println!(
        "ns/GET {:.1}",
        took.as_nanos() as f64 / f64::from(gets.max(1))
    );
}
