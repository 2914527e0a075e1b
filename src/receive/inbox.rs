//! A durable inbox: store each event of a verified delivery, answer Attio
//! at once, and work the events off later (in order per record) with
//! workers that a store provides.

use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::error::BoxError;
use crate::model::EventType;
use crate::receive::delivery::PayloadError;
use crate::receive::event::Event;
use crate::receive::rejection::{json_response, ErrorBody, ReceiveError, StatusBody};
use crate::receive::trace;
use crate::receive::verifier::VerifiedDelivery;

/// Where verified deliveries are kept until workers have handled each of
/// their events: the receiver stores and answers 200 at once, so a slow or
/// failing handler never holds Attio's request open, and nothing Attio sent
/// is lost when a handler fails (it is retried from the store, not from
/// Attio's next attempt days later).
///
/// The receiving side is [`Inbox::accept`]: it splits the delivery into
/// [`InboxEvent`]s (each with its exact bytes, its dedupe key and its
/// ordering key) and hands them to [`Inbox::store`] in one step. The
/// working side (claiming, leases, retries, dead letters) belongs to the
/// store, which needs a runtime the core does not have.
///
/// What a store must promise, and what the two designs would:
///
/// | promise | PostgreSQL (`attio-webhooks-postgres`'s `PostgresInbox`) | Redis Streams (not written yet) |
/// |---|---|---|
/// | [`store`](Inbox::store) is all or nothing, and a duplicate dedupe key is stored once | one `INSERT ... SELECT FROM unnest(...) ON CONFLICT (dedupe) DO NOTHING` | one Lua script: `SET dedupe NX PX ttl`, then `XADD` for the new ones |
/// | `Ok` only once the events are durable | the commit (as durable as the server's `fsync`/`synchronous_commit`) | only with `appendonly yes` and `appendfsync always`; failover can lose acknowledged writes |
/// | events of one ordering key handled one at a time, in the order stored | the lowest unfinished id of a key is the only one a worker may claim | one stream per ordering key, or a consumer group that reads a key's entries in order |
/// | a worker that dies loses its claim when the lease runs out | `lease_until` by the server's clock, claims with `FOR UPDATE SKIP LOCKED` | `XAUTOCLAIM` after the idle time |
/// | failures retried with backoff, then a dead letter | `attempts`, `not_before` and `state = 'dead'` columns | a retry sorted set and a dead-letter stream |
///
/// A store error is an error: [`Inbox::accept`] then answers 503, Attio
/// retries, and the delivery is never acknowledged without being stored.
#[async_trait::async_trait]
pub trait Inbox: Send + Sync {
    /// Stores `events` (all of one delivery) in one atomic step; an event
    /// whose [`InboxEvent::dedupe_key`] is stored already is not stored
    /// again. `Ok` means every event is durable.
    async fn store(&self, events: &[InboxEvent]) -> Result<Stored, BoxError>;

    /// Splits `verified` into its events ([`InboxEvent::split`]) and
    /// [`store`](Inbox::store)s them; the answer says what to tell Attio
    /// (200, or 503 when the store failed). Records `accepted` or
    /// `store_error` as the delivery span's `attio.receive.outcome`.
    async fn accept(&self, verified: &VerifiedDelivery) -> Accepted {
        let accepted = match InboxEvent::split(verified) {
            Ok(events) => match self.store(&events).await {
                Ok(stored) => Accepted::Stored(stored),
                Err(error) => Accepted::Unavailable(error),
            },
            Err(refused) => Accepted::Refused(refused),
        };
        let code = match &accepted {
            Accepted::Stored(_) => "accepted",
            Accepted::Refused(_) => "refused:bad_payload",
            Accepted::Unavailable(_) => "store_error",
        };
        verified.span().record(trace::OUTCOME, code);
        accepted
    }
}

/// One event of a delivery, as an [`Inbox`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxEvent {
    /// The event's JSON exactly as Attio sent it: a slice of the signed
    /// body, not a re-serialization.
    pub bytes: Bytes,
    /// What makes a redelivery a duplicate: the delivery's
    /// [`dedupe_key`](VerifiedDelivery::dedupe_key) (or, without one, the
    /// SHA-256 of its body), `#`, and the event's place in the delivery.
    pub dedupe_key: String,
    /// Events with the same ordering key are handled one at a time, in
    /// order; see [`InboxEvent::ordering_key_of`].
    pub ordering_key: String,
    /// The event's type.
    pub event_type: EventType,
    /// The event's place in its delivery, from 0.
    pub position: u32,
}

impl InboxEvent {
    /// The events of `verified`, in the delivery's order, each a slice of
    /// the signed body.
    ///
    /// ```
    /// use attio_webhooks::receive::{signature, InboxEvent, Verifier};
    /// use attio_webhooks::Secret;
    ///
    /// let secret = Secret::new("shh");
    /// let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[
    ///   {"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"o","record_id":"r1"},"actor":{"type":"system","id":null}},
    ///   {"event_type":"task.created", "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","task_id":"t1"},"actor":{"type":"system","id":null}}]}"#;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("attio-signature", signature::sign(&secret, body).parse().unwrap());
    /// headers.insert("idempotency-key", "k-1".parse().unwrap());
    /// let verified = Verifier::new(secret).verify(&headers, body).unwrap();
    ///
    /// let events = InboxEvent::split(&verified)?;
    /// assert_eq!(events[0].dedupe_key, "k-1#0");
    /// assert_eq!(events[0].ordering_key, "14beef7a-99f7-4534-a87e-70b564330a4c/record/r1");
    /// assert_eq!(events[1].ordering_key, "14beef7a-99f7-4534-a87e-70b564330a4c/task/t1");
    /// assert!(events[1].bytes.starts_with(br#"{"event_type":"task.created", "id""#));
    /// # Ok::<(), attio_webhooks::receive::PayloadError>(())
    /// ```
    pub fn split(verified: &VerifiedDelivery) -> Result<Vec<InboxEvent>, PayloadError> {
        #[derive(Deserialize)]
        struct RawEvents<'a> {
            #[serde(borrow)]
            events: Vec<&'a RawValue>,
        }
        let body = verified.body();
        let parsed = &verified.delivery().events;
        let raw: RawEvents<'_> = serde_json::from_slice(body).map_err(|e| PayloadError {
            path: "events".to_owned(),
            message: e.to_string(),
        })?;
        if raw.events.len() != parsed.len() {
            return Err(PayloadError {
                path: "events".to_owned(),
                message: format!(
                    "{} events parsed but {} found in the body",
                    parsed.len(),
                    raw.events.len()
                ),
            });
        }
        let base = match verified.dedupe_key() {
            Some(key) => key.to_owned(),
            None => format!("sha256:{}", const_hex::encode(Sha256::digest(body))),
        };
        let events = raw
            .events
            .iter()
            .zip(parsed)
            .zip(0u32..)
            .map(|((raw, event), position)| {
                let dedupe_key = format!("{base}#{position}");
                InboxEvent {
                    bytes: body.slice_ref(raw.get().as_bytes()),
                    ordering_key: Self::ordering_key_of(event)
                        .unwrap_or_else(|| format!("event/{dedupe_key}")),
                    dedupe_key,
                    event_type: event.event_type.clone(),
                    position,
                }
            })
            .collect();
        Ok(events)
    }

    /// Parses [`InboxEvent::bytes`] into an [`Event`].
    pub fn event(&self) -> Result<Event, PayloadError> {
        Self::parse(&self.bytes)
    }

    /// Parses one event's stored bytes (what a store's worker hands its
    /// handler) into an [`Event`].
    pub fn parse(bytes: &[u8]) -> Result<Event, PayloadError> {
        crate::json::parse(bytes).map_err(|f| PayloadError {
            path: f.path,
            message: f.message,
        })
    }

    /// The thing an event is about, which orders it against the other events
    /// about the same thing: `{workspace_id}/{kind}/{id}`, the first of
    /// `entry` (`entry_id`), `record` (`record_id`, also a comment's
    /// top-level one), `note` (`note_id`), `list` (`list_id`), `task`
    /// (`task_id`) and `object` (`object_id`, e.g. `object-attribute.*`).
    /// `None` for an event with none of them (`workspace-member.created`, an
    /// unknown type): such an event gets a key of its own and waits for none.
    ///
    /// `record.merged` is ordered with its surviving record (`record_id`),
    /// a list entry with its entry rather than its parent record, and a note
    /// with itself rather than its parent record.
    ///
    /// ```
    /// use attio_webhooks::receive::{Actor, Event, InboxEvent};
    /// use attio_webhooks::{EventType, WorkspaceId};
    ///
    /// let entry = Event::new(EventType::ListEntryUpdated, WorkspaceId::from_u128(1), Actor::system())
    ///     .with_id("list_id", "l").with_id("entry_id", "e");
    /// assert_eq!(InboxEvent::ordering_key_of(&entry).unwrap(), "00000000-0000-0000-0000-000000000001/entry/e");
    /// let member = Event::new(EventType::WorkspaceMemberCreated, WorkspaceId::from_u128(1), Actor::system());
    /// assert_eq!(InboxEvent::ordering_key_of(&member), None);
    /// ```
    pub fn ordering_key_of(event: &Event) -> Option<String> {
        let (kind, id) = [
            ("entry", event.entry_id()),
            ("record", event.record_id()),
            ("note", event.note_id()),
            ("list", event.list_id()),
            ("task", event.task_id()),
            ("object", event.object_id()),
        ]
        .into_iter()
        .find_map(|(kind, id)| Some((kind, id?)))?;
        Some(format!("{}/{kind}/{id}", event.id.workspace_id))
    }
}

/// What [`Inbox::store`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stored {
    /// Events stored now.
    pub new: u64,
    /// Events whose dedupe key was stored already (a redelivery).
    pub duplicates: u64,
}

impl Stored {
    /// `new` events stored and `duplicates` found stored already.
    pub fn new(new: u64, duplicates: u64) -> Self {
        Self { new, duplicates }
    }
}

/// What [`Inbox::accept`] did, and what to answer Attio.
#[derive(Debug)]
#[non_exhaustive]
pub enum Accepted {
    /// Every event is stored (now or before): answer 200.
    Stored(Stored),
    /// The signed body's events could not be split out (it parsed as a
    /// delivery, so this does not happen with Attio's bodies): answer 400.
    Refused(PayloadError),
    /// The store failed; nothing is acknowledged. Answer 503 so Attio
    /// retries.
    Unavailable(BoxError),
}

impl Accepted {
    /// 200 for [`Accepted::Stored`], 400 for [`Accepted::Refused`], 503
    /// for [`Accepted::Unavailable`].
    pub fn status(&self) -> StatusCode {
        match self {
            Accepted::Stored(_) => StatusCode::OK,
            Accepted::Refused(_) => StatusCode::BAD_REQUEST,
            Accepted::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The answer: 200 `{"status":"accepted"}`, the 400 of
    /// [`ReceiveError::Payload`], or 503 `{"error":"unavailable",...}`.
    ///
    /// ```
    /// use attio_webhooks::receive::{Accepted, Stored};
    /// let ok = Accepted::Stored(Stored::new(1, 0)).to_response();
    /// assert_eq!((ok.status().as_u16(), ok.body().as_ref()), (200, &br#"{"status":"accepted"}"#[..]));
    /// let down = Accepted::Unavailable("connection refused".into()).to_response();
    /// assert_eq!(down.status(), 503);
    /// ```
    pub fn to_response(&self) -> http::Response<Bytes> {
        match self {
            Accepted::Stored(_) => json_response(self.status(), &StatusBody { status: "accepted" }),
            Accepted::Refused(refused) => ReceiveError::Payload(refused.clone()).to_response(),
            Accepted::Unavailable(_) => json_response(
                self.status(),
                &ErrorBody {
                    error: "unavailable",
                    message: "the inbox could not store the delivery; retry later",
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receive::signature;
    use crate::receive::verifier::Verifier;
    use crate::Secret;

    const WS: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";

    fn verified(body: &str, key: Option<&str>) -> VerifiedDelivery {
        let secret = Secret::new("s");
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "attio-signature",
            signature::sign(&secret, body.as_bytes()).parse().unwrap(),
        );
        if let Some(key) = key {
            headers.insert("idempotency-key", key.parse().unwrap());
        }
        Verifier::new(secret)
            .verify(&headers, body.as_bytes())
            .unwrap()
    }

    fn delivery(events: &[&str]) -> String {
        format!(
            r#"{{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{}]}}"#,
            events.join(" , ")
        )
    }

    /// Events as Attio's reference writes them (ids shortened): the key
    /// each is ordered by, written by hand.
    #[test]
    fn each_event_is_ordered_by_the_thing_it_is_about() {
        let cases = [
            // A comment carries its record at the top level.
            (
                r#"{"event_type":"comment.created","id":{"workspace_id":"WS","comment_id":"c"},"thread_id":"t","object_id":"o","record_id":"r","list_id":null,"entry_id":null,"actor":{"type":"workspace-member","id":"m"}}"#,
                "WS/record/r",
            ),
            (
                r#"{"event_type":"list-entry.updated","id":{"workspace_id":"WS","list_id":"l","entry_id":"e","attribute_id":"a"},"parent_object_id":"o","parent_record_id":"r","actor":{"type":"workspace-member","id":"m"}}"#,
                "WS/entry/e",
            ),
            (
                r#"{"event_type":"note.created","id":{"workspace_id":"WS","note_id":"n"},"parent_object_id":"o","parent_record_id":"r","actor":{"type":"workspace-member","id":"m"}}"#,
                "WS/note/n",
            ),
            (
                r#"{"event_type":"list-attribute.created","id":{"workspace_id":"WS","list_id":"l","attribute_id":"a"},"actor":{"type":"workspace-member","id":"m"}}"#,
                "WS/list/l",
            ),
            (
                r#"{"event_type":"object-attribute.updated","id":{"workspace_id":"WS","object_id":"o","attribute_id":"a"},"actor":{"type":"workspace-member","id":"m"}}"#,
                "WS/object/o",
            ),
            (
                r#"{"event_type":"task.deleted","id":{"workspace_id":"WS","task_id":"t"},"actor":{"type":"workspace-member","id":"m"}}"#,
                "WS/task/t",
            ),
        ];
        let events: Vec<String> = cases.iter().map(|(e, _)| e.replace("WS", WS)).collect();
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        let split = InboxEvent::split(&verified(&delivery(&refs), Some("k"))).unwrap();
        for ((event, (_, key)), text) in split.iter().zip(&cases).zip(&events) {
            assert_eq!(event.ordering_key, key.replace("WS", WS));
            assert_eq!(event.bytes, text.as_bytes(), "exact bytes");
        }
        let positions: Vec<u32> = split.iter().map(|e| e.position).collect();
        assert_eq!(positions, [0, 1, 2, 3, 4, 5]);
    }

    /// Without an `Idempotency-Key`, a delivery is known by its signed
    /// bytes: the same bytes again are the same events.
    #[test]
    fn without_a_key_the_body_digest_names_the_events() {
        let body = delivery(&[&format!(
            r#"{{"event_type":"workspace-member.created","id":{{"workspace_id":"{WS}","workspace_member_id":"w"}},"actor":{{"type":"system","id":null}}}}"#
        )]);
        let split = InboxEvent::split(&verified(&body, None)).unwrap();
        let digest = {
            use sha2::{Digest, Sha256};
            const_hex::encode(Sha256::digest(body.as_bytes()))
        };
        assert_eq!(split[0].dedupe_key, format!("sha256:{digest}#0"));
        assert_eq!(split[0].ordering_key, format!("event/sha256:{digest}#0"));
        assert_eq!(
            split[0].event().unwrap().event_type.as_str(),
            "workspace-member.created"
        );
    }
}
