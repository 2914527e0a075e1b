//! Deliveries to `https://` receivers on loopback: Attio accepts only
//! https targets (`target_url` has the pattern `^https:\/\/.*` in Attio's
//! OpenAPI, spec/attio-webhooks.openapi.json), so a delivery test keeps
//! that policy and the fake speaks TLS, trusting only the root the test
//! handed it. A failed handshake is retried like a refused connection: the
//! fake's choice (Attio documents retries for answers other than 200 or
//! 202, and nothing about failed connections).

use crate::common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attio_webhooks::model::{TargetUrlPolicy, Timestamp};
use attio_webhooks::receive::{Actor, ActorType, Event, Verifier};
use attio_webhooks::{CreatedWebhook, EventType, Subscription, WebhookStatus};
use attio_webhooks_testkit::tls::LoopbackCertificate;
use attio_webhooks_testkit::{
    delivery::DeliveryAttempt, delivery::DeliveryOutcome, delivery::DeliveryPolicy, Clock,
    ControlClient, FakeAttio,
};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// One request as the receiver decrypted it.
#[derive(Clone, Debug)]
struct Received {
    headers: http::HeaderMap,
    body: Bytes,
}

/// An https receiver on `ip`: TLS with `config` (tokio-rustls), then
/// hyper's HTTP/1.1 server; answers every request 200 and records it, and
/// counts the TCP connections it accepted.
struct HttpsReceiver {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsReceiver {
    async fn start(config: Arc<rustls::ServerConfig>) -> Self {
        Self::start_on("127.0.0.1", config).await.unwrap()
    }

    async fn start_on(ip: &str, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let listener = TcpListener::bind((ip, 0)).await?;
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (connections.clone(), received.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let (acceptor, log) = (acceptor.clone(), log.clone());
                tokio::spawn(async move {
                    // A client that does not trust the certificate ends the
                    // handshake: nothing to serve then.
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let log = log.clone();
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                log.lock().unwrap().push(Received {
                                    headers: parts.headers,
                                    body,
                                });
                                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::new())))
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            connections,
            received,
            task,
        })
    }

    /// `https://<ip>:<port><path>`.
    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits (at most 10 s) for `n` requests.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received();
            if received.len() >= n || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for HttpsReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Lowercase hex of HMAC-SHA256(key = the webhook's secret, message = the
/// raw body), as Attio's webhooks guide documents `Attio-Signature`,
/// computed here with `hmac` and `sha2` rather than the crate's signer.
fn attio_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    const_hex::encode(mac.finalize().into_bytes())
}

/// Checks a received request as a careful receiver would, with the core's
/// verifier and with the documented HMAC, and returns its events.
fn verified_events(received: &Received, created: &CreatedWebhook) -> Vec<Event> {
    let signature = received.headers["attio-signature"].to_str().unwrap();
    assert_eq!(received.headers["x-attio-signature"], signature);
    assert_eq!(
        signature,
        attio_signature(created.secret.expose(), &received.body)
    );
    let delivery = Verifier::new(created.secret.clone())
        .verify(&received.headers, &received.body)
        .expect("the core's verifier accepts the delivery with the webhook's secret")
        .into_delivery();
    assert_eq!(delivery.webhook_id, created.webhook.webhook_id());
    delivery.events
}

fn record_created(fake: &FakeAttio, record_id: &str) -> Event {
    Event::new(
        EventType::RecordCreated,
        fake.workspace_id(),
        Actor::new(ActorType::WorkspaceMember, Some("member-1".into())),
    )
    .with_id("object_id", "people")
    .with_id("record_id", record_id)
}

async fn create(fake: &FakeAttio, url: &str) -> CreatedWebhook {
    fake.client()
        .create_webhook(url, vec![Subscription::new(EventType::RecordCreated)])
        .await
        .unwrap()
}

/// The error of an attempt that failed without an answer.
fn connection_error(attempt: &DeliveryAttempt) -> &str {
    match &attempt.outcome {
        DeliveryOutcome::Failed {
            status: None,
            error: Some(error),
        } => error,
        _ => panic!("failed without an answer: {attempt:?}"),
    }
}

/// Why an attempt was skipped.
fn skip_reason(attempt: &DeliveryAttempt) -> &str {
    match &attempt.outcome {
        DeliveryOutcome::Skipped { reason } => reason,
        _ => panic!("skipped: {attempt:?}"),
    }
}

fn only_attempt(fake: &FakeAttio) -> DeliveryAttempt {
    let log = fake.delivery_log().into_vec();
    assert_eq!(log.len(), 1, "{log:?}");
    log.into_iter().next().unwrap()
}

#[tokio::test]
async fn an_https_receiver_on_loopback_gets_a_signed_delivery_under_attios_policy() {
    let cert = LoopbackCertificate::mint();
    let receiver = HttpsReceiver::start(cert.server_config()).await;
    let fake = FakeAttio::builder()
        .trust_delivery_root(cert.root())
        .build();
    assert_eq!(fake.target_url_policy(), &TargetUrlPolicy::HttpsOnly);

    // By IP address (the certificate's IP SAN) and by name (its DNS SAN).
    let by_ip = create(&fake, &receiver.url("/attio")).await;
    let by_name = create(
        &fake,
        &format!("https://localhost:{}/attio", receiver.addr.port()),
    )
    .await;
    let event = record_created(&fake, "r1");
    assert_eq!(fake.emit(event.clone()).len(), 2);
    fake.settle_deliveries().await;

    let log = fake.delivery_log().into_vec();
    assert_eq!(log.len(), 2, "{log:?}");
    for attempt in &log {
        assert_eq!(
            attempt.outcome,
            DeliveryOutcome::Delivered { status: 200 },
            "{attempt:?}"
        );
    }
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let mut for_webhooks = Vec::new();
    for request in &received {
        let webhook_id = serde_json::from_slice::<serde_json::Value>(&request.body).unwrap()
            ["webhook_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let created = [&by_ip, &by_name]
            .into_iter()
            .find(|c| c.webhook.webhook_id().to_string() == webhook_id)
            .unwrap();
        assert_eq!(
            verified_events(request, created),
            std::slice::from_ref(&event)
        );
        for_webhooks.push(webhook_id);
    }
    for_webhooks.sort();
    let mut expected = vec![
        by_ip.webhook.webhook_id().to_string(),
        by_name.webhook.webhook_id().to_string(),
    ];
    expected.sort();
    assert_eq!(for_webhooks, expected, "one delivery to each webhook");
}

#[tokio::test]
async fn a_certificate_from_another_root_fails_and_is_retried_on_attios_schedule() {
    let trusted = LoopbackCertificate::mint();
    let presented = LoopbackCertificate::mint();
    let receiver = HttpsReceiver::start(presented.server_config()).await;
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let fake = FakeAttio::builder()
        .clock(Clock::manual(start))
        .trust_delivery_root(trusted.root())
        .build();
    let created = create(&fake, &receiver.url("/attio")).await;
    let queued = fake.emit(record_created(&fake, "r1"));
    fake.settle_deliveries().await;

    let first = only_attempt(&fake);
    let error = connection_error(&first);
    assert!(
        error.contains("invalid peer certificate") && error.contains("UnknownIssuer"),
        "{error}"
    );
    assert_eq!(receiver.connections(), 1, "the fake did connect");
    assert!(receiver.received().is_empty(), "nothing was sent in clear");

    // Attio's schedule: 10 retries, 255 s doubling; then degraded.
    let policy = DeliveryPolicy::default();
    for retry in 1..=policy.retries {
        fake.clock().advance(policy.wait_before_retry(retry));
        fake.settle_deliveries().await;
    }
    let log = fake.delivery_log().into_vec();
    assert_eq!(log.len(), 11);
    for (i, attempt) in log.iter().enumerate() {
        assert_eq!(attempt.attempt, i as u32 + 1);
        assert_eq!(attempt.idempotency_key, queued[0].idempotency_key);
        assert!(connection_error(attempt).contains("UnknownIssuer"));
    }
    assert_eq!(receiver.connections(), 11);
    assert!(receiver.received().is_empty());
    let webhook = &fake.webhooks()[0];
    assert_eq!(webhook.webhook_id(), created.webhook.webhook_id());
    assert_eq!(webhook.status, WebhookStatus::Degraded);
}

/// `https://[::1]:PORT/`: the brackets are not part of the name checked
/// against the certificate's `::1`.
#[tokio::test]
async fn an_ipv6_loopback_receiver_gets_its_delivery() {
    let cert = LoopbackCertificate::mint();
    let Ok(receiver) = HttpsReceiver::start_on("::1", cert.server_config()).await else {
        eprintln!("skipped: this system has no IPv6 loopback");
        return;
    };
    let fake = FakeAttio::builder()
        .trust_delivery_root(cert.root())
        .build();
    let url = receiver.url("/attio");
    assert!(url.starts_with("https://[::1]:"), "{url}");
    let created = create(&fake, &url).await;
    let event = record_created(&fake, "r6");
    fake.emit(event.clone());
    fake.settle_deliveries().await;
    assert_eq!(
        only_attempt(&fake).outcome,
        DeliveryOutcome::Delivered { status: 200 }
    );
    assert_eq!(verified_events(&receiver.received()[0], &created), [event]);
}

/// The certificate names `localhost`, `127.0.0.1` and `::1`; a receiver on
/// another loopback address presents a certificate not valid for it.
#[tokio::test]
async fn a_certificate_for_another_name_fails() {
    let cert = LoopbackCertificate::mint();
    let Ok(receiver) = HttpsReceiver::start_on("127.0.0.2", cert.server_config()).await else {
        eprintln!("skipped: this system cannot bind 127.0.0.2");
        return;
    };
    let fake = FakeAttio::builder()
        .trust_delivery_root(cert.root())
        .build();
    create(&fake, &receiver.url("/attio")).await;
    fake.emit(record_created(&fake, "r1"));
    fake.settle_deliveries().await;
    let error = connection_error(&only_attempt(&fake)).to_owned();
    assert!(error.contains("not valid for name"), "{error}");
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn without_a_trusted_root_an_https_target_is_skipped_and_never_contacted() {
    let cert = LoopbackCertificate::mint();
    let receiver = HttpsReceiver::start(cert.server_config()).await;
    let fake = FakeAttio::new();
    create(&fake, &receiver.url("/attio")).await;
    fake.emit(record_created(&fake, "r1"));
    fake.settle_deliveries().await;

    let attempt = only_attempt(&fake);
    let reason = skip_reason(&attempt);
    assert!(reason.contains("trust_delivery_root"), "{reason}");
    assert!(reason.contains("--trust-delivery-root"), "{reason}");
    assert_eq!(
        attempt.attempt, 1,
        "a skipped attempt is logged once and not retried"
    );
    assert_eq!(receiver.connections(), 0);
}

#[tokio::test]
async fn a_trusted_root_does_not_open_hosts_beyond_loopback() {
    let cert = LoopbackCertificate::mint();
    let fake = FakeAttio::builder()
        .trust_delivery_root(cert.root())
        .build();
    // Accepted by Attio's policy; the fake must not connect to it.
    create(&fake, "https://example.com/attio").await;
    fake.emit(record_created(&fake, "r1"));
    fake.settle_deliveries().await;
    let reason = skip_reason(&only_attempt(&fake)).to_owned();
    assert!(reason.contains("only connects to loopback"), "{reason}");
}

#[tokio::test]
async fn the_binary_delivers_over_tls_with_a_root_from_its_flag() {
    let cert = LoopbackCertificate::mint();
    let receiver = HttpsReceiver::start(cert.server_config()).await;
    let dir = std::env::temp_dir().join(format!(
        "fake-attio-https-{}-{}",
        std::process::id(),
        receiver.addr.port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let root_pem = dir.join("root.pem");
    std::fs::write(&root_pem, cert.root_pem()).unwrap();
    let binary = common::Binary::start(
        &[
            "--manual-clock",
            "--trust-delivery-root",
            root_pem.to_str().unwrap(),
        ],
        &[],
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let client = attio_webhooks::Client::builder(attio_webhooks_testkit::DEFAULT_TOKEN)
        .base_url(&binary.base_url)
        .build(attio_webhooks::transport::HyperTransport::new().unwrap())
        .unwrap();
    let created = client
        .create_webhook(
            receiver.url("/attio"),
            vec![Subscription::new(EventType::RecordCreated)],
        )
        .await
        .unwrap();
    let control = ControlClient::new(&binary.base_url, None).unwrap();
    let workspace_id = created.webhook.id.workspace_id;
    let event = Event::new(
        EventType::RecordCreated,
        workspace_id,
        Actor::new(ActorType::ApiToken, Some("token-1".into())),
    )
    .with_id("object_id", "companies")
    .with_id("record_id", "r9");
    assert_eq!(control.emit(&event).await.unwrap().len(), 1);

    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1, "{:?}", control.deliveries().await);
    assert_eq!(verified_events(&received[0], &created), [event]);
}
