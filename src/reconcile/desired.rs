//! What the workspace should hold: desired webhooks and the scope of
//! target URLs the set owns.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;
use crate::model::{Filter, TargetUrlPolicy};
use crate::{EventType, Subscription};

/// One webhook as it should be: a target URL and its subscriptions.
///
/// Deserializes from the body of Attio's create request (`{target_url,
/// subscriptions: [{event_type, filter}]}`, `filter` may be left out for
/// `null`); the read-only keys of a listed webhook (`id`, `status`,
/// `created_at`) are accepted and ignored, so a listed webhook is a
/// desired one. Any other key is an error, to catch typos.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FileWebhook")]
pub struct DesiredWebhook {
    /// Where events go; also what webhooks are matched by.
    pub target_url: String,
    /// What it receives (compared as a set, as Attio compares them).
    pub subscriptions: Vec<Subscription>,
}

impl DesiredWebhook {
    /// A webhook to `target_url` with `subscriptions`.
    pub fn new(target_url: impl Into<String>, subscriptions: Vec<Subscription>) -> Self {
        Self {
            target_url: target_url.into(),
            subscriptions,
        }
    }
}

/// The file shape of a webhook.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebhook {
    target_url: String,
    subscriptions: Vec<FileSubscription>,
    // Read-only keys of a listed webhook, accepted so that a listing is a
    // valid desired set.
    #[serde(default, rename = "id")]
    _id: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "status")]
    _status: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "created_at")]
    _created_at: Option<serde::de::IgnoredAny>,
}

impl From<FileWebhook> for DesiredWebhook {
    fn from(file: FileWebhook) -> Self {
        let subscriptions = file
            .subscriptions
            .into_iter()
            .map(|s| {
                let subscription = Subscription::new(s.event_type);
                match s.filter {
                    Some(filter) => subscription.with_filter(filter),
                    None => subscription,
                }
            })
            .collect();
        Self::new(file.target_url, subscriptions)
    }
}

/// A subscription in a file: `filter` may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSubscription {
    event_type: EventType,
    #[serde(default)]
    filter: Option<Filter>,
}

/// A subscription as Attio compares them: event type and canonical filter
/// (condition order ignored, repeats kept), so equal keys are the same
/// subscription and a hash set of keys is Attio's set of subscriptions.
pub(crate) fn key(subscription: &Subscription) -> (EventType, Option<Filter>) {
    (
        subscription.event_type.clone(),
        subscription.filter.as_ref().map(Filter::canonical),
    )
}

/// Desired webhooks and the target-URL prefixes the set owns: what
/// [`plan`](crate::reconcile::plan) compares a workspace with.
///
/// Ownership decides what pruning may delete: a webhook whose target URL
/// starts with one of the prefixes belongs to this set, and is deleted by
/// a pruning plan when the set does not want it. Webhooks outside every
/// prefix are someone else's and are never touched. A set with no prefix
/// owns nothing (pruning it is refused). Prefixes compare as text, so end
/// one with `/` (`https://hooks.example.com/billing/`) unless you mean
/// every host that starts the same way.
///
/// ```
/// use attio_webhooks::reconcile::{Desired, DesiredWebhook};
/// use attio_webhooks::{EventType, Subscription};
/// let desired = Desired::new()
///     .owns("https://hooks.example.com/")
///     .with(DesiredWebhook::new(
///         "https://hooks.example.com/attio",
///         vec![Subscription::new(EventType::RecordCreated)],
///     ));
/// assert!(desired.is_owned("https://hooks.example.com/old"));
/// assert!(!desired.is_owned("https://other.example.com/attio"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    webhooks: Vec<DesiredWebhook>,
    owns: Vec<String>,
}

impl Desired {
    /// An empty set that owns nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of `webhooks` owning the target URLs under `owns`.
    pub fn from_parts(webhooks: Vec<DesiredWebhook>, owns: Vec<String>) -> Self {
        Self { webhooks, owns }
    }

    /// Adds a webhook.
    pub fn with(mut self, webhook: DesiredWebhook) -> Self {
        self.webhooks.push(webhook);
        self
    }

    /// Adds a target-URL prefix the set owns.
    pub fn owns(mut self, prefix: impl Into<String>) -> Self {
        self.owns.push(prefix.into());
        self
    }

    /// The desired webhooks, in order.
    pub fn webhooks(&self) -> &[DesiredWebhook] {
        &self.webhooks
    }

    /// The owned prefixes.
    pub fn scope(&self) -> &[String] {
        &self.owns
    }

    /// The owned prefix `target_url` starts with, if any.
    pub fn owner_of(&self, target_url: &str) -> Option<&str> {
        self.owns
            .iter()
            .find(|prefix| target_url.starts_with(prefix.as_str()))
            .map(String::as_str)
    }

    /// Whether `target_url` is inside the set's scope.
    pub fn is_owned(&self, target_url: &str) -> bool {
        self.owner_of(target_url).is_some()
    }

    /// Checks what Attio would refuse, before anything is sent, in time
    /// linear in the set's size: each target URL valid under `policy` and
    /// listed once, at least one subscription each, no subscription twice
    /// in one webhook (Attio answers 409), and no empty prefix.
    pub fn check(&self, policy: &TargetUrlPolicy) -> Result<(), DesiredError> {
        if let Some(i) = self.owns.iter().position(String::is_empty) {
            return Err(DesiredError::EmptyPrefix { index: i });
        }
        let mut urls: HashMap<&str, usize> = HashMap::with_capacity(self.webhooks.len());
        for (i, webhook) in self.webhooks.iter().enumerate() {
            policy
                .check(&webhook.target_url)
                .map_err(|error| DesiredError::TargetUrl { index: i, error })?;
            if let Some(first) = urls.insert(&webhook.target_url, i) {
                return Err(DesiredError::SameTargetUrl {
                    first,
                    second: i,
                    target_url: webhook.target_url.clone(),
                });
            }
            if webhook.subscriptions.is_empty() {
                return Err(DesiredError::NoSubscriptions {
                    index: i,
                    target_url: webhook.target_url.clone(),
                });
            }
            let mut seen = HashSet::with_capacity(webhook.subscriptions.len());
            for subscription in &webhook.subscriptions {
                if !seen.insert(key(subscription)) {
                    return Err(DesiredError::SubscriptionTwice {
                        index: i,
                        target_url: webhook.target_url.clone(),
                        event_type: subscription.event_type.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Why [`Desired::check`] refused a set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DesiredError {
    /// Webhook `index` has a target URL Attio would refuse.
    #[error("webhook {index}: {error}")]
    TargetUrl {
        /// Its position in the set.
        index: usize,
        /// What is wrong with the URL.
        error: InvalidInput,
    },
    /// Two webhooks have the same target URL (webhooks are matched by it).
    #[error("webhooks {first} and {second} have the same target_url {target_url:?}; webhooks are matched by target URL, so each may appear once (merge their subscriptions)")]
    SameTargetUrl {
        /// The first one's position.
        first: usize,
        /// The second one's position.
        second: usize,
        /// The URL.
        target_url: String,
    },
    /// A webhook without subscriptions.
    #[error("webhook {index} ({target_url:?}) has no subscriptions; a webhook needs at least one")]
    NoSubscriptions {
        /// Its position.
        index: usize,
        /// Its URL.
        target_url: String,
    },
    /// A webhook subscribes to the same thing twice (Attio answers 409).
    #[error("webhook {index} ({target_url:?}) subscribes to {event_type} twice with the same filter; Attio refuses that (409 uniqueness_conflict)")]
    SubscriptionTwice {
        /// Its position.
        index: usize,
        /// Its URL.
        target_url: String,
        /// The repeated subscription's event type.
        event_type: EventType,
    },
    /// An owned prefix is empty (it would own every webhook).
    #[error("owned prefix {index} is empty, which would own every webhook in the workspace; give a target-URL prefix such as https://hooks.example.com/")]
    EmptyPrefix {
        /// Its position.
        index: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Condition;

    fn note() -> Vec<Subscription> {
        vec![Subscription::new(EventType::NoteCreated)]
    }

    #[test]
    fn check_refuses_what_attio_would() {
        let https = TargetUrlPolicy::HttpsOnly;
        let twice = vec![
            Subscription::new(EventType::NoteCreated).with_filter(Filter::Or(vec![
                Condition::equals("x", "1"),
                Condition::equals("y", "2"),
            ])),
            Subscription::new(EventType::NoteCreated).with_filter(Filter::Or(vec![
                Condition::equals("y", "2"),
                Condition::equals("x", "1"),
            ])),
        ];
        let cases: Vec<(Desired, &str)> = vec![
            (
                Desired::new().with(DesiredWebhook::new("http://e.com/a", note())),
                "https",
            ),
            (
                Desired::new().with(DesiredWebhook::new("not a url", note())),
                "webhook 0",
            ),
            (
                Desired::new()
                    .with(DesiredWebhook::new("https://e.com/a", note()))
                    .with(DesiredWebhook::new("https://e.com/a", note())),
                "webhooks 0 and 1 have the same target_url",
            ),
            (
                Desired::new().with(DesiredWebhook::new("https://e.com/a", vec![])),
                "no subscriptions",
            ),
            (
                Desired::new().with(DesiredWebhook::new("https://e.com/a", twice)),
                "twice",
            ),
            (Desired::new().owns(""), "empty"),
        ];
        for (desired, needle) in cases {
            let message = desired.check(&https).unwrap_err().to_string();
            assert!(message.contains(needle), "{needle}: {message}");
        }
        let fine = Desired::new()
            .owns("https://e.com/")
            .with(DesiredWebhook::new("https://e.com/a", note()));
        assert!(fine.check(&https).is_ok());
        let local = Desired::new().with(DesiredWebhook::new("http://127.0.0.1:3000/a", note()));
        assert!(local.check(&TargetUrlPolicy::AllowLoopbackHttp).is_ok());
    }

    #[test]
    fn a_listed_webhook_reads_as_a_desired_one() {
        let listed = r#"{"target_url":"https://e.com/a","subscriptions":[{"event_type":"task.created","filter":null},{"event_type":"note.created"}],
            "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"},
            "status":"active","created_at":"2023-04-27T13:22:49.061281000Z"}"#;
        let read: DesiredWebhook = serde_json::from_str(listed).unwrap();
        assert_eq!(
            read,
            DesiredWebhook::new(
                "https://e.com/a",
                vec![
                    Subscription::new(EventType::TaskCreated),
                    Subscription::new(EventType::NoteCreated)
                ]
            )
        );
        let typo = r#"{"target_url":"https://e.com","subscription":[]}"#;
        let error = serde_json::from_str::<DesiredWebhook>(typo)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `subscription`"), "{error}");
    }
}
