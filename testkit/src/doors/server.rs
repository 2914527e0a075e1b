//! The HTTP door: the dispatcher served over HTTP/1.1 and HTTP/2
//! (cleartext) with the limits of [`crate::Limits`]: a connection cap, a
//! header-read timeout, an idle timeout, a body-read timeout, and a
//! graceful stop that lets running requests finish.
//!
//! At the connection cap the server sheds rather than stalls: to make room
//! for a new connection it closes the connection that matters least (one
//! that has not begun a request, oldest first; else the one idle longest
//! between requests), never one with a request running and never one
//! younger than [`SHED_GRACE`] (a client that just connected gets the time
//! to send its request). Connections that only hold a socket (slow or
//! silent headers, idle keep-alives) cannot lock out a client that sends
//! its request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

use crate::api::{errors, responses, Body, Dispatcher, Reply};
use crate::locked::Locked;

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
    /// writes one JSON line to stderr (method, path, status, microseconds).
    pub(crate) async fn bind(
        dispatcher: Arc<Dispatcher>,
        addr: SocketAddr,
        log: bool,
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
    log: bool,
) {
    let limits = dispatcher.limits().clone();
    let live = Arc::new(Live::default());
    let mut connections = JoinSet::new();
    'serving: loop {
        // Room for one more: at the cap, shed a connection that holds a
        // socket without using it; with every one busy, wait (the next
        // connections wait in the OS backlog).
        while !live.make_room(limits.max_connections.max(1)) {
            tokio::select! {
                _ = live.changed.notified() => {}
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
        let activity = live.add();
        connections.spawn(connection(
            stream,
            Arc::clone(&dispatcher),
            stopped.clone(),
            Member {
                live: Arc::clone(&live),
                activity,
            },
            log,
        ));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(limits.shutdown_grace, drain).await;
    // Dropping the JoinSet aborts whatever did not finish in time.
}

/// How long a new connection is safe from being shed at the cap.
pub(crate) const SHED_GRACE: Duration = Duration::from_millis(250);

/// The connections being served.
#[derive(Debug)]
struct Live {
    members: Locked<Vec<Arc<Activity>>>,
    /// A connection ended or finished a request.
    changed: Notify,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            members: Locked::new("connections", Vec::new()),
            changed: Notify::new(),
        }
    }
}

impl Live {
    fn add(&self) -> Arc<Activity> {
        let activity = Arc::new(Activity::new());
        self.members.with(|m| m.push(Arc::clone(&activity)));
        activity
    }

    fn remove(&self, activity: &Arc<Activity>) {
        self.members
            .with(|m| m.retain(|a| !Arc::ptr_eq(a, activity)));
        self.changed.notify_one();
    }

    /// `true` when a connection may be accepted: below `cap`, or at it
    /// after shedding the least useful idle connection.
    fn make_room(&self, cap: usize) -> bool {
        self.members.with(|members| {
            if members.len() < cap {
                return true;
            }
            let victim = members
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    a.busy.load(Ordering::Relaxed) == 0 && a.start.elapsed() >= SHED_GRACE
                })
                .min_by_key(|(_, a)| a.shedding_order())
                .map(|(i, _)| i);
            match victim {
                Some(i) => {
                    members.swap_remove(i).evict.notify_one();
                    true
                }
                None => false,
            }
        })
    }
}

/// A connection's place among the live ones, given up when it ends.
struct Member {
    live: Arc<Live>,
    activity: Arc<Activity>,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.live.remove(&self.activity);
    }
}

/// When a connection last moved a byte, and how many requests it is
/// handling, for the idle timeout and shedding.
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_nanos: AtomicU64,
    busy: AtomicUsize,
    /// Requests begun on this connection.
    requests: AtomicUsize,
    /// Told to close to make room for another connection.
    evict: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_nanos: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            evict: Notify::new(),
        }
    }

    /// Which idle connection goes first at the cap: one that never began
    /// a request (the oldest first), then the one idle longest.
    fn shedding_order(&self) -> (bool, Instant) {
        let begun = self.requests.load(Ordering::Relaxed) > 0;
        let since = if begun {
            self.start + Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed))
        } else {
            self.start
        };
        (begun, since)
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_nanos.store(nanos, Ordering::Relaxed);
    }

    /// How long the connection has been idle: zero while a request runs.
    fn idle_for(&self) -> Duration {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Counts a request as running while it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        activity.requests.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that notes each read in its [`Activity`].
struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Writes only answer requests, which count as activity while they
        // run (`Busy`); reading the clock here would cost every answer.
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves one connection until it ends, is idle for too long, or the
/// server stops (then gracefully: running requests finish first).
async fn connection(
    stream: TcpStream,
    dispatcher: Arc<Dispatcher>,
    mut stopped: watch::Receiver<bool>,
    member: Member,
    log: bool,
) {
    let limits = dispatcher.limits().clone();
    let activity = Arc::clone(&member.activity);
    let io = TokioIo::new(Tracked {
        stream,
        activity: Arc::clone(&activity),
    });
    let service = {
        let activity = Arc::clone(&activity);
        service_fn(move |request| {
            serve_one(Arc::clone(&dispatcher), Arc::clone(&activity), request, log)
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let tick = (limits.idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut ticker = tokio::time::interval(tick);
    let mut closing: Option<Pin<Box<tokio::time::Sleep>>> = None;
    // hyper's header timeout starts once HTTP/1 is chosen; before that the
    // connection is read only to tell HTTP/1 from HTTP/2. Its first request
    // must begin within the header timeout all the same.
    let first_request = tokio::time::sleep(limits.header_read_timeout);
    tokio::pin!(first_request);
    let mut waiting_for_first = true;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = activity.evict.notified() => return,
            _ = &mut first_request, if waiting_for_first => {
                if activity.requests.load(Ordering::Relaxed) == 0 {
                    return;
                }
                waiting_for_first = false;
            }
            _ = stopped.changed(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(Box::pin(tokio::time::sleep(limits.shutdown_grace)));
            }
            _ = ticker.tick(), if closing.is_none() => {
                if activity.idle_for() >= limits.idle_timeout {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Box::pin(tokio::time::sleep(limits.shutdown_grace)));
                }
            }
            // A connection that does not close within the grace is dropped.
            _ = async { closing.as_mut().expect("guarded").await }, if closing.is_some() => return,
        }
    }
}

/// Why a connection was closed without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped")]
struct Dropped;

async fn serve_one(
    dispatcher: Arc<Dispatcher>,
    activity: Arc<Activity>,
    request: hyper::Request<Incoming>,
    log: bool,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let _busy = Busy::new(&activity);
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let line = log.then(|| (parts.method.clone(), parts.uri.path().to_owned()));
    let limits = dispatcher.limits();
    let read = Limited::new(body, dispatcher.max_body_bytes()).collect();
    let reply = match tokio::time::timeout(limits.body_read_timeout, read).await {
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
            let now = dispatcher.shared().clock.read();
            dispatcher.handle(http::Request::from_parts(parts, body), now)
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
    };
    if let Some((method, path)) = line {
        let status = result.as_ref().map_or(0, |r| r.status().as_u16());
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        eprintln!(
            "{}",
            serde_json::json!({"method": method.as_str(), "path": path, "status": status, "micros": micros})
        );
    }
    result
}
