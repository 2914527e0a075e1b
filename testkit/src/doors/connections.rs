//! Which connections the HTTP door keeps at its connection cap: each
//! connection's activity (bytes moved, requests running), and the choice
//! of the one to shed when a new one needs room.
//!
//! At the cap the server sheds rather than stalls: it closes the connection
//! that matters least (one that has not begun a request, oldest first; else
//! the one idle longest between requests), never one with a request running
//! and never one younger than [`SHED_GRACE`] (a client that just connected
//! gets the time to send its request). Connections that only hold a socket
//! (slow or silent headers, idle keep-alives) cannot lock out a client that
//! sends its request.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::locked::Locked;

/// How long a new connection is safe from being shed at the cap.
pub(crate) const SHED_GRACE: Duration = Duration::from_millis(250);

/// The connections being served.
#[derive(Debug)]
pub(super) struct Live {
    pub(super) members: Locked<Vec<Arc<Activity>>>,
    /// A connection ended or finished a request.
    pub(super) changed: Notify,
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
    pub(super) fn add(&self) -> Arc<Activity> {
        let activity = Arc::new(Activity::new());
        self.members.with(|m| m.push(Arc::clone(&activity)));
        activity
    }

    pub(super) fn remove(&self, activity: &Arc<Activity>) {
        self.members
            .with(|m| m.retain(|a| !Arc::ptr_eq(a, activity)));
        self.changed.notify_one();
    }

    /// `true` when a connection may be accepted: below `cap`, or at it
    /// after shedding the least useful idle connection.
    pub(super) fn make_room(&self, cap: usize) -> bool {
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
pub(super) struct Member {
    pub(super) live: Arc<Live>,
    pub(super) activity: Arc<Activity>,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.live.remove(&self.activity);
    }
}

/// When a connection last moved a byte, and how many requests it is
/// handling, for the idle timeout and shedding.
#[derive(Debug)]
pub(super) struct Activity {
    pub(super) start: Instant,
    pub(super) last_nanos: AtomicU64,
    pub(super) busy: AtomicUsize,
    /// Requests begun on this connection.
    pub(super) requests: AtomicUsize,
    /// Told to close to make room for another connection.
    pub(super) evict: Notify,
}

impl Activity {
    pub(super) fn new() -> Self {
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
    pub(super) fn shedding_order(&self) -> (bool, Instant) {
        let begun = self.requests.load(Ordering::Relaxed) > 0;
        let since = if begun {
            self.start + Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed))
        } else {
            self.start
        };
        (begun, since)
    }

    pub(super) fn touch(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_nanos.store(nanos, Ordering::Relaxed);
    }

    /// How long the connection has been idle: zero while a request runs.
    pub(super) fn idle_for(&self) -> Duration {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Counts a request as running while it lives.
pub(super) struct Busy(Arc<Activity>);

impl Busy {
    pub(super) fn new(activity: &Arc<Activity>) -> Self {
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
pub(super) struct Tracked {
    pub(super) stream: TcpStream,
    pub(super) activity: Arc<Activity>,
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
