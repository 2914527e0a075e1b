//! The models and requests against Attio's spec: conformance, the tables of
//! hand-written cases, property tests, and the fuzz corpus replayed. One test
//! binary (each file a module).

#[path = "fuzz_replay.rs"]
mod fuzz_replay;
#[path = "model_props.rs"]
mod model_props;
#[path = "spec_conformance.rs"]
mod spec_conformance;
#[path = "spec_tables.rs"]
mod spec_tables;
