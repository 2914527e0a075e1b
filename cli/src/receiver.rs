//! The local webhook receiver of `listen`, and of `dev` when there is no
//! app yet: verifies each delivery, prints each event.
//!
//! Every request goes through the library's `Verifier::read_and_verify`,
//! the same path as its axum extractor and tower layer, so a refusal gets
//! the same status and JSON body (`{"error": code, "message": ...}`).
//!
//! Safe to expose through a tunnel: at most [`MAX_CONNECTIONS`] connections
//! at once, [`READ_TIMEOUT`] to send the headers and again the body, bodies
//! up to the verifier's 1 MiB; nothing is stored unless `listen --record`
//! asks (each request whose body was read whole, verified or refused, one
//! line: [`crate::recording`]). At the cap, a connection
//! that has not begun a request is shed (the testkit's `ConnectionCap`, as
//! the fake's own door does), so sockets that never send cannot lock out
//! deliveries.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::model::Timestamp;
use attio_webhooks::receive::{Event, Inbox, ReceiveError, Verifier};
use attio_webhooks::Secret;
use attio_webhooks_testkit::server::ConnectionCap;
use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::output::{line, Output};
use crate::recording::{Recorded, Recorder};

/// Connections held at once; at the cap an idle one is shed for a new one.
pub const MAX_CONNECTIONS: usize = 64;
/// Time allowed to send the request head, and again the body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Verifies and prints deliveries signed with one webhook's secret.
pub struct Receiver {
    verifier: Verifier,
    out: Output,
    /// Put before each printed event in table mode (`dev` uses it).
    label: &'static str,
    /// Where `listen --record` keeps each delivery.
    recorder: Option<Recorder>,
    /// Where `listen --inbox` stores each verified delivery before answering.
    inbox: Option<Arc<dyn Inbox>>,
}

impl Receiver {
    /// A receiver for deliveries signed with `secret`.
    pub fn new(secret: Secret, out: Output, label: &'static str) -> Self {
        Self {
            verifier: Verifier::new(secret),
            out,
            label,
            recorder: None,
            inbox: None,
        }
    }

    /// Stores each verified delivery in `inbox` before answering: 200 once
    /// stored, 503 (nothing printed) when the store failed.
    pub fn with_inbox(mut self, inbox: Arc<dyn Inbox>) -> Self {
        self.inbox = Some(inbox);
        self
    }

    /// Also keeps every delivery whose body is read whole, verified or
    /// refused, in `recorder`'s file (before answering it).
    pub fn record_to(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// Serves `listener` until the task is dropped.
    pub async fn serve(self, listener: TcpListener) {
        let receiver = Arc::new(self);
        let cap = ConnectionCap::new(MAX_CONNECTIONS);
        loop {
            let admission = cap.admit().await;
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of file descriptors and the like: back off briefly.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let receiver = Arc::clone(&receiver);
            tokio::spawn(async move {
                let requests = admission.requests_handle();
                let service = service_fn(move |request| {
                    let receiver = Arc::clone(&receiver);
                    let running = requests.request();
                    async move {
                        let response = receiver.handle(peer, request).await;
                        drop(running);
                        Ok::<_, Infallible>(response)
                    }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(READ_TIMEOUT)
                    .serve_connection(TokioIo::new(admission.track(stream)), service);
                tokio::select! {
                    _ = connection => {}
                    // Shed at the cap to make room for another connection.
                    _ = admission.evicted() => {}
                }
            });
        }
    }

    async fn handle(&self, peer: SocketAddr, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if request.method() != Method::POST {
            return self.refuse(
                peer,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "deliveries are POSTs",
            );
        }
        let (parts, body) = request.into_parts();
        // With a recorder, the bytes are copied as the verifier reads them:
        // the same reading and refusals as without one.
        let copied = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&copied);
        let keep = self.recorder.is_some();
        let body = body.map_frame(move |frame| {
            if let (true, Some(data)) = (keep, frame.data_ref()) {
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend_from_slice(data);
            }
            frame
        });
        let read = self.verifier.read_and_verify(&parts.headers, body);
        let verified = match tokio::time::timeout(READ_TIMEOUT, read).await {
            Err(_) => {
                return self.refuse(
                    peer,
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    "the body did not arrive in time",
                )
            }
            Ok(Err(refused)) => {
                eprintln!(
                    "refused a request from {peer} with {}: {refused}",
                    refused.status().as_u16()
                );
                // Only refusals after the whole body was read have one to keep.
                if matches!(
                    refused,
                    ReceiveError::Signature(_) | ReceiveError::Payload(_)
                ) {
                    self.record(&parts, &copied, refused.status(), Some(refused.to_string()));
                }
                return refused.to_response().map(Full::new);
            }
            Ok(Ok(verified)) => verified,
        };
        let accepted = match &self.inbox {
            Some(inbox) => Some(inbox.accept(&verified).await),
            None => None,
        };
        if let Some(refused) = accepted.as_ref().filter(|a| a.status() != StatusCode::OK) {
            eprintln!(
                "answered a delivery from {peer} with {}: the inbox did not store it: {refused:?}",
                refused.status().as_u16()
            );
            self.record(
                &parts,
                &copied,
                refused.status(),
                Some(format!("{refused:?}")),
            );
            return refused.to_response().map(Full::new);
        }
        self.record(&parts, &copied, StatusCode::OK, None);
        for event in &verified.delivery().events {
            self.print(event);
        }
        match accepted {
            Some(stored) => stored.to_response().map(Full::new),
            None => json(StatusCode::OK, serde_json::json!({ "status": "ok" })),
        }
    }

    /// Appends the request to the recording, if there is one; a failure
    /// to write is said on stderr, and the delivery answered as usual.
    fn record(
        &self,
        parts: &http::request::Parts,
        body: &std::sync::Mutex<Vec<u8>>,
        status: StatusCode,
        refusal: Option<String>,
    ) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        let body = body
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let recorded = Recorded::new(parts, &body, status.as_u16(), refusal);
        if let Err(e) = recorder.append(&recorded) {
            eprintln!(
                "error: could not record a delivery to {}: {e}",
                recorder.path().display()
            );
        }
    }

    fn refuse(
        &self,
        peer: SocketAddr,
        status: StatusCode,
        code: &str,
        why: &str,
    ) -> Response<Full<Bytes>> {
        eprintln!(
            "refused a request from {peer} with {}: {why}",
            status.as_u16()
        );
        json(status, serde_json::json!({ "error": code, "message": why }))
    }

    fn print(&self, event: &Event) {
        if self.out.json {
            self.out.json_line(event);
        } else {
            line(&format!(
                "{}  {}{}",
                clock_time(Timestamp::now()),
                self.label,
                describe_event(event)
            ));
        }
    }
}

/// A JSON answer, shaped as the library's refusals are.
fn json(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// `HH:MM:SS` (UTC) of a timestamp.
pub fn clock_time(at: Timestamp) -> String {
    let text = at.to_string();
    text.get(11..19).unwrap_or(&text).to_owned()
}

/// An event on one line: its type, every id and field as `key=value`, and the actor.
pub fn describe_event(event: &Event) -> String {
    let mut out = event.event_type.as_str().to_owned();
    let pairs = event.id.ids.iter().chain(event.fields.iter());
    for (key, value) in pairs {
        out.push_str(&format!("  {key}={}", plain(value)));
    }
    out.push_str(&format!("  actor={}", event.actor.kind));
    if let Some(id) = &event.actor.id {
        out.push_str(&format!(":{id}"));
    }
    out
}

fn plain(value: &Value) -> String {
    match value.as_str() {
        Some(text) => text.to_owned(),
        None => value.to_string(),
    }
}
