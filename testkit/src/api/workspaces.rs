//! What a caller of the workspace routes sends and gets back: the options
//! of a new workspace, its grant (id and tokens), a summary per workspace,
//! and why a creation was refused. The registry that holds them is
//! [`super::registry`].

use attio_webhooks::model::Timestamp;
use attio_webhooks::WorkspaceId;
use serde::{Deserialize, Serialize};

/// How a new workspace differs from the server's defaults (the body of
/// `POST /__fake/workspaces`, `{"data": {...}}`; every key optional).
///
/// Without options a workspace runs on the system clock, with the
/// server's rate limits (none unless the server has them), target URL
/// policy, delivery policy and profile.
///
/// ```
/// use attio_webhooks_testkit::workspaces::WorkspaceOptions;
/// let options = WorkspaceOptions::new()
///     .manual_clock("2026-01-01T00:00:00Z".parse()?)
///     .rate_limits(100, 25);
/// assert_eq!(
///     serde_json::to_string(&options)?,
///     r#"{"manual_clock":"2026-01-01T00:00:00.000000000Z","rate_limits":{"reads_per_second":100,"writes_per_second":25}}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WorkspaceOptions {
    /// A manual clock starting at this instant, moved only by the
    /// workspace's own `POST /__fake/clock/advance`; `None`, the system
    /// clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_clock: Option<Timestamp>,
    /// The workspace's own per-second budgets (Attio counts its limits per
    /// workspace); `None`, the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimits>,
}

impl WorkspaceOptions {
    /// The defaults: system clock, the server's rate limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A manual clock starting at `start`.
    pub fn manual_clock(mut self, start: Timestamp) -> Self {
        self.manual_clock = Some(start);
        self
    }

    /// Refuses this workspace's requests over these per-second budgets with 429.
    pub fn rate_limits(mut self, reads_per_second: u32, writes_per_second: u32) -> Self {
        self.rate_limits = Some(RateLimits {
            reads_per_second,
            writes_per_second,
        });
        self
    }
}

/// A workspace's per-second request budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Reads (list, get) per wall-clock second.
    pub reads_per_second: u32,
    /// Writes (create, update, delete) per wall-clock second.
    pub writes_per_second: u32,
}

/// A new workspace: its id and the three tokens that reach it (the answer
/// of `POST /__fake/workspaces`). Each token is 32 random bytes from the
/// operating system, in hex, after a `fake-ws-` prefix; `Debug` never shows
/// them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkspaceGrant {
    /// The workspace's id: in every webhook's `id`, and the path of
    /// `DELETE /__fake/workspaces/{workspace_id}`.
    pub workspace_id: WorkspaceId,
    /// An API token with `webhook:read-write`.
    pub token: String,
    /// An API token with `webhook:read` only.
    pub read_only_token: String,
    /// A control token for this workspace's own `/__fake/...` routes.
    pub control_token: String,
}

impl std::fmt::Debug for WorkspaceGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkspaceGrant")
            .field("workspace_id", &self.workspace_id)
            .finish_non_exhaustive()
    }
}

/// One workspace as `GET /__fake/workspaces` lists it (never its tokens).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkspaceSummary {
    /// The workspace's id.
    pub workspace_id: WorkspaceId,
    /// Whole seconds since its last request (or its creation).
    pub idle_seconds: u64,
    /// Whether a handle in the fake's process holds it (it is then never
    /// dropped for idleness; dropping the handle deletes it).
    pub held: bool,
}

/// Why no workspace was created (over HTTP: 503 `workspace_limit`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CreateWorkspaceError {
    /// [`crate::Limits::workspaces`] workspaces exist.
    #[error("the fake holds {max} workspaces, its limit (Limits::workspaces / --max-workspaces): delete some, or let idle ones expire")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// The fake's process holds more memory than
    /// [`crate::Limits::workspaces_resident_bytes`].
    #[error("the fake's process holds {resident} bytes of memory, over its limit of {max} for creating workspaces (Limits::workspaces_resident_bytes): delete some workspaces")]
    OutOfMemory {
        /// Resident bytes, as measured.
        resident: u64,
        /// The limit.
        max: u64,
    },
    /// This fake is itself one workspace of another fake; create
    /// workspaces on that one.
    #[error("this fake is a workspace of another fake and cannot hold workspaces")]
    NotAServer,
}
