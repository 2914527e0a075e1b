//! Configuring a [`HyperTransport`]: connecting, pooling, roots, proxy.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use super::proxy::{ProxyConnector, ProxySettings};
use super::{HyperTransport, DEFAULT_MAX_RESPONSE_BYTES};
use crate::error::BoxError;

/// Which root certificates TLS trusts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Roots {
    /// Mozilla's, bundled with the `webpki-roots` crate.
    #[default]
    Webpki,
    /// The operating system's store.
    #[cfg(feature = "native-roots")]
    Native,
}

/// Configures a [`HyperTransport`].
///
/// | setting | default |
/// |---|---|
/// | [`connect_timeout`](Self::connect_timeout) | 10 s |
/// | [`pool_idle_timeout`](Self::pool_idle_timeout) | 90 s |
/// | [`pool_max_idle_per_host`](Self::pool_max_idle_per_host) | no limit |
/// | root certificates | Mozilla's, bundled ([`webpki_roots`](Self::webpki_roots)) |
/// | proxy | none (see [`proxy_from_env`](Self::proxy_from_env)) |
/// | [`max_response_bytes`](Self::max_response_bytes) | 16 MiB |
///
/// The connect timeout bounds TCP connect (per address tried) so that an
/// unreachable host fails well inside the client's 30 s attempt timeout,
/// leaving room for a retry; TLS and the answer are bounded by the client.
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::transport::HyperTransport;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), attio_webhooks::transport::HyperBuildError> {
/// let transport = HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .pool_idle_timeout(Duration::from_secs(30))
///     .pool_max_idle_per_host(4)
///     .proxy("http://proxy.internal:3128")
///     .no_proxy("localhost, 127.0.0.1, .internal")
///     .build()?;
/// # let _ = transport;
/// # Ok(()) }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-transport")))]
#[derive(Clone, Debug)]
pub struct HyperTransportBuilder {
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    max_response_bytes: usize,
    roots: Roots,
    extra_roots: Vec<ExtraRoots>,
    proxy: ProxySettings,
}

#[derive(Clone, Debug)]
enum ExtraRoots {
    Der(Vec<u8>),
    Pem(Vec<u8>),
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HyperTransportBuilder {
    /// The defaults listed above.
    pub fn new() -> Self {
        Self {
            connect_timeout: Some(Duration::from_secs(10)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: usize::MAX,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            roots: Roots::default(),
            extra_roots: Vec::new(),
            proxy: ProxySettings::None,
        }
    }

    /// How long opening a TCP connection may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// No connect timeout of the transport's own (the OS's applies).
    pub fn no_connect_timeout(mut self) -> Self {
        self.connect_timeout = None;
        self
    }

    /// How long an idle pooled connection is kept.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = Some(timeout);
        self
    }

    /// The most idle connections kept per host (0 turns pooling off).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Refuses response bodies over `limit` bytes.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Trusts Mozilla's root certificates, bundled in the binary (the
    /// default): the same everywhere, no system store needed.
    pub fn webpki_roots(mut self) -> Self {
        self.roots = Roots::Webpki;
        self
    }

    /// Trusts the operating system's root certificates instead (read when
    /// [`build`](Self::build) runs), e.g. for a corporate CA installed there.
    #[cfg(feature = "native-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "native-roots")))]
    pub fn native_roots(mut self) -> Self {
        self.roots = Roots::Native;
        self
    }

    /// Also trusts this root certificate (DER bytes).
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(ExtraRoots::Der(der.into()));
        self
    }

    /// Also trusts every certificate in this PEM text.
    pub fn add_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(ExtraRoots::Pem(pem.into()));
        self
    }

    /// Takes proxies from the environment, as curl does: `HTTPS_PROXY`
    /// for `https://` requests, `HTTP_PROXY` for `http://` ones, `ALL_PROXY`
    /// for both when those are unset, and `NO_PROXY` (a comma-separated
    /// list of hosts, domains with their subdomains, IP addresses or CIDR
    /// blocks, or `*`) for destinations that go direct. Lower-case names
    /// work too. Read when [`build`](Self::build) runs; not read at all
    /// unless you call this, so a proxy meant for other programs cannot
    /// redirect your traffic (or the loopback traffic of tests) by surprise.
    ///
    /// Proxies must be `http://` (the proxy is spoken to in cleartext;
    /// TLS to Attio runs end to end through a `CONNECT` tunnel); `user:pass@`
    /// in the URL is sent as `Proxy-Authorization: Basic`. Any other scheme
    /// (`https://`, `socks5://`) makes requests fail with
    /// [`TransportErrorKind::Unsupported`](crate::transport::TransportErrorKind::Unsupported).
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxySettings::FromEnv;
        self
    }

    /// Sends every request through the HTTP proxy at `url`
    /// (`http://[user:pass@]host:port`), except those [`no_proxy`](Self::no_proxy)
    /// exempts. Replaces [`proxy_from_env`](Self::proxy_from_env).
    pub fn proxy(self, url: impl Into<String>) -> Self {
        self.explicit(|all, _, _, _| *all = Some(url.into()))
    }

    /// The proxy for `http://` requests only.
    pub fn http_proxy(self, url: impl Into<String>) -> Self {
        self.explicit(|_, http, _, _| *http = Some(url.into()))
    }

    /// The proxy for `https://` requests only.
    pub fn https_proxy(self, url: impl Into<String>) -> Self {
        self.explicit(|_, _, https, _| *https = Some(url.into()))
    }

    /// Destinations that bypass the proxy, in `NO_PROXY` syntax:
    /// `"localhost, 127.0.0.1, .internal, 192.168.0.0/16"`.
    pub fn no_proxy(self, list: impl Into<String>) -> Self {
        self.explicit(|_, _, _, no| *no = Some(list.into()))
    }

    fn explicit(
        mut self,
        set: impl FnOnce(
            &mut Option<String>,
            &mut Option<String>,
            &mut Option<String>,
            &mut Option<String>,
        ),
    ) -> Self {
        if !matches!(self.proxy, ProxySettings::Explicit { .. }) {
            self.proxy = ProxySettings::Explicit {
                all: None,
                http: None,
                https: None,
                no: None,
            };
        }
        if let ProxySettings::Explicit {
            all,
            http,
            https,
            no,
        } = &mut self.proxy
        {
            set(all, http, https, no);
        }
        self
    }

    /// Builds the transport. Fails for a proxy URL that is not `http://`,
    /// a root certificate that does not parse, or (with `native_roots`) a
    /// system store without one usable certificate.
    ///
    /// Transports that trust Mozilla's roots and no others share one TLS
    /// configuration (and its session cache), built by the first of them.
    pub fn build(self) -> Result<HyperTransport, HyperBuildError> {
        let tls = self.tls_config()?;
        let proxy = self
            .proxy
            .matcher()
            .map_err(|(url, reason)| HyperBuildError::Proxy { url, reason })?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(self.connect_timeout);
        // HTTPS or plain HTTP, by the URI's scheme.
        let connector = hyper_rustls::HttpsConnector::from((
            ProxyConnector {
                http,
                proxy: proxy.clone(),
            },
            tls,
        ));
        let client: HyperClient<_, Full<Bytes>> = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);
        let mut transport =
            HyperTransport::from_client(client).max_response_bytes(self.max_response_bytes);
        transport.proxy = proxy;
        Ok(transport)
    }

    /// The TLS configuration. With Mozilla's roots and no others, one
    /// built once per process and shared (with its session cache): building
    /// it costs more than the rest of the transport, and a test suite builds
    /// a transport per test.
    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, HyperBuildError> {
        static MOZILLA_ROOTS_ONLY: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
        let shared = self.roots == Roots::Webpki && self.extra_roots.is_empty();
        if let Some(config) = MOZILLA_ROOTS_ONLY.get().filter(|_| shared) {
            return Ok(Arc::clone(config));
        }
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(ring_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| HyperBuildError::Tls(Box::new(e)))?
            .with_root_certificates(self.root_store()?)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let config = Arc::new(config);
        Ok(if shared {
            Arc::clone(MOZILLA_ROOTS_ONLY.get_or_init(|| config))
        } else {
            config
        })
    }

    fn root_store(&self) -> Result<RootCertStore, HyperBuildError> {
        let mut store = RootCertStore::empty();
        match self.roots {
            Roots::Webpki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            #[cfg(feature = "native-roots")]
            Roots::Native => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _ignored) = store.add_parsable_certificates(found.certs);
                if added == 0 {
                    let reason = found.errors.first().map_or_else(
                        || "the system store has no usable certificate".to_owned(),
                        ToString::to_string,
                    );
                    return Err(HyperBuildError::NativeRoots(reason.into()));
                }
            }
        }
        for extra in &self.extra_roots {
            let certificates = match extra {
                ExtraRoots::Der(der) => vec![CertificateDer::from(der.clone())],
                ExtraRoots::Pem(pem) => CertificateDer::pem_slice_iter(pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| HyperBuildError::RootCertificate(Box::new(e)))?,
            };
            if certificates.is_empty() {
                return Err(HyperBuildError::RootCertificate(
                    "the PEM text holds no certificate".into(),
                ));
            }
            for certificate in certificates {
                store
                    .add(certificate)
                    .map_err(|e| HyperBuildError::RootCertificate(Box::new(e)))?;
            }
        }
        Ok(store)
    }
}

/// Why a [`HyperTransport`] could not be built.
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-transport")))]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HyperBuildError {
    /// rustls refused the TLS configuration.
    #[error("could not set up TLS")]
    Tls(#[source] BoxError),
    /// A root certificate given to the builder does not parse.
    #[error("a root certificate was rejected")]
    RootCertificate(#[source] BoxError),
    /// The system's root certificates could not be loaded.
    #[error("could not load the system's root certificates")]
    NativeRoots(#[source] BoxError),
    /// A proxy URL given to the builder is not usable.
    #[error("proxy {url} rejected: {reason}")]
    Proxy {
        /// The URL, with any credentials replaced by `***`.
        url: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

impl From<HyperBuildError> for crate::Error {
    fn from(error: HyperBuildError) -> Self {
        crate::Error::Transport(Box::new(error))
    }
}

/// rustls' *ring* provider, the one the `hyper-transport` feature documents
/// (no C toolchain, static builds). rustls 0.23.48 deprecates
/// `crypto::ring::default_provider` because *ring* has no post-quantum key
/// exchange, and rustls 0.23 offers no other way to name *ring*'s provider
/// (0.24 moves it to its own crate); the only undeprecated choice is
/// aws-lc-rs. The allowance keeps builds against any 0.23 warning-free:
/// a user's fresh lockfile resolves the newest (`.ci/newest-deps`).
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}
