//! The event types a subscription can name.

use crate::open_enum::open_enum;

open_enum! {
    /// The type of an event, and of a subscription that receives it.
    ///
    /// All 34 types Attio documents are variants; any other value is kept in
    /// [`EventType::Unknown`] and written back unchanged.
    ///
    /// # When Attio adds an event type
    ///
    /// Nothing breaks: this version of the crate reads it as
    /// `Unknown("meeting.created")`, subscriptions to it round-trip, and
    /// filters evaluate on it. A later minor version adds a named variant
    /// for it (the enum is `#[non_exhaustive]`, so that is not a breaking
    /// change), and from then on the same value arrives as that variant,
    /// not as `Unknown`. So:
    ///
    /// - a `match` needs a wildcard arm (the compiler insists), and that arm
    ///   is where events of types your code does not know yet go;
    /// - to handle a type this version does not name, compare
    ///   [`as_str`](EventType::as_str) rather than matching
    ///   `Unknown("...")`, which stops matching once the variant exists.
    ///
    /// ```
    /// use attio_webhooks::EventType;
    /// fn describe(event_type: &EventType) -> &'static str {
    ///     match event_type {
    ///         EventType::RecordCreated | EventType::RecordUpdated => "a record changed",
    ///         other if other.as_str() == "meeting.created" => "a meeting (not named in this version)",
    ///         _ => "something else, perhaps a type newer than this crate",
    ///     }
    /// }
    /// assert_eq!(describe(&EventType::from("meeting.created")), "a meeting (not named in this version)");
    /// ```
    ///
    /// ```
    /// use attio_webhooks::EventType;
    /// assert_eq!(EventType::from("record.merged"), EventType::RecordMerged);
    /// assert_eq!(EventType::KNOWN.len(), 34);
    /// let future = EventType::from("meeting.created");
    /// assert_eq!(future, EventType::Unknown("meeting.created".into()));
    /// assert_eq!(serde_json::to_string(&future)?, r#""meeting.created""#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum EventType {
        /// `activity.created`
        ActivityCreated => "activity.created",
        /// `activity.updated`
        ActivityUpdated => "activity.updated",
        /// `activity.deleted`
        ActivityDeleted => "activity.deleted",
        /// `activity-attribute.created`
        ActivityAttributeCreated => "activity-attribute.created",
        /// `activity-attribute.updated`
        ActivityAttributeUpdated => "activity-attribute.updated",
        /// `activity-record.created`
        ActivityRecordCreated => "activity-record.created",
        /// `activity-record.deleted`
        ActivityRecordDeleted => "activity-record.deleted",
        /// `call-recording.created`
        CallRecordingCreated => "call-recording.created",
        /// `comment.created`
        CommentCreated => "comment.created",
        /// `comment.resolved`
        CommentResolved => "comment.resolved",
        /// `comment.unresolved`
        CommentUnresolved => "comment.unresolved",
        /// `comment.deleted`
        CommentDeleted => "comment.deleted",
        /// `list.created`
        ListCreated => "list.created",
        /// `list.updated`
        ListUpdated => "list.updated",
        /// `list.deleted`
        ListDeleted => "list.deleted",
        /// `list-attribute.created`
        ListAttributeCreated => "list-attribute.created",
        /// `list-attribute.updated`
        ListAttributeUpdated => "list-attribute.updated",
        /// `list-entry.created`
        ListEntryCreated => "list-entry.created",
        /// `list-entry.updated`
        ListEntryUpdated => "list-entry.updated",
        /// `list-entry.deleted`
        ListEntryDeleted => "list-entry.deleted",
        /// `object-attribute.created`
        ObjectAttributeCreated => "object-attribute.created",
        /// `object-attribute.updated`
        ObjectAttributeUpdated => "object-attribute.updated",
        /// `note.created`
        NoteCreated => "note.created",
        /// `note-content.updated`
        NoteContentUpdated => "note-content.updated",
        /// `note.updated`
        NoteUpdated => "note.updated",
        /// `note.deleted`
        NoteDeleted => "note.deleted",
        /// `record.created`
        RecordCreated => "record.created",
        /// `record.merged`
        RecordMerged => "record.merged",
        /// `record.updated`
        RecordUpdated => "record.updated",
        /// `record.deleted`
        RecordDeleted => "record.deleted",
        /// `task.created`
        TaskCreated => "task.created",
        /// `task.updated`
        TaskUpdated => "task.updated",
        /// `task.deleted`
        TaskDeleted => "task.deleted",
        /// `workspace-member.created`
        WorkspaceMemberCreated => "workspace-member.created",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_value_round_trips_through_its_wire_string() {
        for known in EventType::KNOWN {
            assert_eq!(&EventType::from(known.as_str()), known);
            let json = serde_json::to_string(known).unwrap();
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), *known);
        }
    }

    #[test]
    fn rejects_non_strings() {
        assert!(serde_json::from_str::<EventType>("42").is_err());
    }
}
