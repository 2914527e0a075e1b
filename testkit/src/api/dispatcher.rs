//! The one dispatcher behind every door: a request and the time in, a
//! reply out. No sockets, no sleeping: a door reads the body, calls
//! [`Dispatcher::handle`] and carries out the [`Reply`].
//!
//! Every request goes through the same steps, in this order:
//!
//! 1. **Size cap**: a body over [`crate::Limits::max_body_bytes`] (or one
//!    a door stopped reading) gets 413 and nothing else happens.
//! 2. **Route** from method and path. The health route (`GET /__health`)
//!    is answered at once, for anyone.
//! 3. **Workspace** from the bearer token (`super::registry`): a created
//!    workspace's token selects it, a `fake-ws-` token the fake does not
//!    hold gets 401 (recorded nowhere), anything else goes to the default
//!    workspace; the rest happens in the workspace selected, at its clock.
//!    Control routes (`/__fake/...`) go to the control check (the
//!    workspace's control token; for the default workspace, 404 when
//!    control is off and 401 without the control token when one is set;
//!    the server-wide `/__fake/workspaces` routes only through the
//!    default's) and are answered; they are never recorded or faulted.
//! 4. **Record**: every other request is recorded here, whatever its answer.
//! 5. Unknown route: 404; a known path with another method: 405 with
//!    `Allow`.
//! 6. **Auth**: 401 for a missing or unknown token, 403 for a missing scope.
//! 7. **Rate limit**: 429 with `Retry-After` when over budget.
//! 8. **Faults**: the first matching rule is used up; "before handling"
//!    faults answer now.
//! 9. **Parse and check** the query or body, outside any lock: 400.
//! 10. **One short lock** on the workspace applies the operation: 404, 409
//!     or 200.
//! 11. "After handling" faults spoil the answer (status, truncation,
//!     dropped connection, delay).
//!
//! Every answer from step 5 on carries a fresh `X-Attio-Execution-Id`, as
//! Attio's do.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::auth::{bearer, ControlAccess, Scope};
use super::errors;
use super::faults::Fault;
use super::registry::{Registry, Resolved, Role};
use super::responses;
use super::route::Route;
use super::settle::{Settle, SettleFor};
use super::state::FakeState;
use super::webhooks::{self, Answer};
use super::workspace_routes;
use crate::clock::Now;

/// A request body as a door hands it over.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// The whole body.
    Read(Bytes),
    /// The body was larger than the limit; the door stopped reading it.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    TooLarge,
}

/// What a door does with a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send this answer, after `delay` if there is one.
    Respond(http::Response<Bytes>, Option<Duration>),
    /// Close the connection without an answer.
    Drop,
    /// Wait until a workspace's deliveries have settled, then answer
    /// (`POST /__fake/deliveries/settle`).
    Settle(Settle),
}

/// Handles requests for one fake; see the module docs for the order.
pub(crate) struct Dispatcher {
    /// The default workspace: requests without a workspace token.
    state: Arc<FakeState>,
    /// The created workspaces; `None` for a workspace's own view.
    registry: Option<Arc<Registry>>,
}

/// A summary: the state holds every token, the control token and the
/// recorded requests with their `Authorization` headers, none of which
/// may reach a log through `{:?}` of a fake, its transport or its server.
/// Takes no lock, so it is safe to format from anywhere.
impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config = &self.state.config;
        let control = match config.control {
            ControlAccess::Open => "open",
            ControlAccess::Token(_) => "token",
            ControlAccess::Off => "off",
        };
        f.debug_struct("Dispatcher")
            .field("workspace_id", &config.workspace_id)
            .field("targets", &config.targets)
            .field("control", &control)
            .field("rate_limits", &config.rate_limits)
            .field("clock", &self.state.clock)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub(crate) fn new(state: Arc<FakeState>, registry: Option<Arc<Registry>>) -> Self {
        Self { state, registry }
    }

    /// The created workspaces, unless this is a workspace's own view.
    pub(crate) fn registry(&self) -> Option<&Arc<Registry>> {
        self.registry.as_ref()
    }

    /// Whether `path` belongs to the control plane (the control routes),
    /// which a door keeps answering when its API side is saturated.
    #[cfg(feature = "server")]
    pub(crate) fn is_control_plane(path: &str) -> bool {
        Route::is_control_plane(path)
    }

    /// The largest body a door should read before handing over [`Body::TooLarge`].
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.state.config.limits.max_body_bytes
    }

    #[cfg(feature = "server")]
    pub(crate) fn limits(&self) -> &crate::limits::Limits {
        &self.state.config.limits
    }

    /// A door listens on `port`: deliveries never go there.
    #[cfg(feature = "server")]
    pub(crate) fn listening_on(&self, port: u16) {
        self.state.deliveries.add_own_port(port);
        if let Some(registry) = &self.registry {
            registry.listening_on(port);
        }
    }

    /// A door stopped listening on `port`.
    #[cfg(feature = "server")]
    pub(crate) fn stopped_listening(&self, port: u16) {
        self.state.deliveries.remove_own_port(port);
        if let Some(registry) = &self.registry {
            registry.stopped_listening(port);
        }
    }

    /// Handles one request, at the time of the workspace it goes to.
    pub(crate) fn handle(&self, request: http::Request<Body>) -> Reply {
        let now = self.state.clock.read();
        let limit = self.max_body_bytes();
        let (parts, body) = request.into_parts();
        let body = match body {
            Body::Read(bytes) if bytes.len() <= limit => bytes,
            _ => return error(&errors::payload_too_large(limit), now),
        };
        let request = http::Request::from_parts(parts, body);
        let path = request.uri().path();
        let method = request.method();
        let route = Route::of(method, path);
        if route == Route::Health {
            let response = if method == http::Method::GET {
                responses::json(200, &serde_json::json!({"status": "ok"}))
            } else {
                responses::method_not_allowed(method.as_str(), path, "GET")
            };
            return Reply::Respond(response, None);
        }
        let token = bearer(request.headers()).ok();
        let resolved = match &self.registry {
            Some(registry) => registry.resolve(token),
            None => Ok(Resolved::Default),
        };
        let (state, role) = match &resolved {
            // A workspace token the registry does not hold: a deleted
            // workspace's, or a guess. Recorded nowhere.
            Err(()) => return error(&errors::unauthorized(errors::UNKNOWN_WORKSPACE_TOKEN), now),
            Ok(Resolved::Default) => (&self.state, None),
            Ok(Resolved::Workspace(entry, role)) => (&entry.state, Some(*role)),
        };
        let now = if role.is_some() {
            state.clock.read()
        } else {
            now
        };
        if let Route::Control(rest) = route {
            return self.control(state, role, rest, &request, now);
        }
        // Drawn first, so the journal holds the id the answer carries.
        let execution_id = crate::execution_id::header();
        state.record(&request, now.at, &execution_id);
        match api(state, route, &request, now) {
            Reply::Respond(mut response, delay) => {
                // Names an answer of the API as Attio does: a fresh UUID in
                // `X-Attio-Execution-Id` (observed on every live answer,
                // success or error; rbeene/attio_ruby's capture, 2025-07-27,
                // amp-labs/connectors PR 3231).
                response
                    .headers_mut()
                    .insert(attio_webhooks::error::EXECUTION_ID_HEADER, execution_id);
                Reply::Respond(response, delay)
            }
            other => other,
        }
    }

    /// A control route (`rest`, the path after `/__fake`) for the
    /// workspace `state`, reached as `role` (`None`: the default
    /// workspace, guarded by the fake's control access).
    fn control(
        &self,
        state: &Arc<FakeState>,
        role: Option<Role>,
        rest: &str,
        request: &http::Request<Bytes>,
        now: Now,
    ) -> Reply {
        let path = request.uri().path();
        let method = request.method();
        let control = &self.state.config.control;
        if workspace_routes::is_server_route(rest) {
            let (Some(registry), None) = (&self.registry, role) else {
                return match role {
                    Some(_) => error(&errors::unauthorized(errors::SERVER_ROUTE), now),
                    None => error(&errors::no_such_route(method.as_str(), path), now),
                };
            };
            if *control == ControlAccess::Off {
                return error(&errors::no_such_route(method.as_str(), path), now);
            }
            let answer = control.authorize(request.headers()).and_then(|()| {
                workspace_routes::handle(registry, method, rest, path, request.body())
            });
            return respond(answer, now);
        }
        match role {
            None if *control == ControlAccess::Off => {
                return error(&errors::no_such_route(method.as_str(), path), now)
            }
            None => {
                if let Err(refused) = control.authorize(request.headers()) {
                    return error(&refused, now);
                }
            }
            Some(Role::Api) => {
                return error(&errors::unauthorized(errors::API_TOKEN_ON_CONTROL), now)
            }
            Some(Role::Control) => {}
        }
        let answer = super::control::handle(state, method, rest, path, request.body(), now.at);
        match answer {
            Ok(response) => match response.extensions().get::<SettleFor>() {
                Some(SettleFor(timeout)) => Reply::Settle(Settle {
                    deliveries: Arc::clone(&state.deliveries),
                    timeout: *timeout,
                }),
                None => Reply::Respond(response, None),
            },
            Err(body) => error(&body, now),
        }
    }
}

/// Steps 5 to 11 for a recorded request to `route`.
fn api(state: &FakeState, route: Route<'_>, request: &http::Request<Bytes>, now: Now) -> Reply {
    let path = request.uri().path();
    let method = request.method();
    match route {
        Route::Unknown => return error(&errors::no_such_route(method.as_str(), path), now),
        Route::WrongMethod(allow) => {
            return Reply::Respond(
                responses::method_not_allowed(method.as_str(), path, allow),
                None,
            )
        }
        _ => {}
    }
    let needed = if route.writes() {
        Scope::ReadWrite
    } else {
        Scope::Read
    };
    if let Err(body) = state.config.tokens.authorize(request.headers(), needed) {
        return error(&body, now);
    }
    if !state.admit(route.writes(), now.wall) {
        return error(&errors::rate_limited(), now);
    }
    let fault = state.take_fault(method, path);
    match fault {
        Some(Fault::Status { status }) => return error(&errors::for_status(status), now),
        Some(Fault::RateLimited) => return error(&errors::rate_limited(), now),
        Some(Fault::RateLimitedFor { seconds }) => {
            let mut response = responses::json(429, &errors::rate_limited());
            if seconds > 0 {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, seconds.into());
            }
            return Reply::Respond(response, None);
        }
        Some(Fault::MalformedBody { status }) => {
            return Reply::Respond(
                responses::raw(
                    status,
                    Bytes::from_static(b"{\"data\": [<html>Bad Gateway</html>"),
                ),
                None,
            )
        }
        Some(Fault::DropConnection) => return Reply::Drop,
        _ => {}
    }
    let answer = respond(operation(state, route, request, now), now);
    match (fault, answer) {
        (None, answer) => answer,
        (Some(Fault::Delay { millis }), Reply::Respond(response, _)) => {
            Reply::Respond(response, Some(Duration::from_millis(millis)))
        }
        (Some(Fault::TruncatedBody), Reply::Respond(response, delay)) => {
            let (parts, body) = response.into_parts();
            let half = body.slice(..body.len() / 2);
            Reply::Respond(http::Response::from_parts(parts, half), delay)
        }
        (Some(Fault::StatusAfterHandling { status }), _) => error(&errors::for_status(status), now),
        (Some(Fault::DropConnectionAfterHandling), _) => Reply::Drop,
        (Some(_), answer) => answer,
    }
}

/// Steps 9 and 10 for an API route.
fn operation(
    state: &FakeState,
    route: Route<'_>,
    request: &http::Request<Bytes>,
    now: Now,
) -> Answer {
    let at = now.at;
    match route {
        Route::List => webhooks::list(state, request.uri().query(), at),
        Route::Create => webhooks::create(state, request.body(), at),
        Route::Get(id) => webhooks::get(state, id, at),
        Route::Update(id) => webhooks::update(state, id, request.body(), at),
        Route::Delete(id) => webhooks::delete(state, id, at),
        Route::Control(_) | Route::Health | Route::WrongMethod(_) | Route::Unknown => Err(
            errors::no_such_route(request.method().as_str(), request.uri().path()),
        ),
    }
}

fn respond(answer: Answer, now: Now) -> Reply {
    match answer {
        Ok(response) => Reply::Respond(response, None),
        Err(body) => error(&body, now),
    }
}

fn error(body: &attio_webhooks::error::ApiErrorBody, now: Now) -> Reply {
    Reply::Respond(responses::error(body, now.wall), None)
}
