//! Controlling and inspecting a fake: [`ControlClient`] (also at the crate
//! root) for a fake in another process, the routes it calls, and the
//! types of what a fake reports (its logs, its clock).
//!
//! In the same process, call the [`crate::FakeAttio`] methods instead.

#[cfg(feature = "server")]
mod client;

#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use client::{ClockState, ControlClient, ControlError};

pub use crate::api::{UnknownScope, CONTROL_PREFIX, CREDENTIAL_HEADERS, HEALTH_PATH};
pub use crate::bounded::LogSnapshot;
