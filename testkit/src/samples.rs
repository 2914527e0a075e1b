//! A realistic sample [`Event`] for each of the 34 event types Attio sends.
//!
//! Each sample carries exactly the ids and fields Attio puts in events of
//! its type, in the order Attio writes them (per-type fields between `id`
//! and `actor`, as in Attio's reference and in Pipedream's recorded
//! `components/attio/sources/*/test-event.mjs`), with the values of
//! Attio's own examples in its webhook reference: the same workspace,
//! object, record, list, entry, note, comment, thread, attribute, meeting
//! and call-recording ids, acted on by the same workspace member. They are
//! what `attio-webhooks trigger` sends (in the running fake's workspace,
//! see [`events_in`]), and a ready-made payload for a receiver's tests:
//!
//! ```
//! use attio_webhooks::EventType;
//! use attio_webhooks_testkit::samples;
//!
//! let comment = samples::event(&EventType::CommentCreated).unwrap();
//! assert_eq!(comment.fields["list_id"], serde_json::Value::Null, "a comment on a record");
//! let [first, second] = samples::merged_pair(samples::WORKSPACE_ID);
//! assert_eq!(first.record_id(), second.record_id(), "both name the new record");
//! assert_ne!(first.duplicate_record_id(), second.duplicate_record_id());
//! assert_eq!(samples::all().len(), EventType::KNOWN.len());
//! assert!(samples::event(&EventType::from("meeting.created")).is_none());
//! ```
//!
//! | event types | `id` holds, besides `workspace_id` | other fields |
//! |---|---|---|
//! | `record.created`, `record.deleted` | `object_id`, `record_id` | |
//! | `record.updated` | `object_id`, `record_id`, `attribute_id` | |
//! | `record.merged` (two events, [`merged_pair`]) | `object_id`, `record_id` (the new record) | `duplicate_object_id`, `duplicate_record_id` (one original each) |
//! | `object-attribute.*` | `object_id`, `attribute_id` | |
//! | `list.*` | `list_id` | |
//! | `list-attribute.*` | `list_id`, `attribute_id` | |
//! | `list-entry.created`, `list-entry.deleted` | `list_id`, `entry_id` | `parent_object_id`, `parent_record_id` |
//! | `list-entry.updated` | `list_id`, `entry_id`, `attribute_id` | `parent_object_id`, `parent_record_id` |
//! | `note.*`, `note-content.updated` | `note_id` | `parent_object_id`, `parent_record_id` |
//! | `comment.*` | `comment_id` | `thread_id`, `object_id`, `record_id`, `list_id`, `entry_id` (`null` on a record; [`comment_on_list_entry`] fills them) |
//! | `task.*` | `task_id` | |
//! | `activity.*` | `activity_id` | |
//! | `activity-attribute.*` | `activity_id`, `attribute_id` | |
//! | `activity-record.*` | `activity_id`, `record_id` | |
//! | `call-recording.created` | `meeting_id`, `call_recording_id` | |
//! | `workspace-member.created` | `workspace_member_id` | |
//!
//! Every sample's `actor` is `{"type": "workspace-member", "id": MEMBER_ID}`;
//! [`actor`] gives the other documented kinds (`api-token` with a UUID,
//! `system` with a `null` id) to put in its place.

use attio_webhooks::{receive::Actor, receive::ActorType, receive::Event, EventType, WorkspaceId};
use serde_json::Value;

/// The workspace of every sample (`id.workspace_id`).
pub const WORKSPACE_ID: WorkspaceId =
    WorkspaceId::from_u128(0x14beef7a_99f7_4534_a87e_70b564330a4c);
/// The workspace member who acts in every sample (`actor.id`), and the new
/// member of `workspace-member.created`.
pub const MEMBER_ID: &str = "50cf242c-7fa3-4cad-87d0-75b1af71c57b";
/// The object of record, attribute, note, list-entry and comment samples.
pub const OBJECT_ID: &str = "97052eb9-e65e-443f-a297-f2d9a4a7f795";
/// The record of record, note, list-entry and comment samples.
pub const RECORD_ID: &str = "bf071e1f-6035-429d-b874-d83ea64ea13b";
/// The first original of the merge in [`merged_pair`] (the
/// `duplicate_record_id` of Attio's `record.merged` example).
pub const DUPLICATE_RECORD_ID: &str = "3405be95-8375-46a0-bde0-03b3753f8c79";
/// The second original of the merge in [`merged_pair`]: the
/// `primary_record_id` of the example on Attio's "Merge two records"
/// endpoint page (docs.attio.com/rest-api/endpoint-reference/records/merge-two-records).
pub const OTHER_ORIGINAL_RECORD_ID: &str = "891dcbfc-9141-415d-9b2a-2238a6cc012d";
/// The API token that acts in [`actor`]`(&ActorType::ApiToken)` (a UUID,
/// as Attio's actors page says; the value is the fake's).
pub const API_TOKEN_ID: &str = "6c4f7d3e-0b1a-4e8f-9a2d-5b7c8e9f0a1b";
/// The attribute of `*-attribute.*`, `record.updated` and `list-entry.updated`.
pub const ATTRIBUTE_ID: &str = "41252299-f8c7-4b5e-99c9-4ff8321d2f96";
/// The list of list, list-attribute, list-entry and comment samples.
pub const LIST_ID: &str = "33ebdbe9-e529-47c9-b894-0ba25e9c15c0";
/// The list entry of list-entry and comment samples.
pub const ENTRY_ID: &str = "2e6e29ea-c4e0-4f44-842d-78a891f8c156";
/// The note of note samples.
pub const NOTE_ID: &str = "ff3f3bd4-40f4-4f80-8187-cd02385af424";
/// The comment of comment samples.
pub const COMMENT_ID: &str = "aa1dc1d9-93ac-4c6c-987e-16b6eea9aab2";
/// The thread the sample comment belongs to.
pub const THREAD_ID: &str = "a649e4d9-435c-43fb-83ba-847b4876f27a";
/// The task of task samples.
pub const TASK_ID: &str = "649e34f4-c39a-4f4d-99ef-48a36bef8f04";
/// The activity of activity samples (Attio's example reuses the object id).
pub const ACTIVITY_ID: &str = "97052eb9-e65e-443f-a297-f2d9a4a7f795";
/// The record of `activity-record.*`.
pub const ACTIVITY_RECORD_ID: &str = "5f4f2d9c-2b3e-4a83-9c76-1de3a3f14f26";
/// The meeting of `call-recording.created`.
pub const MEETING_ID: &str = "cb59ab17-ad15-460c-a126-0715617c0853";
/// The recording of `call-recording.created`.
pub const CALL_RECORDING_ID: &str = "e8f2a3b7-9b4d-4c5e-8a1f-3d7b2c5e8f9a";

/// The sample of `event_type` in Attio's example workspace
/// ([`WORKSPACE_ID`]), or `None` for a type this version does not know
/// ([`EventType::Unknown`]). For `record.merged`, the first of
/// [`merged_pair`].
pub fn event(event_type: &EventType) -> Option<Event> {
    events_in(event_type, WORKSPACE_ID).into_iter().next()
}

/// Every event Attio sends for one occurrence of `event_type`, in
/// `workspace_id` (the fake's own, [`crate::FakeAttio::workspace_id`], so
/// that they look like events of the webhooks' workspace): the two events
/// of [`merged_pair`] for `record.merged`, one sample for any other known
/// type, none for an unknown one.
pub fn events_in(event_type: &EventType, workspace_id: WorkspaceId) -> Vec<Event> {
    if *event_type == EventType::RecordMerged {
        return merged_pair(workspace_id).into();
    }
    built(event_type, workspace_id).into_iter().collect()
}

/// The two `record.merged` events of one merge in `workspace_id`.
///
/// Attio's reference (docs.attio.com/rest-api/webhook-reference/record/merged):
/// "Merging produces a new record holding the values of both originals,
/// which are themselves marked as merged. Each merge therefore fires two
/// events: both carry the new record's ID in `id.record_id`, and each
/// names one of the originals in `duplicate_record_id`." Here the new
/// record is [`RECORD_ID`] (the example's `id.record_id`) and the
/// originals are [`DUPLICATE_RECORD_ID`] (the example's
/// `duplicate_record_id`) and [`OTHER_ORIGINAL_RECORD_ID`], all of the
/// object [`OBJECT_ID`].
pub fn merged_pair(workspace_id: WorkspaceId) -> [Event; 2] {
    [DUPLICATE_RECORD_ID, OTHER_ORIGINAL_RECORD_ID].map(|original| {
        base(&EventType::RecordMerged, workspace_id)
            .with_id("object_id", OBJECT_ID)
            .with_id("record_id", RECORD_ID)
            .with_field("duplicate_object_id", OBJECT_ID)
            .with_field("duplicate_record_id", original)
    })
}

/// The sample of a `comment.*` type for a comment on a list entry
/// ([`LIST_ID`], [`ENTRY_ID`]), in Attio's example workspace; `None` for
/// any other type. Attio's reference for `comment.*`: "`list_id`: If the
/// comment relates to a list entry, this is the ID of that list,
/// otherwise null" (and the same for `entry_id`).
pub fn comment_on_list_entry(event_type: &EventType) -> Option<Event> {
    if !event_type.as_str().starts_with("comment.") {
        return None;
    }
    let comment = event(event_type)?;
    Some(
        comment
            .with_field("list_id", LIST_ID)
            .with_field("entry_id", ENTRY_ID),
    )
}

/// An actor of a kind Attio documents (docs.attio.com/docs/actors):
/// `workspace-member` ([`MEMBER_ID`]) and `api-token` ([`API_TOKEN_ID`])
/// with a UUID id, `system` with a `null` id; `None` for other kinds.
///
/// ```
/// use attio_webhooks::receive::ActorType;
/// use attio_webhooks_testkit::samples;
/// let system = samples::actor(&ActorType::System).unwrap();
/// assert_eq!(serde_json::to_string(&system)?, r#"{"type":"system","id":null}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn actor(kind: &ActorType) -> Option<Actor> {
    let id = match kind {
        ActorType::WorkspaceMember => Some(MEMBER_ID),
        ActorType::ApiToken => Some(API_TOKEN_ID),
        ActorType::System => None,
        _ => return None,
    };
    Some(Actor::new(kind.clone(), id.map(str::to_owned)))
}

/// An event of `event_type` in `workspace_id` by the sample member, with no
/// ids or fields yet.
fn base(event_type: &EventType, workspace_id: WorkspaceId) -> Event {
    let actor = Actor::new(ActorType::WorkspaceMember, Some(MEMBER_ID.to_owned()));
    Event::new(event_type.clone(), workspace_id, actor)
}

/// The one sample of a known type other than `record.merged`.
fn built(event_type: &EventType, workspace_id: WorkspaceId) -> Option<Event> {
    if !event_type.is_known() {
        return None;
    }
    let base = base(event_type, workspace_id);
    let name = event_type.as_str();
    let (family, _) = name.split_once('.').unwrap_or((name, ""));
    let event = match (family, name) {
        (_, "record.updated") => base
            .with_id("object_id", OBJECT_ID)
            .with_id("record_id", RECORD_ID)
            .with_id("attribute_id", ATTRIBUTE_ID),
        ("record", _) => base
            .with_id("object_id", OBJECT_ID)
            .with_id("record_id", RECORD_ID),
        ("object-attribute", _) => base
            .with_id("object_id", OBJECT_ID)
            .with_id("attribute_id", ATTRIBUTE_ID),
        ("list", _) => base.with_id("list_id", LIST_ID),
        ("list-attribute", _) => base
            .with_id("list_id", LIST_ID)
            .with_id("attribute_id", ATTRIBUTE_ID),
        ("list-entry", _) => {
            let entry = base
                .with_id("list_id", LIST_ID)
                .with_id("entry_id", ENTRY_ID);
            let entry = if name == "list-entry.updated" {
                entry.with_id("attribute_id", ATTRIBUTE_ID)
            } else {
                entry
            };
            entry
                .with_field("parent_object_id", OBJECT_ID)
                .with_field("parent_record_id", RECORD_ID)
        }
        ("note" | "note-content", _) => base
            .with_id("note_id", NOTE_ID)
            .with_field("parent_object_id", OBJECT_ID)
            .with_field("parent_record_id", RECORD_ID),
        // A comment on a record: no list, no entry.
        ("comment", _) => base
            .with_id("comment_id", COMMENT_ID)
            .with_field("thread_id", THREAD_ID)
            .with_field("object_id", OBJECT_ID)
            .with_field("record_id", RECORD_ID)
            .with_field("list_id", Value::Null)
            .with_field("entry_id", Value::Null),
        ("task", _) => base.with_id("task_id", TASK_ID),
        ("activity", _) => base.with_id("activity_id", ACTIVITY_ID),
        ("activity-attribute", _) => base
            .with_id("activity_id", ACTIVITY_ID)
            .with_id("attribute_id", ATTRIBUTE_ID),
        ("activity-record", _) => base
            .with_id("activity_id", ACTIVITY_ID)
            .with_id("record_id", ACTIVITY_RECORD_ID),
        ("call-recording", _) => base
            .with_id("meeting_id", MEETING_ID)
            .with_id("call_recording_id", CALL_RECORDING_ID),
        ("workspace-member", _) => base.with_id("workspace_member_id", MEMBER_ID),
        // A type added to `EventType` without a sample here: the tests
        // below fail for it.
        _ => return None,
    };
    Some(event)
}

/// One sample per known event type, in [`EventType::KNOWN`] order.
pub fn all() -> Vec<Event> {
    EventType::KNOWN.iter().filter_map(event).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn sample_json(event_type: &str) -> Value {
        serde_json::to_value(event(&EventType::from(event_type)).unwrap()).unwrap()
    }

    #[test]
    fn every_known_type_has_a_sample_of_its_own_type() {
        for known in EventType::KNOWN {
            let sample = event(known).unwrap_or_else(|| panic!("no sample for {known}"));
            assert_eq!(&sample.event_type, known);
            assert_eq!(sample.id.workspace_id, WORKSPACE_ID);
            assert!(
                !sample.id.ids.is_empty(),
                "{known} has no ids besides the workspace"
            );
        }
    }

    /// Attio's own examples, copied by hand from its webhook reference.
    #[test]
    fn samples_match_attios_documented_examples() {
        let actor =
            json!({"type": "workspace-member", "id": "50cf242c-7fa3-4cad-87d0-75b1af71c57b"});
        assert_eq!(
            sample_json("record.merged"),
            json!({
                "event_type": "record.merged",
                "id": {
                    "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                    "object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                    "record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b"
                },
                "duplicate_object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "duplicate_record_id": "3405be95-8375-46a0-bde0-03b3753f8c79",
                "actor": actor
            })
        );
        // A comment on a record: `list_id` and `entry_id` are null (Attio's
        // reference for comment.*: "If the comment relates to a list entry,
        // this is the ID of that list, otherwise null").
        assert_eq!(
            sample_json("comment.created"),
            json!({
                "event_type": "comment.created",
                "id": {
                    "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                    "comment_id": "aa1dc1d9-93ac-4c6c-987e-16b6eea9aab2"
                },
                "actor": actor,
                "list_id": null,
                "entry_id": null,
                "object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b",
                "thread_id": "a649e4d9-435c-43fb-83ba-847b4876f27a"
            })
        );
        // On a list entry, as in the reference's example.
        assert_eq!(
            serde_json::to_value(comment_on_list_entry(&EventType::CommentCreated).unwrap())
                .unwrap(),
            json!({
                "event_type": "comment.created",
                "id": {
                    "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                    "comment_id": "aa1dc1d9-93ac-4c6c-987e-16b6eea9aab2"
                },
                "actor": actor,
                "list_id": "33ebdbe9-e529-47c9-b894-0ba25e9c15c0",
                "entry_id": "2e6e29ea-c4e0-4f44-842d-78a891f8c156",
                "object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b",
                "thread_id": "a649e4d9-435c-43fb-83ba-847b4876f27a"
            })
        );
        assert_eq!(
            sample_json("list-entry.updated"),
            json!({
                "event_type": "list-entry.updated",
                "id": {
                    "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                    "list_id": "33ebdbe9-e529-47c9-b894-0ba25e9c15c0",
                    "entry_id": "2e6e29ea-c4e0-4f44-842d-78a891f8c156",
                    "attribute_id": "41252299-f8c7-4b5e-99c9-4ff8321d2f96"
                },
                "parent_object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "parent_record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b",
                "actor": actor
            })
        );
        assert_eq!(
            sample_json("call-recording.created"),
            json!({
                "event_type": "call-recording.created",
                "id": {
                    "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                    "meeting_id": "cb59ab17-ad15-460c-a126-0715617c0853",
                    "call_recording_id": "e8f2a3b7-9b4d-4c5e-8a1f-3d7b2c5e8f9a"
                },
                "actor": actor
            })
        );
        assert_eq!(
            sample_json("note-content.updated"),
            json!({
                "event_type": "note-content.updated",
                "id": {
                    "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                    "note_id": "ff3f3bd4-40f4-4f80-8187-cd02385af424"
                },
                "parent_object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "parent_record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b",
                "actor": actor
            })
        );
        assert_eq!(
            sample_json("activity-record.created"),
            json!({
                "event_type": "activity-record.created",
                "id": {
                    "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                    "activity_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                    "record_id": "5f4f2d9c-2b3e-4a83-9c76-1de3a3f14f26"
                },
                "actor": actor
            })
        );
        assert_eq!(
            sample_json("workspace-member.created")["id"],
            json!({
                "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                "workspace_member_id": "50cf242c-7fa3-4cad-87d0-75b1af71c57b"
            })
        );
    }

    #[test]
    fn id_keys_per_type_follow_attios_reference() {
        // (type, keys under `id` besides workspace_id, top-level fields), from
        // the table in Attio's webhook reference.
        let expected: &[(&str, &[&str], &[&str])] = &[
            ("record.created", &["object_id", "record_id"], &[]),
            ("record.deleted", &["object_id", "record_id"], &[]),
            (
                "record.updated",
                &["attribute_id", "object_id", "record_id"],
                &[],
            ),
            (
                "object-attribute.created",
                &["attribute_id", "object_id"],
                &[],
            ),
            (
                "object-attribute.updated",
                &["attribute_id", "object_id"],
                &[],
            ),
            ("list.created", &["list_id"], &[]),
            ("list.updated", &["list_id"], &[]),
            ("list.deleted", &["list_id"], &[]),
            ("list-attribute.created", &["attribute_id", "list_id"], &[]),
            ("list-attribute.updated", &["attribute_id", "list_id"], &[]),
            (
                "list-entry.created",
                &["entry_id", "list_id"],
                &["parent_object_id", "parent_record_id"],
            ),
            (
                "list-entry.deleted",
                &["entry_id", "list_id"],
                &["parent_object_id", "parent_record_id"],
            ),
            (
                "note.created",
                &["note_id"],
                &["parent_object_id", "parent_record_id"],
            ),
            (
                "note.updated",
                &["note_id"],
                &["parent_object_id", "parent_record_id"],
            ),
            (
                "note.deleted",
                &["note_id"],
                &["parent_object_id", "parent_record_id"],
            ),
            (
                "comment.resolved",
                &["comment_id"],
                &["entry_id", "list_id", "object_id", "record_id", "thread_id"],
            ),
            (
                "comment.unresolved",
                &["comment_id"],
                &["entry_id", "list_id", "object_id", "record_id", "thread_id"],
            ),
            (
                "comment.deleted",
                &["comment_id"],
                &["entry_id", "list_id", "object_id", "record_id", "thread_id"],
            ),
            ("task.created", &["task_id"], &[]),
            ("task.updated", &["task_id"], &[]),
            ("task.deleted", &["task_id"], &[]),
            ("activity.created", &["activity_id"], &[]),
            ("activity.updated", &["activity_id"], &[]),
            ("activity.deleted", &["activity_id"], &[]),
            (
                "activity-attribute.created",
                &["activity_id", "attribute_id"],
                &[],
            ),
            (
                "activity-attribute.updated",
                &["activity_id", "attribute_id"],
                &[],
            ),
            (
                "activity-record.deleted",
                &["activity_id", "record_id"],
                &[],
            ),
        ];
        for (event_type, ids, fields) in expected {
            let value = sample_json(event_type);
            let mut id_keys: Vec<&str> = value["id"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "workspace_id")
                .collect();
            id_keys.sort_unstable();
            assert_eq!(&id_keys, ids, "{event_type}");
            let mut field_keys: Vec<&str> = value
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| !matches!(*k, "event_type" | "id" | "actor"))
                .collect();
            field_keys.sort_unstable();
            assert_eq!(&field_keys, fields, "{event_type}");
        }
    }

    /// Byte for byte, in the order of Attio's current reference pages
    /// (docs.attio.com/rest-api/webhook-reference/record/merged and
    /// .../comment/created: `event_type`, `id`, the per-type fields, then
    /// `actor`), whitespace removed by hand.
    #[test]
    fn samples_are_written_in_attios_key_order() {
        let merged = r#"{"event_type":"record.merged","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b"},"duplicate_object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","duplicate_record_id":"3405be95-8375-46a0-bde0-03b3753f8c79","actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}"#;
        let comment = r#"{"event_type":"comment.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","comment_id":"aa1dc1d9-93ac-4c6c-987e-16b6eea9aab2"},"thread_id":"a649e4d9-435c-43fb-83ba-847b4876f27a","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b","list_id":null,"entry_id":null,"actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}"#;
        let text = |t: &str| serde_json::to_string(&event(&EventType::from(t)).unwrap()).unwrap();
        assert_eq!(text("record.merged"), merged);
        assert_eq!(text("comment.created"), comment);
    }

    /// The merge as Attio's current reference describes it: two events,
    /// both with the new record's id in `id.record_id`, each naming one
    /// original in `duplicate_record_id` (and its object in
    /// `duplicate_object_id`), in the workspace given.
    #[test]
    fn a_merge_is_two_events_naming_one_original_each() {
        let workspace = WorkspaceId::from_u128(0x0a0b);
        let pair: Vec<Value> = events_in(&EventType::RecordMerged, workspace)
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        let one = |original: &str| {
            json!({
                "event_type": "record.merged",
                "id": {
                    "workspace_id": "00000000-0000-0000-0000-000000000a0b",
                    "object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                    "record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b"
                },
                "duplicate_object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "duplicate_record_id": original,
                "actor": {"type": "workspace-member", "id": "50cf242c-7fa3-4cad-87d0-75b1af71c57b"}
            })
        };
        assert_eq!(
            pair,
            [
                one("3405be95-8375-46a0-bde0-03b3753f8c79"),
                one("891dcbfc-9141-415d-9b2a-2238a6cc012d")
            ]
        );
    }

    /// Attio's actors page (docs.attio.com/docs/actors): workspace-member
    /// and api-token come with a UUID, system "Always comes with a null ID".
    #[test]
    fn each_documented_actor_kind_has_its_id_form() {
        let text = |kind| serde_json::to_value(actor(&kind).unwrap()).unwrap();
        assert_eq!(
            text(ActorType::WorkspaceMember),
            json!({"type": "workspace-member", "id": "50cf242c-7fa3-4cad-87d0-75b1af71c57b"})
        );
        assert_eq!(
            text(ActorType::System),
            json!({"type": "system", "id": null})
        );
        let token = text(ActorType::ApiToken);
        assert_eq!(token["type"], "api-token");
        assert!(uuid::Uuid::parse_str(token["id"].as_str().unwrap()).is_ok());
        assert!(actor(&ActorType::from("automation")).is_none());
    }

    #[test]
    fn events_in_a_workspace_carry_its_id() {
        let workspace = WorkspaceId::from_u128(7);
        for known in EventType::KNOWN {
            for event in events_in(known, workspace) {
                assert_eq!(event.id.workspace_id, workspace, "{known}");
            }
        }
    }

    /// The control API's description (spec/fake-control.openapi.json)
    /// shows one event per family for other languages, written by hand
    /// from Attio's reference; each is the sample of its type.
    #[test]
    fn the_control_api_examples_are_the_samples() {
        let spec: Value =
            serde_json::from_str(include_str!("../spec/fake-control.openapi.json")).unwrap();
        let examples = spec["components"]["schemas"]["Event"]["examples"]
            .as_array()
            .unwrap();
        assert_eq!(examples.len(), 11);
        for example in examples {
            let event_type = example["event_type"].as_str().unwrap();
            assert_eq!(example, &sample_json(event_type), "{event_type}");
        }
        let requests = spec["paths"]["/__fake/events"]["post"]["requestBody"]["content"]
            ["application/json"]["examples"]
            .as_object()
            .unwrap();
        assert_eq!(requests.len(), examples.len());
    }

    #[test]
    fn samples_round_trip_through_json() {
        for sample in all() {
            let text = serde_json::to_string(&sample).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), sample);
        }
    }
}
