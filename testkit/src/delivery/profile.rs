//! How the fake shapes its messages: one event per message by default, or
//! "as Attio sends them", reproducibly from a seed.

use std::time::Duration;

use attio_webhooks::receive::{Actor, ActorType, Event};
use attio_webhooks::EventType;

/// How the fake shapes the messages it delivers.
///
/// The default is deterministic: each [`crate::FakeAttio::emit`] is one
/// message per recipient webhook, sent at once, once, and a timed-out
/// attempt is cut off. [`DeliveryProfile::attio_like`] switches on what
/// Attio does on live workspaces, each choice drawn from a seeded
/// generator so that the same seed and the same emits give the same
/// messages at the same times (by the fake's clock; the `Idempotency-Key`s
/// stay random):
///
/// | behaviour | source | `attio_like` |
/// |---|---|---|
/// | events for one record emitted close together go in one message (`"events": [e1, e2, ...]`, in emit order) | observed live (activepieces issue 15057, PR 15064) | a message waits [`DeliveryProfile::batch_window`] = 200 ms (the fake's choice) for more events about the same record |
/// | a non-`system` `record.created`/`record.updated` is followed by a `record.updated` from the `system` actor (`"id": null`, a formula recompute) about a second later, as its own message | observed live (activepieces PR 15056, issue 15057) | 1 s later by the fake's clock, same `object_id` and `record_id`, a new `attribute_id` from the seed |
/// | a message can arrive twice with the same `Idempotency-Key` | documented ("the same between retries and redeliveries", Attio's webhooks guide) | 10 % of messages (the fake's choice: Attio's rate is unknown), the copy 0–2 s after the first (the fake's choice) |
/// | messages can arrive out of order | the fake's choice (Attio promises no order) | 10 % of messages held back 0–3 s more (the fake's choice) |
/// | a retry can start while a timed-out attempt still runs | the fake's choice (Attio's attempt timeout is unknown) | a timed-out attempt is logged as failed and retried on schedule, but its request is left running (up to [`OVERRUN_LIMIT`]) |
///
/// With a manual [`crate::Clock`], a test advances it past the batch
/// window (and the follow-up, and the delays) before
/// [`crate::FakeAttio::settle_deliveries`]; [`crate::FakeAttio::emit_batch`]
/// sends an explicit batch whatever the profile.
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks_testkit::{delivery::DeliveryProfile, FakeAttio};
/// let attio_like = DeliveryProfile::attio_like(7);
/// assert_eq!(attio_like.system_follow_up_after, Some(Duration::from_secs(1)));
/// // Or only the parts a test wants:
/// let follow_ups_only = DeliveryProfile::default().system_follow_ups(Duration::from_secs(1));
/// let fake = FakeAttio::builder().delivery_profile(follow_ups_only).build();
/// # let _ = fake;
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DeliveryProfile {
    /// The seed of every random choice below.
    pub seed: u64,
    /// How long a message waits for more events about the same record
    /// (same `id.object_id` and `id.record_id`) before it is sent; `None`
    /// sends each emit at once.
    pub batch_window: Option<Duration>,
    /// When set, a `record.created` or `record.updated` whose actor is not
    /// `system` is followed this much later by a `system` `record.updated`
    /// about the same record, as its own message.
    pub system_follow_up_after: Option<Duration>,
    /// The share of messages (0 to 1) sent a second time, with the same
    /// `Idempotency-Key`, body and signature.
    pub duplicate_rate: f64,
    /// The longest wait between a message and its duplicate.
    pub duplicate_within: Duration,
    /// The share of messages (0 to 1) held back, so that later ones overtake them.
    pub out_of_order_rate: f64,
    /// The longest extra wait of a held-back message.
    pub out_of_order_within: Duration,
    /// Leave a timed-out attempt's request running (up to
    /// [`OVERRUN_LIMIT`]) while its retry goes out, instead of cutting it
    /// off. The attempt is logged as failed at the timeout; its late answer
    /// is not logged, and [`crate::FakeAttio::settle_deliveries`] does not
    /// wait for it.
    pub overlapping_attempts: bool,
}

/// How long a timed-out attempt's request may keep running under
/// [`DeliveryProfile::overlapping_attempts`] (the fake's choice).
pub const OVERRUN_LIMIT: Duration = Duration::from_secs(60);

impl Default for DeliveryProfile {
    fn default() -> Self {
        Self {
            seed: 0,
            batch_window: None,
            system_follow_up_after: None,
            duplicate_rate: 0.0,
            duplicate_within: Duration::ZERO,
            out_of_order_rate: 0.0,
            out_of_order_within: Duration::ZERO,
            overlapping_attempts: false,
        }
    }
}

impl DeliveryProfile {
    /// Deliveries as Attio sends them, every random choice drawn from
    /// `seed` (see the table above for each behaviour and its source).
    pub fn attio_like(seed: u64) -> Self {
        Self::default()
            .seed(seed)
            .batch_window(Duration::from_millis(200))
            .system_follow_ups(Duration::from_secs(1))
            .duplicates(0.1, Duration::from_secs(2))
            .out_of_order(0.1, Duration::from_secs(3))
            .overlapping_attempts(true)
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Batches events about one record emitted within `window`.
    pub fn batch_window(mut self, window: Duration) -> Self {
        self.batch_window = Some(window);
        self
    }

    /// Sends a `system` `record.updated` `after` each user change to a record.
    pub fn system_follow_ups(mut self, after: Duration) -> Self {
        self.system_follow_up_after = Some(after);
        self
    }

    /// Sends a share `rate` (clamped to 0..=1) of messages twice, the copy
    /// up to `within` after the first.
    pub fn duplicates(mut self, rate: f64, within: Duration) -> Self {
        self.duplicate_rate = clamp_rate(rate);
        self.duplicate_within = within;
        self
    }

    /// Holds back a share `rate` (clamped to 0..=1) of messages by up to `within`.
    pub fn out_of_order(mut self, rate: f64, within: Duration) -> Self {
        self.out_of_order_rate = clamp_rate(rate);
        self.out_of_order_within = within;
        self
    }

    /// Leaves timed-out requests running while their retries go out.
    pub fn overlapping_attempts(mut self, on: bool) -> Self {
        self.overlapping_attempts = on;
        self
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// When one new message goes out, drawn from the profile's generator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timing {
    /// The extra wait before the first attempt (a hold-back), beyond any
    /// batch window.
    pub(crate) held_back: Duration,
    /// The wait after the first attempt before the duplicate, if any.
    pub(crate) duplicate_after: Option<Duration>,
}

/// The profile's random choices: SplitMix64 from the seed, drawn in emit
/// order under the delivery lock, so the same emits give the same choices.
#[derive(Debug)]
pub(crate) struct Draws {
    state: u64,
}

impl Draws {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `true` with probability `rate`.
    fn chance(&mut self, rate: f64) -> bool {
        // 53 random bits as a fraction in [0, 1).
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < rate
    }

    /// A whole number of milliseconds from 0 to `max`.
    fn up_to(&mut self, max: Duration) -> Duration {
        let max = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(self.next() % max.saturating_add(1).max(1))
    }

    /// A v4 UUID from the generator.
    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// The timing of a new message under `profile`.
    pub(crate) fn timing(&mut self, profile: &DeliveryProfile) -> Timing {
        let mut held_back = Duration::ZERO;
        if profile.out_of_order_rate > 0.0 && self.chance(profile.out_of_order_rate) {
            held_back = self.up_to(profile.out_of_order_within);
        }
        let duplicate_after = (profile.duplicate_rate > 0.0 && self.chance(profile.duplicate_rate))
            .then(|| self.up_to(profile.duplicate_within));
        Timing {
            held_back,
            duplicate_after,
        }
    }

    /// The `system` follow-up of `event`, if it gets one: a
    /// `record.updated` about the same record with a new `attribute_id`.
    pub(crate) fn follow_up(&mut self, event: &Event) -> Option<Event> {
        let (object_id, record_id) = follows_up(event)?;
        Some(
            Event::new(
                EventType::RecordUpdated,
                event.id.workspace_id,
                Actor::system(),
            )
            .with_id("object_id", object_id)
            .with_id("record_id", record_id)
            .with_id("attribute_id", self.uuid()),
        )
    }
}

/// The record (object id, record id) of a user's `record.created` or
/// `record.updated`: what Attio follows up with a `system` update.
fn follows_up(event: &Event) -> Option<(&str, &str)> {
    let user_change = matches!(
        event.event_type,
        EventType::RecordCreated | EventType::RecordUpdated
    ) && event.actor.kind != ActorType::System;
    if !user_change {
        return None;
    }
    Some((event.id.get("object_id")?, event.id.get("record_id")?))
}

/// The record an event is about, for batching: `id.object_id` and
/// `id.record_id`, when it has both.
pub(crate) fn record_of(event: &Event) -> Option<(String, String)> {
    Some((
        event.id.get("object_id")?.to_owned(),
        event.id.get("record_id")?.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use attio_webhooks::WorkspaceId;

    #[test]
    fn the_same_seed_draws_the_same_and_another_seed_differs() {
        let profile = DeliveryProfile::attio_like(1);
        let draw = |seed| {
            let mut draws = Draws::new(seed);
            (0..50).map(|_| draws.timing(&profile)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        let timings = draw(1);
        let held = timings
            .iter()
            .filter(|t| t.held_back > Duration::ZERO)
            .count();
        let duplicated = timings
            .iter()
            .filter(|t| t.duplicate_after.is_some())
            .count();
        // 10 % each of 50: some, not most.
        assert!((1..25).contains(&held), "{held}");
        assert!((1..25).contains(&duplicated), "{duplicated}");
        assert!(timings.iter().all(|t| t.held_back <= Duration::from_secs(3)
            && t.duplicate_after.unwrap_or_default() <= Duration::from_secs(2)));
    }

    #[test]
    fn the_default_draws_nothing() {
        let mut draws = Draws::new(0);
        for _ in 0..100 {
            assert_eq!(draws.timing(&DeliveryProfile::default()), Timing::default());
        }
    }

    #[test]
    fn follow_ups_only_for_a_users_record_change() {
        let ws = WorkspaceId::from_u128(1);
        let member = Actor::new(ActorType::WorkspaceMember, Some("m".into()));
        let record = |t: EventType, actor: Actor| {
            Event::new(t, ws, actor)
                .with_id("object_id", "o")
                .with_id("record_id", "r")
                .with_id("attribute_id", "a")
        };
        let mut draws = Draws::new(3);
        let follow_up = draws
            .follow_up(&record(EventType::RecordUpdated, member.clone()))
            .unwrap();
        let json = serde_json::to_value(&follow_up).unwrap();
        assert_eq!(json["event_type"], "record.updated");
        assert_eq!(
            json["actor"],
            serde_json::json!({"type": "system", "id": null})
        );
        assert_eq!(json["id"]["record_id"], "r");
        assert_ne!(json["id"]["attribute_id"], "a");
        assert!(draws
            .follow_up(&record(EventType::RecordCreated, member.clone()))
            .is_some());
        assert!(draws
            .follow_up(&record(EventType::RecordUpdated, Actor::system()))
            .is_none());
        assert!(draws
            .follow_up(&record(EventType::RecordDeleted, member.clone()))
            .is_none());
        assert!(draws
            .follow_up(&Event::new(EventType::RecordUpdated, ws, member))
            .is_none());
    }
}
