//! The fake: its binary, its bounds, its doors, its behaviour beyond the
//! contract, a model-based test, and its safety when others can reach it.
//! One test binary (each file a module).

#[cfg(feature = "server")]
#[path = "binary.rs"]
mod binary;
#[path = "bounds.rs"]
mod bounds;
#[path = "common/mod.rs"]
mod common;
#[path = "doors.rs"]
mod doors;
#[cfg(feature = "server")]
#[path = "fake_behaviour.rs"]
mod fake_behaviour;
#[path = "model_based.rs"]
mod model_based;
#[path = "safety.rs"]
mod safety;
