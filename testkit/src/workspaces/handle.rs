//! [`Workspace`]: a created workspace held from Rust; dropping it deletes
//! the workspace.

use std::ops::Deref;
use std::sync::Arc;

use attio_webhooks::WorkspaceId;

use crate::api::{CreateWorkspaceError, Registry, WorkspaceGrant, WorkspaceOptions};
use crate::fake::FakeAttio;

impl FakeAttio {
    /// A new isolated workspace on this fake, with the defaults (see
    /// [`FakeAttio::workspace_with`]).
    ///
    /// ```
    /// use attio_webhooks_testkit::FakeAttio;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fake = FakeAttio::new();
    /// let (a, b) = (fake.workspace()?, fake.workspace()?);
    /// a.client().list_webhooks(Default::default()).await?;
    /// assert_eq!(a.requests().len(), 1);
    /// assert!(b.requests().is_empty() && fake.requests().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn workspace(&self) -> Result<Workspace, CreateWorkspaceError> {
        self.workspace_with(WorkspaceOptions::new())
    }

    /// A new isolated workspace on this fake: its own webhooks, secrets,
    /// faults, request journal, deliveries, clock and rate-limit budget,
    /// reached over any door of this fake through its own tokens, and in
    /// Rust through the returned handle (which dereferences to a
    /// [`FakeAttio`] of that workspace alone). Dropping the handle deletes
    /// the workspace and revokes its tokens. Refused at
    /// [`crate::Limits::workspaces`] or
    /// [`crate::Limits::workspaces_resident_bytes`], and on a fake that
    /// is itself a workspace ([`CreateWorkspaceError::NotAServer`]).
    pub fn workspace_with(
        &self,
        options: WorkspaceOptions,
    ) -> Result<Workspace, CreateWorkspaceError> {
        let registry = self
            .dispatcher()
            .registry()
            .ok_or(CreateWorkspaceError::NotAServer)?;
        let (grant, state) = registry.create(&options, true)?;
        Ok(Workspace {
            fake: self.over_workspace(state),
            grant,
            registry: Arc::clone(registry),
        })
    }
}

/// One created workspace, held by a test (from [`FakeAttio::workspace`]
/// or [`crate::workspaces::SharedServer::workspace`]).
///
/// It dereferences to a [`FakeAttio`] of this workspace alone: `client()`
/// (in-process, with the read-write token), `seed`, `inject`,
/// `requests`, `emit`, `settle_deliveries`, `reset` and the rest act on
/// this workspace and no other. Dropping it deletes the workspace: its
/// tokens are refused (401) from then on, on every door, and what it held
/// is freed.
pub struct Workspace {
    fake: FakeAttio,
    grant: WorkspaceGrant,
    registry: Arc<Registry>,
}

impl Workspace {
    /// The workspace's id (in every webhook's `id`).
    pub fn id(&self) -> WorkspaceId {
        self.grant.workspace_id
    }

    /// Its id and tokens, as `POST /__fake/workspaces` answers them.
    pub fn grant(&self) -> &WorkspaceGrant {
        &self.grant
    }

    /// The read-only API token (`webhook:read`).
    pub fn read_only_token(&self) -> &str {
        &self.grant.read_only_token
    }

    /// The token of this workspace's own control routes.
    pub fn control_token(&self) -> &str {
        &self.grant.control_token
    }

    /// The fake of this workspace alone.
    pub fn fake(&self) -> &FakeAttio {
        &self.fake
    }

    /// Deletes the workspace now (as dropping the handle does).
    pub fn delete(self) {}
}

impl Deref for Workspace {
    type Target = FakeAttio;
    fn deref(&self) -> &FakeAttio {
        &self.fake
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        self.registry.delete(self.grant.workspace_id);
    }
}

/// The id only: the grant holds tokens.
impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("id", &self.grant.workspace_id)
            .finish_non_exhaustive()
    }
}
