//! Turning an operation into a complete `http::Request`: base URL, auth, headers.

use core::fmt;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::uri::{Authority, PathAndQuery, Scheme};

use crate::error::{ConfigError, Error};
use crate::model::{ApiToken, TargetUrlPolicy};
use crate::operations::Request;

/// Attio's API root.
pub const DEFAULT_BASE_URL: &str = "https://api.attio.com";

/// The `User-Agent` every request carries: `attio-webhooks/<version>`.
pub const USER_AGENT_VALUE: &str = concat!("attio-webhooks/", env!("CARGO_PKG_VERSION"));

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Where requests go and as whom: base URL, bearer token, `User-Agent`, and
/// which target URLs are accepted. Building a request is pure: no I/O, no
/// runtime, so this is also the entry point for driving the API with your
/// own HTTP code.
///
/// ```
/// use attio_webhooks::{bytes, http, operations::ListWebhooks, client::Endpoint, RequestExt};
/// let endpoint = Endpoint::new("sk_test")?;
/// let request = endpoint.build(&ListWebhooks::new().limit(20))?;
/// assert_eq!(request.uri(), "https://api.attio.com/v2/webhooks?limit=20");
/// assert_eq!(request.headers()["authorization"], "Bearer sk_test");
///
/// // ...send it with any HTTP client, then:
/// let response = http::Response::new(bytes::Bytes::from_static(br#"{"data":[]}"#));
/// assert!(ListWebhooks::decode(response)?.is_empty());
/// # Ok::<(), attio_webhooks::Error>(())
/// ```
#[derive(Clone)]
pub struct Endpoint {
    base_url: String,
    // The base URL parsed once: every request reuses scheme and authority.
    scheme: Scheme,
    authority: Authority,
    prefix: String,
    targets: TargetUrlPolicy,
    headers: HeaderMap,
}

impl Endpoint {
    /// An endpoint for `https://api.attio.com` with `token`. Fails for an
    /// empty token or one that cannot be a header value.
    pub fn new(token: impl Into<ApiToken>) -> Result<Self, ConfigError> {
        let token = token.into();
        if token.is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        let mut auth = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| ConfigError::TokenNotAHeaderValue)?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(ACCEPT, APPLICATION_JSON);
        Ok(Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            scheme: Scheme::HTTPS,
            authority: Authority::from_static("api.attio.com"),
            prefix: String::new(),
            targets: TargetUrlPolicy::default(),
            headers,
        })
    }

    /// Sends requests to `base_url` instead of Attio (a fake, a proxy).
    /// It must be an absolute `https://` URL, or `http://` to a loopback
    /// host (plain HTTP elsewhere would send the token unencrypted); a
    /// trailing `/` is ignored, and a path prefix is kept.
    pub fn with_base_url(self, base_url: &str) -> Result<Self, ConfigError> {
        self.set_base_url(base_url, false)
    }

    /// Like [`Endpoint::with_base_url`], but plain `http://` is accepted
    /// to any host (a fake Attio in another container). The token travels
    /// unencrypted: only for test networks.
    pub fn with_insecure_base_url(self, base_url: &str) -> Result<Self, ConfigError> {
        self.set_base_url(base_url, true)
    }

    fn set_base_url(mut self, base_url: &str, insecure: bool) -> Result<Self, ConfigError> {
        let reject = |reason| ConfigError::BaseUrl {
            url: base_url.to_owned(),
            reason,
        };
        let uri: http::Uri = base_url
            .parse()
            .map_err(|_| reject("not a valid absolute URL"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if insecure || crate::model::is_loopback_http_url(base_url) => {}
            Some("http") => return Err(reject(
                "plain http is only allowed to loopback hosts (see ClientBuilder::allow_insecure_http); the token would travel unencrypted",
            )),
            _ => {
                return Err(reject(
                    "the scheme must be https (or http to a loopback host)",
                ))
            }
        }
        if uri.query().is_some() || base_url.contains('#') {
            return Err(reject("the URL must not have a query or a fragment"));
        }
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(reject("the URL has no host"));
        };
        self.scheme = scheme.clone();
        self.authority = authority.clone();
        self.prefix = uri.path().trim_end_matches('/').to_owned();
        self.base_url = base_url.trim_end_matches('/').to_owned();
        Ok(self)
    }

    /// Sets which webhook target URLs requests may carry.
    pub fn with_target_url_policy(mut self, targets: TargetUrlPolicy) -> Self {
        self.targets = targets;
        self
    }

    /// The base URL requests go to, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The host requests go to, and their port: the base URL's, or its
    /// scheme's default. (What `server.address` and `server.port` hold in
    /// the client's metrics.)
    pub(crate) fn server(&self) -> (&str, Option<u16>) {
        let port = self.authority.port_u16().or(match self.scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        });
        (self.authority.host(), port)
    }

    /// The target URL policy requests are checked against.
    pub fn target_url_policy(&self) -> &TargetUrlPolicy {
        &self.targets
    }

    /// Validates `request` and builds the complete HTTP request:
    /// `Authorization: Bearer`, `User-Agent`, `Accept: application/json`,
    /// and `Content-Type: application/json` when there is a body.
    pub fn build<R: Request + ?Sized>(&self, request: &R) -> Result<http::Request<Bytes>, Error> {
        request.validate(&self.targets)?;
        let body = request.body()?;
        let query = request.query();

        let mut path = String::with_capacity(self.prefix.len() + 80);
        path.push_str(&self.prefix);
        request.write_path(&mut path);
        if !query.is_empty() {
            path.push('?');
            let start = path.len();
            path = form_urlencoded::Serializer::for_suffix(path, start)
                .extend_pairs(query)
                .finish();
        }
        let invalid = || ConfigError::BaseUrl {
            url: self.base_url.clone(),
            reason: "the request path does not form a valid URL with it",
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(PathAndQuery::try_from(path).map_err(|_| invalid())?);
        let uri = http::Uri::from_parts(parts).map_err(|_| invalid())?;

        let mut headers = self.headers.clone();
        if body.is_some() {
            headers.insert(CONTENT_TYPE, APPLICATION_JSON);
        }
        let mut http_request = http::Request::new(body.unwrap_or_default());
        *http_request.method_mut() = request.method();
        *http_request.uri_mut() = uri;
        *http_request.headers_mut() = headers;
        Ok(http_request)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("targets", &self.targets)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::{CreateWebhook, GetWebhook};
    use crate::{EventType, Subscription, WebhookId};

    #[test]
    fn https_and_loopback_http_base_urls_are_kept_with_their_prefix() {
        let id = WebhookId::from_u128(1);
        for (given, kept) in [
            (
                "https://eu.attio.example/api/",
                "https://eu.attio.example/api",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:9/x", "http://[::1]:9/x"),
        ] {
            let endpoint = Endpoint::new("t").unwrap().with_base_url(given).unwrap();
            assert_eq!(endpoint.base_url(), kept);
            let request = endpoint.build(&GetWebhook::new(id)).unwrap();
            assert_eq!(
                request.uri().to_string(),
                format!("{kept}/v2/webhooks/00000000-0000-0000-0000-000000000001")
            );
        }
        let remote = Endpoint::new("t").unwrap();
        assert!(remote
            .clone()
            .with_base_url("http://fake-attio:8080")
            .is_err());
        assert_eq!(
            remote
                .with_insecure_base_url("http://fake-attio:8080")
                .unwrap()
                .base_url(),
            "http://fake-attio:8080"
        );
    }

    #[test]
    fn the_policy_is_kept_and_debug_hides_the_token() {
        let endpoint = Endpoint::new("sk_secret_token")
            .unwrap()
            .with_target_url_policy(TargetUrlPolicy::AllowLoopbackHttp);
        assert_eq!(
            endpoint.target_url_policy(),
            &TargetUrlPolicy::AllowLoopbackHttp
        );
        assert_eq!(
            Endpoint::new("t").unwrap().target_url_policy(),
            &TargetUrlPolicy::HttpsOnly
        );
        let shown = format!("{endpoint:?}");
        assert!(
            shown.contains("https://api.attio.com") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!shown.contains("sk_secret_token"));
    }

    #[test]
    fn rejects_bad_tokens_and_base_urls() {
        assert_eq!(Endpoint::new("").unwrap_err(), ConfigError::EmptyToken);
        assert_eq!(
            Endpoint::new("a\nb").unwrap_err(),
            ConfigError::TokenNotAHeaderValue
        );
        let e = Endpoint::new("t").unwrap();
        for bad in [
            "https://x/a#f",
            "",
            "api.attio.com",
            "ftp://x",
            "https://x/?q=1",
            "http://",
            "http://api.attio.com",
        ] {
            assert!(e.clone().with_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn insecure_http_is_opt_in() {
        let e = Endpoint::new("t").unwrap();
        // The refusal names the way out, not just the scheme.
        match e.clone().with_base_url("http://fake-attio:8080") {
            Err(ConfigError::BaseUrl { reason, .. }) => {
                assert!(reason.contains("allow_insecure_http"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        match e.clone().with_base_url("ftp://fake-attio/") {
            Err(ConfigError::BaseUrl { reason, .. }) => {
                assert!(reason.contains("must be https"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let insecure = e
            .clone()
            .with_insecure_base_url("http://fake-attio:8080/")
            .unwrap();
        let r = insecure
            .build(&GetWebhook::new(WebhookId::from_u128(2)))
            .unwrap();
        assert_eq!(
            r.uri(),
            "http://fake-attio:8080/v2/webhooks/00000000-0000-0000-0000-000000000002"
        );
        // Still an absolute http(s) URL without query or fragment.
        for bad in [
            "ftp://fake-attio",
            "http://",
            "http://x/?q",
            "fake-attio:8080",
        ] {
            assert!(e.clone().with_insecure_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keeps_a_base_path_prefix() {
        let e = Endpoint::new("t")
            .unwrap()
            .with_base_url("http://127.0.0.1:9/prefix/")
            .unwrap();
        let r = e.build(&GetWebhook::new(WebhookId::from_u128(2))).unwrap();
        assert_eq!(
            r.uri(),
            "http://127.0.0.1:9/prefix/v2/webhooks/00000000-0000-0000-0000-000000000002"
        );
        assert!(r.headers().get(CONTENT_TYPE).is_none());
    }

    #[test]
    fn validates_before_building() {
        let e = Endpoint::new("t").unwrap();
        let create = CreateWebhook::new(
            "http://example.com",
            vec![Subscription::new(EventType::NoteCreated)],
        );
        assert!(matches!(
            e.build(&create),
            Err(Error::InvalidInput(
                crate::error::InvalidInput::TargetUrl { .. }
            ))
        ));
    }

    #[test]
    fn debug_hides_the_token() {
        let e = Endpoint::new("sk_super_secret").unwrap();
        assert!(!format!("{e:?}").contains("sk_super_secret"));
    }
}
