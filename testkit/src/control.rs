//! The fake's test-control endpoints, under `/__fake`, for the binary and
//! for tests in any language. They need no token and are not recorded.
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `POST /__fake/reset` | | forget webhooks, faults, requests, deliveries |
//! | `GET /__fake/webhooks` | | every webhook with its `secret` |
//! | `POST /__fake/webhooks` | `{"data":[Seed]}` | seed webhooks |
//! | `GET /__fake/requests` | | every API request received |
//! | `DELETE /__fake/requests` | | forget them |
//! | `GET /__fake/faults` | | pending fault rules |
//! | `POST /__fake/faults` | `{"data":FaultRule}` | add a fault rule |
//! | `DELETE /__fake/faults` | | drop all fault rules |
//! | `POST /__fake/events` | `{"data":Event}` | deliver an event ([`FakeAttio::emit`]) |
//! | `GET /__fake/deliveries` | | the delivery log |
//! | `GET /__fake/clock` | | `{"data":{"now":..,"manual":..}}` |
//! | `POST /__fake/clock/advance` | `{"data":{"seconds":N}}` | move a manual clock |
//!
//! Answers are `{"data": ...}` (or `{}`), errors Attio-shaped 400/404.

use std::time::Duration;

use attio_webhooks::{ApiErrorBody, Event};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::fake::{FakeAttio, CONTROL_PREFIX};
use crate::faults::FaultRule;
use crate::responses::Data;
use crate::store::Seed;
use crate::{errors, responses};

fn read<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiErrorBody> {
    serde_json::from_slice::<Data<T>>(body)
        .map(|d| d.data)
        .map_err(|e| errors::validation(format!("Invalid control request body: {e}")))
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

fn clock(fake: &FakeAttio) -> http::Response<Bytes> {
    responses::data(&serde_json::json!({
        "now": fake.clock().now(),
        "manual": fake.clock().is_manual(),
    }))
}

fn empty() -> http::Response<Bytes> {
    responses::json(200, &serde_json::json!({}))
}

pub(crate) fn handle(fake: &FakeAttio, request: &http::Request<Bytes>) -> http::Response<Bytes> {
    let path = request.uri().path();
    let route = &path[CONTROL_PREFIX.len()..];
    let body = request.body();
    let result = match (request.method().as_str(), route) {
        ("POST", "/reset") => {
            fake.reset();
            Ok(empty())
        }
        ("GET", "/webhooks") => Ok(responses::data(&fake.webhooks_with_secrets())),
        ("POST", "/webhooks") => read::<Vec<Seed>>(body)
            .and_then(|seeds| fake.seed(seeds))
            .map(|created| responses::data(&created)),
        ("GET", "/requests") => Ok(responses::data(&fake.requests())),
        ("DELETE", "/requests") => {
            fake.clear_requests();
            Ok(empty())
        }
        ("GET", "/faults") => Ok(responses::data(&fake.pending_faults())),
        ("POST", "/faults") => read::<FaultRule>(body).map(|rule| {
            fake.inject(rule);
            empty()
        }),
        ("DELETE", "/faults") => {
            fake.clear_faults();
            Ok(empty())
        }
        ("POST", "/events") => read::<Event>(body).map(|event| responses::data(&fake.emit(event))),
        ("GET", "/deliveries") => Ok(responses::data(&fake.delivery_log())),
        ("GET", "/clock") => Ok(clock(fake)),
        ("POST", "/clock/advance") => read::<Advance>(body).and_then(|advance| {
            if !fake.clock().is_manual() {
                return Err(errors::validation(
                    "The fake runs on the system clock; start it with a manual clock (fake-attio --manual-clock).",
                ));
            }
            let seconds = Duration::try_from_secs_f64(advance.seconds)
                .map_err(|e| errors::validation(format!("seconds: {e}")))?;
            fake.clock().advance(seconds);
            Ok(clock(fake))
        }),
        (method, _) => Err(errors::no_such_route(method, path)),
    };
    result.unwrap_or_else(|body| responses::error(&body))
}
