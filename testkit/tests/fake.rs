//! The fake: its binary, its bounds, its doors, its behaviour beyond the
//! contract, its deliveries to https receivers, a model-based test, its
//! safety when others can reach it, and the `SeenKeys` conformance suite.
//! One test binary (each file a module).

#[cfg(feature = "server")]
#[path = "binary.rs"]
mod binary;
#[path = "bounds.rs"]
mod bounds;
#[cfg(all(feature = "server", unix))]
#[path = "broken_pipe.rs"]
mod broken_pipe;
#[path = "common/mod.rs"]
mod common;
#[path = "delivery_profile.rs"]
mod delivery_profile;
#[path = "doors.rs"]
mod doors;
#[cfg(feature = "server")]
#[path = "fake_behaviour.rs"]
mod fake_behaviour;
#[cfg(feature = "server")]
#[path = "https_delivery.rs"]
mod https_delivery;
#[path = "model_based.rs"]
mod model_based;
#[cfg(feature = "server")]
#[path = "near_misses.rs"]
mod near_misses;
#[cfg(feature = "server")]
#[path = "observed.rs"]
mod observed;
#[path = "safety.rs"]
mod safety;
#[path = "seen_keys.rs"]
mod seen_keys;
#[path = "snapshot/mod.rs"]
mod snapshot;
#[path = "snapshots.rs"]
mod snapshots;
#[cfg(feature = "server")]
#[path = "workspaces.rs"]
mod workspaces;
