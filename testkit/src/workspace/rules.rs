//! Attio's rules for a webhook's content, checked on typed input before
//! the workspace is locked: target URL policy, at least one subscription,
//! known event types and operators, no subscription twice in one request.
//! What needs the stored webhooks is decided under the lock: uniqueness
//! across webhooks (a hash lookup of the keys computed here), and a repeat
//! inside the request, which is found here but answered there, so that an
//! update of an unknown webhook is a 404 whatever its body repeats.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, OnceLock};

use attio_webhooks::{model::Operator, model::TargetUrlPolicy, EventType, Filter, Subscription};

use super::error::WorkspaceError;
use super::footprint::{allocation, compact, Footprint};
use crate::limits::MAX_SUBSCRIPTIONS_PER_WEBHOOK;

/// What makes a subscription unique for one target URL: its event type and
/// its filter in canonical form (conditions sorted), so that filters Attio
/// considers the same compare and hash equal.
///
/// The hash is computed once, here, before any lock (with a key random to
/// the process, so nobody can aim collisions at it); inside the lock a key
/// costs a reference count and a `u64`, never a string hash or a copy.
#[derive(Clone, Debug)]
pub(crate) struct SubscriptionKey {
    hash: u64,
    key: Arc<(EventType, Option<Filter>)>,
}

impl SubscriptionKey {
    /// The key of `subscription`.
    fn of(subscription: &Subscription) -> Self {
        static KEYS: OnceLock<RandomState> = OnceLock::new();
        let key = (
            subscription.event_type.clone(),
            subscription.filter.as_ref().map(Filter::canonical),
        );
        Self {
            hash: KEYS.get_or_init(RandomState::new).hash_one(&key),
            key: Arc::new(key),
        }
    }

    pub(crate) fn event_type(&self) -> &EventType {
        &self.key.0
    }
}

impl Footprint for SubscriptionKey {
    fn heap(&self) -> usize {
        // The shared allocation (two reference counts and the key) and
        // what the key owns.
        allocation(
            2 * std::mem::size_of::<usize>() + std::mem::size_of::<(EventType, Option<Filter>)>(),
        ) + self.key.0.heap()
            + self.key.1.heap()
    }
}

impl PartialEq for SubscriptionKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.key == other.key
    }
}

impl Eq for SubscriptionKey {}

impl Hash for SubscriptionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// A target URL and subscriptions that passed every rule that does not
/// depend on other webhooks, with their uniqueness keys.
#[derive(Clone, Debug)]
pub(crate) struct CheckedWebhook {
    pub(crate) target_url: String,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) keys: Vec<SubscriptionKey>,
    /// The 409 for a subscription the request repeats, if it does.
    pub(crate) repeat: Option<WorkspaceError>,
}

/// An update that passed the same rules; `None` leaves a field as it is.
#[derive(Clone, Debug)]
pub(crate) struct CheckedChanges {
    pub(crate) target_url: Option<String>,
    pub(crate) subscriptions: Option<(Vec<Subscription>, Vec<SubscriptionKey>)>,
    /// The 409 for a subscription the request repeats, if it does.
    pub(crate) repeat: Option<WorkspaceError>,
}

fn invalid(at: impl Into<String>, reason: impl Into<String>) -> WorkspaceError {
    WorkspaceError::Invalid {
        at: at.into(),
        reason: reason.into(),
    }
}

/// Checks a new webhook's content.
pub(crate) fn check_new(
    mut target_url: String,
    mut subscriptions: Vec<Subscription>,
    policy: &TargetUrlPolicy,
) -> Result<CheckedWebhook, WorkspaceError> {
    check_target(&target_url, policy)?;
    target_url.shrink_to_fit();
    compact(&mut subscriptions);
    let (keys, repeat) = check_subscriptions(&subscriptions, Some(&target_url))?;
    Ok(CheckedWebhook {
        target_url,
        subscriptions,
        keys,
        repeat,
    })
}

/// Checks the fields an update sends.
pub(crate) fn check_changes(
    target_url: Option<String>,
    subscriptions: Option<Vec<Subscription>>,
    policy: &TargetUrlPolicy,
) -> Result<CheckedChanges, WorkspaceError> {
    let mut target_url = target_url;
    if let Some(url) = &mut target_url {
        check_target(url, policy)?;
        url.shrink_to_fit();
    }
    let (subscriptions, repeat) = match subscriptions {
        Some(mut subs) => {
            compact(&mut subs);
            let (keys, repeat) = check_subscriptions(&subs, target_url.as_deref())?;
            (Some((subs, keys)), repeat)
        }
        None => (None, None),
    };
    Ok(CheckedChanges {
        target_url,
        subscriptions,
        repeat,
    })
}

fn check_target(url: &str, policy: &TargetUrlPolicy) -> Result<(), WorkspaceError> {
    policy
        .check(url)
        .map_err(|e| invalid("target_url", e.to_string()))
}

/// At least one subscription and at most [`MAX_SUBSCRIPTIONS_PER_WEBHOOK`],
/// known event types and operators; returns
/// the uniqueness keys in order, and the 409 of the first (event type,
/// filter) the request repeats.
fn check_subscriptions(
    subscriptions: &[Subscription],
    target_url: Option<&str>,
) -> Result<(Vec<SubscriptionKey>, Option<WorkspaceError>), WorkspaceError> {
    let mut repeat = None;
    if subscriptions.is_empty() {
        return Err(invalid(
            "subscriptions",
            "at least one subscription is required",
        ));
    }
    if subscriptions.len() > MAX_SUBSCRIPTIONS_PER_WEBHOOK {
        return Err(invalid(
            "subscriptions",
            format!(
                "{} subscriptions; the fake allows at most {MAX_SUBSCRIPTIONS_PER_WEBHOOK} per webhook",
                subscriptions.len()
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(subscriptions.len());
    let mut keys = Vec::with_capacity(subscriptions.len());
    for (i, subscription) in subscriptions.iter().enumerate() {
        if !subscription.event_type.is_known() {
            return Err(invalid(
                format!("subscriptions[{i}].event_type"),
                format!("unknown event type {:?}", subscription.event_type.as_str()),
            ));
        }
        if let Some(filter) = &subscription.filter {
            let combinator = filter.combinator();
            for (j, condition) in filter.conditions().iter().enumerate() {
                if !condition.operator.is_known() {
                    return Err(invalid(
                        format!("subscriptions[{i}].filter.{combinator}[{j}].operator"),
                        format!(
                            "unknown operator {:?}, expected {:?} or {:?}",
                            condition.operator.as_str(),
                            Operator::Equals.as_str(),
                            Operator::NotEquals.as_str()
                        ),
                    ));
                }
            }
        }
        let key = SubscriptionKey::of(subscription);
        if !seen.insert(key.clone()) && repeat.is_none() {
            let target = target_url
                .map(|url| format!(" for target URL \"{url}\""))
                .unwrap_or_default();
            repeat = Some(WorkspaceError::Conflict(format!(
                "The request repeats a subscription to \"{}\" with the same filter{target}.",
                subscription.event_type
            )));
        }
        keys.push(key);
    }
    Ok((keys, repeat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use attio_webhooks::Condition;

    const POLICY: &TargetUrlPolicy = &TargetUrlPolicy::HttpsOnly;

    fn sub(filter: Option<Filter>) -> Subscription {
        let plain = Subscription::new(EventType::NoteCreated);
        match filter {
            Some(filter) => plain.with_filter(filter),
            None => plain,
        }
    }

    #[test]
    fn reordered_filters_repeat_but_different_ones_do_not() {
        let (a, b) = (Condition::equals("a", "1"), Condition::equals("b", "2"));
        let repeat = vec![
            sub(Some(Filter::And(vec![a.clone(), b.clone()]))),
            sub(Some(Filter::And(vec![b.clone(), a.clone()]))),
        ];
        let checked = check_new("https://x.test/".into(), repeat, POLICY).unwrap();
        assert!(
            matches!(checked.repeat, Some(WorkspaceError::Conflict(m)) if m.contains("repeats"))
        );
        let distinct = vec![
            sub(None),
            sub(Some(Filter::And(vec![a.clone()]))),
            sub(Some(Filter::Or(vec![a.clone()]))),
            sub(Some(Filter::And(vec![a.clone(), a]))),
        ];
        let checked = check_new("https://x.test/".into(), distinct, POLICY).unwrap();
        assert_eq!((checked.keys.len(), checked.repeat), (4, None));
    }

    #[test]
    fn each_rule_names_where() {
        let at = |r: Result<CheckedWebhook, WorkspaceError>| match r {
            Err(WorkspaceError::Invalid { at, .. }) => at,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            at(check_new("http://x.test/".into(), vec![sub(None)], POLICY)),
            "target_url"
        );
        assert_eq!(
            at(check_new("https://x.test/".into(), vec![], POLICY)),
            "subscriptions"
        );
        let unknown = Subscription::new(EventType::from("meeting.created"));
        assert_eq!(
            at(check_new(
                "https://x.test/".into(),
                vec![sub(None), unknown],
                POLICY
            )),
            "subscriptions[1].event_type"
        );
        let like = Filter::Or(vec![Condition::new("a", Operator::from("like"), "b")]);
        assert_eq!(
            at(check_new(
                "https://x.test/".into(),
                vec![sub(Some(like))],
                POLICY
            )),
            "subscriptions[0].filter.$or[0].operator"
        );
    }

    #[test]
    fn at_most_the_cap_of_subscriptions() {
        let subs = |n: usize| -> Vec<Subscription> {
            (0..n)
                .map(|i| {
                    sub(Some(Filter::And(vec![Condition::equals(
                        "a",
                        i.to_string(),
                    )])))
                })
                .collect()
        };
        let url = || "https://x.test/".to_owned();
        let at_cap = check_new(url(), subs(MAX_SUBSCRIPTIONS_PER_WEBHOOK), POLICY).unwrap();
        assert_eq!(at_cap.keys.len(), MAX_SUBSCRIPTIONS_PER_WEBHOOK);
        for over in [
            check_new(url(), subs(MAX_SUBSCRIPTIONS_PER_WEBHOOK + 1), POLICY).map(|_| ()),
            check_changes(None, Some(subs(MAX_SUBSCRIPTIONS_PER_WEBHOOK + 1)), POLICY).map(|_| ()),
        ] {
            match over {
                Err(WorkspaceError::Invalid { at, reason }) => {
                    assert_eq!(at, "subscriptions");
                    assert!(reason.contains("at most 1000"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn keys_compare_by_content_and_bucket_by_their_hash() {
        let a = SubscriptionKey::of(&sub(None));
        let b = SubscriptionKey::of(&Subscription::new(EventType::NoteDeleted));
        assert_eq!(a, SubscriptionKey::of(&sub(None)));
        // A hash that collides is not a clash: the contents decide.
        let forged = SubscriptionKey {
            hash: a.hash,
            key: b.key.clone(),
        };
        assert_ne!(a, forged);
        // Different keys land in different buckets, so the uniqueness index
        // stays a lookup rather than a scan of every key.
        let bucket = |key: &SubscriptionKey| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut hasher);
            hasher.finish()
        };
        assert_eq!(bucket(&a), bucket(&SubscriptionKey::of(&sub(None))));
        assert_ne!(bucket(&a), bucket(&b));
    }
}
