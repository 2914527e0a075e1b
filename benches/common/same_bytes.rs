//! Row 5's servers, shared by `fake_server` (throughput) and
//! `server_instructions` (instructions per request): the fake and a
//! wiremock `MockServer` answering the very bytes the fake answered, set
//! up alike, and the lean load that drives them.
//!
//! Each server runs on a thread of its own with a current-thread runtime
//! (wiremock's own arrangement), neither records requests
//! (`disable_request_recording` for wiremock, `max_recorded_requests(0)` for
//! the fake), and both answer on sockets with `TCP_NODELAY` (the fake sets
//! it on each connection; wiremock gets a listener with it set, which Linux
//! hands on to accepted sockets; checked at start).

use attio_webhooks::WebhookId;
use attio_webhooks_testkit::{FakeAttio, Scope, Seed};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The most concurrent connections a [`Load`] opens.
pub const MAX_CONNECTIONS: usize = 64;

/// The load: keep-alive HTTP/1.1 connections, each sending its requests in
/// turn, one at a time, and reading each answer to its last byte. It
/// writes requests prepared once and reads just the status line,
/// `content-length` and body, like `wrk` would: a full HTTP client costs
/// more per request than the fake does, and would measure itself instead
/// of the server.
pub struct Load {
    addr: std::net::SocketAddr,
    requests: Vec<Vec<u8>>,
    connections: Vec<tokio::sync::Mutex<Option<BufReader<TcpStream>>>>,
}

impl Load {
    /// GETs of `paths` (path and query) at `base_url`, sent in turn.
    pub fn new(base_url: &str, paths: &[&str]) -> Self {
        let uri: http::Uri = base_url.parse().unwrap();
        let authority = uri.authority().unwrap().as_str().to_owned();
        let request = |path: &str| {
            format!(
                "GET {path} HTTP/1.1\r\nhost: {authority}\r\nauthorization: Bearer {}\r\naccept: application/json\r\n\r\n",
                super::TOKEN
            )
            .into_bytes()
        };
        Self {
            addr: authority.parse().unwrap(),
            requests: paths.iter().map(|p| request(p)).collect(),
            connections: (0..MAX_CONNECTIONS)
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
        }
    }

    /// Sends one request on `conn` and returns the answer's body.
    async fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8]) -> Vec<u8> {
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

    /// The answer to each request, on a connection of its own.
    pub async fn answers(&self) -> Vec<Vec<u8>> {
        let mut conn = BufReader::new(TcpStream::connect(self.addr).await.unwrap());
        let mut answers = Vec::new();
        for request in &self.requests {
            answers.push(Self::exchange(&mut conn, request).await);
        }
        answers
    }

    /// Sends `requests` requests split over `concurrency` connections
    /// (kept open from one run to the next), each going through the
    /// requests in turn.
    pub async fn run(&self, concurrency: usize, requests: usize) {
        let per_connection = requests / concurrency;
        futures::future::join_all(
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
                        Self::exchange(conn, &self.requests[i % self.requests.len()]).await;
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

/// The fake, seeded with 100 webhooks, and wiremock with a mock for GET
/// one webhook and one for the list, each answering the fake's bytes.
pub struct SameBytes {
    /// The fake's base URL.
    pub fake: String,
    /// wiremock's server.
    pub mock: MockServer,
    /// GET one webhook: `/v2/webhooks/<id>`.
    pub get: String,
    /// The list, as given to [`SameBytes::start`].
    pub list: String,
}

impl SameBytes {
    /// Starts both servers; `list` is the list's path and query
    /// (`/v2/webhooks` for Attio's default page of 10). Checks that
    /// wiremock answers both requests with the fake's bytes.
    pub fn start(runtime: &tokio::runtime::Runtime, list: &str) -> Self {
        let fake = FakeAttio::builder()
            .token(super::TOKEN, [Scope::ReadWrite])
            .max_recorded_requests(0)
            .build();
        let seeds = (0..100u128).map(|i| {
            let w = super::webhook(i);
            Seed::new(w.target_url, w.subscriptions)
                .webhook_id(w.id.webhook_id)
                .created_at(w.created_at)
        });
        fake.seed(seeds).unwrap();
        let fake = super::serve_on_own_thread(fake);
        let get = format!("/v2/webhooks/{}", WebhookId::from_u128(1));
        let paths = [get.as_str(), list];
        let answers = runtime.block_on(Load::new(&fake, &paths).answers());
        let mock = runtime.block_on(async {
            let server = MockServer::builder()
                .listener(nodelay_listener().await)
                .disable_request_recording()
                .start()
                .await;
            for (request, answer) in paths.iter().zip(&answers) {
                let only_path = request.split('?').next().unwrap();
                Mock::given(method("GET"))
                    .and(path(only_path))
                    .respond_with(
                        ResponseTemplate::new(200).set_body_raw(answer.clone(), "application/json"),
                    )
                    .mount(&server)
                    .await;
            }
            server
        });
        assert_eq!(
            runtime.block_on(Load::new(&mock.uri(), &paths).answers()),
            answers,
            "wiremock answers the fake's bytes"
        );
        Self {
            fake,
            mock,
            get,
            list: list.to_owned(),
        }
    }

    /// The answer of the fake to the list, as `ListWebhooks` decodes it.
    pub fn listed(&self, runtime: &tokio::runtime::Runtime) -> usize {
        let body = runtime.block_on(Load::new(&self.fake, &[&self.list]).answers());
        let page = bytes::Bytes::from(body.into_iter().next().unwrap());
        <attio_webhooks::operations::ListWebhooks as attio_webhooks::RequestExt>::decode(
            http::Response::new(page),
        )
        .unwrap()
        .len()
    }
}
