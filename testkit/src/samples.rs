//! A realistic sample [`Event`] for each of the 34 event types Attio sends.
//!
//! Each sample carries exactly the ids and fields Attio puts in events of
//! its type, with the values of Attio's own examples in its webhook
//! reference: the same workspace, object, record, list, entry, note,
//! comment, thread, attribute, meeting and call-recording ids, acted on by
//! the same workspace member. They are what `attio-webhooks trigger` sends,
//! and a ready-made payload for a receiver's tests:
//!
//! ```
//! use attio_webhooks::EventType;
//! use attio_webhooks_testkit::samples;
//!
//! let merged = samples::event(&EventType::RecordMerged).unwrap();
//! assert_eq!(merged.record_id(), Some(samples::RECORD_ID));
//! assert_eq!(merged.duplicate_record_id(), Some(samples::DUPLICATE_RECORD_ID));
//! assert_eq!(samples::all().len(), EventType::KNOWN.len());
//! assert!(samples::event(&EventType::from("meeting.created")).is_none());
//! ```
//!
//! | event types | `id` holds, besides `workspace_id` | other fields |
//! |---|---|---|
//! | `record.created`, `record.deleted` | `object_id`, `record_id` | |
//! | `record.updated` | `object_id`, `record_id`, `attribute_id` | |
//! | `record.merged` | `object_id`, `record_id` | `duplicate_object_id`, `duplicate_record_id` |
//! | `object-attribute.*` | `object_id`, `attribute_id` | |
//! | `list.*` | `list_id` | |
//! | `list-attribute.*` | `list_id`, `attribute_id` | |
//! | `list-entry.created`, `list-entry.deleted` | `list_id`, `entry_id` | `parent_object_id`, `parent_record_id` |
//! | `list-entry.updated` | `list_id`, `entry_id`, `attribute_id` | `parent_object_id`, `parent_record_id` |
//! | `note.*`, `note-content.updated` | `note_id` | `parent_object_id`, `parent_record_id` |
//! | `comment.*` | `comment_id` | `thread_id`, `object_id`, `record_id`, `list_id`, `entry_id` |
//! | `task.*` | `task_id` | |
//! | `activity.*` | `activity_id` | |
//! | `activity-attribute.*` | `activity_id`, `attribute_id` | |
//! | `activity-record.*` | `activity_id`, `record_id` | |
//! | `call-recording.created` | `meeting_id`, `call_recording_id` | |
//! | `workspace-member.created` | `workspace_member_id` | |
//!
//! Every sample's `actor` is `{"type": "workspace-member", "id": MEMBER_ID}`.

use attio_webhooks::{receive::Actor, receive::ActorType, receive::Event, EventType, WorkspaceId};

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
/// The record merged away in `record.merged`.
pub const DUPLICATE_RECORD_ID: &str = "3405be95-8375-46a0-bde0-03b3753f8c79";
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

/// The sample of `event_type`, or `None` for a type this version does not
/// know ([`EventType::Unknown`]).
pub fn event(event_type: &EventType) -> Option<Event> {
    if !event_type.is_known() {
        return None;
    }
    let actor = Actor::new(ActorType::WorkspaceMember, Some(MEMBER_ID.to_owned()));
    let base = Event::new(event_type.clone(), WORKSPACE_ID, actor);
    let name = event_type.as_str();
    let (family, _) = name.split_once('.').unwrap_or((name, ""));
    let event = match (family, name) {
        (_, "record.updated") => base
            .with_id("object_id", OBJECT_ID)
            .with_id("record_id", RECORD_ID)
            .with_id("attribute_id", ATTRIBUTE_ID),
        (_, "record.merged") => base
            .with_id("object_id", OBJECT_ID)
            .with_id("record_id", RECORD_ID)
            .with_field("duplicate_object_id", OBJECT_ID)
            .with_field("duplicate_record_id", DUPLICATE_RECORD_ID),
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
        ("comment", _) => base
            .with_id("comment_id", COMMENT_ID)
            .with_field("thread_id", THREAD_ID)
            .with_field("object_id", OBJECT_ID)
            .with_field("record_id", RECORD_ID)
            .with_field("list_id", LIST_ID)
            .with_field("entry_id", ENTRY_ID),
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
        assert_eq!(
            sample_json("comment.created"),
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

    #[test]
    fn samples_round_trip_through_json() {
        for sample in all() {
            let text = serde_json::to_string(&sample).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), sample);
        }
    }
}
