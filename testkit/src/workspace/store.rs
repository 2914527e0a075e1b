//! The workspace: every webhook in creation order, the uniqueness index,
//! and the status changes deliveries cause.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use attio_webhooks::{
    model::Timestamp, receive::Event, CreatedWebhook, Secret, Webhook, WebhookId, WebhookStatus,
};
use bytes::Bytes;

use super::error::WorkspaceError;
use super::near_miss::{verdict, NearMiss, Routing};
use super::rules::CheckedChanges;
use super::stored_webhook::{Prepared, StoredWebhook};
use super::unique::Uniqueness;

/// The workspace's own limits and timings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WorkspaceLimits {
    /// How many webhooks it holds.
    pub(crate) webhooks: usize,
    /// How many bytes of memory its webhooks may hold (see `footprint`).
    pub(crate) stored_bytes: usize,
    /// How long a webhook stays degraded before it turns inactive.
    pub(crate) inactive_after: Duration,
}

/// A webhook an event goes to, with what signing and sending need.
#[derive(Clone, Debug)]
pub(crate) struct Recipient {
    pub(crate) webhook_id: WebhookId,
    pub(crate) target_url: String,
    pub(crate) secret: Secret,
}

/// Where an event goes: its recipients, and why each other webhook does
/// not get it.
#[derive(Debug, Default)]
pub(crate) struct Routed {
    pub(crate) recipients: Vec<Recipient>,
    pub(crate) near_misses: Vec<NearMiss>,
}

/// All webhooks of the fake's one workspace.
///
/// Every operation takes the time it happens at and first turns inactive
/// each webhook that has been degraded for longer than `inactive_after`,
/// so each answer shows the status that time implies.
#[derive(Debug)]
pub(crate) struct Workspace {
    limits: WorkspaceLimits,
    /// By insertion sequence number: creation order.
    webhooks: BTreeMap<u64, StoredWebhook>,
    by_id: HashMap<WebhookId, u64>,
    unique: Uniqueness,
    next: u64,
    /// How many webhooks are degraded, so expiry costs nothing when none is.
    degraded: usize,
    bytes: usize,
}

impl Workspace {
    pub(crate) fn new(limits: WorkspaceLimits) -> Self {
        Self {
            limits,
            webhooks: BTreeMap::new(),
            by_id: HashMap::new(),
            unique: Uniqueness::default(),
            next: 0,
            degraded: 0,
            bytes: 0,
        }
    }

    /// Forgets every webhook.
    pub(crate) fn clear(&mut self) {
        self.webhooks.clear();
        self.by_id.clear();
        self.unique.clear();
        self.degraded = 0;
        self.bytes = 0;
    }

    /// The JSON of each webhook of one page, in creation order.
    pub(crate) fn list(&mut self, now: Timestamp, limit: usize, offset: usize) -> Vec<Bytes> {
        self.expire(now);
        self.webhooks
            .values()
            .skip(offset)
            .take(limit)
            .map(|s| s.json().clone())
            .collect()
    }

    /// The JSON of the webhook with this id.
    pub(crate) fn get(&mut self, now: Timestamp, id: WebhookId) -> Result<Bytes, WorkspaceError> {
        self.expire(now);
        let seq = self.find(id)?;
        Ok(self.webhooks[&seq].json().clone())
    }

    /// Stores webhooks built before the lock, all or none: refused when an
    /// id is taken, a subscription clashes with another webhook's (or with
    /// another of the batch), or a limit would be passed.
    pub(crate) fn insert(
        &mut self,
        now: Timestamp,
        batch: Vec<Prepared>,
    ) -> Result<(), WorkspaceError> {
        self.expire(now);
        let added: usize = batch.iter().map(|p| p.webhook.size()).sum();
        if self.webhooks.len() + batch.len() > self.limits.webhooks {
            return Err(WorkspaceError::Refused(format!(
                "The workspace already holds {} webhooks; the fake holds at most {}.",
                self.webhooks.len(),
                self.limits.webhooks
            )));
        }
        if self.bytes + added > self.limits.stored_bytes {
            return Err(over_budget(self.limits.stored_bytes));
        }
        for (
            i,
            Prepared {
                webhook: new,
                repeat,
            },
        ) in batch.iter().enumerate()
        {
            if let Some(repeat) = repeat {
                return Err(repeat.clone());
            }
            let id = new.id();
            let earlier = &batch[..i];
            if self.by_id.contains_key(&id) || earlier.iter().any(|p| p.webhook.id() == id) {
                return Err(WorkspaceError::Refused(format!(
                    "A webhook with ID \"{id}\" already exists."
                )));
            }
            let target = &new.webhook().target_url;
            if let Some((key, holder)) = self.unique.clash(target, new.keys(), None) {
                return Err(conflict(target, key.event_type(), holder));
            }
            for Prepared { webhook: other, .. } in earlier {
                if other.webhook().target_url == *target {
                    if let Some(key) = new.keys().iter().find(|k| other.keys().contains(k)) {
                        return Err(conflict(target, key.event_type(), other.id()));
                    }
                }
            }
        }
        for Prepared { webhook: new, .. } in batch {
            self.unique
                .insert(&new.webhook().target_url, new.keys(), new.id());
            self.degraded += usize::from(new.degraded_since().is_some());
            self.bytes += new.size();
            self.by_id.insert(new.id(), self.next);
            self.webhooks.insert(self.next, new);
            self.next += 1;
        }
        Ok(())
    }

    /// Applies checked changes to the webhook with this id; 409 when the
    /// result would hold a triple another webhook holds (a new target URL
    /// re-checks the existing subscriptions); refused, and left as it was,
    /// when the result would pass the byte budget. Returns the webhook's
    /// new JSON.
    pub(crate) fn update(
        &mut self,
        now: Timestamp,
        id: WebhookId,
        changes: CheckedChanges,
    ) -> Result<Bytes, WorkspaceError> {
        self.expire(now);
        let seq = self.find(id)?;
        if let Some(repeat) = changes.repeat {
            return Err(repeat);
        }
        let current = &self.webhooks[&seq];
        let target = changes
            .target_url
            .as_deref()
            .unwrap_or(&current.webhook().target_url);
        let keys = changes
            .subscriptions
            .as_ref()
            .map_or(current.keys(), |(_, keys)| keys);
        if let Some((key, holder)) = self.unique.clash(target, keys, Some(current.id())) {
            return Err(conflict(target, key.event_type(), holder));
        }
        let stored = self.webhooks.get_mut(&seq).expect("found above");
        let old_size = stored.size();
        let replaced = stored.apply(changes.target_url, changes.subscriptions);
        let bytes = self.bytes - old_size + stored.size();
        if bytes > self.limits.stored_bytes {
            stored.restore(replaced);
            return Err(over_budget(self.limits.stored_bytes));
        }
        self.bytes = bytes;
        let url = &stored.webhook().target_url;
        self.unique.remove(
            replaced.target_url().unwrap_or(url),
            replaced.keys().unwrap_or(stored.keys()),
        );
        self.unique.insert(url, stored.keys(), stored.id());
        Ok(stored.json().clone())
    }

    /// Deletes the webhook with this id.
    pub(crate) fn delete(&mut self, now: Timestamp, id: WebhookId) -> Result<(), WorkspaceError> {
        self.expire(now);
        let seq = self.find(id)?;
        let removed = self.webhooks.remove(&seq).expect("found above");
        self.by_id.remove(&removed.id());
        self.unique
            .remove(&removed.webhook().target_url, removed.keys());
        self.degraded -= usize::from(removed.degraded_since().is_some());
        self.bytes -= removed.size();
        Ok(())
    }

    /// Every webhook, in creation order.
    pub(crate) fn webhooks(&mut self, now: Timestamp) -> Vec<Webhook> {
        self.expire(now);
        self.webhooks
            .values()
            .map(|s| s.webhook().clone())
            .collect()
    }

    /// Every webhook with its secret, in creation order.
    pub(crate) fn with_secrets(&mut self, now: Timestamp) -> Vec<CreatedWebhook> {
        self.expire(now);
        self.webhooks.values().map(StoredWebhook::created).collect()
    }

    /// The webhooks `event` goes to, as Attio decides: `active` or
    /// `degraded`, with a subscription of the event's type whose filter
    /// passes; each webhook once. The rest of [`Workspace::route`].
    #[cfg(test)]
    pub(crate) fn recipients(&mut self, now: Timestamp, event: &Event) -> Vec<Recipient> {
        self.route(now, event).recipients
    }

    /// Every webhook's [`verdict`] on `event`, in creation order: the
    /// recipients, and a [`NearMiss`] for each webhook that does not get it.
    pub(crate) fn route(&mut self, now: Timestamp, event: &Event) -> Routed {
        self.expire(now);
        let mut routed = Routed::default();
        let routing = Routing::new(event);
        for stored in self.webhooks.values() {
            let webhook = stored.webhook();
            match verdict(webhook, &routing) {
                Ok(()) => routed.recipients.push(Recipient {
                    webhook_id: webhook.webhook_id(),
                    target_url: webhook.target_url.clone(),
                    secret: stored.secret().clone(),
                }),
                Err(reason) => routed.near_misses.push(NearMiss::new(webhook, reason)),
            }
        }
        routed
    }

    /// The status of webhook `id`, or `None` once it is deleted.
    pub(crate) fn status(&mut self, now: Timestamp, id: WebhookId) -> Option<WebhookStatus> {
        self.expire(now);
        let seq = self.by_id.get(&id)?;
        Some(self.webhooks[seq].webhook().status.clone())
    }

    /// A delivery got through: a degraded webhook is active again.
    pub(crate) fn delivered(&mut self, now: Timestamp, id: WebhookId) {
        self.expire(now);
        self.change_status(id, WebhookStatus::Degraded, WebhookStatus::Active, None);
    }

    /// A message failed its last retry (scheduled `at`): an active webhook
    /// is degraded from then on (and inactive `inactive_after` later).
    pub(crate) fn gave_up(&mut self, now: Timestamp, id: WebhookId, at: Timestamp) {
        self.change_status(id, WebhookStatus::Active, WebhookStatus::Degraded, Some(at));
        self.expire(now);
    }

    fn change_status(
        &mut self,
        id: WebhookId,
        from: WebhookStatus,
        to: WebhookStatus,
        degraded_since: Option<Timestamp>,
    ) {
        let Some(seq) = self.by_id.get(&id) else {
            return;
        };
        let stored = self.webhooks.get_mut(seq).expect("indexed");
        if stored.webhook().status != from {
            return;
        }
        let was_degraded = stored.degraded_since().is_some();
        set_status(&mut self.bytes, stored, to, degraded_since);
        self.degraded =
            self.degraded + usize::from(degraded_since.is_some()) - usize::from(was_degraded);
    }

    /// Turns inactive every webhook degraded for `inactive_after` or longer.
    fn expire(&mut self, now: Timestamp) {
        if self.degraded == 0 {
            return;
        }
        let limit = self.limits.inactive_after;
        for stored in self.webhooks.values_mut() {
            if stored
                .degraded_since()
                .is_some_and(|since| since.saturating_add(limit) <= now)
            {
                set_status(&mut self.bytes, stored, WebhookStatus::Inactive, None);
                self.degraded -= 1;
            }
        }
    }

    /// The sequence number of the webhook with this path id; 404 with
    /// Attio's message for an unknown id or one that is not a UUID.
    fn find(&self, id: WebhookId) -> Result<u64, WorkspaceError> {
        self.by_id
            .get(&id)
            .copied()
            .ok_or_else(|| WorkspaceError::NotFound(id.to_string()))
    }
}

#[cfg(test)]
impl Workspace {
    /// Panics unless the running counts agree with the webhooks they count.
    fn assert_consistent(&self) {
        let degraded = self
            .webhooks
            .values()
            .filter(|w| w.degraded_since().is_some())
            .count();
        let bytes: usize = self.webhooks.values().map(StoredWebhook::size).sum();
        assert_eq!((self.degraded, self.bytes), (degraded, bytes));
        assert_eq!(self.by_id.len(), self.webhooks.len());
    }
}

/// Sets a webhook's status and keeps the workspace's byte count in step:
/// the status is part of the stored JSON, so its footprint changes with it.
fn set_status(
    bytes: &mut usize,
    stored: &mut StoredWebhook,
    status: WebhookStatus,
    degraded_since: Option<Timestamp>,
) {
    let old_size = stored.size();
    stored.set_status(status, degraded_since);
    *bytes = *bytes - old_size + stored.size();
}

/// The refusal of a create, seed or update that would pass the byte budget.
fn over_budget(stored_bytes: usize) -> WorkspaceError {
    WorkspaceError::Refused(format!(
        "The fake holds at most {stored_bytes} bytes of webhooks in memory (what their strings, lists and index entries take, not their JSON length)."
    ))
}

fn conflict(
    target_url: &str,
    event_type: &attio_webhooks::EventType,
    holder: WebhookId,
) -> WorkspaceError {
    WorkspaceError::Conflict(format!(
        "Webhook with ID \"{holder}\" already subscribes target URL \"{target_url}\" to \"{event_type}\" with the same filter."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::rules::{check_changes, check_new};
    use attio_webhooks::{
        model::TargetUrlPolicy, Condition, EventType, Filter, Subscription, WorkspaceId,
    };

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn workspace() -> Workspace {
        with_budget(1 << 20)
    }

    /// A workspace of three webhooks and `stored_bytes` bytes.
    fn with_budget(stored_bytes: usize) -> Workspace {
        Workspace::new(WorkspaceLimits {
            webhooks: 3,
            stored_bytes,
            inactive_after: DAY,
        })
    }

    fn prepared(id: u128, url: &str, subs: Vec<Subscription>, status: WebhookStatus) -> Prepared {
        let checked = check_new(url.to_owned(), subs, &TargetUrlPolicy::HttpsOnly).unwrap();
        Prepared::new(
            WorkspaceId::from_u128(1),
            WebhookId::from_u128(id),
            checked,
            status,
            Timestamp::UNIX_EPOCH,
            Secret::new("s"),
            Timestamp::UNIX_EPOCH,
        )
    }

    fn note(filter: Filter) -> Vec<Subscription> {
        vec![Subscription::new(EventType::NoteCreated).with_filter(filter)]
    }

    /// Webhook `i` on `https://x.test/{i}`, one unfiltered subscription.
    fn numbered(i: u128, status: WebhookStatus) -> Prepared {
        let url = format!("https://x.test/{i}");
        prepared(i, &url, note(Filter::And(vec![])), status)
    }

    #[test]
    fn uniqueness_is_per_target_and_canonical_filter() {
        let mut ws = workspace();
        let t = Timestamp::UNIX_EPOCH;
        let (a, b) = (Condition::equals("a", "1"), Condition::equals("b", "2"));
        let ab = Filter::Or(vec![a.clone(), b.clone()]);
        let ba = Filter::Or(vec![b, a]);
        ws.insert(
            t,
            vec![prepared(
                1,
                "https://x.test/1",
                note(ab),
                WebhookStatus::Active,
            )],
        )
        .unwrap();
        let clash = ws.insert(
            t,
            vec![prepared(
                2,
                "https://x.test/1",
                note(ba.clone()),
                WebhookStatus::Active,
            )],
        );
        assert!(
            matches!(clash, Err(WorkspaceError::Conflict(m)) if m.contains("00000000-0000-0000-0000-000000000001"))
        );
        // The same triple on another URL is fine; moving it onto the first URL is not.
        ws.insert(
            t,
            vec![prepared(
                2,
                "https://x.test/2",
                note(ba),
                WebhookStatus::Active,
            )],
        )
        .unwrap();
        let moved = check_changes(
            Some("https://x.test/1".into()),
            None,
            &TargetUrlPolicy::HttpsOnly,
        )
        .unwrap();
        let id2 = WebhookId::from_u128(2);
        assert!(matches!(
            ws.update(t, id2, moved),
            Err(WorkspaceError::Conflict(_))
        ));
        // Deleting the holder frees the triple.
        ws.delete(t, WebhookId::from_u128(1)).unwrap();
        let moved = check_changes(
            Some("https://x.test/1".into()),
            None,
            &TargetUrlPolicy::HttpsOnly,
        )
        .unwrap();
        ws.update(t, id2, moved).unwrap();
    }

    #[test]
    fn a_batch_is_stored_whole_or_not_at_all() {
        let mut ws = workspace();
        let t = Timestamp::UNIX_EPOCH;
        let subs = || note(Filter::And(vec![]));
        let batch = vec![
            prepared(1, "https://x.test/", subs(), WebhookStatus::Active),
            prepared(2, "https://x.test/", subs(), WebhookStatus::Active),
        ];
        assert!(matches!(
            ws.insert(t, batch),
            Err(WorkspaceError::Conflict(_))
        ));
        let twice = vec![
            prepared(1, "https://x.test/a", subs(), WebhookStatus::Active),
            prepared(1, "https://x.test/b", subs(), WebhookStatus::Active),
        ];
        assert!(matches!(
            ws.insert(t, twice),
            Err(WorkspaceError::Refused(_))
        ));
        assert!(ws.webhooks(t).is_empty());
        let four = (1..=4)
            .map(|i| {
                prepared(
                    i,
                    &format!("https://x.test/{i}"),
                    subs(),
                    WebhookStatus::Active,
                )
            })
            .collect();
        assert!(
            matches!(ws.insert(t, four), Err(WorkspaceError::Refused(m)) if m.contains("at most 3"))
        );
        assert!(ws.webhooks(t).is_empty());
    }

    #[test]
    fn degraded_turns_inactive_after_the_limit_and_active_on_success() {
        let mut ws = workspace();
        let t0 = Timestamp::UNIX_EPOCH;
        ws.insert(
            t0,
            vec![prepared(
                1,
                "https://x.test/",
                note(Filter::And(vec![])),
                WebhookStatus::Active,
            )],
        )
        .unwrap();
        let id = WebhookId::from_u128(1);
        ws.gave_up(t0, id, t0);
        assert_eq!(ws.status(t0, id), Some(WebhookStatus::Degraded));
        ws.assert_consistent();
        ws.delivered(t0, id);
        assert_eq!(ws.status(t0, id), Some(WebhookStatus::Active));
        ws.assert_consistent();
        ws.gave_up(t0, id, t0);
        let almost = t0.saturating_add(DAY - Duration::from_nanos(1));
        assert_eq!(ws.status(almost, id), Some(WebhookStatus::Degraded));
        assert_eq!(
            ws.status(t0.saturating_add(DAY), id),
            Some(WebhookStatus::Inactive)
        );
        ws.assert_consistent();
        // An inactive webhook is not revived by a late success.
        ws.delivered(t0.saturating_add(DAY), id);
        assert_eq!(
            ws.status(t0.saturating_add(DAY), id),
            Some(WebhookStatus::Inactive)
        );
    }

    #[test]
    fn limits_admit_exactly_their_size() {
        let t = Timestamp::UNIX_EPOCH;
        let one = |i: u128| numbered(i, WebhookStatus::Active);
        // Three webhooks fill a workspace that holds three.
        let mut ws = workspace();
        ws.insert(t, (1..=3).map(one).collect()).unwrap();
        assert_eq!(ws.webhooks(t).len(), 3);
        // A byte budget of exactly one webhook holds it, and no second.
        let size = one(1).webhook.size();
        let mut ws = with_budget(size);
        ws.insert(t, vec![one(1)]).unwrap();
        assert!(
            matches!(ws.insert(t, vec![one(2)]), Err(WorkspaceError::Refused(m)) if m.contains("bytes"))
        );
        // One byte short refuses even the first.
        let mut ws = with_budget(size - 1);
        assert!(matches!(
            ws.insert(t, vec![one(1)]),
            Err(WorkspaceError::Refused(_))
        ));
        assert!(ws.webhooks(t).is_empty());
    }

    #[test]
    fn a_webhook_stored_degraded_expires_too() {
        let mut ws = workspace();
        let t0 = Timestamp::UNIX_EPOCH;
        let subs = note(Filter::And(vec![]));
        ws.insert(
            t0,
            vec![prepared(
                1,
                "https://x.test/",
                subs,
                WebhookStatus::Degraded,
            )],
        )
        .unwrap();
        let id = WebhookId::from_u128(1);
        assert_eq!(ws.status(t0, id), Some(WebhookStatus::Degraded));
        assert_eq!(
            ws.status(t0.saturating_add(DAY), id),
            Some(WebhookStatus::Inactive)
        );
    }

    #[test]
    fn an_update_stays_within_the_byte_budget() {
        let t = Timestamp::UNIX_EPOCH;
        let small = || note(Filter::And(vec![]));
        // Webhook 2 on webhook 1's URL, with the same subscription.
        let second = || prepared(2, "https://x.test/1", small(), WebhookStatus::Active);
        let size = numbered(1, WebhookStatus::Active).webhook.size();
        let mut ws = with_budget(2 * size + 50);
        ws.insert(t, vec![numbered(1, WebhookStatus::Active)])
            .unwrap();
        let id = WebhookId::from_u128(1);
        let big: Vec<Subscription> = (0..40)
            .map(|i| {
                Subscription::new(EventType::NoteCreated).with_filter(Filter::And(vec![
                    Condition::equals("id.object_id", format!("object-{i}")),
                ]))
            })
            .collect();
        let grow = check_changes(None, Some(big), &TargetUrlPolicy::HttpsOnly).unwrap();
        assert!(
            matches!(ws.update(t, id, grow), Err(WorkspaceError::Refused(m)) if m.contains("bytes"))
        );
        // Refused means untouched: the webhook and what it holds.
        assert_eq!(ws.webhooks(t)[0].subscriptions, small());
        assert!(matches!(
            ws.insert(t, vec![second()]),
            Err(WorkspaceError::Conflict(_))
        ));
        // A change that fits is applied, and frees what it left.
        let moved = check_changes(
            Some("https://x.test/renamed".into()),
            None,
            &TargetUrlPolicy::HttpsOnly,
        )
        .unwrap();
        ws.update(t, id, moved).unwrap();
        assert_eq!(ws.webhooks(t)[0].target_url, "https://x.test/renamed");
        ws.insert(t, vec![second()]).unwrap();
        ws.assert_consistent();
        // An update that leaves the store exactly at its budget is fine.
        let mut full = with_budget(size);
        full.insert(t, vec![numbered(1, WebhookStatus::Active)])
            .unwrap();
        let same_length = check_changes(
            Some("https://x.test/9".into()),
            None,
            &TargetUrlPolicy::HttpsOnly,
        )
        .unwrap();
        full.update(t, id, same_length).unwrap();
        full.assert_consistent();
    }

    #[test]
    fn deleting_gives_back_its_bytes_and_its_degraded_count() {
        let t = Timestamp::UNIX_EPOCH;
        let size = numbered(1, WebhookStatus::Degraded).webhook.size();
        assert!(numbered(1, WebhookStatus::Active).webhook.size() <= size);
        let mut ws = with_budget(size);
        // A budget of one webhook, used again and again.
        for i in 1..=3 {
            ws.insert(t, vec![numbered(i, WebhookStatus::Degraded)])
                .unwrap();
            ws.assert_consistent();
            ws.delete(t, WebhookId::from_u128(i)).unwrap();
            ws.assert_consistent();
        }
        ws.insert(t, vec![numbered(4, WebhookStatus::Active)])
            .unwrap();
        let id = WebhookId::from_u128(4);
        ws.gave_up(t, id, t);
        ws.assert_consistent();
        assert_eq!(
            ws.status(t.saturating_add(DAY), id),
            Some(WebhookStatus::Inactive)
        );
        ws.assert_consistent();
    }

    #[test]
    fn events_go_to_active_and_degraded_webhooks_whose_subscription_accepts_them() {
        let mut ws = workspace();
        let t = Timestamp::UNIX_EPOCH;
        let people = || {
            note(Filter::And(vec![Condition::equals(
                "parent_object_id",
                "people",
            )]))
        };
        ws.insert(
            t,
            vec![
                prepared(1, "https://x.test/1", people(), WebhookStatus::Active),
                prepared(2, "https://x.test/2", people(), WebhookStatus::Degraded),
                prepared(3, "https://x.test/3", people(), WebhookStatus::Inactive),
            ],
        )
        .unwrap();
        let event = |object: &str| {
            Event::new(
                EventType::NoteCreated,
                WorkspaceId::from_u128(1),
                attio_webhooks::receive::Actor::system(),
            )
            .with_field("parent_object_id", object)
        };
        let ids = |ws: &mut Workspace, e: &Event| -> Vec<u128> {
            ws.recipients(t, e)
                .iter()
                .map(|r| r.webhook_id.as_uuid().as_u128())
                .collect()
        };
        assert_eq!(ids(&mut ws, &event("people")), [1, 2]);
        assert_eq!(ids(&mut ws, &event("companies")), Vec::<u128>::new());
        let other_type = Event::new(
            EventType::NoteDeleted,
            WorkspaceId::from_u128(1),
            attio_webhooks::receive::Actor::system(),
        );
        assert_eq!(ids(&mut ws, &other_type), Vec::<u128>::new());
    }
}
