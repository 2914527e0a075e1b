//! Loopback servers shared by the transport tests: a recording HTTP proxy
//! and the helpers around it. Each test binary uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::http;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The name the test certificate is for; it resolves nowhere, so only a
/// proxy tunnel can reach it.
pub const TLS_HOST: &str = "attio.test";

/// Every test is bounded: loopback only, and never longer than this.
pub const BOUND: Duration = Duration::from_secs(20);

/// Runs a test body, failing it if it takes longer than [`BOUND`].
pub async fn bounded<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(BOUND, test)
        .await
        .expect("the test ran past its bound");
}

/// Stops the server task when the test ends, whatever happens.
pub struct Task(pub JoinHandle<()>);
impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads a request head (up to the blank line) and what came after it.
pub async fn read_head(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return (String::from_utf8_lossy(&buf).into_owned(), rest);
        }
        assert!(buf.len() < 64 * 1024, "head too long");
    }
    (String::from_utf8_lossy(&buf).into_owned(), Vec::new())
}

/// A proxy that logs the head of every connection it is asked for. It
/// tunnels `CONNECT attio.test:443` to `tls` and forwards absolute-form
/// requests to the loopback address in their URI; with `refuse`, it
/// answers every request 407.
pub struct Proxy {
    pub addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    _task: Task,
}

impl Proxy {
    pub async fn start(tls: Option<SocketAddr>, refuse: bool) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let log = heads.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let (head, rest) = read_head(&mut client).await;
                    log.lock().unwrap().push(head.clone());
                    if refuse {
                        let _ = client
                            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")
                            .await;
                        return;
                    }
                    let target = head.split_whitespace().nth(1).unwrap_or_default();
                    let upstream_addr = if head.starts_with("CONNECT ") {
                        assert_eq!(target, format!("{TLS_HOST}:443"));
                        tls.expect("no TLS server behind this proxy")
                    } else {
                        let uri: http::Uri = target.parse().unwrap();
                        let authority = uri.authority().unwrap().as_str().to_owned();
                        let addr: SocketAddr = authority.parse().unwrap();
                        assert!(addr.ip().is_loopback());
                        addr
                    };
                    let mut upstream = TcpStream::connect(upstream_addr).await.unwrap();
                    if head.starts_with("CONNECT ") {
                        client
                            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                            .await
                            .unwrap();
                    } else {
                        upstream.write_all(head.as_bytes()).await.unwrap();
                    }
                    upstream.write_all(&rest).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
        Proxy {
            addr,
            heads,
            _task: Task(task),
        }
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// The value of header `name` in a logged request head.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}
