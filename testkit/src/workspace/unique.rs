//! The uniqueness index: which webhook holds each (target URL, event type,
//! canonical filter) triple, so a create or update checks its own
//! subscriptions by hash lookup, whatever the size of the workspace.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use attio_webhooks::WebhookId;

use super::rules::SubscriptionKey;

/// Passes on the hash a [`SubscriptionKey`] carries: the map does no
/// hashing of its own, so neither inserts nor growth rehash strings.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `SubscriptionKey`; fold anything else.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Held = HashMap<SubscriptionKey, WebhookId, BuildHasherDefault<Prehashed>>;

/// Target URL, then subscription key, to the webhook that holds it.
#[derive(Debug, Default)]
pub(crate) struct Uniqueness {
    by_target: HashMap<String, Held>,
}

impl Uniqueness {
    /// The first of `keys` that a webhook other than `except` holds for
    /// `target_url`, with that webhook.
    pub(crate) fn clash<'k>(
        &self,
        target_url: &str,
        keys: &'k [SubscriptionKey],
        except: Option<WebhookId>,
    ) -> Option<(&'k SubscriptionKey, WebhookId)> {
        let held = self.by_target.get(target_url)?;
        keys.iter().find_map(|key| {
            held.get(key)
                .filter(|holder| Some(**holder) != except)
                .map(|holder| (key, *holder))
        })
    }

    /// Records that `id` holds `keys` for `target_url`.
    pub(crate) fn insert(&mut self, target_url: &str, keys: &[SubscriptionKey], id: WebhookId) {
        let held = self.by_target.entry(target_url.to_owned()).or_default();
        held.reserve(keys.len());
        for key in keys {
            held.insert(key.clone(), id);
        }
    }

    /// Forgets `keys` for `target_url`.
    pub(crate) fn remove(&mut self, target_url: &str, keys: &[SubscriptionKey]) {
        if let Some(held) = self.by_target.get_mut(target_url) {
            for key in keys {
                held.remove(key);
            }
            if held.is_empty() {
                self.by_target.remove(target_url);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.by_target.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::rules::check_new;
    use attio_webhooks::{model::TargetUrlPolicy, EventType, Subscription};

    #[test]
    fn the_hasher_passes_the_carried_hash_on() {
        let mut h = Prehashed::default();
        h.write_u64(0x0123_4567_89ab_cdef);
        assert_eq!(h.finish(), 0x0123_4567_89ab_cdef);
        // Anything else is folded a byte at a time (hand-computed: eight
        // 0xff bytes fill the word, the ninth rotates and flips the low byte).
        let mut h = Prehashed::default();
        h.write(&[0xff; 9]);
        assert_eq!(h.finish(), 0xffff_ffff_ffff_ff00);
        let mut h = Prehashed::default();
        h.write(&[1, 2]);
        assert_eq!(h.finish(), 0x0102);
    }

    #[test]
    fn clear_forgets_every_holder() {
        let keys = check_new(
            "https://x.test/".into(),
            vec![Subscription::new(EventType::NoteCreated)],
            &TargetUrlPolicy::HttpsOnly,
        )
        .unwrap()
        .keys;
        let mut index = Uniqueness::default();
        index.insert("https://x.test/", &keys, WebhookId::from_u128(1));
        assert_eq!(
            index
                .clash("https://x.test/", &keys, None)
                .map(|(_, id)| id),
            Some(WebhookId::from_u128(1))
        );
        assert!(index
            .clash("https://x.test/", &keys, Some(WebhookId::from_u128(1)))
            .is_none());
        index.clear();
        assert!(index.clash("https://x.test/", &keys, None).is_none());
    }
}
