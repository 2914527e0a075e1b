//! Every limit of the fake in one place, with its default: the bounds a
//! test can set ([`Limits`], also at the crate root) and the fixed ones
//! Attio has (rate limits, subscriptions per webhook, fault delays).

use std::time::Duration;

// The default idle timeout in seconds, as a literal: what
// `DEFAULT_IDLE_TIMEOUT` is made of and what the docs print (`concat!`
// takes literals only).
macro_rules! idle_timeout_secs {
    () => {
        60
    };
}

/// The limits that keep a fake bounded whatever it is sent.
///
/// The defaults are generous for tests and small enough that a fake
/// reachable by others cannot be made to hold more than a few hundred MiB:
///
/// | limit | default | when it is reached |
/// |---|---|---|
/// | `max_body_bytes` | 1 MiB | 413 `payload_too_large`, before anything else |
/// | `recorded_requests` / `recorded_bytes` | 10,000 / 64 MiB | the oldest recorded requests are dropped (counted) |
/// | `delivery_log_entries` / `delivery_log_bytes` | 10,000 / 64 MiB | the oldest attempts are dropped (counted) |
/// | `queued_deliveries` | 10,000 | a further message is logged as skipped, not queued |
/// | `webhooks` / `stored_bytes` | 10,000 / 256 MiB | create, seed and an update that would grow past it answer 400 `validation_type`; the bytes are the memory the webhooks hold (every string, list and index entry, rounded as the allocator rounds them), not their JSON length, which can be a ninth of it |
/// | `fault_rules` | 1,000 | adding a rule answers 400 |
/// | `header_read_timeout` | 10 s | a request whose headers, from their first byte (or from the connection's opening, for its first request), take longer: the connection is closed |
#[doc = concat!("| `idle_timeout` | ", idle_timeout_secs!(), " s ([`DEFAULT_IDLE_TIMEOUT`]) | a keep-alive connection idle this long between requests is closed (HTTP/1 and HTTP/2 alike; the header timeout runs only once a request's first byte has come) |")]
/// | `body_read_timeout` | 30 s | a request body not fully sent by then is answered 408 |
/// | `max_connections` | 256 | the connection that matters least is closed to make room: one that has not begun a request (oldest first, after a 250 ms grace), else the one idle longest; with every one running a request, up to `control_connections` more are admitted, then new ones wait in the OS backlog |
/// | `control_connections` | 8 | beyond `max_connections`, only while every connection runs a request: on these the control routes and the health route are answered and API requests get 503 with `Retry-After: 1`, so a saturated API (delay faults, say) never locks out the controls |
/// | `shutdown_grace` | 5 s | requests still running at shutdown are cut off |
/// | `workspaces` | 1,000 | creating another workspace ([`crate::workspaces`]) answers 503 `workspace_limit` |
/// | `workspaces_resident_bytes` | 1 GiB | while the process's resident memory (RSS, as Linux reports it; not checked elsewhere) is over it, creating a workspace answers 503 `workspace_limit` |
/// | `workspace_bytes` | 16 MiB | each created workspace's `recorded_bytes`, `delivery_log_bytes` and `stored_bytes` are at most this (its share of the memory) |
/// | `workspace_idle_timeout` | 10 min | a workspace created over HTTP that gets no request for this long is deleted (one a Rust handle holds never is) |
///
/// The six before `workspaces` apply to the HTTP doors ([`crate::FakeAttio::serve`] and
/// the `fake-attio` binary).
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks_testkit::{FakeAttio, Limits};
/// let mut limits = Limits::default();
/// limits.recorded_bytes = 1 << 20;
/// limits.header_read_timeout = Duration::from_secs(2);
/// let fake = FakeAttio::builder().limits(limits).build();
/// # let _ = fake;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest request body read (larger ones get 413).
    pub max_body_bytes: usize,
    /// How many received requests are kept.
    pub recorded_requests: usize,
    /// How many bytes of received requests (bodies, headers, paths) are kept.
    pub recorded_bytes: usize,
    /// How many delivery attempts the delivery log keeps.
    pub delivery_log_entries: usize,
    /// How many bytes of delivery attempts (bodies mostly) the log keeps.
    pub delivery_log_bytes: usize,
    /// How many deliveries may wait in the queue.
    pub queued_deliveries: usize,
    /// How many webhooks the workspace holds.
    pub webhooks: usize,
    /// How many bytes of memory the workspace's webhooks may hold: an
    /// estimate of every allocation (strings, lists, uniqueness keys, the
    /// serialized answer) and their entries in the indexes.
    pub stored_bytes: usize,
    /// How many fault rules may be pending.
    pub fault_rules: usize,
    /// How long a client may take to send a request's headers, from their
    /// first byte (the first request's, from the connection's opening).
    pub header_read_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests
    /// ([`DEFAULT_IDLE_TIMEOUT`] by default).
    pub idle_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
    /// How many more connections are admitted while every one of
    /// `max_connections` runs a request, for the control and health
    /// routes only.
    pub control_connections: usize,
    /// How long a stopping server lets running requests finish.
    pub shutdown_grace: Duration,
    /// How many workspaces ([`crate::workspaces`]) may exist besides the
    /// default one.
    pub workspaces: usize,
    /// The process's resident memory above which no workspace is created.
    pub workspaces_resident_bytes: u64,
    /// The most each created workspace may keep of recorded requests, of
    /// delivery log and of webhooks, in bytes each.
    pub workspace_bytes: usize,
    /// How long a workspace created over HTTP may go without a request
    /// before it is deleted.
    pub workspace_idle_timeout: Duration,
}

/// How long a keep-alive connection may sit idle between requests by
/// default ([`Limits::idle_timeout`]):
#[doc = concat!(idle_timeout_secs!(), " s.")]
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(idle_timeout_secs!());

/// The largest request body the fake reads by default: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How many requests the fake records by default (the oldest are dropped).
pub const DEFAULT_MAX_RECORDED_REQUESTS: usize = 10_000;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: MAX_BODY_BYTES,
            recorded_requests: DEFAULT_MAX_RECORDED_REQUESTS,
            recorded_bytes: 64 << 20,
            delivery_log_entries: 10_000,
            delivery_log_bytes: 64 << 20,
            queued_deliveries: 10_000,
            webhooks: 10_000,
            stored_bytes: 256 << 20,
            fault_rules: 1_000,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            body_read_timeout: Duration::from_secs(30),
            max_connections: 256,
            control_connections: 8,
            shutdown_grace: Duration::from_secs(5),
            workspaces: 1_000,
            workspaces_resident_bytes: 1 << 30,
            workspace_bytes: 16 << 20,
            workspace_idle_timeout: Duration::from_secs(600),
        }
    }
}

/// Attio's read limit per second, the fake's default when rate limits are
/// on.
pub const READS_PER_SECOND: u32 = 100;
/// Attio's write limit per second, the fake's default when rate limits are
/// on.
pub const WRITES_PER_SECOND: u32 = 25;

/// The longest answer a [`Fault::Delay`](crate::Fault::Delay) may hold
/// back: 60 s. Each delayed answer holds a connection (never shed while its
/// request runs), so an unbounded delay could hold the fake's whole
/// connection cap until restart.
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(60);

/// How long `POST /__fake/deliveries/settle` waits by default: 10 s.
pub const DEFAULT_SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest `POST /__fake/deliveries/settle` may wait: 60 s (like
/// [`MAX_FAULT_DELAY`], each wait holds a connection).
pub const MAX_SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The most subscriptions one webhook may have: 1,000. Attio documents no
/// limit; real webhooks have a few (there are 34 event types). The cap
/// keeps one create from holding tens of megabytes; past it, create,
/// update and seed answer 400 `validation_type`.
pub const MAX_SUBSCRIPTIONS_PER_WEBHOOK: usize = 1_000;
