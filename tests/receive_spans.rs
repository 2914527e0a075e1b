//! The `attio.webhook.receive` span of each delivery, read through a
//! `tracing_subscriber` layer that keeps every span and its fields: the
//! outcome of each refusal, `Once`'s claim and settle inside a handled
//! delivery, and nothing secret in any field.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use attio_webhooks::receive::{signature, Once, Verifier};
use attio_webhooks::Secret;
use bytes::Bytes;
use http_body_util::Full;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const SECRET: &str = "5e8a1c3f7b9d2e4a6c8f0b1d3e5a7c9f1b3d5e7a9c0f2b4d6e8a1c3f5b7d9e0a";
const KEY: &str = "idem-7f3a9c2e-5b1d-4e8f-a6c0-d2b4f6e8a1c3";
const WEBHOOK: &str = "23e42eaf-323a-41da-b5bb-fd67eebda553";

/// One span as the layer saw it: its name, its parent's index, its fields.
#[derive(Clone, Debug)]
struct Seen {
    name: &'static str,
    parent: Option<usize>,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Spans {
    spans: Arc<Mutex<Vec<Seen>>>,
    /// Every field of every event, as text.
    events: Arc<Mutex<Vec<String>>>,
}

/// The index of a span in `Spans`, kept in the registry's extensions.
struct Index(usize);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("the registry has it");
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Index>().map(|i| i.0));
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut spans = self.spans.lock().unwrap();
        spans.push(Seen {
            name: attrs.metadata().name(),
            parent,
            fields,
        });
        span.extensions_mut().insert(Index(spans.len() - 1));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("the registry has it");
        let Some(index) = span.extensions().get::<Index>().map(|i| i.0) else {
            return;
        };
        values.record(&mut Fields(&mut self.spans.lock().unwrap()[index].fields));
    }

    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().unwrap().push(format!("{fields:?}"));
    }
}

impl Spans {
    /// This layer over a registry, as this thread's default until the guard drops.
    fn install() -> (Self, tracing::subscriber::DefaultGuard) {
        let spans = Spans::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        (spans, tracing::subscriber::set_default(subscriber))
    }

    fn all(&self) -> Vec<Seen> {
        self.spans.lock().unwrap().clone()
    }

    /// The delivery spans, in order.
    fn deliveries(&self) -> Vec<(usize, Seen)> {
        self.all()
            .into_iter()
            .enumerate()
            .filter(|(_, s)| s.name == "attio.webhook.receive")
            .collect()
    }

    fn outcomes(&self) -> Vec<String> {
        self.deliveries()
            .into_iter()
            .map(|(_, s)| field(&s, "attio.receive.outcome"))
            .collect()
    }

    /// Fails if any span or event field holds the secret, a signature or the raw key.
    fn assert_nothing_secret(&self, signatures: &[String]) {
        let mut texts: Vec<String> = self
            .all()
            .iter()
            .flat_map(|s| s.fields.values().cloned().collect::<Vec<_>>())
            .collect();
        texts.extend(self.events.lock().unwrap().iter().cloned());
        assert!(!texts.is_empty());
        for text in texts {
            assert!(!text.contains(SECRET), "the secret in {text}");
            assert!(!text.contains(KEY), "the raw key in {text}");
            for signature in signatures {
                assert!(!text.contains(signature.as_str()), "a signature in {text}");
            }
        }
    }
}

fn field(span: &Seen, name: &str) -> String {
    span.fields
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name}: {:?}", span.name, span.fields))
        .clone()
}

fn body(events: usize) -> String {
    let event = r#"{"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"o","record_id":"r","attribute_id":"a"},"actor":{"type":"workspace-member","id":"m"}}"#;
    let created = event.replace("record.updated", "record.created");
    let mut list = vec![created];
    list.extend(std::iter::repeat_n(event.to_owned(), events - 1));
    format!(
        r#"{{"webhook_id":"{WEBHOOK}","events":[{}]}}"#,
        list.join(",")
    )
}

fn signed(body: &str) -> (http::HeaderMap, String) {
    let signature = signature::sign(&Secret::new(SECRET), body.as_bytes());
    let mut headers = http::HeaderMap::new();
    headers.insert("attio-signature", signature.parse().unwrap());
    headers.insert("idempotency-key", KEY.parse().unwrap());
    (headers, signature)
}

fn key_digest() -> String {
    use sha2::{Digest, Sha256};
    const_hex::encode(Sha256::digest(KEY.as_bytes()))[..16].to_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn each_refusal_records_why_in_the_delivery_span() {
    let (spans, _guard) = Spans::install();
    let verifier = Verifier::new(Secret::new(SECRET)).with_max_body_bytes(4096);
    let good = body(1);
    let (headers, signature) = signed(&good);

    let mut unsigned = headers.clone();
    unsigned.remove("attio-signature");
    assert!(verifier.verify(&unsigned, good.as_bytes()).is_err());

    let mut wrong = headers.clone();
    let other = signature::sign(&Secret::new("another secret"), good.as_bytes());
    wrong.insert("attio-signature", other.parse().unwrap());
    assert!(verifier.verify(&wrong, good.as_bytes()).is_err());

    let mut malformed = headers.clone();
    malformed.insert("attio-signature", "zz".parse().unwrap());
    assert!(verifier.verify(&malformed, good.as_bytes()).is_err());

    let not_a_delivery = r#"{"webhook_id":"nope"}"#;
    let (payload_headers, payload_signature) = signed(not_a_delivery);
    assert!(verifier
        .verify(&payload_headers, not_a_delivery.as_bytes())
        .is_err());

    let big = "x".repeat(5000);
    assert!(verifier.verify(&headers, big.as_bytes()).is_err());

    let mut declared_big = headers.clone();
    declared_big.insert("content-length", "5000".parse().unwrap());
    let refused = verifier
        .read_and_verify(&declared_big, Full::new(Bytes::from(good.clone())))
        .await;
    assert_eq!(refused.unwrap_err().status(), 413);

    let broken = http_body_util::StreamBody::new(futures::stream::iter([Err::<
        http_body::Frame<Bytes>,
        std::io::Error,
    >(
        std::io::Error::other("connection reset"),
    )]));
    assert!(verifier.read_and_verify(&headers, broken).await.is_err());

    assert_eq!(
        spans.outcomes(),
        [
            "refused:missing_signature",
            "refused:bad_signature",
            "refused:malformed_signature",
            "refused:bad_payload",
            "refused:body_too_large",
            "refused:body_too_large",
            "refused:unreadable_body",
        ]
    );
    // The key's digest is there even on a refusal; the webhook id only once verified.
    for (_, span) in spans.deliveries() {
        assert_eq!(field(&span, "attio.idempotency_key.sha256"), key_digest());
        assert!(!span.fields.contains_key("attio.webhook_id"));
    }
    spans.assert_nothing_secret(&[signature, other, payload_signature]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_handled_delivery_has_its_claim_and_settle_inside_and_a_retry_is_already_handled() {
    let (spans, _guard) = Spans::install();
    let verifier = Verifier::new(Secret::new(SECRET));
    let once = Once::in_memory();
    let body = body(3);
    let (headers, signature) = signed(&body);

    for expected in ["handled", "already_handled"] {
        let verified = verifier
            .read_and_verify(&headers, Full::new(Bytes::from(body.clone())))
            .await
            .unwrap();
        let outcome = once
            .run_verified(&verified, || async { Ok::<_, Infallible>(()) })
            .await;
        assert_eq!(outcome.code(), expected);
    }

    let deliveries = spans.deliveries();
    assert_eq!(spans.outcomes(), ["handled", "already_handled"]);
    let (first, span) = &deliveries[0];
    assert_eq!(field(span, "attio.webhook_id"), WEBHOOK);
    assert_eq!(field(span, "attio.event.count"), "3");
    assert_eq!(
        field(span, "attio.event.types"),
        "record.created,record.updated,record.updated"
    );
    assert_eq!(field(span, "attio.idempotency_key.sha256"), key_digest());

    let children = |parent: usize| -> Vec<(&'static str, BTreeMap<String, String>)> {
        spans
            .all()
            .into_iter()
            .filter(|s| s.parent == Some(parent))
            .map(|s| (s.name, s.fields))
            .collect()
    };
    let first_children = children(*first);
    let names: Vec<_> = first_children.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["attio.once.claim", "attio.once.settle"]);
    assert_eq!(first_children[0].1["attio.once.claim"], "claimed");
    assert_eq!(first_children[1].1["attio.once.settle"], "complete");
    assert_eq!(first_children[1].1["attio.once.settled"], "held");
    // The retry claims and finds the key done: no settle.
    let second_children = children(deliveries[1].0);
    let names: Vec<_> = second_children.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["attio.once.claim"]);
    assert_eq!(second_children[0].1["attio.once.claim"], "done");

    spans.assert_nothing_secret(&[signature]);
}

#[cfg(feature = "tower")]
#[tokio::test(flavor = "current_thread")]
async fn the_tower_layer_opens_the_span_and_the_inner_service_runs_in_it() {
    use attio_webhooks::receive::{VerifiedDelivery, VerifyLayer};
    use tower::{Layer as _, ServiceExt};

    let (spans, _guard) = Spans::install();
    let once = Once::in_memory();
    let service = VerifyLayer::new(Verifier::new(Secret::new(SECRET))).layer(tower::service_fn(
        move |request: http::Request<Full<Bytes>>| {
            let once = once.clone();
            async move {
                let verified = request.extensions().get::<VerifiedDelivery>().unwrap();
                let outcome = once
                    .run(verified.dedupe_key(), || async { Ok::<_, Infallible>(()) })
                    .await;
                Ok::<_, Infallible>(outcome.to_response().map(Full::new))
            }
        },
    ));
    let body = body(1);
    let (headers, signature) = signed(&body);
    for _ in 0..2 {
        let mut request = http::Request::post("/attio").body(Full::new(Bytes::from(body.clone())));
        *request.as_mut().unwrap().headers_mut() = headers.clone();
        let response = service.clone().oneshot(request.unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let unsigned = http::Request::post("/attio").body(Full::new(Bytes::from(body.clone())));
    let response = service.oneshot(unsigned.unwrap()).await.unwrap();
    assert_eq!(response.status(), 401);

    assert_eq!(
        spans.outcomes(),
        ["handled", "already_handled", "refused:missing_signature"]
    );
    spans.assert_nothing_secret(&[signature]);
}

#[cfg(feature = "axum")]
#[tokio::test(flavor = "current_thread")]
async fn the_axum_extractor_opens_the_span_and_run_verified_settles_in_it() {
    use attio_webhooks::receive::VerifiedDelivery;
    use tower::ServiceExt;

    let (spans, _guard) = Spans::install();
    let once = Once::in_memory();
    let app = axum::Router::new()
        .route(
            "/attio",
            axum::routing::post(move |verified: VerifiedDelivery| {
                let once = once.clone();
                async move {
                    once.run_verified(&verified, || async { Ok::<_, Infallible>(()) })
                        .await
                        .to_response()
                        .map(axum::body::Body::from)
                }
            }),
        )
        .with_state(Verifier::new(Secret::new(SECRET)));
    let body = body(2);
    let (headers, signature) = signed(&body);
    let mut request = http::Request::post("/attio")
        .body(axum::body::Body::from(body.clone()))
        .unwrap();
    *request.headers_mut() = headers.clone();
    assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 200);
    let mut wrong = http::Request::post("/attio")
        .body(axum::body::Body::from(
            body.replace("record.created", "record.deleted"),
        ))
        .unwrap();
    *wrong.headers_mut() = headers;
    assert_eq!(app.oneshot(wrong).await.unwrap().status(), 401);

    assert_eq!(spans.outcomes(), ["handled", "refused:bad_signature"]);
    let (first, _) = spans.deliveries()[0].clone();
    let settles = spans
        .all()
        .into_iter()
        .filter(|s| s.parent == Some(first) && s.name == "attio.once.settle")
        .count();
    assert_eq!(settles, 1);
    spans.assert_nothing_secret(&[signature]);
}

#[test]
fn the_event_types_field_is_bounded() {
    let (spans, _guard) = Spans::install();
    let body = body(40);
    let (headers, _) = signed(&body);
    Verifier::new(Secret::new(SECRET))
        .verify(&headers, body.as_bytes())
        .unwrap();
    let (_, span) = spans.deliveries().remove(0);
    assert_eq!(field(&span, "attio.event.count"), "40");
    let types = field(&span, "attio.event.types");
    assert!(types.len() <= 256 + ",…".len(), "{}", types.len());
    assert!(types.starts_with("record.created,record.updated,"));
    assert!(types.ends_with(",…"), "{types}");
}
