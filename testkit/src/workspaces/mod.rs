//! One fake, many isolated workspaces: each test takes its own, with its
//! own tokens, webhooks, secrets, faults, request journal, deliveries,
//! clock and rate-limit budget, on a server the tests share.
//!
//! | you want | reach for |
//! |---|---|
//! | a workspace per `#[tokio::test]` on one loopback server for the whole process | [`shared()`]`.workspace()` ([`SharedWorkspace`]: `client()` over HTTP, pooled) |
//! | a workspace on a fake you hold (in-process or served) | [`crate::FakeAttio::workspace`] ([`Workspace`]) |
//! | workspaces on a fake in another process (the binary, the image) | `POST /__fake/workspaces`, [`crate::ControlClient::create_workspace`] |
//!
//! # How a request finds its workspace
//!
//! By its bearer token. Creating a workspace answers its id and three
//! tokens ([`WorkspaceGrant`]): a read-write API token, a read-only one
//! and a control token that opens the `/__fake/...` routes of that
//! workspace only. Each is `fake-ws-` and 32 bytes from the operating
//! system's generator, in hex. A request with a `fake-ws-` token the fake
//! does not hold (its workspace was deleted, or a guess) gets 401 and is
//! recorded in no journal. Every other request goes to the **default
//! workspace**, the one a fake had before workspaces existed, with the
//! tokens and control token it was configured with: a caller that never
//! asks for a workspace sees no change. (The prefix `fake-ws-` is
//! reserved: do not configure default tokens that start with it.)
//!
//! The server-wide routes `POST`/`GET /__fake/workspaces` and `DELETE
//! /__fake/workspaces/{workspace_id}` are opened by the server's control
//! access (open, or its control token); a workspace's own tokens get 401
//! there. Nothing in a path names a workspace, so one workspace's tokens
//! cannot reach another's webhooks, journal, faults, deliveries or clock.
//!
//! # Bounds
//!
//! At most [`crate::Limits::workspaces`] workspaces (1,000 by default);
//! none is created while the process's resident memory is over
//! [`crate::Limits::workspaces_resident_bytes`] (1 GiB; Linux only); each
//! keeps at most [`crate::Limits::workspace_bytes`] (16 MiB) of each of
//! its journal, delivery log and webhooks; one created over HTTP that has
//! had no request for [`crate::Limits::workspace_idle_timeout`] (10 min)
//! is deleted. At a cap, creation fails with [`CreateWorkspaceError`]
//! (over HTTP, 503 `workspace_limit`), and the workspaces that exist go on
//! working.
//!
//! Attio has nothing like this (a token there belongs to one workspace,
//! and workspaces are not made through the API): it is the fake's own
//! control surface, and all of it is the fake's choice.

mod handle;
#[cfg(feature = "server")]
mod shared;

pub use crate::api::{
    CreateWorkspaceError, RateLimits, WorkspaceGrant, WorkspaceOptions, WorkspaceSummary,
};
pub use handle::Workspace;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use shared::{shared, SharedServer, SharedTransport, SharedWorkspace};
