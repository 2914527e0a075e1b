//! The five webhook operations: each parses and checks its input first,
//! then takes the workspace lock once, briefly, to apply it and copy out
//! the answer's bytes.

use attio_webhooks::{error::ApiErrorBody, model::Timestamp, WebhookStatus};
use bytes::Bytes;

use super::errors;
use super::parse;
use super::responses;
use super::state::{fresh_id, FakeState};
use crate::workspace::{check_changes, check_new, random_secret, Prepared};

/// What an operation answers: 200 with these bytes, or an Attio error.
pub(crate) type Answer = Result<http::Response<Bytes>, ApiErrorBody>;

/// `GET /v2/webhooks`
pub(crate) fn list(state: &FakeState, query: Option<&str>, now: Timestamp) -> Answer {
    let (limit, offset) = parse::list_query(query)?;
    let page = state.workspace.with(|ws| ws.list(now, limit, offset));
    Ok(responses::raw(200, page))
}

/// `POST /v2/webhooks`
pub(crate) fn create(state: &FakeState, body: &Bytes, now: Timestamp) -> Answer {
    let (target_url, subscriptions) = parse::create_body(body)?;
    let checked = check_new(target_url, subscriptions, state.config.targets)
        .map_err(|e| errors::from_workspace(e, "data"))?;
    let prepared = Prepared::new(
        state.config.workspace_id,
        fresh_id(),
        checked,
        WebhookStatus::Active,
        now,
        random_secret(),
        now,
    );
    let answer = prepared.created_body();
    state
        .workspace
        .with(|ws| ws.insert(now, vec![prepared]))
        .map_err(|e| errors::from_workspace(e, "data"))?;
    Ok(responses::raw(200, answer))
}

/// `GET /v2/webhooks/{id}`
pub(crate) fn get(state: &FakeState, id: &str, now: Timestamp) -> Answer {
    let one = state
        .workspace
        .with(|ws| ws.get(now, id))
        .map_err(|e| errors::from_workspace(e, "data"))?;
    Ok(responses::raw(200, one))
}

/// `PATCH /v2/webhooks/{id}`
pub(crate) fn update(state: &FakeState, id: &str, body: &Bytes, now: Timestamp) -> Answer {
    let (target_url, subscriptions) = parse::update_body(body)?;
    let changes = check_changes(target_url, subscriptions, state.config.targets)
        .map_err(|e| errors::from_workspace(e, "data"))?;
    let one = state
        .workspace
        .with(|ws| ws.update(now, id, changes))
        .map_err(|e| errors::from_workspace(e, "data"))?;
    Ok(responses::raw(200, one))
}

/// `DELETE /v2/webhooks/{id}`
pub(crate) fn delete(state: &FakeState, id: &str, now: Timestamp) -> Answer {
    state
        .workspace
        .with(|ws| ws.delete(now, id))
        .map_err(|e| errors::from_workspace(e, "data"))?;
    Ok(responses::empty())
}
