//! Why the workspace refused an operation.

/// A refusal, in terms of Attio's rules; the dispatcher turns it into
/// Attio's error body and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WorkspaceError {
    /// 400 `validation_type`: `at` is the path of the offending value
    /// relative to the webhook (`target_url`, `subscriptions[0].event_type`).
    Invalid {
        /// Where.
        at: String,
        /// Why.
        reason: String,
    },
    /// 409 `uniqueness_conflict`, with the message to show.
    Conflict(String),
    /// 404 `not_found` for this id as given.
    NotFound(String),
    /// 400: a limit of the fake (webhook count, stored bytes, a taken id).
    Refused(String),
}
