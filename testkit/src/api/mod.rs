//! The sans-IO dispatcher: one `http::Request` plus the time in, one
//! reply out, for the API and the control routes alike. See
//! [`dispatcher`] for the order of the steps.

mod auth;
mod control;
mod dispatcher;
pub(crate) mod errors;
mod faults;
mod parse;
mod rate_limit;
mod recording;
mod registry;
pub(crate) mod responses;
mod route;
mod settle;
mod state;
pub(crate) mod validation;
pub(crate) mod webhooks;
mod workspace_routes;
mod workspaces;

pub use auth::{Scope, UnknownScope};
pub use faults::{Fault, FaultRule};
pub use recording::{RecordedRequest, CREDENTIAL_HEADERS};
#[cfg(feature = "fixtures")]
pub(crate) use responses::retry_after_next_second;
pub use route::{CONTROL_PREFIX, HEALTH_PATH};
pub use workspaces::{
    CreateWorkspaceError, RateLimits, WorkspaceGrant, WorkspaceOptions, WorkspaceSummary,
};

pub(crate) use auth::{ControlAccess, Tokens};
pub(crate) use dispatcher::{Body, Dispatcher, Reply};
pub(crate) use parse::SeedInput;
pub(crate) use registry::Registry;
pub(crate) use state::{Config, FakeState};
