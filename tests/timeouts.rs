//! Every way a server can stall ends in `Error::Timeout` within the
//! configured bound, measured with a clock, against raw TCP servers on
//! loopback that misbehave on purpose:
//!
//! | server | what it does after accepting |
//! |---|---|
//! | `Silent` | reads the request, never answers |
//! | `HeadOnly` | sends a status line and headers promising a body, then nothing |
//! | `DripHead` | sends the response head one byte per second |
//! | `DripBody` | sends the head, then the body one byte per second |
//! | `Backlogged` | never accepts, and its accept queue is full, so the TCP connect itself never completes |
//!
//! The drip servers are the reason the bound has to be a deadline for the
//! whole attempt: a timeout that restarts with every byte read would never
//! fire against them. The bound (1.5 s) is large next to scheduling noise
//! and the tolerance is ±10 %.
//!
//! `HyperTransport` has no answer timeout of its own: per the `Transport`
//! contract the client bounds each attempt, so every case runs through
//! `Client<HyperTransport>`; `a_transport_that_never_returns_*` shows the
//! bound belongs to the client whatever the transport.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attio_webhooks::{
    model::TargetUrlPolicy, transport::HyperTransport, Client, Error, EventType, RetryPolicy,
    SendOptions, Subscription, Transport, WebhookId,
};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// The per-attempt timeout every case configures.
const BOUND: Duration = Duration::from_millis(1500);
/// How far off the bound an elapsed time may be.
const TOLERANCE: f64 = 0.10;
/// No hostile server lives longer than this, whatever the client does.
const SERVER_LIFETIME: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stall {
    Silent,
    HeadOnly,
    DripHead,
    DripBody,
    /// Stalls on the first connection only and answers `{"data":[]}` on
    /// every later one.
    SilentOnce,
}

const HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n";

/// One connection as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    opened: Instant,
    /// When the client closed it (read end or a failed write), if it did.
    closed: Option<Instant>,
}

/// A misbehaving server on 127.0.0.1; it stops when dropped.
struct Hostile {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _tasks: JoinSet<()>,
}

impl Hostile {
    async fn start(stall: Stall) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = JoinSet::new();
        let log = Arc::clone(&seen);
        tasks.spawn(async move {
            let _ = tokio::time::timeout(SERVER_LIFETIME, accept_loop(listener, stall, log)).await;
        });
        Hostile {
            addr,
            seen,
            _tasks: tasks,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn connections(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn accept_loop(listener: TcpListener, stall: Stall, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let index = {
            let mut seen = seen.lock().unwrap();
            seen.push(Seen {
                opened: Instant::now(),
                closed: None,
            });
            seen.len() - 1
        };
        let stall = match stall {
            Stall::SilentOnce if index > 0 => None,
            Stall::SilentOnce => Some(Stall::Silent),
            other => Some(other),
        };
        let seen = Arc::clone(&seen);
        connections.spawn(async move {
            serve(stream, stall).await;
            seen.lock().unwrap()[index].closed = Some(Instant::now());
        });
    }
}

/// Plays `stall` on one connection; returns when the client has gone.
async fn serve(mut stream: TcpStream, stall: Option<Stall>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let Some(stall) = stall else {
        let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"data\":[]}";
        let _ = stream.write_all(answer).await;
        return wait_for_close(stream).await;
    };
    match stall {
        Stall::Silent | Stall::SilentOnce => wait_for_close(stream).await,
        Stall::HeadOnly => {
            if stream.write_all(HEAD).await.is_ok() {
                wait_for_close(stream).await;
            }
        }
        Stall::DripHead => drip(stream, HEAD.iter().copied().chain(std::iter::repeat(b' '))).await,
        Stall::DripBody => {
            if stream.write_all(HEAD).await.is_ok() {
                drip(stream, std::iter::repeat(b' ')).await;
            }
        }
    }
}

/// Waits until the client closes its side (or resets).
async fn wait_for_close(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// Writes one byte a second until a write fails or the client closes.
async fn drip(stream: TcpStream, bytes: impl Iterator<Item = u8>) {
    let (mut read, mut write) = stream.into_split();
    let closed = async move {
        let mut buf = [0u8; 1024];
        while matches!(read.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    let dripping = async move {
        for byte in bytes {
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::select! {
        () = closed => {}
        () = dripping => {}
    }
}

/// A listener that never accepts and whose accept queue is full, so that a
/// further TCP connect gets no answer to its SYN. The filler connections
/// are kept open for as long as the value lives.
struct Backlogged {
    addr: std::net::SocketAddr,
    _listener: TcpListener,
    _fillers: Vec<TcpStream>,
}

impl Backlogged {
    async fn start() -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut fillers = Vec::new();
        // Linux completes handshakes into the accept queue up to its
        // length; once full, SYNs are dropped and connect hangs.
        for _ in 0..16 {
            match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => fillers.push(stream),
                _ => break,
            }
        }
        assert!(
            fillers.len() < 16,
            "the accept queue never filled up; connects do not hang here"
        );
        Backlogged {
            addr,
            _listener: listener,
            _fillers: fillers,
        }
    }
}

fn client(base_url: &str, retry: RetryPolicy) -> Client<HyperTransport> {
    Client::builder("sk_test_timeouts")
        .base_url(base_url)
        .timeout(BOUND)
        .retry_policy(retry)
        .target_url_policy(TargetUrlPolicy::AllowLoopbackHttp)
        .build(HyperTransport::new().unwrap())
        .unwrap()
}

fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
}

/// Asserts `elapsed` is `expected` ± [`TOLERANCE`].
fn assert_within(elapsed: Duration, expected: Duration, what: &str) {
    let (low, high) = (
        expected.mul_f64(1.0 - TOLERANCE),
        expected.mul_f64(1.0 + TOLERANCE),
    );
    assert!(
        (low..=high).contains(&elapsed),
        "{what}: took {elapsed:?}, expected {expected:?} ± {}%",
        TOLERANCE * 100.0
    );
}

fn assert_timeout(result: Result<impl std::fmt::Debug, Error>, what: &str) {
    match result {
        Err(Error::Timeout(limit)) => assert_eq!(limit, BOUND, "{what}"),
        other => panic!("{what}: expected a timeout, got {other:?}"),
    }
}

/// One GET, retries off, against each stalling server at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stall_ends_in_a_timeout_within_the_bound() {
    let mut cases = Vec::new();
    for stall in [
        Stall::Silent,
        Stall::HeadOnly,
        Stall::DripHead,
        Stall::DripBody,
    ] {
        cases.push(tokio::spawn(async move {
            let server = Hostile::start(stall).await;
            let client = client(&server.base_url(), RetryPolicy::disabled());
            let started = Instant::now();
            let result = client.get_webhook(WebhookId::from_u128(1)).await;
            let elapsed = started.elapsed();
            let what = format!("{stall:?}");
            assert!(
                result.as_ref().is_err_and(Error::is_timeout),
                "{what}: {result:?}"
            );
            assert_timeout(result, &what);
            assert_within(elapsed, BOUND, &what);
            // The attempt that timed out closed its connection: nothing is
            // left half-read in the pool, nothing leaks on the server.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let connections = server.connections();
            assert_eq!(connections.len(), 1, "{what}: {connections:?}");
            let closed = connections[0].closed.expect("the client closed it");
            assert_within(closed - connections[0].opened, BOUND, &what);
        }));
    }
    cases.push(tokio::spawn(async {
        let server = Backlogged::start().await;
        let client = client(&format!("http://{}", server.addr), RetryPolicy::disabled());
        let started = Instant::now();
        let result = client.list_webhooks(Default::default()).await;
        assert_timeout(result, "Backlogged");
        assert_within(started.elapsed(), BOUND, "Backlogged");
    }));
    for case in cases {
        case.await.unwrap();
    }
}

/// Idempotent calls retry after a timeout: `max_attempts` bounds the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_timeouts_take_attempts_times_the_bound() {
    let server = Hostile::start(Stall::DripBody).await;
    let client = client(&server.base_url(), quick_retries(3));
    let started = Instant::now();
    let result = client.get_webhook(WebhookId::from_u128(2)).await;
    let elapsed = started.elapsed();
    assert_timeout(result, "three drips");
    // Three attempts, and two backoffs of at most 2 ms each.
    assert_within(elapsed, BOUND * 3, "three drips");
    assert_eq!(
        server.connections().len(),
        3,
        "one fresh connection per attempt"
    );
}

/// A create is not retried after a timeout (it may have been processed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_times_out_once_and_is_not_retried() {
    let server = Hostile::start(Stall::Silent).await;
    let client = client(&server.base_url(), quick_retries(4));
    let started = Instant::now();
    let result = client
        .create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .await;
    assert_timeout(result, "create");
    assert_within(started.elapsed(), BOUND, "create");
    assert_eq!(server.connections().len(), 1);
}

/// After a timed-out attempt the retry gets a fresh connection and the
/// server's real answer: the stalled connection did not poison the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_after_a_timeout_succeeds_on_a_fresh_connection() {
    let server = Hostile::start(Stall::SilentOnce).await;
    let client = client(&server.base_url(), quick_retries(2));
    let started = Instant::now();
    let page = client.list_webhooks(Default::default()).await.unwrap();
    assert!(page.is_empty());
    // One bound lost to the stall, then a loopback answer.
    assert_within(started.elapsed(), BOUND, "stall then answer");
    assert_eq!(server.connections().len(), 2);
    // And the pool keeps serving.
    assert!(client.list_webhooks(Default::default()).await.is_ok());
}

/// A per-call timeout overrides the client's (here, none at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_call_timeout_bounds_a_client_without_one() {
    let server = Hostile::start(Stall::DripHead).await;
    let client = Client::builder("sk_test_timeouts")
        .base_url(server.base_url())
        .no_timeout()
        .retry_policy(RetryPolicy::disabled())
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let options = SendOptions::new().timeout(BOUND);
    let started = Instant::now();
    let result = client
        .send_with(&attio_webhooks::operations::ListWebhooks::new(), &options)
        .await;
    assert_timeout(result, "per-call");
    assert_within(started.elapsed(), BOUND, "per-call");
}

/// A transport whose exchange never finishes.
struct NeverAnswers;

#[async_trait::async_trait]
impl Transport for NeverAnswers {
    type Error = std::io::Error;
    async fn send(&self, _: http::Request<Bytes>) -> Result<http::Response<Bytes>, std::io::Error> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_that_never_returns_is_bounded_by_the_client() {
    let client = Client::builder("sk_test_timeouts")
        .timeout(BOUND)
        .retry_policy(quick_retries(2))
        .build(NeverAnswers)
        .unwrap();
    let started = Instant::now();
    let result = client.delete_webhook(WebhookId::from_u128(3)).await;
    assert_timeout(result, "pending transport");
    assert_within(
        started.elapsed(),
        BOUND * 2,
        "pending transport, two attempts",
    );
}
