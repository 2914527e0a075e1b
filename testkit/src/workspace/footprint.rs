//! What a stored webhook costs in memory, which is what the store's byte
//! budget ([`crate::Limits::stored_bytes`]) counts: every allocation it
//! holds (strings, lists, the uniqueness keys, the serialized answer), each
//! rounded up as the allocator rounds it, plus its share of the
//! workspace's maps. Its JSON length says little about that: a condition
//! of two one-letter strings is 45 bytes of JSON and about 350 bytes of
//! memory (two structs, four small allocations, kept as sent and again in
//! canonical form for the uniqueness index).
//!
//! Lists are shrunk to their length before they are stored ([`compact`]),
//! so that what is charged is what is held, and the serialized form is
//! charged at its length.

use std::collections::HashMap;
use std::mem::size_of;

use attio_webhooks::{
    model::Operator, Condition, EventType, Filter, Subscription, Webhook, WebhookId, WebhookStatus,
};

/// The bytes the allocator takes for a request of `n` bytes: glibc's
/// malloc adds an 8-byte header, rounds to 16 and hands out no chunk under
/// 32 bytes; other allocators round comparably.
pub(crate) fn allocation(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).next_multiple_of(16).max(32)
    }
}

/// The heap a value owns (its own `size_of` is counted by its container).
pub(crate) trait Footprint {
    /// Heap bytes, each allocation rounded by [`allocation`].
    fn heap(&self) -> usize;
}

impl Footprint for String {
    fn heap(&self) -> usize {
        allocation(self.capacity())
    }
}

impl<T: Footprint> Footprint for Vec<T> {
    fn heap(&self) -> usize {
        allocation(self.capacity() * size_of::<T>()) + self.iter().map(T::heap).sum::<usize>()
    }
}

impl<T: Footprint> Footprint for Option<T> {
    fn heap(&self) -> usize {
        self.as_ref().map_or(0, T::heap)
    }
}

/// An open enum's heap: its `Unknown` variant's string.
fn open_enum(known: bool, text: &str) -> usize {
    if known {
        0
    } else {
        allocation(text.len())
    }
}

impl Footprint for EventType {
    fn heap(&self) -> usize {
        open_enum(self.is_known(), self.as_str())
    }
}

impl Footprint for Operator {
    fn heap(&self) -> usize {
        open_enum(self.is_known(), self.as_str())
    }
}

impl Footprint for WebhookStatus {
    fn heap(&self) -> usize {
        open_enum(self.is_known(), self.as_str())
    }
}

impl Footprint for Condition {
    fn heap(&self) -> usize {
        self.field.heap() + self.operator.heap() + self.value.heap()
    }
}

impl Footprint for Filter {
    fn heap(&self) -> usize {
        match self {
            Filter::And(conditions) | Filter::Or(conditions) => conditions.heap(),
            // A combinator added later: its conditions, as if in a list
            // of their length.
            other => {
                let conditions = other.conditions();
                allocation(std::mem::size_of_val(conditions))
                    + conditions.iter().map(Condition::heap).sum::<usize>()
            }
        }
    }
}

impl Footprint for Subscription {
    fn heap(&self) -> usize {
        self.event_type.heap() + self.filter.heap()
    }
}

impl Footprint for Webhook {
    fn heap(&self) -> usize {
        self.target_url.heap() + self.subscriptions.heap() + self.status.heap()
    }
}

/// Shrinks every list and string of `subscriptions` to its length, so that
/// a webhook holds what [`Footprint`] charges for it and no growth slack.
pub(crate) fn compact(subscriptions: &mut Vec<Subscription>) {
    subscriptions.shrink_to_fit();
    for subscription in subscriptions {
        if let Some(Filter::And(conditions) | Filter::Or(conditions)) = &mut subscription.filter {
            conditions.shrink_to_fit();
            for condition in conditions {
                condition.field.shrink_to_fit();
                condition.value.shrink_to_fit();
            }
        }
    }
}

/// A map entry's share of its table: hash tables keep up to twice their
/// entries' room (they grow by doubling, to at most 7/8 full) plus a control
/// byte each; B-tree nodes are between half full and full.
fn map_entry<K, V>() -> usize {
    2 * (size_of::<(K, V)>() + 1)
}

/// What one webhook adds to the workspace's maps: its entry in creation
/// order and in the id index, and a target URL entry in the uniqueness
/// index (charged to every webhook, shared or not).
pub(crate) fn per_webhook<Stored>(target_url: &str) -> usize {
    map_entry::<u64, Stored>()
        + map_entry::<WebhookId, u64>()
        + map_entry::<String, HashMap<(), ()>>()
        + allocation(target_url.len())
}

/// What one subscription adds to the uniqueness index, beyond its key.
pub(crate) fn per_key<Key>() -> usize {
    map_entry::<Key, WebhookId>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_round_like_malloc() {
        assert_eq!(allocation(0), 0);
        assert_eq!(allocation(1), 32);
        assert_eq!(allocation(24), 32);
        assert_eq!(allocation(25), 48);
        assert_eq!(allocation(1000), 1008);
    }

    #[test]
    fn a_condition_costs_its_struct_and_its_strings() {
        let mut subs = vec![Subscription::new(EventType::NoteCreated)
            .with_filter(Filter::And(vec![Condition::equals("a", "b")]))];
        compact(&mut subs);
        let one = subs.heap();
        // The subscription, the condition, two one-letter strings.
        assert_eq!(
            one,
            allocation(size_of::<Subscription>())
                + allocation(size_of::<Condition>())
                + 2 * allocation(1)
        );
        assert!(one > serde_json::to_vec(&subs).unwrap().len());
        // Unknown names are strings too.
        assert_eq!(EventType::from("x.y").heap(), allocation(3));
        assert_eq!(EventType::NoteCreated.heap(), 0);
    }
}
