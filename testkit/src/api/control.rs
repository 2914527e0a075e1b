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
//! | `POST /__fake/events` | `{"data":Event}`, or a batch: `{"data":[Event, ...]}` or `{"data":{"events":[Event, ...]}}` | deliver an event, or a batch (one message per webhook with every event it accepts): `{"data":[queued],"near_misses":[..]}` |
//! | `GET /__fake/deliveries` | | `{"data":[attempt],"dropped":N}` |
//! | `POST /__fake/deliveries/settle` | nothing, or `{"data":{"timeout_seconds":N}}` (default 10, at most 60) | waits until every attempt due by the workspace's clock has been made (the HTTP twin of `FakeAttio::settle_deliveries`): `{}`, or 504 `settle_timeout` |
//! | `POST /__fake/deliveries/{idempotency_key}/redeliver` | | send a logged message again (404 `unknown_idempotency_key` when the log does not hold it) |
//! | `GET /__fake/clock` | | `{"data":{"now":..,"manual":..}}` |
//! | `POST /__fake/clock/advance` | `{"data":{"seconds":N}}` | move a manual clock |
//!
//! With workspaces (`super::workspace_routes`), each workspace's control
//! token opens these routes for that workspace only.
//!
//! Answers are `{"data": ...}` (or `{}`), errors Attio-shaped
//! 400/401/404, and 405 (with `Allow`) for a method a path does not have.
//!
//! `spec/fake-control.openapi.json` describes these routes for other
//! languages, and `crate::ControlClient` calls them from Rust; a test
//! checks that the three agree.

use std::time::Duration;

use attio_webhooks::{error::ApiErrorBody, model::Timestamp};
use bytes::Bytes;
use http::Method;
use serde::{Deserialize, Serialize};

use super::errors;
use super::faults::FaultRule;
use super::parse;
use super::parse::EventsBody;
use super::recording::RecordedRequest;
use super::responses;
use super::settle::SettleFor;
use super::state::FakeState;
use crate::delivery::RedeliveryError;
use crate::limits::{DEFAULT_SETTLE_TIMEOUT, MAX_SETTLE_TIMEOUT};
use crate::workspace::NearMiss;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettleBody {
    timeout_seconds: f64,
}

fn clock(state: &FakeState) -> http::Response<Bytes> {
    responses::data(&serde_json::json!({
        "now": state.clock.now(),
        "manual": state.clock.is_manual(),
    }))
}

type Answer = Result<http::Response<Bytes>, ApiErrorBody>;

/// One control route's handler: the state, the body, the time.
type Handler = fn(&FakeState, &Bytes, Timestamp) -> Answer;

/// A control route's handler with one path parameter.
type ParamHandler = fn(&FakeState, &str, &Bytes, Timestamp) -> Answer;

/// The control routes with one parameter (path before it, path after it,
/// method, handler): `/deliveries/{idempotency_key}/redeliver`.
const PARAM_ROUTES: &[(&str, &str, &str, ParamHandler)] =
    &[("/deliveries/", "/redeliver", "POST", redeliver)];

/// Every control route (path after `/__fake`, method, handler): the one
/// list that routes requests and writes the `Allow` header of a 405.
const ROUTES: &[(&str, &str, Handler)] = &[
    ("/reset", "POST", reset),
    ("/webhooks", "GET", webhooks),
    ("/webhooks", "POST", seed),
    ("/requests", "GET", requests),
    ("/requests", "DELETE", forget_requests),
    ("/faults", "GET", faults),
    ("/faults", "POST", add_fault),
    ("/faults", "DELETE", clear_faults),
    ("/events", "POST", events),
    ("/deliveries", "GET", deliveries),
    ("/deliveries/settle", "POST", settle),
    ("/clock", "GET", read_clock),
    ("/clock/advance", "POST", advance),
];

fn reset(state: &FakeState, _: &Bytes, _: Timestamp) -> Answer {
    state.reset();
    Ok(responses::empty())
}

fn webhooks(state: &FakeState, _: &Bytes, now: Timestamp) -> Answer {
    Ok(responses::data(&state.webhooks_with_secrets(now)))
}

fn seed(state: &FakeState, body: &Bytes, now: Timestamp) -> Answer {
    let seeds = parse::seeds_body(body)?;
    Ok(responses::data(&state.seed(seeds, now)?))
}

fn requests(state: &FakeState, _: &Bytes, _: Timestamp) -> Answer {
    Ok(responses::json(
        200,
        &state.requests().map(RecordedRequest::redacted),
    ))
}

fn forget_requests(state: &FakeState, _: &Bytes, _: Timestamp) -> Answer {
    state.clear_requests();
    Ok(responses::empty())
}

fn faults(state: &FakeState, _: &Bytes, _: Timestamp) -> Answer {
    Ok(responses::data(&state.pending_faults()))
}

fn add_fault(state: &FakeState, body: &Bytes, _: Timestamp) -> Answer {
    state.inject(parse::control_body::<FaultRule>(body)?)?;
    Ok(responses::empty())
}

fn clear_faults(state: &FakeState, _: &Bytes, _: Timestamp) -> Answer {
    state.clear_faults();
    Ok(responses::empty())
}

/// `{"data": [queued], "near_misses": [...]}`; 400 with the known types
/// and the near misses for an unknown type no webhook subscribes to.
fn events(state: &FakeState, body: &Bytes, now: Timestamp) -> Answer {
    let emitted = match parse::events_body(body)? {
        EventsBody::One(event) => state.emit(&event, now),
        EventsBody::Batch(events) => state.emit_batch(&events, now),
    };
    match emitted {
        Ok(emitted) => Ok(responses::json(200, &emitted)),
        Err(unknown) => Ok(responses::json(
            400,
            &Refusal {
                error: errors::validation(unknown.to_string()),
                near_misses: &unknown.near_misses,
            },
        )),
    }
}

/// An error body with the near misses beside Attio's keys.
#[derive(Serialize)]
struct Refusal<'a> {
    #[serde(flatten)]
    error: ApiErrorBody,
    near_misses: &'a [NearMiss],
}

fn deliveries(state: &FakeState, _: &Bytes, _: Timestamp) -> Answer {
    Ok(responses::json(200, &state.delivery_log()))
}

/// An empty answer marked for the door: wait for the deliveries to
/// settle first (see `super::dispatcher::Settle`).
fn settle(_: &FakeState, body: &Bytes, _: Timestamp) -> Answer {
    let timeout = if body.iter().all(u8::is_ascii_whitespace) {
        DEFAULT_SETTLE_TIMEOUT
    } else {
        let asked = parse::control_body::<SettleBody>(body)?.timeout_seconds;
        Duration::try_from_secs_f64(asked)
            .ok()
            .filter(|t| *t <= MAX_SETTLE_TIMEOUT)
            .ok_or_else(|| {
                errors::validation(format!(
                    "timeout_seconds: {asked} is not between 0 and {}",
                    MAX_SETTLE_TIMEOUT.as_secs()
                ))
            })?
    };
    let mut response = responses::empty();
    response.extensions_mut().insert(SettleFor(timeout));
    Ok(response)
}

fn redeliver(state: &FakeState, key: &str, _: &Bytes, now: Timestamp) -> Answer {
    let key = parse::percent_decoded(key)
        .ok_or_else(|| errors::validation("the Idempotency-Key in the path is not valid UTF-8"))?;
    match state.redeliver(&key, now) {
        Ok(queued) => Ok(responses::data(&queued)),
        Err(RedeliveryError::UnknownKey { key }) => Err(errors::unknown_idempotency_key(&key)),
        Err(full) => Err(errors::server_error_with(503, full.to_string())),
    }
}

fn read_clock(state: &FakeState, _: &Bytes, _: Timestamp) -> Answer {
    Ok(clock(state))
}

fn advance(state: &FakeState, body: &Bytes, _: Timestamp) -> Answer {
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

/// Answers control route `route` (the path after `/__fake`): 404 for a
/// path it does not have, 405 with `Allow` for a method it does not have.
pub(crate) fn handle(
    state: &FakeState,
    method: &Method,
    route: &str,
    path: &str,
    body: &Bytes,
    now: Timestamp,
) -> Answer {
    let mut allowed: Vec<&str> = Vec::new();
    for (at, allows, handler) in ROUTES {
        if *at == route {
            if *allows == method.as_str() {
                return handler(state, body, now);
            }
            allowed.push(allows);
        }
    }
    for (before, after, allows, handler) in PARAM_ROUTES {
        let param = route
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .filter(|p| !p.is_empty() && !p.contains('/'));
        if let Some(param) = param {
            if *allows == method.as_str() {
                return handler(state, param, body, now);
            }
            allowed.push(allows);
        }
    }
    if allowed.is_empty() {
        return Err(errors::no_such_route(method.as_str(), path));
    }
    Ok(responses::method_not_allowed(
        method.as_str(),
        path,
        &allowed.join(", "),
    ))
}
