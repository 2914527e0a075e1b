//! One event of a delivery: its type, ids, actor and other fields.

use std::borrow::Cow;

use core::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::key_order::KeyOrder;

use crate::model::field_path::walk;
use crate::model::{EventType, FieldValue, Fields, WorkspaceId};
use crate::open_enum::open_enum;

open_enum! {
    /// Who caused an event (`actor.type`).
    pub enum ActorType {
        /// `workspace-member`: a person in the workspace.
        WorkspaceMember => "workspace-member",
        /// `api-token`: an integration using an access token.
        ApiToken => "api-token",
        /// `system`: Attio itself; `actor.id` is `null`.
        System => "system",
        /// `app`: an installed app.
        App => "app",
    }
}

/// The `actor` of an event: its type and id (`null` for `system`), plus
/// any other key Attio sends.
///
/// A missing `id` reads as `None` and is written back as `null`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// The kind of actor.
    #[serde(rename = "type")]
    pub kind: ActorType,
    /// The actor's id; `None` for `system`.
    #[serde(default)]
    pub id: Option<String>,
    /// Any other keys, kept verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Actor {
    /// An actor of `kind` with `id`.
    pub fn new(kind: ActorType, id: Option<String>) -> Self {
        Self {
            kind,
            id,
            other: Map::new(),
        }
    }

    /// The `system` actor (id `null`).
    pub fn system() -> Self {
        Self::new(ActorType::System, None)
    }
}

/// The `id` of an event: the workspace, plus the ids of the thing the event
/// is about (`object_id`/`record_id`, `list_id`/`entry_id`, `note_id`,
/// `task_id`, `comment_id`, `attribute_id`, ...), kept as sent.
///
/// Written back in the order its keys were read (or added); equality
/// ignores that order.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EventIds {
    /// The workspace the event happened in.
    pub workspace_id: WorkspaceId,
    /// Every other id, verbatim. A `workspace_id` inserted here is not
    /// written: the `workspace_id` field wins.
    pub ids: Map<String, Value>,
    order: KeyOrder,
}

impl PartialEq for EventIds {
    fn eq(&self, other: &Self) -> bool {
        self.workspace_id == other.workspace_id && self.ids == other.ids
    }
}

impl Eq for EventIds {}

impl Serialize for EventIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let named = ["workspace_id"];
        let len = KeyOrder::written_len(&named, &self.ids);
        let mut map = serializer.serialize_map(Some(len))?;
        self.order.serialize(
            &mut map,
            &named,
            |map, _| map.serialize_entry("workspace_id", &self.workspace_id),
            &self.ids,
        )?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for EventIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ids;
        impl<'de> Visitor<'de> for Ids {
            type Value = EventIds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event's `id` object with a `workspace_id`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventIds, A::Error> {
                let mut workspace_id = None;
                let mut ids = Map::new();
                let mut order = KeyOrder::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "workspace_id" {
                        once(&mut workspace_id, map.next_value()?, "workspace_id")?;
                    } else if ids.insert(key.clone(), map.next_value()?).is_some() {
                        // A repeated key keeps its first place and last value.
                        continue;
                    }
                    order.push_new(key);
                }
                Ok(EventIds {
                    workspace_id: workspace_id
                        .ok_or_else(|| de::Error::missing_field("workspace_id"))?,
                    ids,
                    order,
                })
            }
        }
        deserializer.deserialize_map(Ids)
    }
}

/// Stores a named field's value; a second one is an error, as serde's
/// derive makes it.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl EventIds {
    /// The ids of an event in `workspace_id`, with no other id yet.
    pub fn new(workspace_id: WorkspaceId) -> Self {
        Self {
            workspace_id,
            ids: Map::new(),
            order: KeyOrder::of(&["workspace_id"]),
        }
    }

    /// The id under `key` (e.g. `record_id`), if it is a string.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.ids.get(key).and_then(Value::as_str)
    }
}

/// One event: its type, ids and actor, and every other field it carries
/// (kept verbatim, so serializing it again gives back the same JSON object,
/// its keys, and those of `id`, in the order they came: Attio puts per-type
/// fields such as `parent_object_id` between `id` and `actor`). Equality
/// compares content, not key order.
///
/// ```
/// use attio_webhooks::{receive::Event, EventType};
/// let json = r#"{"event_type":"record.merged",
///   "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"obj","record_id":"rec"},
///   "actor":{"type":"workspace-member","id":"member"},
///   "duplicate_object_id":"obj","duplicate_record_id":"dup","merged_by":{"nested":[1,2]}}"#;
/// let event: Event = serde_json::from_str(json)?;
/// assert_eq!(event.event_type, EventType::RecordMerged);
/// assert_eq!(event.record_id(), Some("rec"));
/// assert_eq!(event.duplicate_record_id(), Some("dup"));
/// assert_eq!(serde_json::to_value(&event)?, serde_json::from_str::<serde_json::Value>(json)?);
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// `#[non_exhaustive]`: build one with [`Event::new`], [`Event::with_id`]
/// and [`Event::with_field`] (a receiver's tests, a fake's emitter).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    pub event_type: EventType,
    /// Which workspace and which thing.
    pub id: EventIds,
    /// Who did it.
    pub actor: Actor,
    /// Every other field, verbatim (`parent_object_id`, `thread_id`, ...).
    /// A key inserted here directly is written after the others; use
    /// [`Event::with_field`] to place it where Attio does. An
    /// `event_type`, `id` or `actor` inserted here is not written: the
    /// field of that name wins (reading never puts one here).
    pub fields: Map<String, Value>,
    order: KeyOrder,
}

/// The keys of an event that are not in `fields`.
const NAMED: [&str; 3] = ["event_type", "id", "actor"];

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.event_type == other.event_type
            && self.id == other.id
            && self.actor == other.actor
            && self.fields == other.fields
    }
}

impl Eq for Event {}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = KeyOrder::written_len(&NAMED, &self.fields);
        let mut map = serializer.serialize_map(Some(len))?;
        self.order.serialize(
            &mut map,
            &NAMED,
            |map, key| match key {
                "event_type" => map.serialize_entry(key, &self.event_type),
                "id" => map.serialize_entry(key, &self.id),
                _ => map.serialize_entry(key, &self.actor),
            },
            &self.fields,
        )?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Event;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event object with `event_type`, `id` and `actor`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
                let (mut event_type, mut id, mut actor) = (None, None, None);
                let mut fields = Map::new();
                let mut order = KeyOrder::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "event_type" => once(&mut event_type, map.next_value()?, "event_type")?,
                        "id" => once(&mut id, map.next_value()?, "id")?,
                        "actor" => once(&mut actor, map.next_value()?, "actor")?,
                        _ => {
                            if fields.insert(key.clone(), map.next_value()?).is_some() {
                                // A repeated key keeps its first place and last value.
                                continue;
                            }
                        }
                    }
                    order.push_new(key);
                }
                Ok(Event {
                    event_type: event_type.ok_or_else(|| de::Error::missing_field("event_type"))?,
                    id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                    actor: actor.ok_or_else(|| de::Error::missing_field("actor"))?,
                    fields,
                    order,
                })
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

impl Event {
    /// An event with no ids but the workspace and no other fields.
    pub fn new(event_type: EventType, workspace_id: WorkspaceId, actor: Actor) -> Self {
        Self {
            event_type,
            id: EventIds::new(workspace_id),
            actor,
            fields: Map::new(),
            order: KeyOrder::of(&NAMED),
        }
    }

    /// Adds an id under `id` (e.g. `record_id`), written after the ids
    /// already there.
    pub fn with_id(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.id.order.push(&key);
        self.id.ids.insert(key, Value::String(value.into()));
        self
    }

    /// Adds a top-level field (e.g. `parent_object_id`), written before
    /// `actor`, where Attio puts per-type fields (an `event_type`, `id` or
    /// `actor` added here is not written, see [`Event::fields`]):
    ///
    /// ```
    /// use attio_webhooks::{receive::Actor, receive::Event, EventType, WorkspaceId};
    /// let event = Event::new(EventType::NoteCreated, WorkspaceId::from_u128(1), Actor::system())
    ///     .with_field("parent_object_id", "people");
    /// let json = serde_json::to_string(&event)?;
    /// assert!(json.find("parent_object_id") < json.find("actor"), "{json}");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let key = key.into();
        self.order.insert_before(&key, "actor");
        self.fields.insert(key, value.into());
        self
    }

    fn id_or_field(&self, key: &str) -> Option<&str> {
        self.id
            .get(key)
            .or_else(|| self.fields.get(key).and_then(Value::as_str))
    }

    /// `id.object_id`, or a top-level `object_id` (comment events).
    pub fn object_id(&self) -> Option<&str> {
        self.id_or_field("object_id")
    }

    /// `id.record_id`, or a top-level `record_id` (comment events).
    pub fn record_id(&self) -> Option<&str> {
        self.id_or_field("record_id")
    }

    /// `id.list_id`, or a top-level `list_id` (comment events).
    pub fn list_id(&self) -> Option<&str> {
        self.id_or_field("list_id")
    }

    /// `id.entry_id`, or a top-level `entry_id` (comment events).
    pub fn entry_id(&self) -> Option<&str> {
        self.id_or_field("entry_id")
    }

    /// `id.note_id`.
    pub fn note_id(&self) -> Option<&str> {
        self.id.get("note_id")
    }

    /// `id.task_id`.
    pub fn task_id(&self) -> Option<&str> {
        self.id.get("task_id")
    }

    /// `id.comment_id`.
    pub fn comment_id(&self) -> Option<&str> {
        self.id.get("comment_id")
    }

    /// `id.attribute_id`.
    pub fn attribute_id(&self) -> Option<&str> {
        self.id.get("attribute_id")
    }

    /// `thread_id` of a comment event.
    pub fn thread_id(&self) -> Option<&str> {
        self.fields.get("thread_id").and_then(Value::as_str)
    }

    /// `parent_object_id` of a note event.
    pub fn parent_object_id(&self) -> Option<&str> {
        self.fields.get("parent_object_id").and_then(Value::as_str)
    }

    /// `parent_record_id` of a note event.
    pub fn parent_record_id(&self) -> Option<&str> {
        self.fields.get("parent_record_id").and_then(Value::as_str)
    }

    /// `duplicate_object_id` of `record.merged`.
    pub fn duplicate_object_id(&self) -> Option<&str> {
        self.fields
            .get("duplicate_object_id")
            .and_then(Value::as_str)
    }

    /// `duplicate_record_id` of `record.merged`.
    pub fn duplicate_record_id(&self) -> Option<&str> {
        self.fields
            .get("duplicate_record_id")
            .and_then(Value::as_str)
    }

    /// The value at a dot `path` of the event's JSON (`event_type`,
    /// `actor.type`, `id.object_id`, `parent_object_id`, `a.b.c`...).
    /// Arrays are not indexed: a path through one is `Missing`.
    ///
    /// ```
    /// use attio_webhooks::{receive::Actor, receive::ActorType, receive::Event, EventType, model::FieldValue, WorkspaceId};
    /// let event = Event::new(EventType::NoteCreated, WorkspaceId::from_u128(1), Actor::system())
    ///     .with_field("parent_object_id", "people");
    /// assert_eq!(event.field("actor.type"), FieldValue::String("system".into()));
    /// assert_eq!(event.field("actor.id"), FieldValue::NotAString);
    /// assert_eq!(event.field("parent_object_id"), FieldValue::String("people".into()));
    /// assert_eq!(event.field("id.record_id"), FieldValue::Missing);
    /// ```
    pub fn field(&self, path: &str) -> FieldValue<'_> {
        let (head, rest) = match path.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (path, None),
        };
        match (head, rest) {
            ("event_type", None) => FieldValue::String(Cow::Borrowed(self.event_type.as_str())),
            ("event_type", Some(_)) => FieldValue::Missing,
            ("id", None) | ("actor", None) => FieldValue::NotAString,
            ("id", Some("workspace_id")) => {
                FieldValue::String(Cow::Owned(self.id.workspace_id.to_string()))
            }
            ("id", Some(rest)) => walk(&self.id.ids, rest),
            ("actor", Some("type")) => FieldValue::String(Cow::Borrowed(self.actor.kind.as_str())),
            ("actor", Some("id")) => match &self.actor.id {
                Some(id) => FieldValue::String(Cow::Borrowed(id)),
                None => FieldValue::NotAString,
            },
            ("actor", Some(rest)) => walk(&self.actor.other, rest),
            _ => walk(&self.fields, path),
        }
    }
}

/// Filters read an event through [`Event::field`].
impl Fields for Event {
    fn field(&self, path: &str) -> FieldValue<'_> {
        Event::field(self, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events as their sources wrote them (whitespace removed by hand),
    /// each written back byte for byte after parsing.
    #[test]
    fn a_parsed_event_is_written_back_in_its_key_order() {
        let recorded = [
            // Pipedream, components/attio/sources/new-note-instant/test-event.mjs
            r#"{"event_type":"note.created","id":{"workspace_id":"21e6dc8b-aa9f-4970-bdce-fa207cf3a7d9","note_id":"cc2a06ee-61ae-4a9b-bf1b-4e9774270061"},"parent_object_id":"6a3d5e81-0de0-4e96-a535-957b28ba8211","parent_record_id":"64561036-ee99-47f7-926c-66bf43808dcf","actor":{"type":"workspace-member","id":"3ccf848d-58e5-4ccb-88d7-d85944eda037"}}"#,
            // Pipedream, components/attio/sources/list-entry-updated-instant/test-event.mjs
            r#"{"event_type":"list-entry.updated","id":{"workspace_id":"21e6dc8b-aa9f-4970-bdce-fa207cf3a7d9","list_id":"dd41a385-c7cd-4832-ad57-c9a824b32ba4","entry_id":"d7b73c9c-5b91-45df-bf3f-677b9bd563eb","attribute_id":"82b07502-9c9d-4996-a46f-4a5b687015d5"},"parent_object_id":"6a3d5e81-0de0-4e96-a535-957b28ba8211","parent_record_id":"6a3cce50-9589-4f94-be16-8aa0a80c46e1","actor":{"type":"workspace-member","id":"3ccf848d-58e5-4ccb-88d7-d85944eda037"}}"#,
            // Attio's reference, docs.attio.com/rest-api/webhook-reference/record/merged
            r#"{"event_type":"record.merged","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b"},"duplicate_object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","duplicate_record_id":"3405be95-8375-46a0-bde0-03b3753f8c79","actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}"#,
            // An order of no source: the actor first, a field after it.
            r#"{"actor":{"type":"system","id":null},"zeta":1,"event_type":"task.created","alpha":[2],"id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","task_id":"t"}}"#,
        ];
        for text in recorded {
            let event: Event = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&event).unwrap(), text);
        }
    }

    #[test]
    fn equality_ignores_key_order_and_named_keys_are_required_once() {
        let a: Event = serde_json::from_str(
            r#"{"event_type":"task.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","b":"2","a":"1"},"y":1,"x":2,"actor":{"type":"system","id":null}}"#,
        )
        .unwrap();
        let b: Event = serde_json::from_str(
            r#"{"actor":{"type":"system","id":null},"x":2,"y":1,"id":{"a":"1","b":"2","workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c"},"event_type":"task.created"}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        for bad in [
            r#"{"event_type":"task.created","event_type":"task.created","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c"},"actor":{"type":"system"}}"#,
            r#"{"id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c"},"actor":{"type":"system"}}"#,
            r#"{"event_type":"task.created","id":{"task_id":"t"},"actor":{"type":"system"}}"#,
        ] {
            assert!(serde_json::from_str::<Event>(bad).is_err(), "{bad}");
        }
        // A repeated other key keeps its first place and its last value.
        let repeated: Event = serde_json::from_str(
            r#"{"event_type":"task.created","x":1,"id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c"},"x":2,"actor":{"type":"system","id":null}}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&repeated).unwrap(),
            r#"{"event_type":"task.created","x":2,"id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c"},"actor":{"type":"system","id":null}}"#
        );
    }

    /// A key of `fields` (or of `id.ids`) that is also a named key is not
    /// written: the named field wins, and the length hint counts what is
    /// written.
    #[test]
    fn a_named_key_inserted_into_fields_or_ids_gives_way_to_the_field() {
        let workspace = "14beef7a-99f7-4534-a87e-70b564330a4c";
        let mut event = Event::new(
            EventType::TaskCreated,
            WorkspaceId::parse(workspace).unwrap(),
            Actor::system(),
        )
        .with_id("task_id", "t")
        .with_field("zeta", 1);
        event.fields.insert("id".into(), Value::from("colliding"));
        event.fields.insert("actor".into(), Value::Null);
        event
            .fields
            .insert("event_type".into(), Value::from("note.created"));
        event.fields.insert("after".into(), Value::from(2));
        event
            .id
            .ids
            .insert("workspace_id".into(), Value::from("other"));
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"event_type":"task.created","id":{{"workspace_id":"{workspace}","task_id":"t"}},"zeta":1,"actor":{{"type":"system","id":null}},"after":2}}"#
            )
        );
        let written: Map<String, Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(KeyOrder::written_len(&NAMED, &event.fields), 5);
        assert_eq!(written.len(), 5);
        assert_eq!(KeyOrder::written_len(&["workspace_id"], &event.id.ids), 2);
        assert_eq!(written["id"].as_object().unwrap().len(), 2);
    }
}
