//! The HTTP door: the dispatcher served over HTTP/1.1 and HTTP/2
//! (cleartext) with the limits of [`crate::Limits`]: a connection cap, a
//! header-read timeout (from the first byte of a request's headers), an
//! idle timeout (between requests), a body-read timeout, and a graceful
//! stop that lets running requests finish.
//!
//! At the connection cap it sheds rather than stalls; which connection goes
//! is `doors::connections`' choice.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Collected, Full, Limited};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::error::Elapsed;

use super::connections::{Admission, ConnectionCap, RequestCounter};
use crate::api::{errors, responses, Body, Dispatcher, Reply};

/// A dispatcher listening on a socket. Dropping it stops everything at
/// once; [`Listening::shutdown`] stops gracefully.
#[derive(Debug)]
pub(crate) struct Listening {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    dispatcher: Arc<Dispatcher>,
}

impl Listening {
    /// Binds `addr` and serves `dispatcher` on it. With `log`, each request
    /// writes one line to stderr (`crate::log_lines::request`).
    pub(crate) async fn bind(
        dispatcher: Arc<Dispatcher>,
        addr: SocketAddr,
        log: Option<crate::LogFormat>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        dispatcher.listening_on(addr.port());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&dispatcher), stopped, log));
        Ok(Self {
            addr,
            stop,
            task: Some(task),
            dispatcher,
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish (for at most
    /// [`crate::Limits::shutdown_grace`]), then closes every connection.
    pub(crate) async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every
        // connection task: nothing keeps serving.
        if let Some(task) = &self.task {
            task.abort();
        }
        self.dispatcher.stopped_listening(self.addr.port());
    }
}

async fn accept_loop(
    listener: TcpListener,
    dispatcher: Arc<Dispatcher>,
    mut stopped: watch::Receiver<bool>,
    log: Option<crate::LogFormat>,
) {
    let limits = dispatcher.limits().clone();
    let cap = ConnectionCap::with_reserve(limits.max_connections, limits.control_connections);
    let mut connections = JoinSet::new();
    'serving: loop {
        // Room for one more: at the cap, shed a connection that holds a
        // socket without using it; with every one busy, wait (the next
        // connections wait in the OS backlog).
        while !cap.has_room() {
            tokio::select! {
                _ = cap.changed().notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = stopped.changed() => break 'serving,
            }
        }
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(%error, "fake-attio: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(connection(
            stream,
            Arc::clone(&dispatcher),
            stopped.clone(),
            cap.reserve(),
            log,
        ));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(limits.shutdown_grace, drain).await;
    // Dropping the JoinSet aborts whatever did not finish in time.
}

/// Serves one connection until it ends, is idle for too long, or the
/// server stops (then gracefully: running requests finish first).
async fn connection(
    stream: TcpStream,
    dispatcher: Arc<Dispatcher>,
    mut stopped: watch::Receiver<bool>,
    admission: Admission,
    log: Option<crate::LogFormat>,
) {
    let limits = dispatcher.limits().clone();
    let io = TokioIo::new(admission.track(stream));
    let service = {
        let requests = admission.requests_handle();
        service_fn(move |request| {
            serve_one(Arc::clone(&dispatcher), requests.clone(), request, log)
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Not hyper's header timeout: its clock starts as soon as a keep-alive
    // connection goes idle, which would close every idle connection after
    // the header timeout rather than the idle timeout. This loop times
    // headers from their first byte instead.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let tick = (limits.idle_timeout.min(limits.header_read_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut ticker = tokio::time::interval(tick);
    let mut closing: Option<Pin<Box<tokio::time::Sleep>>> = None;
    // hyper's header timeout starts once HTTP/1 is chosen; before that the
    // connection is read only to tell HTTP/1 from HTTP/2. Its first request
    // must begin within the header timeout all the same.
    let first_request = tokio::time::sleep(limits.header_read_timeout);
    tokio::pin!(first_request);
    let mut waiting_for_first = true;
    // Made once, not at every turn of the loop: each of these registers
    // with a `Notify` when first polled, and the loop turns at every
    // read and write of the connection.
    let evicted = admission.evicted();
    tokio::pin!(evicted);
    let stop = stopped.changed();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = &mut evicted => return,
            _ = &mut first_request, if waiting_for_first => {
                if admission.requests() == 0 {
                    return;
                }
                waiting_for_first = false;
            }
            _ = &mut stop, if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(Box::pin(tokio::time::sleep(limits.shutdown_grace)));
            }
            _ = ticker.tick(), if closing.is_none() => {
                // Headers begun and not finished in time: nothing to let
                // finish, close (as hyper's own timeout would).
                if admission
                    .headers_pending_for()
                    .is_some_and(|pending| pending >= limits.header_read_timeout)
                {
                    return;
                }
                if admission.idle_for() >= limits.idle_timeout {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Box::pin(tokio::time::sleep(limits.shutdown_grace)));
                }
            }
            // A connection that does not close within the grace is dropped.
            _ = async { closing.as_mut().expect("guarded").await }, if closing.is_some() => return,
        }
    }
}

/// Reads a request's body within `limit` bytes and `timeout`. A request
/// that says it has none (a GET, a `content-length: 0`) is not read at all.
async fn read_body(
    body: Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<Result<Collected<Bytes>, Box<dyn std::error::Error + Send + Sync>>, Elapsed> {
    if body.is_end_stream() {
        return Ok(Ok(Collected::default()));
    }
    tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await
}

/// Why a connection was closed without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped")]
struct Dropped;

async fn serve_one(
    dispatcher: Arc<Dispatcher>,
    requests: RequestCounter,
    request: hyper::Request<Incoming>,
    log: Option<crate::LogFormat>,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let _busy = requests.request();
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    if parts.version == http::Version::HTTP_2 {
        requests.mark_http2();
    }
    let line = log.map(|format| (format, parts.method.clone(), parts.uri.path().to_owned()));
    let limits = dispatcher.limits();
    let reply = if !Dispatcher::is_control_plane(parts.uri.path()) && !requests.claim_regular() {
        // A reserve connection, admitted while every regular one runs a
        // request: it is kept for the control plane.
        let mut response = responses::error(
            &errors::at_capacity(limits.max_connections),
            std::time::SystemTime::now(),
        );
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, 1.into());
        Reply::Respond(response, None)
    } else {
        match read_body(body, dispatcher.max_body_bytes(), limits.body_read_timeout).await {
            // Only HTTP has a body that can be slow to arrive: this answer is
            // the door's own, not the dispatcher's.
            Err(_) => Reply::Respond(
                responses::error(&errors::request_timeout(), std::time::SystemTime::now()),
                None,
            ),
            Ok(Err(error)) if !error.is::<http_body_util::LengthLimitError>() => Reply::Drop,
            Ok(read) => {
                let body = match read {
                    Ok(collected) => Body::Read(collected.to_bytes()),
                    Err(_) => Body::TooLarge,
                };
                dispatcher.handle(http::Request::from_parts(parts, body))
            }
        }
    };
    let result = match reply {
        Reply::Respond(response, delay) => {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            Ok(response.map(Full::new))
        }
        Reply::Drop => Err(Dropped),
        Reply::Settle(settle) => Ok(settle.answer().await.map(Full::new)),
    };
    if let Some((format, method, path)) = line {
        let status = result.as_ref().map_or(0, |r| r.status().as_u16());
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let execution_id = result.as_ref().ok().and_then(|r| {
            r.headers()
                .get(attio_webhooks::error::EXECUTION_ID_HEADER)
                .and_then(|v| v.to_str().ok())
        });
        crate::log_lines::request(format, method.as_str(), &path, status, micros, execution_id);
    }
    result
}
