//! Comparing a desired set with a workspace: the [`Plan`].

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::reconcile::desired::{key, Desired};
use crate::{Subscription, Webhook};

/// Whether a plan deletes the owned webhooks the set does not want.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Prune {
    /// Leave them (they are listed in [`Plan::not_desired`]).
    #[default]
    No,
    /// Delete them. Only webhooks inside the set's scope are deleted.
    Owned,
}

/// One change, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// Create a webhook the set wants and the workspace lacks.
    Create {
        /// Its target URL.
        target_url: String,
        /// Its subscriptions.
        subscriptions: Vec<Subscription>,
    },
    /// Replace a webhook's subscriptions with the wanted ones.
    Update {
        /// The webhook as it is.
        current: Webhook,
        /// Subscriptions wanted and missing.
        add: Vec<Subscription>,
        /// Subscriptions present and not wanted.
        remove: Vec<Subscription>,
        /// The subscriptions after the update (the wanted ones).
        subscriptions: Vec<Subscription>,
    },
    /// Delete an owned webhook the set does not want.
    Delete {
        /// The webhook as it is.
        current: Webhook,
        /// The owned prefix its target URL starts with.
        owned_by: String,
        /// Whether a desired webhook has its target URL (this is a second
        /// webhook for it; the oldest is the one kept).
        duplicate: bool,
    },
}

impl Change {
    /// Why the change is planned, for people.
    pub fn reason(&self) -> String {
        match self {
            Change::Create { .. } => "wanted, and no webhook has this target URL".to_owned(),
            Change::Update { add, remove, .. } => format!(
                "subscriptions differ: {} to add, {} to remove",
                add.len(),
                remove.len()
            ),
            Change::Delete {
                owned_by,
                duplicate: true,
                ..
            } => format!("owned (under {owned_by}): a second webhook for a wanted target URL; the oldest is kept"),
            Change::Delete { owned_by, .. } => {
                format!("owned (under {owned_by}) and not wanted")
            }
        }
    }

    /// The target URL the change is about.
    pub fn target_url(&self) -> &str {
        match self {
            Change::Create { target_url, .. } => target_url,
            Change::Update { current, .. } | Change::Delete { current, .. } => &current.target_url,
        }
    }
}

/// What it takes to make a workspace match a [`Desired`] set, computed by
/// [`plan`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// What to do, in the order to do it: deletes, then updates, then
    /// creates (so a delete cannot make a later create collide with it).
    pub changes: Vec<Change>,
    /// Webhooks that already match.
    pub unchanged: Vec<Webhook>,
    /// Owned webhooks the set does not want, left because the plan does
    /// not prune.
    pub not_desired: Vec<Webhook>,
    /// Webhooks outside the set's scope and not wanted by it: someone
    /// else's, never touched.
    pub unmanaged: Vec<Webhook>,
    /// [`fingerprint`] of the workspace the plan was computed against.
    pub fingerprint: String,
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

/// Why [`plan`] refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Pruning was asked of a set that owns nothing: it could only delete
    /// what is not its own.
    #[error("pruning needs a scope: the desired set owns no target URLs, so it cannot tell its webhooks from everyone else's; declare the prefixes it owns (in a file, a top-level `owns:` list next to `webhooks:`)")]
    PruneWithoutScope,
}

/// Compares `desired` with the workspace's webhooks (`current`, as listed)
/// in time linear in their sizes.
///
/// - Webhooks are matched by target URL; when several have a wanted URL,
///   the oldest (first listed) is the match.
/// - A match is updated when its subscriptions differ from the wanted ones
///   as sets, comparing them as Attio does (event type and filter, the
///   order of subscriptions and of conditions ignored).
/// - A wanted webhook without a match is created.
/// - Any other webhook is deleted with [`Prune::Owned`] if it is inside
///   the set's scope, and listed otherwise: in
///   [`not_desired`](Plan::not_desired) when owned,
///   in [`unmanaged`](Plan::unmanaged) when not. Nothing outside the scope
///   is ever deleted.
///
/// The order is stable: deletes in listing order, then updates and creates
/// in the set's order.
///
/// ```
/// use attio_webhooks::reconcile::{plan, Change, Desired, DesiredWebhook, Prune};
/// use attio_webhooks::{EventType, Subscription};
/// let desired = Desired::new().owns("https://hooks.example.com/").with(DesiredWebhook::new(
///     "https://hooks.example.com/attio",
///     vec![Subscription::new(EventType::RecordCreated)],
/// ));
/// let plan = plan(&desired, &[], Prune::Owned)?;
/// assert!(matches!(&plan.changes[..], [Change::Create { .. }]));
/// # Ok::<(), attio_webhooks::reconcile::PlanError>(())
/// ```
pub fn plan(desired: &Desired, current: &[Webhook], prune: Prune) -> Result<Plan, PlanError> {
    if prune == Prune::Owned && desired.scope().is_empty() {
        return Err(PlanError::PruneWithoutScope);
    }
    // The oldest webhook of each target URL.
    let mut by_url: HashMap<&str, usize> = HashMap::with_capacity(current.len());
    for (i, webhook) in current.iter().enumerate() {
        by_url.entry(webhook.target_url.as_str()).or_insert(i);
    }
    let wanted: HashSet<&str> = desired
        .webhooks()
        .iter()
        .map(|w| w.target_url.as_str())
        .collect();
    let mut matched = vec![false; current.len()];
    let (mut updates, mut creates, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
    for want in desired.webhooks() {
        match by_url.get(want.target_url.as_str()) {
            None => creates.push(Change::Create {
                target_url: want.target_url.clone(),
                subscriptions: want.subscriptions.clone(),
            }),
            Some(&i) => {
                matched[i] = true;
                let webhook = &current[i];
                let add = missing_from(&want.subscriptions, &webhook.subscriptions);
                let remove = missing_from(&webhook.subscriptions, &want.subscriptions);
                if add.is_empty() && remove.is_empty() {
                    unchanged.push(webhook.clone());
                } else {
                    updates.push(Change::Update {
                        current: webhook.clone(),
                        add,
                        remove,
                        subscriptions: want.subscriptions.clone(),
                    });
                }
            }
        }
    }
    let (mut changes, mut not_desired, mut unmanaged) = (Vec::new(), Vec::new(), Vec::new());
    for (webhook, _) in current.iter().zip(&matched).filter(|(_, m)| !**m) {
        match desired.owner_of(&webhook.target_url) {
            Some(prefix) if prune == Prune::Owned => changes.push(Change::Delete {
                current: webhook.clone(),
                owned_by: prefix.to_owned(),
                duplicate: wanted.contains(webhook.target_url.as_str()),
            }),
            Some(_) => not_desired.push(webhook.clone()),
            None => unmanaged.push(webhook.clone()),
        }
    }
    changes.extend(updates);
    changes.extend(creates);
    Ok(Plan {
        changes,
        unchanged,
        not_desired,
        unmanaged,
        fingerprint: fingerprint(current),
    })
}

/// The subscriptions of `from` that `other` lacks, compared as sets.
fn missing_from(from: &[Subscription], other: &[Subscription]) -> Vec<Subscription> {
    let other: HashSet<_> = other.iter().map(key).collect();
    let mut seen = HashSet::with_capacity(from.len());
    from.iter()
        .filter(|s| {
            let k = key(s);
            !other.contains(&k) && seen.insert(k)
        })
        .cloned()
        .collect()
}

/// A digest of what a plan depends on in a workspace: each webhook's id,
/// target URL and subscriptions (as sets), in no particular order. Two
/// listings with the same fingerprint give the same plan for any desired
/// set; a webhook created, deleted or changed since gives another.
/// `sha256:` and 64 hex digits.
pub fn fingerprint(current: &[Webhook]) -> String {
    let mut entries: Vec<String> = current
        .iter()
        .map(|webhook| {
            let mut subscriptions: Vec<String> = webhook
                .subscriptions
                .iter()
                .map(|s| serde_json::to_string(&key(s)).unwrap_or_default())
                .collect();
            subscriptions.sort_unstable();
            subscriptions.dedup();
            serde_json::to_string(&(
                webhook.webhook_id().to_string(),
                &webhook.target_url,
                subscriptions,
            ))
            .unwrap_or_default()
        })
        .collect();
    entries.sort_unstable();
    let mut digest = Sha256::new();
    for entry in &entries {
        digest.update(entry.as_bytes());
        digest.update(b"\n");
    }
    format!("sha256:{}", const_hex::encode(digest.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::DesiredWebhook;
    use crate::{Condition, EventType, Filter};

    /// A webhook as Attio's list answer has it (the wire format is the oracle).
    fn webhook(n: u128, url: &str, subscriptions: Vec<Subscription>) -> Webhook {
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

    fn want(url: &str, subscriptions: Vec<Subscription>) -> DesiredWebhook {
        DesiredWebhook::new(url, subscriptions)
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

    fn note() -> Vec<Subscription> {
        vec![Subscription::new(EventType::NoteCreated)]
    }

    #[test]
    fn order_of_subscriptions_and_conditions_does_not_matter() {
        let n = Subscription::new(EventType::NoteCreated);
        let current = [webhook(
            1,
            "https://e.com/a",
            vec![n.clone(), people_or_member(false)],
        )];
        let desired = Desired::new().with(want("https://e.com/a", vec![people_or_member(true), n]));
        let plan = plan(&desired, &current, Prune::No).unwrap();
        assert!(plan.changes.is_empty(), "{plan:?}");
        assert_eq!(plan.unchanged.len(), 1);
    }

    #[test]
    fn and_is_not_or_and_null_is_not_an_empty_and() {
        let cond = || vec![Condition::equals("id.object_id", "people")];
        let and = Subscription::new(EventType::RecordCreated).with_filter(Filter::And(cond()));
        let or = Subscription::new(EventType::RecordCreated).with_filter(Filter::Or(cond()));
        let current = [webhook(1, "https://e.com/a", vec![and.clone()])];
        let desired = Desired::new().with(want("https://e.com/a", vec![or.clone()]));
        assert_eq!(
            plan(&desired, &current, Prune::No).unwrap().changes,
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
        let desired = Desired::new().with(want("https://e.com/a", vec![empty_and]));
        assert_eq!(
            plan(&desired, &current, Prune::No).unwrap().counts(),
            (0, 1, 0)
        );
    }

    #[test]
    fn a_repeated_condition_is_another_filter() {
        let a = Condition::equals("a", "1");
        let twice = Subscription::new(EventType::NoteCreated)
            .with_filter(Filter::And(vec![a.clone(), a.clone()]));
        let once = Subscription::new(EventType::NoteCreated).with_filter(Filter::And(vec![a]));
        let current = [webhook(1, "https://e.com/a", vec![once])];
        let desired = Desired::new().with(want("https://e.com/a", vec![twice]));
        assert_eq!(
            plan(&desired, &current, Prune::No).unwrap().counts(),
            (0, 1, 0)
        );
    }

    #[test]
    fn pruning_deletes_only_owned_webhooks_and_orders_deletes_first() {
        let current = [
            webhook(1, "https://hooks.e.com/old", note()),
            webhook(2, "https://hooks.e.com/keep", note()),
            webhook(3, "https://hooks.e.com/keep", note()),
            webhook(4, "https://zapier.com/hook", note()),
            // A prefix is text: this host is not under "https://hooks.e.com/".
            webhook(5, "https://hooks.e.com.evil.org/x", note()),
        ];
        let desired = Desired::new()
            .owns("https://hooks.e.com/")
            .with(want("https://hooks.e.com/keep", note()))
            .with(want("https://hooks.e.com/new", note()));

        let kept = plan(&desired, &current, Prune::No).unwrap();
        assert_eq!(kept.counts(), (1, 0, 0));
        assert_eq!(
            kept.unchanged,
            vec![current[1].clone()],
            "the oldest is the match"
        );
        assert_eq!(
            kept.not_desired,
            vec![current[0].clone(), current[2].clone()]
        );
        assert_eq!(kept.unmanaged, vec![current[3].clone(), current[4].clone()]);

        let pruned = plan(&desired, &current, Prune::Owned).unwrap();
        assert_eq!(pruned.counts(), (1, 0, 2));
        let deleted: Vec<_> = pruned
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Delete {
                    current, duplicate, ..
                } => Some((current.webhook_id(), *duplicate)),
                _ => None,
            })
            .collect();
        assert_eq!(
            deleted,
            [
                (current[0].webhook_id(), false),
                (current[2].webhook_id(), true)
            ]
        );
        assert!(matches!(pruned.changes[2], Change::Create { .. }));
        assert_eq!(
            pruned.unmanaged,
            vec![current[3].clone(), current[4].clone()]
        );
        assert!(pruned.not_desired.is_empty());
        assert_eq!(
            pruned.changes[1].reason(),
            "owned (under https://hooks.e.com/): a second webhook for a wanted target URL; the oldest is kept"
        );
    }

    #[test]
    fn a_set_that_owns_nothing_cannot_prune() {
        let desired = Desired::new().with(want("https://e.com/a", note()));
        let current = [webhook(1, "https://e.com/b", note())];
        assert!(matches!(
            plan(&desired, &current, Prune::Owned),
            Err(PlanError::PruneWithoutScope)
        ));
        assert_eq!(
            plan(&desired, &current, Prune::No).unwrap().unmanaged.len(),
            1
        );
    }

    #[test]
    fn the_fingerprint_changes_with_what_a_plan_depends_on_only() {
        let a = webhook(1, "https://e.com/a", vec![people_or_member(false)]);
        let b = webhook(2, "https://e.com/b", note());
        let base = fingerprint(&[a.clone(), b.clone()]);
        assert!(
            base.starts_with("sha256:") && base.len() == 7 + 64,
            "{base}"
        );
        // Order, condition order and status do not matter.
        let reordered = webhook(1, "https://e.com/a", vec![people_or_member(true)])
            .with_status(crate::WebhookStatus::Degraded);
        assert_eq!(fingerprint(&[b.clone(), reordered]), base);
        // A changed subscription, a new or a missing webhook do.
        let changed = webhook(1, "https://e.com/a", note());
        assert_ne!(fingerprint(&[changed, b.clone()]), base);
        assert_ne!(fingerprint(std::slice::from_ref(&a)), base);
        assert_ne!(
            fingerprint(&[a, b, webhook(3, "https://e.com/c", note())]),
            base
        );
    }

    #[test]
    fn a_plan_survives_json() {
        let current = [webhook(1, "https://e.com/old", note())];
        let desired = Desired::new()
            .owns("https://e.com/")
            .with(want("https://e.com/a", vec![people_or_member(false)]));
        let planned = plan(&desired, &current, Prune::Owned).unwrap();
        let text = serde_json::to_string(&planned).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&text).unwrap(), planned);
    }
}
