//! [`ConnectionCap`]: which connections a server keeps at its connection
//! cap: each connection's activity (bytes moved, requests running), and the
//! choice of the one to shed when a new one needs room. The fake's HTTP
//! door and the `attio-webhooks listen` receiver both serve through it.
//!
//! At the cap the server sheds rather than stalls: it closes the connection
//! that matters least (one that has not begun a request, oldest first; else
//! the one idle longest between requests), never one with a request running
//! and never one younger than [`SHED_GRACE`] (a client that just connected
//! gets the time to send its request). Connections that only hold a socket
//! (slow or silent headers, idle keep-alives) cannot lock out a client that
//! sends its request.
//!
//! With every connection running a request (a test holding answers back
//! with delay faults, say) nothing can be shed; a cap made
//! [`with_reserve`](ConnectionCap::with_reserve) then admits a few more
//! connections as *reserve* ones, on which the server answers only what
//! must stay reachable (the fake's control and health routes), so a
//! saturated API never locks out the controls that could end it.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::locked::Locked;

/// How long a new connection is safe from being shed at the cap.
pub(crate) const SHED_GRACE: Duration = Duration::from_millis(250);

/// A cap on the connections a server holds, that sheds rather than
/// stalls: at the cap, [`admit`](ConnectionCap::admit) closes the
/// connection that matters least (one that never began a request, oldest
/// first; else the one idle longest between requests), never one with a
/// request running and never one younger than 250 ms. With every
/// connection busy it admits up to its reserve of further connections
/// ([`Admission::is_reserve`]), then waits (new connections wait in the OS
/// backlog).
///
/// ```no_run
/// # async fn serve(listener: tokio::net::TcpListener) {
/// use attio_webhooks_testkit::server::ConnectionCap;
/// let cap = ConnectionCap::new(64);
/// loop {
///     let admission = cap.admit().await;
///     let (stream, _) = listener.accept().await.unwrap();
///     tokio::spawn(async move {
///         let stream = admission.track(stream); // reads count as activity
///         tokio::select! {
///             _ = admission.evicted() => {}      // shed to make room: close
///             _ = async { /* serve `stream`; hold admission.request() while a request runs */ } => {}
///         }
///     });
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ConnectionCap {
    live: Arc<Live>,
}

impl ConnectionCap {
    /// A cap of `max` connections (at least 1), without a reserve.
    pub fn new(max: usize) -> Self {
        Self::with_reserve(max, 0)
    }

    /// A cap of `max` connections (at least 1) plus `reserve` more that are
    /// admitted only while all `max` run a request and none can be shed.
    /// A reserve connection is meant for the requests that must stay
    /// reachable under load; [`RequestCounter::claim_regular`] tells a
    /// server whether it may serve anything else on it.
    pub fn with_reserve(max: usize, reserve: usize) -> Self {
        Self {
            live: Arc::new(Live::new(max.max(1), reserve)),
        }
    }

    /// Waits until one more connection may be held (shedding an idle one
    /// at the cap), and reserves its place; accept the connection then.
    pub async fn admit(&self) -> Admission {
        while !self.live.make_room() {
            tokio::select! {
                _ = self.live.changed.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
        self.reserve()
    }

    /// Whether one more connection may be held now (shedding an idle one
    /// at the cap); the door's accept loop, which also watches for stop.
    pub(crate) fn has_room(&self) -> bool {
        self.live.make_room()
    }

    pub(crate) fn changed(&self) -> &Notify {
        &self.live.changed
    }

    pub(crate) fn reserve(&self) -> Admission {
        let activity = self.live.add();
        Admission {
            member: Member {
                live: Arc::clone(&self.live),
                activity,
            },
        }
    }

    /// How many connections are held.
    pub fn len(&self) -> usize {
        self.live.members.with(|m| m.len())
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One connection's place under a [`ConnectionCap`], given up when dropped.
#[derive(Debug)]
pub struct Admission {
    member: Member,
}

impl Admission {
    /// Wraps the accepted stream so that each read counts as activity.
    pub fn track(&self, stream: TcpStream) -> TrackedStream {
        TrackedStream {
            stream,
            activity: Arc::clone(&self.member.activity),
        }
    }

    /// Counts a request as running (and begun) while the guard lives: a
    /// connection with a request running is never shed.
    pub fn request(&self) -> RequestGuard {
        RequestGuard::new(&self.member.activity)
    }

    /// Resolves when the cap sheds this connection to make room: close it.
    pub async fn evicted(&self) {
        self.member.activity.evict.notified().await;
    }

    /// Whether the connection holds one of the reserve places (see
    /// [`ConnectionCap::with_reserve`]) rather than a regular one.
    pub fn is_reserve(&self) -> bool {
        self.member.activity.reserve.load(Ordering::Relaxed)
    }

    /// How many requests the connection has begun.
    pub fn requests(&self) -> usize {
        self.member.activity.requests.load(Ordering::Relaxed)
    }

    /// How long it has been idle (zero while a request runs).
    pub fn idle_for(&self) -> Duration {
        self.member.activity.idle_for()
    }

    /// How long the headers of its next request have been arriving: from
    /// the first byte read after the last request ended (or since it
    /// opened) until that request begins; `None` when no byte of one has
    /// come. HTTP/2 connections (whose idle reads are frames, not headers)
    /// answer `None` once they are known to be HTTP/2.
    pub(crate) fn headers_pending_for(&self) -> Option<Duration> {
        self.member.activity.headers_pending_for()
    }

    /// A handle to count requests from a service that outlives a borrow.
    pub fn requests_handle(&self) -> RequestCounter {
        RequestCounter {
            live: Arc::clone(&self.member.live),
            activity: Arc::clone(&self.member.activity),
        }
    }
}

/// Makes [`RequestGuard`]s for one connection, from inside its service.
#[derive(Clone, Debug)]
pub struct RequestCounter {
    live: Arc<Live>,
    activity: Arc<Activity>,
}

impl RequestCounter {
    /// See [`Admission::request`].
    pub fn request(&self) -> RequestGuard {
        RequestGuard::new(&self.activity)
    }

    /// The connection speaks HTTP/2: reads between its requests are frames,
    /// not the headers of a next request.
    pub(crate) fn mark_http2(&self) {
        self.activity.http2.store(true, Ordering::Relaxed);
    }

    /// `true` when the connection holds a regular place, or a reserve one
    /// that can become regular now (the regular places are no longer all
    /// taken): a request that any connection may carry can be served. On
    /// `false` the server should answer only what the reserve is for.
    pub fn claim_regular(&self) -> bool {
        if !self.activity.reserve.load(Ordering::Relaxed) {
            return true;
        }
        self.live.members.with(|members| {
            if regular(members) < self.live.max {
                self.activity.reserve.store(false, Ordering::Relaxed);
                true
            } else {
                false
            }
        })
    }
}

/// How many of `members` hold a regular place.
fn regular(members: &[Arc<Activity>]) -> usize {
    members
        .iter()
        .filter(|a| !a.reserve.load(Ordering::Relaxed))
        .count()
}

/// The connections being served.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) members: Locked<Vec<Arc<Activity>>>,
    /// A connection ended or finished a request.
    pub(crate) changed: Notify,
    /// Regular places.
    max: usize,
    /// Further places while every regular one runs a request.
    reserve: usize,
}

impl Live {
    fn new(max: usize, reserve: usize) -> Self {
        Self {
            members: Locked::new("connections", Vec::new()),
            changed: Notify::new(),
            max,
            reserve,
        }
    }

    /// Adds a connection: in a regular place if one is free, else in the
    /// reserve.
    pub(crate) fn add(&self) -> Arc<Activity> {
        self.members.with(|m| {
            let activity = Arc::new(Activity::new(regular(m) >= self.max));
            m.push(Arc::clone(&activity));
            activity
        })
    }

    pub(crate) fn remove(&self, activity: &Arc<Activity>) {
        self.members
            .with(|m| m.retain(|a| !Arc::ptr_eq(a, activity)));
        self.changed.notify_one();
    }

    /// `true` when a connection may be accepted: below the cap, or at it
    /// after shedding the least useful idle connection, or in the reserve
    /// when none can be shed.
    pub(crate) fn make_room(&self) -> bool {
        self.members.with(|members| {
            let regular = regular(members);
            if regular < self.max {
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
                None => members.len() - regular < self.reserve,
            }
        })
    }
}

/// A connection's place among the live ones, given up when it ends.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) live: Arc<Live>,
    pub(crate) activity: Arc<Activity>,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.live.remove(&self.activity);
    }
}

/// When a connection last moved a byte, and how many requests it is
/// handling, for the idle timeout and shedding.
#[derive(Debug)]
pub(crate) struct Activity {
    pub(crate) start: Instant,
    pub(crate) last_nanos: AtomicU64,
    pub(crate) busy: AtomicUsize,
    /// Requests begun on this connection.
    pub(crate) requests: AtomicUsize,
    /// Told to close to make room for another connection.
    pub(crate) evict: Notify,
    /// Holds a reserve place (see [`ConnectionCap::with_reserve`]).
    pub(crate) reserve: AtomicBool,
    /// When the first byte after the last request (nanoseconds since
    /// `start`, plus one) arrived; 0 when none has since.
    pub(crate) head_since: AtomicU64,
    /// Known to be HTTP/2.
    pub(crate) http2: AtomicBool,
}

impl Activity {
    pub(crate) fn new(reserve: bool) -> Self {
        Self {
            start: Instant::now(),
            last_nanos: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            evict: Notify::new(),
            reserve: AtomicBool::new(reserve),
            head_since: AtomicU64::new(0),
            http2: AtomicBool::new(false),
        }
    }

    fn nanos(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Bytes arrived: between requests, they begin the next one's headers.
    fn read_some(&self) {
        let now = self.nanos();
        self.last_nanos.store(now, Ordering::Relaxed);
        if self.busy.load(Ordering::Relaxed) == 0 {
            let _ =
                self.head_since
                    .compare_exchange(0, now + 1, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    fn headers_pending_for(&self) -> Option<Duration> {
        if self.http2.load(Ordering::Relaxed) {
            return None;
        }
        let since = self.head_since.load(Ordering::Relaxed).checked_sub(1)?;
        Some(
            self.start
                .elapsed()
                .saturating_sub(Duration::from_nanos(since)),
        )
    }

    /// Which idle connection goes first at the cap: one that never began
    /// a request (the oldest first), then the one idle longest.
    pub(crate) fn shedding_order(&self) -> (bool, Instant) {
        let begun = self.requests.load(Ordering::Relaxed) > 0;
        let since = if begun {
            self.start + Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed))
        } else {
            self.start
        };
        (begun, since)
    }

    pub(crate) fn touch(&self) {
        self.last_nanos.store(self.nanos(), Ordering::Relaxed);
    }

    /// How long the connection has been idle: zero while a request runs.
    pub(crate) fn idle_for(&self) -> Duration {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Counts a request as running while it lives ([`Admission::request`]).
#[derive(Debug)]
pub struct RequestGuard(Arc<Activity>);

impl RequestGuard {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        activity.requests.fetch_add(1, Ordering::Relaxed);
        // Its headers are in.
        activity.head_since.store(0, Ordering::Relaxed);
        RequestGuard(Arc::clone(activity))
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An accepted stream whose reads count as its connection's activity
/// ([`Admission::track`]).
#[derive(Debug)]
pub struct TrackedStream {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_some();
        }
        poll
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Writes only answer requests, which count as activity while they
        // run (`Busy`); reading the clock here would cost every answer.
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    // Vectored, as the socket is: without these, hyper copies every
    // answer's body into its write buffer instead of handing it to writev.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
