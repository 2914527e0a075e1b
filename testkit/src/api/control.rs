//! The fake's test-control routes, under `/__fake`, for the binary and for
//! tests in any language. They are never recorded and never faulted; who
//! may use them is set by the control token (see the crate docs).
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `POST /__fake/reset` | | forget webhooks, faults, requests, deliveries |
//! | `GET /__fake/webhooks` | | every webhook with its `secret` |
//! | `POST /__fake/webhooks` | `{"data":[Seed]}` | seed webhooks (checked like creates; all or none) |
//! | `GET /__fake/requests` | | `{"data":[request],"dropped":N}`, credentials redacted |
//! | `DELETE /__fake/requests` | | forget them |
//! | `GET /__fake/faults` | | pending fault rules |
//! | `POST /__fake/faults` | `{"data":FaultRule}` | add a fault rule |
//! | `DELETE /__fake/faults` | | drop all fault rules |
//! | `POST /__fake/events` | `{"data":Event}` | deliver an event |
//! | `GET /__fake/deliveries` | | `{"data":[attempt],"dropped":N}` |
//! | `GET /__fake/clock` | | `{"data":{"now":..,"manual":..}}` |
//! | `POST /__fake/clock/advance` | `{"data":{"seconds":N}}` | move a manual clock |
//!
//! Answers are `{"data": ...}` (or `{}`), errors Attio-shaped 400/401/404.
//!
//! `spec/fake-control.openapi.json` describes these routes for other
//! languages, and `crate::ControlClient` calls them from Rust; a test
//! checks that the three agree.

use std::time::Duration;

use attio_webhooks::{error::ApiErrorBody, model::Timestamp, receive::Event};
use bytes::Bytes;
use http::Method;
use serde::Deserialize;

use super::errors;
use super::faults::FaultRule;
use super::parse;
use super::recording::RecordedRequest;
use super::responses;
use super::state::FakeState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

fn clock(state: &FakeState) -> http::Response<Bytes> {
    responses::data(&serde_json::json!({
        "now": state.clock.now(),
        "manual": state.clock.is_manual(),
    }))
}

/// Answers control route `route` (the path after `/__fake`).
pub(crate) fn handle(
    state: &FakeState,
    method: &Method,
    route: &str,
    path: &str,
    body: &Bytes,
    now: Timestamp,
) -> Result<http::Response<Bytes>, ApiErrorBody> {
    match (method.as_str(), route) {
        ("POST", "/reset") => {
            state.reset();
            Ok(responses::empty())
        }
        ("GET", "/webhooks") => Ok(responses::data(&state.webhooks_with_secrets(now))),
        ("POST", "/webhooks") => {
            let seeds = parse::seeds_body(body)?;
            Ok(responses::data(&state.seed(seeds, now)?))
        }
        ("GET", "/requests") => Ok(responses::json(
            200,
            &state.requests().map(RecordedRequest::redacted),
        )),
        ("DELETE", "/requests") => {
            state.clear_requests();
            Ok(responses::empty())
        }
        ("GET", "/faults") => Ok(responses::data(&state.pending_faults())),
        ("POST", "/faults") => {
            state.inject(parse::control_body::<FaultRule>(body)?)?;
            Ok(responses::empty())
        }
        ("DELETE", "/faults") => {
            state.clear_faults();
            Ok(responses::empty())
        }
        ("POST", "/events") => {
            let event = parse::control_body::<Event>(body)?;
            Ok(responses::data(&state.emit(&event, now)))
        }
        ("GET", "/deliveries") => Ok(responses::json(200, &state.delivery_log())),
        ("GET", "/clock") => Ok(clock(state)),
        ("POST", "/clock/advance") => {
            let advance = parse::control_body::<Advance>(body)?;
            if !state.clock.is_manual() {
                return Err(errors::validation(
                    "The fake runs on the system clock; start it with a manual clock (fake-attio --manual-clock).",
                ));
            }
            let seconds = Duration::try_from_secs_f64(advance.seconds)
                .map_err(|e| errors::validation(format!("seconds: {e}")))?;
            state.clock.advance(seconds);
            Ok(clock(state))
        }
        (method, _) => Err(errors::no_such_route(method, path)),
    }
}
