//! What it takes to make the workspace match a file: pure, no I/O.
//!
//! - Webhooks are matched by target URL. When the workspace has several
//!   with the same URL, the oldest (first listed) is the match and the
//!   others count as not in the file.
//! - A matched webhook needs an update when its subscriptions differ from
//!   the file's as multisets, comparing filters the way Attio does
//!   ([`Filter::equivalent`](attio_webhooks::Filter::equivalent): the order
//!   of subscriptions and of conditions does not matter). The update sends
//!   the file's subscriptions, which replace the old ones.
//! - A file entry without a match is created.
//! - A webhook not in the file is deleted with `--prune`, and only reported
//!   otherwise.
//!
//! Changes are listed deletes first, then updates, then creates: that is
//! the order `apply` runs them in, so a pruned webhook cannot make a later
//! create collide with it (409 `uniqueness_conflict`).

use attio_webhooks::{Subscription, Webhook};
use serde::Serialize;

use crate::webhook_file::{same_subscription, WebhookSpec};

/// One change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Create a webhook the file has and the workspace lacks.
    Create {
        /// Its target URL.
        target_url: String,
        /// Its subscriptions.
        subscriptions: Vec<Subscription>,
    },
    /// Replace a webhook's subscriptions with the file's.
    Update {
        /// The webhook as it is.
        current: Webhook,
        /// Subscriptions the file has and the webhook lacks.
        add: Vec<Subscription>,
        /// Subscriptions the webhook has and the file lacks.
        remove: Vec<Subscription>,
        /// The subscriptions after the update (the file's).
        subscriptions: Vec<Subscription>,
    },
    /// Delete a webhook that is not in the file (`--prune`).
    Delete {
        /// The webhook as it is.
        current: Webhook,
    },
}

/// Everything `plan` found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// What to do, in the order to do it.
    pub changes: Vec<Change>,
    /// Webhooks that already match the file.
    pub unchanged: Vec<Webhook>,
    /// Webhooks not in the file, left alone because `--prune` was not given.
    pub unmanaged: Vec<Webhook>,
}

impl Plan {
    /// How many creates, updates and deletes.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for change in &self.changes {
            match change {
                Change::Create { .. } => counts.0 += 1,
                Change::Update { .. } => counts.1 += 1,
                Change::Delete { .. } => counts.2 += 1,
            }
        }
        counts
    }
}

/// Compares the file with the workspace.
pub fn plan(desired: &[WebhookSpec], current: &[Webhook], prune: bool) -> Plan {
    let mut matched = vec![false; current.len()];
    let mut updates = Vec::new();
    let mut creates = Vec::new();
    let mut unchanged = Vec::new();
    for spec in desired {
        let found = current
            .iter()
            .enumerate()
            .find(|(i, w)| !matched[*i] && w.target_url == spec.target_url);
        match found {
            None => creates.push(Change::Create {
                target_url: spec.target_url.clone(),
                subscriptions: spec.subscriptions.clone(),
            }),
            Some((i, webhook)) => {
                matched[i] = true;
                let add = missing_from(&spec.subscriptions, &webhook.subscriptions);
                let remove = missing_from(&webhook.subscriptions, &spec.subscriptions);
                if add.is_empty() && remove.is_empty() {
                    unchanged.push(webhook.clone());
                } else {
                    updates.push(Change::Update {
                        current: webhook.clone(),
                        add,
                        remove,
                        subscriptions: spec.subscriptions.clone(),
                    });
                }
            }
        }
    }
    let rest = current
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(w, _)| w.clone());
    let (mut changes, unmanaged) = if prune {
        (
            rest.map(|current| Change::Delete { current }).collect(),
            Vec::new(),
        )
    } else {
        (Vec::new(), rest.collect())
    };
    changes.extend(updates);
    changes.extend(creates);
    Plan {
        changes,
        unchanged,
        unmanaged,
    }
}

/// The subscriptions of `from` left over after pairing each with an
/// equivalent one in `other` (multiset difference).
fn missing_from(from: &[Subscription], other: &[Subscription]) -> Vec<Subscription> {
    let mut used = vec![false; other.len()];
    let mut missing = Vec::new();
    for subscription in from {
        match other
            .iter()
            .enumerate()
            .find(|(i, o)| !used[*i] && same_subscription(subscription, o))
        {
            Some((i, _)) => used[i] = true,
            None => missing.push(subscription.clone()),
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use attio_webhooks::{Condition, EventType, Filter};

    use super::*;

    fn webhook(n: u128, url: &str, subscriptions: Vec<Subscription>) -> Webhook {
        // Built from Attio's wire format, as list would return it.
        serde_json::from_value(serde_json::json!({
            "target_url": url,
            "subscriptions": subscriptions,
            "id": {"workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                   "webhook_id": format!("00000000-0000-0000-0000-{n:012}")},
            "status": "active",
            "created_at": "2023-04-27T13:22:49.061281000Z"
        }))
        .unwrap()
    }

    fn spec(url: &str, subscriptions: Vec<Subscription>) -> WebhookSpec {
        WebhookSpec {
            target_url: url.to_owned(),
            subscriptions,
        }
    }

    fn people_or_member(reversed: bool) -> Subscription {
        let mut conditions = vec![
            Condition::equals("id.object_id", "people"),
            Condition::equals("actor.type", "workspace-member"),
        ];
        if reversed {
            conditions.reverse();
        }
        Subscription::new(EventType::RecordCreated).with_filter(Filter::Or(conditions))
    }

    #[test]
    fn order_of_subscriptions_and_conditions_does_not_matter() {
        let note = Subscription::new(EventType::NoteCreated);
        let current = [webhook(
            1,
            "https://e.com/a",
            vec![note.clone(), people_or_member(false)],
        )];
        let desired = [spec("https://e.com/a", vec![people_or_member(true), note])];
        let plan = plan(&desired, &current, true);
        assert!(plan.changes.is_empty(), "{plan:?}");
        assert_eq!(plan.unchanged.len(), 1);
    }

    #[test]
    fn and_is_not_or_and_null_is_not_an_empty_and() {
        let and = Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
            Condition::equals("id.object_id", "people"),
        ]));
        let or = Subscription::new(EventType::RecordCreated).with_filter(Filter::Or(vec![
            Condition::equals("id.object_id", "people"),
        ]));
        let current = [webhook(1, "https://e.com/a", vec![and.clone()])];
        let plan = plan(
            &[spec("https://e.com/a", vec![or.clone()])],
            &current,
            false,
        );
        assert_eq!(
            plan.changes,
            vec![Change::Update {
                current: current[0].clone(),
                add: vec![or.clone()],
                remove: vec![and],
                subscriptions: vec![or],
            }]
        );
        let null = Subscription::new(EventType::TaskCreated);
        let empty_and = Subscription::new(EventType::TaskCreated).with_filter(Filter::And(vec![]));
        let current = [webhook(1, "https://e.com/a", vec![null])];
        assert_eq!(
            plan_counts(&[spec("https://e.com/a", vec![empty_and])], &current),
            (0, 1, 0)
        );
    }

    fn plan_counts(desired: &[WebhookSpec], current: &[Webhook]) -> (usize, usize, usize) {
        plan(desired, current, true).counts()
    }

    #[test]
    fn creates_missing_deletes_extra_only_with_prune_and_orders_deletes_first() {
        let note = || vec![Subscription::new(EventType::NoteCreated)];
        let current = [
            webhook(1, "https://e.com/old", note()),
            webhook(2, "https://e.com/keep", note()),
            webhook(3, "https://e.com/keep", note()),
        ];
        let desired = [
            spec("https://e.com/keep", note()),
            spec("https://e.com/new", note()),
        ];

        let kept = plan(&desired, &current, false);
        assert_eq!(kept.counts(), (1, 0, 0));
        // The oldest of the two with the same URL is the match.
        assert_eq!(kept.unchanged, vec![current[1].clone()]);
        assert_eq!(kept.unmanaged, vec![current[0].clone(), current[2].clone()]);

        let pruned = plan(&desired, &current, true);
        assert_eq!(pruned.counts(), (1, 0, 2));
        assert!(pruned.unmanaged.is_empty());
        assert!(matches!(pruned.changes[0], Change::Delete { .. }));
        assert!(matches!(pruned.changes[1], Change::Delete { .. }));
        assert!(matches!(pruned.changes[2], Change::Create { .. }));
    }

    #[test]
    fn duplicate_conditions_count() {
        let a = Condition::equals("a", "1");
        let twice = Subscription::new(EventType::NoteCreated)
            .with_filter(Filter::And(vec![a.clone(), a.clone()]));
        let once = Subscription::new(EventType::NoteCreated).with_filter(Filter::And(vec![a]));
        let current = [webhook(1, "https://e.com/a", vec![once])];
        assert_eq!(
            plan_counts(&[spec("https://e.com/a", vec![twice])], &current),
            (0, 1, 0)
        );
    }
}
