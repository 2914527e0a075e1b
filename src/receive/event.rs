//! One event of a delivery: its type, ids, actor and other fields.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventIds {
    /// The workspace the event happened in.
    pub workspace_id: WorkspaceId,
    /// Every other id, verbatim.
    #[serde(flatten)]
    pub ids: Map<String, Value>,
}

impl EventIds {
    /// The ids of an event in `workspace_id`, with no other id yet.
    pub fn new(workspace_id: WorkspaceId) -> Self {
        Self {
            workspace_id,
            ids: Map::new(),
        }
    }

    /// The id under `key` (e.g. `record_id`), if it is a string.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.ids.get(key).and_then(Value::as_str)
    }
}

/// One event: its type, ids and actor, and every other field it carries
/// (kept verbatim, so serializing it again gives back the same JSON object).
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    pub event_type: EventType,
    /// Which workspace and which thing.
    pub id: EventIds,
    /// Who did it.
    pub actor: Actor,
    /// Every other field, verbatim (`parent_object_id`, `thread_id`, ...).
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Event {
    /// An event with no ids but the workspace and no other fields.
    pub fn new(event_type: EventType, workspace_id: WorkspaceId, actor: Actor) -> Self {
        Self {
            event_type,
            id: EventIds::new(workspace_id),
            actor,
            fields: Map::new(),
        }
    }

    /// Adds an id under `id` (e.g. `record_id`).
    pub fn with_id(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.id.ids.insert(key.into(), Value::String(value.into()));
        self
    }

    /// Adds a top-level field (e.g. `parent_object_id`).
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(key.into(), value.into());
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
