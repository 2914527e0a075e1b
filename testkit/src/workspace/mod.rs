//! The fake's state and Attio's rules, on typed input that was parsed
//! before any lock is taken.
//!
//! Nothing here knows about HTTP, tokio or the clock: the time of each
//! operation comes in as an argument, and so do fresh ids and secrets.

mod error;
mod footprint;
mod near_miss;
mod rules;
mod seed;
mod store;
mod stored_webhook;
mod unique;

pub use near_miss::{ConditionMiss, FilterMiss, Found, NearMiss, NearMissReason};
pub use seed::Seed;

pub(crate) use error::WorkspaceError;
pub(crate) use rules::{check_changes, check_new};
pub(crate) use store::{Workspace, WorkspaceLimits};
#[cfg(test)]
pub(crate) use stored_webhook::odd_webhook;
pub(crate) use stored_webhook::{random_secret, Prepared};
