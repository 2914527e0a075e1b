//! The five webhook operations: each parses and checks its input first,
//! then takes the workspace lock once, briefly, to apply it and copy out
//! the answer's bytes.

use attio_webhooks::{error::ApiErrorBody, model::Timestamp, WebhookId, WebhookStatus};
use bytes::Bytes;

use super::errors;
use super::parse;
use super::responses;
use super::state::{fresh_id, FakeState};
use crate::workspace::{check_changes, check_new, random_secret, Prepared, WorkspaceError};

/// What an operation answers: 200 with these bytes, or an Attio error.
pub(crate) type Answer = Result<http::Response<Bytes>, ApiErrorBody>;

/// `GET /v2/webhooks`
pub(crate) fn list(state: &FakeState, query: Option<&str>, now: Timestamp) -> Answer {
    let (limit, offset) = parse::list_query(query)?;
    let page = state.workspace.with(|ws| ws.list(now, limit, offset));
    Ok(responses::raw(200, responses::data_array(&page)))
}

/// `POST /v2/webhooks`
pub(crate) fn create(state: &FakeState, body: &Bytes, now: Timestamp) -> Answer {
    let (target_url, subscriptions) = parse::create_body(body)?;
    let checked = check_new(target_url, subscriptions, &state.config.targets)
        .map_err(|e| errors::from_workspace(e, "data"))?;
    let prepared = Prepared::new(
        state.config.workspace_id,
        fresh_id(),
        checked,
        WebhookStatus::Active,
        to_millis(now),
        random_secret(),
        now,
    );
    let answer = responses::data_created(prepared.webhook.json(), prepared.webhook.secret());
    state
        .workspace
        .with(|ws| ws.insert(now, vec![prepared]))
        .map_err(|e| errors::from_workspace(e, "data"))?;
    Ok(responses::raw(200, answer))
}

/// `now` cut to whole milliseconds: every live `created_at` has
/// millisecond precision padded to nine digits
/// (`2026-07-22T22:02:54.417000000Z`, amp-labs/connectors PR 3231 and its
/// recorded fixtures; rbeene/attio_ruby's capture).
pub(crate) fn to_millis(now: Timestamp) -> Timestamp {
    let nanos = now.unix_nanos();
    Timestamp::from_unix_nanos(nanos - nanos.rem_euclid(1_000_000)).unwrap_or(now)
}

/// The webhook id in a path; a malformed one is as unknown as a missing
/// one (the same 404).
fn path_id(id: &str) -> Result<WebhookId, ApiErrorBody> {
    WebhookId::parse(id).map_err(|_| errors::not_found(id))
}

/// The workspace's error for the webhook at path `id`: a 404 names the id
/// as the path gave it.
fn refused(id: &str) -> impl Fn(WorkspaceError) -> ApiErrorBody + '_ {
    move |error| match error {
        WorkspaceError::NotFound(_) => errors::not_found(id),
        other => errors::from_workspace(other, "data"),
    }
}

/// `GET /v2/webhooks/{id}`
pub(crate) fn get(state: &FakeState, id: &str, now: Timestamp) -> Answer {
    let webhook_id = path_id(id)?;
    let one = state
        .workspace
        .with(|ws| ws.get(now, webhook_id))
        .map_err(refused(id))?;
    Ok(responses::raw(200, responses::data_object(&one)))
}

/// `PATCH /v2/webhooks/{id}`
pub(crate) fn update(state: &FakeState, id: &str, body: &Bytes, now: Timestamp) -> Answer {
    let webhook_id = path_id(id)?;
    let (target_url, subscriptions) = parse::update_body(body)?;
    let changes = check_changes(target_url, subscriptions, &state.config.targets)
        .map_err(|e| errors::from_workspace(e, "data"))?;
    let one = state
        .workspace
        .with(|ws| ws.update(now, webhook_id, changes))
        .map_err(refused(id))?;
    Ok(responses::raw(200, responses::data_object(&one)))
}

/// `DELETE /v2/webhooks/{id}`
pub(crate) fn delete(state: &FakeState, id: &str, now: Timestamp) -> Answer {
    let webhook_id = WebhookId::parse(id).map_err(|_| errors::not_found_to_delete())?;
    state
        .workspace
        .with(|ws| ws.delete(now, webhook_id))
        .map_err(|error| match error {
            WorkspaceError::NotFound(_) => errors::not_found_to_delete(),
            other => errors::from_workspace(other, "data"),
        })?;
    Ok(responses::empty())
}
