//! A fixed number of GETs over loopback, through the client or through a
//! hand-written hyper-util request decoding the same typed `Webhook` (row
//! 1's pair), against the fake served from a thread of its own. Run under
//! callgrind with one output file per thread, the calling thread's count
//! is the cost of the calling side alone, whatever the machine is doing;
//! two counts give the cost per GET, start-up excluded:
//!
//! ```sh
//! cargo bench --bench get_instructions --no-run
//! B=$(ls -t target/release/deps/get_instructions-* | grep -v '\.d$' | head -1)
//! for side in client raw; do for n in 1000 3000; do
//!   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=/tmp/get.$side.$n $B $side $n
//!   grep -m1 summary /tmp/get.$side.$n-01   # the calling thread
//! done; done
//! # instructions per GET = (count at 3000 - count at 1000) / 2000
//! ```

mod common;

use attio_webhooks::{Client, HyperTransport, Webhook};
use attio_webhooks_testkit::{FakeAttio, Scope, Seed};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

/// `{"data": ...}`, for the hand-written side.
#[derive(serde::Deserialize)]
struct Data<T> {
    data: T,
}

fn main() {
    // `cargo bench` passes `--bench`; only a side and a number given by hand count.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let side = args.first().map_or("client", String::as_str).to_owned();
    let gets: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let fake = FakeAttio::builder()
        .token(common::TOKEN, [Scope::ReadWrite])
        .max_recorded_requests(0)
        .build();
    let seeded = fake
        .seed([Seed::new(
            "https://hooks.example.com/attio/1",
            common::subscriptions(1, 4),
        )])
        .unwrap();
    let id = seeded[0].webhook.webhook_id();
    let base_url = common::serve_on_own_thread(fake);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::builder(common::TOKEN)
        .base_url(base_url.as_str())
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let raw: HyperClient<_, Full<Bytes>> = HyperClient::builder(TokioExecutor::new()).build_http();
    let uri: http::Uri = format!("{base_url}/v2/webhooks/{id}").parse().unwrap();
    let authorization = format!("Bearer {}", common::TOKEN);
    runtime.block_on(async {
        for _ in 0..gets {
            let webhook: Webhook = if side == "raw" {
                let request = http::Request::get(uri.clone())
                    .header("authorization", authorization.as_str())
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                let response = raw.request(request).await.unwrap();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                serde_json::from_slice::<Data<Webhook>>(&body).unwrap().data
            } else {
                client.get_webhook(id).await.unwrap()
            };
            assert_eq!(webhook.webhook_id(), id);
        }
    });
    println!("{gets} GETs through the {side} side");
}
