//! The server-wide control routes that make, list and delete workspaces
//! (see [`super::registry`]). Only the server's control access opens them
//! (no token when the control routes are open, the fake's control token
//! when one is set); a workspace's own tokens get 401.
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `POST /__fake/workspaces` | nothing, or `{"data": WorkspaceOptions}` | a new workspace: `{"data": {"workspace_id", "token", "read_only_token", "control_token"}}`; 503 `workspace_limit` at a cap |
//! | `GET /__fake/workspaces` | | `{"data": [{"workspace_id", "idle_seconds", "held"}]}` |
//! | `DELETE /__fake/workspaces/{workspace_id}` | | deletes it, revoking its tokens; 404 `unknown_workspace` |

use attio_webhooks::error::ApiErrorBody;
use attio_webhooks::WorkspaceId;
use bytes::Bytes;
use http::Method;

use super::errors;
use super::parse;
use super::registry::Registry;
use super::responses;
use super::workspaces::WorkspaceOptions;

type Answer = Result<http::Response<Bytes>, ApiErrorBody>;

const COLLECTION: &str = "/workspaces";

/// Whether `rest` (the path after `/__fake`) is one of these routes.
pub(crate) fn is_server_route(rest: &str) -> bool {
    rest.strip_prefix(COLLECTION)
        .is_some_and(|r| r.is_empty() || r.starts_with('/'))
}

/// Answers a workspace route; 404 for a path it does not have, 405 with
/// `Allow` for a method it does not have.
pub(crate) fn handle(
    registry: &Registry,
    method: &Method,
    rest: &str,
    path: &str,
    body: &Bytes,
) -> Answer {
    let tail = rest.strip_prefix(COLLECTION).unwrap_or(rest);
    match (tail, method.as_str()) {
        ("", "POST") => create(registry, body),
        ("", "GET") => Ok(responses::data(&registry.list())),
        ("", other) => Ok(responses::method_not_allowed(other, path, "GET, POST")),
        (id, method) => match id.strip_prefix('/').filter(|id| !id.contains('/')) {
            Some(id) if !id.is_empty() && method == "DELETE" => delete(registry, id),
            Some(id) if !id.is_empty() => Ok(responses::method_not_allowed(method, path, "DELETE")),
            _ => Err(errors::no_such_route(method, path)),
        },
    }
}

fn create(registry: &Registry, body: &Bytes) -> Answer {
    let options = if body.iter().all(u8::is_ascii_whitespace) {
        WorkspaceOptions::default()
    } else {
        parse::control_body::<WorkspaceOptions>(body)?
    };
    match registry.create(&options, false) {
        Ok((grant, _)) => Ok(responses::data(&grant)),
        Err(refused) => Err(errors::workspace_limit(&refused)),
    }
}

fn delete(registry: &Registry, id: &str) -> Answer {
    let deleted = uuid::Uuid::parse_str(id)
        .ok()
        .is_some_and(|uuid| registry.delete(WorkspaceId::from_uuid(uuid)));
    if deleted {
        Ok(responses::empty())
    } else {
        Err(errors::unknown_workspace(id))
    }
}
