//! The doors into the dispatcher: in-process and HTTP. Each reads a
//! request, hands it to [`crate::api`]'s dispatcher with the time, and
//! carries out the reply; nothing else.

#[cfg(feature = "server")]
mod connections;
#[cfg(feature = "server")]
mod http;
mod in_process;

pub use in_process::{InProcessError, InProcessTransport};

#[cfg(feature = "server")]
pub use connections::{Admission, ConnectionCap, RequestCounter, RequestGuard, TrackedStream};

#[cfg(feature = "server")]
pub(crate) use http::Listening;
