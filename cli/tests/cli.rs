//! The built `attio-webhooks` binary: managing webhooks against the fake,
//! receiving (`listen`, `dev`, `trigger`), grading receivers (`probe`),
//! recording and replaying deliveries (`listen --record`, `replay`), and the
//! same refusals from every receiver. One test binary (each file
//! a module).

#[path = "common/mod.rs"]
mod common;
#[path = "inbox.rs"]
mod inbox;
#[path = "manage.rs"]
mod manage;
#[path = "probe.rs"]
mod probe;
#[path = "receive.rs"]
mod receive;
#[path = "record_replay.rs"]
mod record_replay;
#[path = "same_refusals.rs"]
mod same_refusals;
