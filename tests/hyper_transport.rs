//! `HyperTransport`'s own settings, against real servers on loopback: a
//! tiny HTTP proxy written here (CONNECT tunnels and absolute-form
//! forwarding), a TLS server with a test certificate, and the fake Attio.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::bytes::Bytes;
use attio_webhooks::http;
use attio_webhooks::{
    transport::HyperBuildError, transport::HyperTransport, transport::HyperTransportBuilder,
    transport::TransportErrorKind, Client,
};
use attio_webhooks_testkit::{test_retry_policy, FakeAttio, FakeServer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::support;
use support::{bounded, header, read_head, Proxy, Task, TLS_HOST};

const CA: &[u8] = include_bytes!("data/tls/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("data/tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("data/tls/server.key");
/// An HTTPS server for `attio.test` that answers every request with an
/// empty webhook list and logs the requests it got.
struct TlsServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<http::request::Parts>>>,
    _task: Task,
}

impl TlsServer {
    async fn start() -> TlsServer {
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        let certs = CertificateDer::pem_slice_iter(SERVER_CERT)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
        // Deprecated in rustls 0.23.48 (no post-quantum key exchange); the
        // transport under test uses ring too (see its builder).
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service =
                        service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let log = log.clone();
                            async move {
                                log.lock().unwrap().push(request.into_parts().0);
                                let body = http_body_util::Full::new(Bytes::from_static(
                                    br#"{"data":[]}"#,
                                ));
                                Ok::<_, std::convert::Infallible>(http::Response::new(body))
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsServer {
            addr,
            requests,
            _task: Task(task),
        }
    }
}

fn client_for(base_url: &str, token: &str, transport: HyperTransport) -> Client<HyperTransport> {
    Client::builder(token)
        .base_url(base_url)
        .retry_policy(test_retry_policy())
        .build(transport)
        .unwrap()
}

async fn fake() -> FakeServer {
    FakeAttio::new().serve().await.unwrap()
}

/// Lists webhooks through `client` and expects none.
async fn assert_lists_nothing(client: &Client<HyperTransport>) {
    let webhooks = client.list_webhooks(Default::default()).await.unwrap();
    assert!(webhooks.is_empty(), "{webhooks:?}");
}

/// Lists webhooks at `https://attio.test` through `proxy`, trusting only
/// the default roots, and expects a failure.
async fn list_attio_test_through(proxy: &Proxy) -> attio_webhooks::Error {
    let transport = HyperTransport::builder()
        .proxy(format!("http://{}", proxy.addr))
        .build()
        .unwrap();
    let client = client_for(&format!("https://{TLS_HOST}"), "sk", transport);
    client.list_webhooks(Default::default()).await.unwrap_err()
}

/// The fake, a proxy, and a client for the fake whose transport
/// `configure` sets up with the proxy's address.
async fn fake_and_proxy(
    configure: impl FnOnce(HyperTransportBuilder, SocketAddr) -> HyperTransportBuilder,
) -> (FakeServer, Proxy, Client<HyperTransport>) {
    let server = fake().await;
    let proxy = Proxy::start(None, false).await;
    let transport = configure(HyperTransport::builder(), proxy.addr)
        .build()
        .unwrap();
    let client = client_for(server.base_url(), server.token(), transport);
    (server, proxy, client)
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_with_tls_end_to_end() {
    bounded(async {
        let tls = TlsServer::start().await;
        let proxy = Proxy::start(Some(tls.addr), false).await;
        let transport = HyperTransport::builder()
            .add_root_certificates_pem(CA)
            .proxy(format!("http://agent:pa%3Ass@{}", proxy.addr))
            .build()
            .unwrap();
        let client = client_for(&format!("https://{TLS_HOST}"), "sk_tunnel", transport);

        assert_lists_nothing(&client).await;

        let heads = proxy.heads();
        assert_eq!(heads.len(), 1, "{heads:?}");
        assert!(
            heads[0].starts_with("CONNECT attio.test:443 HTTP/1.1\r\n"),
            "{}",
            heads[0]
        );
        // base64("agent:pa:ss"); the proxy sees no request header, only the tunnel's.
        assert_eq!(
            header(&heads[0], "proxy-authorization"),
            Some("Basic YWdlbnQ6cGE6c3M=")
        );
        assert!(!heads[0].to_lowercase().contains("sk_tunnel"));
        // The server behind the tunnel got the request itself, over TLS.
        let requests = tls.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].uri.path(), "/v2/webhooks");
        assert_eq!(requests[0].headers["authorization"], "Bearer sk_tunnel");
        assert!(requests[0].headers.get("proxy-authorization").is_none());
    })
    .await;
}

#[tokio::test]
async fn plain_http_goes_to_a_forwarding_proxy_in_absolute_form() {
    bounded(async {
        let (server, proxy, client) =
            fake_and_proxy(|b, proxy| b.http_proxy(format!("http://agent:secret@{proxy}"))).await;

        assert_lists_nothing(&client).await;
        let heads = proxy.heads();
        assert_eq!(heads.len(), 1, "{heads:?}");
        let expected = format!("GET {}/v2/webhooks HTTP/1.1\r\n", server.base_url());
        assert!(heads[0].starts_with(&expected), "{}", heads[0]);
        // base64("agent:secret")
        assert_eq!(
            header(&heads[0], "proxy-authorization"),
            Some("Basic YWdlbnQ6c2VjcmV0")
        );
        assert_eq!(
            header(&heads[0], "authorization"),
            Some(format!("Bearer {}", server.token()).as_str())
        );
        assert_eq!(server.requests().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn no_proxy_destinations_go_direct() {
    bounded(async {
        let (server, proxy, client) = fake_and_proxy(|b, proxy| {
            b.proxy(format!("http://{proxy}"))
                .no_proxy("localhost, 127.0.0.1")
        })
        .await;
        assert_lists_nothing(&client).await;
        assert!(proxy.heads().is_empty());
        assert_eq!(server.requests().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_proxy_that_refuses_the_tunnel_is_a_proxy_error() {
    bounded(async {
        let proxy = Proxy::start(None, true).await;
        let err = list_attio_test_through(&proxy).await;
        let transport_error = err.transport_error().expect("a TransportError");
        assert_eq!(transport_error.kind(), TransportErrorKind::Proxy);
        assert!(err.is_connect(), "nothing reached Attio");
        assert_eq!(
            err.to_string(),
            format!(
                "could not reach attio.test:443 via proxy {}: tunnel error: proxy authorization required",
                proxy.addr
            )
        );
    })
    .await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_and_is_not_retried() {
    bounded(async {
        let tls = TlsServer::start().await;
        let proxy = Proxy::start(Some(tls.addr), false).await;
        // The default roots (Mozilla's) do not include the test CA.
        let err = list_attio_test_through(&proxy).await;
        let transport_error = err.transport_error().expect("a TransportError");
        assert_eq!(transport_error.kind(), TransportErrorKind::Tls, "{err}");
        let shown = err.to_string();
        assert!(
            shown.starts_with("TLS with attio.test:443 failed: invalid peer certificate"),
            "{shown}"
        );
        assert_eq!(
            proxy.heads().len(),
            1,
            "a TLS failure would repeat: no retry"
        );
        assert!(tls.requests.lock().unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn pool_settings_decide_connection_reuse() {
    bounded(async {
        // The proxy counts connections: each one starts with a logged head.
        for (max_idle, connections) in [(usize::MAX, 1), (0, 3)] {
            let (_server, proxy, client) = fake_and_proxy(|b, proxy| {
                b.http_proxy(format!("http://{proxy}"))
                    .pool_max_idle_per_host(max_idle)
                    .pool_idle_timeout(Duration::from_secs(60))
            })
            .await;
            for _ in 0..3 {
                client.list_webhooks(Default::default()).await.unwrap();
            }
            assert_eq!(proxy.heads().len(), connections, "max idle {max_idle}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_before_the_body_arrives() {
    bounded(async {
        // Announces 100 MB, then sends nothing and keeps the connection open.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _task = Task(tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = read_head(&mut stream).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n")
                    .await;
                held.push(stream);
            }
        }));
        let client = Client::builder("sk")
            .base_url(format!("http://{addr}"))
            .timeout(Duration::from_secs(10))
            .build(HyperTransport::new().unwrap())
            .unwrap();
        let err = client.list_webhooks(Default::default()).await.unwrap_err();
        // Reading the body would have hung until the 10 s timeout.
        let transport_error = err.transport_error().expect("a TransportError");
        assert_eq!(transport_error.kind(), TransportErrorKind::BodyTooLarge);
        assert_eq!(
            err.to_string(),
            format!("the response from {addr} is over the 16777216-byte limit (Content-Length: 100000000)")
        );
    })
    .await;
}

#[tokio::test]
async fn from_client_takes_a_hyper_util_client_built_elsewhere() {
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    bounded(async {
        let server = fake().await;
        let hyper_client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build::<_, http_body_util::Full<Bytes>>(HttpConnector::new());
        let transport = HyperTransport::from_client(hyper_client).max_response_bytes(8);
        let client = client_for(server.base_url(), server.token(), transport);
        // `{"data":[]}` is 11 bytes: over the limit set on this transport.
        let err = client.list_webhooks(Default::default()).await.unwrap_err();
        assert_eq!(
            err.transport_error().map(|e| e.kind()),
            Some(TransportErrorKind::BodyTooLarge)
        );
        let transport = HyperTransport::from_client(
            hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .build::<_, http_body_util::Full<Bytes>>(HttpConnector::new()),
        );
        let client = client_for(server.base_url(), server.token(), transport);
        assert_lists_nothing(&client).await;
    })
    .await;
}

#[test]
fn bad_builder_input_is_refused_at_build() {
    let err = HyperTransport::builder()
        .proxy("https://user:hunter2@proxy.internal:3128")
        .build()
        .unwrap_err();
    assert!(matches!(err, HyperBuildError::Proxy { .. }));
    assert!(!err.to_string().contains("hunter2"), "{err}");

    let err = HyperTransport::builder()
        .add_root_certificates_pem(&b"not a certificate"[..])
        .build()
        .unwrap_err();
    assert!(matches!(err, HyperBuildError::RootCertificate(_)), "{err}");
}
