//! Which route a request is for, from its method and path alone.

use http::Method;

/// The path prefix of the fake's own test-control routes.
pub const CONTROL_PREFIX: &str = "/__fake";

/// The health route: `GET /__health` answers 200 `{"status":"ok"}` and
/// nothing else (no version, counts or configuration), without a token,
/// even with the control routes off or guarded, and is never recorded,
/// rate limited or faulted: for container health checks and readiness
/// waits.
pub const HEALTH_PATH: &str = "/__health";

/// The API operations and the control routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `GET /v2/webhooks`
    List,
    /// `POST /v2/webhooks`
    Create,
    /// `GET /v2/webhooks/{id}`
    Get(&'a str),
    /// `PATCH /v2/webhooks/{id}`
    Update(&'a str),
    /// `DELETE /v2/webhooks/{id}`
    Delete(&'a str),
    /// Anything under [`CONTROL_PREFIX`]: the rest of the path.
    Control(&'a str),
    /// [`HEALTH_PATH`], whatever the method.
    Health,
    /// The path exists, not with this method (405): the methods it has,
    /// for the `Allow` header.
    WrongMethod(&'static str),
    /// No such route (404).
    Unknown,
}

/// The methods of `/v2/webhooks`, as [`Route::of`] routes them.
const COLLECTION_METHODS: &str = "GET, POST";
/// The methods of `/v2/webhooks/{id}`, as [`Route::of`] routes them.
const WEBHOOK_METHODS: &str = "GET, PATCH, DELETE";

impl<'a> Route<'a> {
    /// The route of `method` and `path`.
    pub(crate) fn of(method: &Method, path: &'a str) -> Self {
        if path == HEALTH_PATH {
            return Route::Health;
        }
        if let Some(rest) = control_rest(path) {
            return Route::Control(rest);
        }
        let id = match path.strip_prefix("/v2/webhooks") {
            Some("") => None,
            Some(rest) => match rest.strip_prefix('/') {
                Some(id) if !id.is_empty() && !id.contains('/') => Some(id),
                _ => return Route::Unknown,
            },
            None => return Route::Unknown,
        };
        match (method.as_str(), id) {
            ("GET", None) => Route::List,
            ("POST", None) => Route::Create,
            ("GET", Some(id)) => Route::Get(id),
            ("PATCH", Some(id)) => Route::Update(id),
            ("DELETE", Some(id)) => Route::Delete(id),
            (_, None) => Route::WrongMethod(COLLECTION_METHODS),
            (_, Some(_)) => Route::WrongMethod(WEBHOOK_METHODS),
        }
    }

    /// Whether `path` is the control plane's: the control routes and the
    /// health route (answered even when the API side of a server is
    /// saturated).
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn is_control_plane(path: &str) -> bool {
        path == HEALTH_PATH || control_rest(path).is_some()
    }

    /// Whether the route changes the workspace (needs `webhook:read-write`).
    pub(crate) fn writes(self) -> bool {
        matches!(self, Route::Create | Route::Update(_) | Route::Delete(_))
    }
}

/// The part of `path` after [`CONTROL_PREFIX`], if it is a control path.
fn control_rest(path: &str) -> Option<&str> {
    path.strip_prefix(CONTROL_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = |m: Method, p| Route::of(&m, p);
        assert_eq!(r(Method::GET, "/v2/webhooks"), Route::List);
        assert_eq!(r(Method::POST, "/v2/webhooks"), Route::Create);
        assert_eq!(r(Method::PATCH, "/v2/webhooks/x"), Route::Update("x"));
        assert_eq!(
            r(Method::PUT, "/v2/webhooks/x"),
            Route::WrongMethod("GET, PATCH, DELETE")
        );
        assert_eq!(r(Method::GET, "/v2/webhooks/"), Route::Unknown);
        assert_eq!(r(Method::GET, "/v2/webhooks/x/y"), Route::Unknown);
        assert_eq!(r(Method::GET, "/v2/webhooksx"), Route::Unknown);
        assert_eq!(r(Method::POST, "/__fake/reset"), Route::Control("/reset"));
        assert_eq!(r(Method::GET, "/__fake"), Route::Control(""));
        assert_eq!(r(Method::GET, "/__fakes"), Route::Unknown);
        assert_eq!(r(Method::HEAD, "/__health"), Route::Health);
        assert_eq!(r(Method::GET, "/__health/x"), Route::Unknown);
        assert!(Route::is_control_plane("/__health") && Route::is_control_plane("/__fake/reset"));
        assert!(!Route::is_control_plane("/v2/webhooks"));
        assert!(Route::Delete("x").writes() && !Route::Get("x").writes());
    }

    #[test]
    fn allow_lists_exactly_the_methods_that_route() {
        let methods = [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
        ];
        for (path, allow) in [
            ("/v2/webhooks", COLLECTION_METHODS),
            ("/v2/webhooks/x", WEBHOOK_METHODS),
        ] {
            for method in methods {
                let route = Route::of(&Method::from_bytes(method.as_bytes()).unwrap(), path);
                let listed = allow.split(", ").any(|m| m == method);
                assert_eq!(
                    route == Route::WrongMethod(allow),
                    !listed,
                    "{method} {path}"
                );
                assert_ne!(route, Route::Unknown, "{method} {path}");
            }
        }
    }
}
