//! The TCP connector under TLS: direct, or through an HTTP proxy.
//!
//! For an `https://` destination the proxy is asked for a `CONNECT` tunnel
//! (hyper-util's `Tunnel`) and TLS runs inside it, end to end. For an
//! `http://` destination the connection goes to the proxy itself and is
//! marked as proxied, so hyper writes requests in absolute form
//! (`GET http://host/path`); [`super::HyperTransport`] adds the
//! `Proxy-Authorization` header to those requests.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::error::BoxError;
use crate::transport::error::server_of;
use crate::transport::{TransportError, TransportErrorKind};

/// Where proxies come from, before they are turned into a [`Matcher`].
/// Its `Debug` hides the credentials in proxy URLs.
#[derive(Clone, Default)]
pub(super) enum ProxySettings {
    /// No proxy at all.
    #[default]
    None,
    /// `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case).
    FromEnv,
    /// Given to the builder.
    Explicit {
        all: Option<String>,
        http: Option<String>,
        https: Option<String>,
        no: Option<String>,
    },
}

impl std::fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |url: &Option<String>| url.as_deref().map(redact_userinfo);
        match self {
            ProxySettings::None => f.write_str("None"),
            ProxySettings::FromEnv => f.write_str("FromEnv"),
            ProxySettings::Explicit {
                all,
                http,
                https,
                no,
            } => f
                .debug_struct("Explicit")
                .field("all", &hidden(all))
                .field("http", &hidden(http))
                .field("https", &hidden(https))
                .field("no", no)
                .finish(),
        }
    }
}

impl ProxySettings {
    /// The matcher, or `None` when no proxy is configured. An explicit
    /// proxy URL must be `http://host:port` (credentials allowed).
    pub(super) fn matcher(&self) -> Result<Option<Arc<Matcher>>, (String, &'static str)> {
        match self {
            ProxySettings::None => Ok(None),
            ProxySettings::FromEnv => Ok(Some(Arc::new(Matcher::from_env()))),
            ProxySettings::Explicit {
                all,
                http,
                https,
                no,
            } => {
                let mut builder = Matcher::builder();
                for url in [all, http, https].into_iter().flatten() {
                    check_proxy_url(url)?;
                }
                if let Some(url) = all {
                    builder = builder.all(url.clone());
                }
                if let Some(url) = http {
                    builder = builder.http(url.clone());
                }
                if let Some(url) = https {
                    builder = builder.https(url.clone());
                }
                if let Some(list) = no {
                    builder = builder.no(list.clone());
                }
                Ok(Some(Arc::new(builder.build())))
            }
        }
    }
}

/// An explicit proxy URL must be plain `http://` with a host: the proxy is
/// spoken to in cleartext (TLS to the destination runs inside the tunnel).
fn check_proxy_url(url: &str) -> Result<(), (String, &'static str)> {
    let shown = redact_userinfo(url);
    let uri: Uri = url
        .parse()
        .map_err(|_| (shown.clone(), "not a valid URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err((shown, "only http:// proxies are supported"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err((shown, "the URL has no host"));
    }
    Ok(())
}

/// `http://user:pass@proxy:3128` shown as `http://***@proxy:3128`.
pub(super) fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Connects directly, or through the proxy the matcher picks.
#[derive(Clone, Debug)]
pub(super) struct ProxyConnector {
    pub(super) http: HttpConnector,
    pub(super) proxy: Option<Arc<Matcher>>,
}

/// A TCP stream that knows whether it leads to a forwarding proxy.
#[derive(Debug)]
pub(super) struct ProxyStream {
    io: TokioIo<TcpStream>,
    forwarding_proxy: bool,
}

type Connecting = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

impl Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self.proxy.as_ref().and_then(|m| m.intercept(&dst));
        let mut http = self.http.clone();
        Box::pin(async move {
            let Some(proxy) = intercept else {
                let io = http.call(dst).await?;
                return Ok(ProxyStream {
                    io,
                    forwarding_proxy: false,
                });
            };
            let proxy_uri = proxy.uri().clone();
            if proxy_uri.scheme_str() != Some("http") {
                return Err(proxy_error(
                    &dst,
                    &proxy,
                    TransportErrorKind::Unsupported,
                    "only http:// proxies are supported",
                ));
            }
            if dst.scheme_str() == Some("https") {
                let mut tunnel = Tunnel::new(proxy_uri, http);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let io = tunnel
                    .call(dst.clone())
                    .await
                    .map_err(|e| proxy_error(&dst, &proxy, TransportErrorKind::Proxy, e))?;
                Ok(ProxyStream {
                    io,
                    forwarding_proxy: false,
                })
            } else {
                let io = http
                    .call(proxy_uri)
                    .await
                    .map_err(|e| proxy_error(&dst, &proxy, TransportErrorKind::Proxy, e))?;
                Ok(ProxyStream {
                    io,
                    forwarding_proxy: true,
                })
            }
        })
    }
}

/// A failure of the proxy on the way to `dst`, named by both.
fn proxy_error(
    dst: &Uri,
    proxy: &Intercept,
    kind: TransportErrorKind,
    cause: impl Into<BoxError>,
) -> BoxError {
    let via = proxy.uri().authority().map_or("", |a| a.as_str());
    let server = format!("{} via proxy {via}", server_of(dst));
    Box::new(
        TransportError::new(kind, cause)
            .with_server(server)
            .while_connecting(),
    )
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding_proxy)
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_proxies_must_be_plain_http() {
        let explicit = |all: &str| ProxySettings::Explicit {
            all: Some(all.to_owned()),
            http: None,
            https: None,
            no: None,
        };
        assert!(explicit("http://proxy.internal:3128").matcher().is_ok());
        let (shown, reason) = explicit("https://user:secret@proxy.internal:3128")
            .matcher()
            .unwrap_err();
        assert_eq!(shown, "https://***@proxy.internal:3128");
        assert_eq!(reason, "only http:// proxies are supported");
        assert!(explicit("socks5://proxy:1080").matcher().is_err());
        let debug = format!("{:?}", explicit("http://user:hunter2@proxy:3128"));
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("http://***@proxy:3128"), "{debug}");
        assert!(explicit("not a url").matcher().is_err());
    }

    #[test]
    fn no_proxy_exempts_hosts_and_subdomains() {
        let settings = ProxySettings::Explicit {
            all: None,
            http: Some("http://proxy.internal:3128".into()),
            https: Some("http://tls-proxy.internal:3128".into()),
            no: Some("example.com, 192.0.2.0/24".into()),
        };
        let matcher = settings.matcher().unwrap().unwrap();
        let via = |uri: &'static str| {
            matcher
                .intercept(&Uri::from_static(uri))
                .map(|i| i.uri().to_string())
        };
        assert_eq!(
            via("https://api.attio.com/v2/webhooks").as_deref(),
            Some("http://tls-proxy.internal:3128/")
        );
        assert_eq!(
            via("http://api.attio.com/").as_deref(),
            Some("http://proxy.internal:3128/")
        );
        assert_eq!(via("https://hooks.example.com/"), None);
        assert_eq!(via("http://192.0.2.7/"), None);
    }
}
