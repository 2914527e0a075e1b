//! Server throughput: the fake over loopback against a wiremock
//! `MockServer` answering the same bytes, with 1, 8 and 64 concurrent
//! keep-alive connections doing GET one webhook and list (10 webhooks).
//!
//! The two servers are set up alike: each runs on a thread of its own with
//! a current-thread runtime (wiremock's own arrangement), neither records
//! requests (`disable_request_recording` for wiremock,
//! `max_recorded_requests(0)` for the fake), and both answer on sockets with
//! `TCP_NODELAY` (the fake sets it on each connection; wiremock gets a
//! listener with it set, which Linux hands on to accepted sockets; checked
//! at start). The two are measured interleaved (`common::interleaved_async`).
//! The load runs on one current-thread runtime and is as lean as a load
//! generator can be (see `Load`).

mod common;

use std::time::Duration;

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{Request, WebhookId};
use attio_webhooks_testkit::{FakeAttio, Scope, Seed};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::future::join_all;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Requests per iteration, split over the concurrent clients.
const REQUESTS: usize = 256;

/// The load: keep-alive HTTP/1.1 connections, each sending GET one
/// webhook and list alternately, one request at a time, and reading each
/// answer to its last byte. It writes requests prepared once and reads
/// just the status line, `content-length` and body, like `wrk` would: a
/// full HTTP client costs more per request than the fake does, and would
/// measure itself instead of the server.
struct Load {
    addr: std::net::SocketAddr,
    one: Vec<u8>,
    list: Vec<u8>,
    connections: Vec<tokio::sync::Mutex<Option<BufReader<TcpStream>>>>,
}

impl Load {
    fn new(base_url: &str, id: WebhookId) -> Self {
        let uri: http::Uri = base_url.parse().unwrap();
        let authority = uri.authority().unwrap().as_str().to_owned();
        let request = |path: &str| {
            format!(
                "GET {path} HTTP/1.1\r\nhost: {authority}\r\nauthorization: Bearer {}\r\naccept: application/json\r\n\r\n",
                common::TOKEN
            )
            .into_bytes()
        };
        Self {
            addr: authority.parse().unwrap(),
            one: request(&format!("/v2/webhooks/{id}")),
            list: request("/v2/webhooks"),
            connections: (0..64).map(|_| tokio::sync::Mutex::new(None)).collect(),
        }
    }

    /// Sends one request on `conn` and returns the answer's body.
    async fn exchange(&self, conn: &mut BufReader<TcpStream>, request: &[u8]) -> Vec<u8> {
        conn.get_mut().write_all(request).await.unwrap();
        let mut line = String::new();
        conn.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut length = 0;
        loop {
            line.clear();
            conn.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        conn.read_exact(&mut body).await.unwrap();
        body
    }

    async fn run(&self, concurrency: usize) {
        let per_connection = REQUESTS / concurrency;
        join_all(
            self.connections[..concurrency]
                .iter()
                .map(|slot| async move {
                    let mut slot = slot.lock().await;
                    if slot.is_none() {
                        let stream = TcpStream::connect(self.addr).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        *slot = Some(BufReader::new(stream));
                    }
                    let conn = slot.as_mut().unwrap();
                    for i in 0..per_connection {
                        self.exchange(conn, if i % 2 == 0 { &self.one } else { &self.list })
                            .await;
                    }
                }),
        )
        .await;
    }
}

/// A loopback listener with `TCP_NODELAY` set, for wiremock. Linux gives
/// accepted sockets the listener's `TCP_NODELAY`; this checks that it does
/// here, so that the comparison is never silently unequal.
async fn nodelay_listener() -> std::net::TcpListener {
    let listen = || {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_nodelay(true).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        socket.listen(1024).unwrap()
    };
    let probe = listen();
    let _client = TcpStream::connect(probe.local_addr().unwrap())
        .await
        .unwrap();
    let (accepted, _) = probe.accept().await.unwrap();
    assert!(
        accepted.nodelay().unwrap(),
        "accepted sockets do not inherit TCP_NODELAY here: wiremock would answer without it"
    );
    listen().into_std().unwrap()
}

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let fake = FakeAttio::builder()
        .token(common::TOKEN, [Scope::ReadWrite])
        .max_recorded_requests(0)
        .build();
    let seeds = (0..100u128).map(|i| {
        let w = common::webhook(i);
        Seed::new(w.target_url, w.subscriptions)
            .webhook_id(w.id.webhook_id)
            .created_at(w.created_at)
    });
    fake.seed(seeds).unwrap();
    let id = WebhookId::from_u128(1);
    let fake_load = Load::new(&common::serve_on_own_thread(fake), id);

    // wiremock answers the very bytes the fake answers.
    let (one, page) = runtime.block_on(async {
        let mut conn = BufReader::new(TcpStream::connect(fake_load.addr).await.unwrap());
        let one = fake_load.exchange(&mut conn, &fake_load.one).await;
        let page = fake_load.exchange(&mut conn, &fake_load.list).await;
        (Bytes::from(one), Bytes::from(page))
    });
    let listed = ListWebhooks::decode(http::Response::new(page.clone())).unwrap();
    assert_eq!(listed.len(), 10, "Attio's default page of 10");
    let mock = runtime.block_on(async {
        let server = MockServer::builder()
            .listener(nodelay_listener().await)
            .disable_request_recording()
            .start()
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/v2/webhooks/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_raw(one.to_vec(), "application/json"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v2/webhooks"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(page.to_vec(), "application/json"),
            )
            .mount(&server)
            .await;
        server
    });
    let mock_load = Load::new(&mock.uri(), id);

    let mut group = c.benchmark_group("server_get_and_list");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    for concurrency in [1, 8, 64] {
        let fake = || fake_load.run(concurrency);
        let wiremock = || mock_load.run(concurrency);
        group.bench_function(BenchmarkId::new("fake_attio", concurrency), |b| {
            common::interleaved_async(b, &runtime, fake, wiremock)
        });
        group.bench_function(BenchmarkId::new("wiremock", concurrency), |b| {
            common::interleaved_async(b, &runtime, wiremock, fake)
        });
    }
    group.finish();
    drop(mock);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = throughput
}
criterion_main!(benches);
