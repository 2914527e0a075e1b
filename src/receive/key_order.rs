//! The order of an object's keys as Attio sent them, so that an event read
//! and written again keeps it.
//!
//! Attio writes per-type fields between `id` and `actor` (`"event_type",
//! "id", "parent_object_id", "parent_record_id", "actor"` in Pipedream's
//! recorded `components/attio/sources/new-note-instant/test-event.mjs`)
//! and the ids in `id` in its own order (`workspace_id, list_id, entry_id,
//! attribute_id` in `list-entry-updated-instant/test-event.mjs`), while
//! `serde_json::Map` without its `preserve_order` feature sorts its keys.
//! That feature would bring `indexmap` (and `hashbrown`) into every build
//! of the core and change the order of every `Map` in the user's program
//! (cargo unifies features); this list of names costs one `String` per key.

use std::collections::BTreeSet;

use serde::ser::SerializeMap;
use serde_json::{Map, Value};

/// Key names in the order they are written.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyOrder(Vec<String>);

impl KeyOrder {
    /// An order of these keys.
    pub(crate) fn of(keys: &[&str]) -> Self {
        Self(keys.iter().map(|k| (*k).to_owned()).collect())
    }

    /// Appends a key the caller knows is new (a parser that checked its
    /// map).
    pub(crate) fn push_new(&mut self, key: String) {
        self.0.push(key);
    }

    /// Appends `key` unless it is there already. Linear: for builders,
    /// not for parsing.
    pub(crate) fn push(&mut self, key: &str) {
        if !self.0.iter().any(|k| k == key) {
            self.0.push(key.to_owned());
        }
    }

    /// Puts `key` just before `before` (at the end when `before` is not
    /// there), unless `key` is there already. Linear: for builders, not
    /// for parsing.
    pub(crate) fn insert_before(&mut self, key: &str, before: &str) {
        if self.0.iter().any(|k| k == key) {
            return;
        }
        let at = self
            .0
            .iter()
            .position(|k| k == before)
            .unwrap_or(self.0.len());
        self.0.insert(at, key.to_owned());
    }

    /// How many entries [`KeyOrder::serialize`] writes for `named` and
    /// `rest`: the length hint to pass to `serialize_map`.
    /// Each named key once, and each key of `rest` that is not named.
    pub(crate) fn written_len(named: &[&str], rest: &Map<String, Value>) -> usize {
        named.len()
            + rest
                .keys()
                .filter(|key| !named.contains(&key.as_str()))
                .count()
    }

    /// Writes the object: `named` keys (written by `write_named`) and the
    /// keys of `rest`, in this order; then any named key the order lacks,
    /// then any key of `rest` it lacks (one inserted into a public map
    /// directly), in `rest`'s order. A key of `rest` that is also named is
    /// not written from `rest`: the named value wins. Writes
    /// [`KeyOrder::written_len`] entries.
    pub(crate) fn serialize<M: SerializeMap>(
        &self,
        map: &mut M,
        named: &[&str],
        mut write_named: impl FnMut(&mut M, &str) -> Result<(), M::Error>,
        rest: &Map<String, Value>,
    ) -> Result<(), M::Error> {
        let mut written: BTreeSet<&str> = BTreeSet::new();
        for key in &self.0 {
            let key = key.as_str();
            if written.contains(key) {
                continue;
            }
            if named.contains(&key) {
                write_named(map, key)?;
            } else if let Some(value) = rest.get(key) {
                map.serialize_entry(key, value)?;
            } else {
                continue;
            }
            written.insert(key);
        }
        for key in named {
            if !written.contains(key) {
                write_named(map, key)?;
            }
        }
        for (key, value) in rest {
            if !written.contains(key.as_str()) && !named.contains(&key.as_str()) {
                map.serialize_entry(key, value)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map that counts the entries written to it.
    struct Count(usize);

    impl SerializeMap for Count {
        type Ok = ();
        type Error = serde_json::Error;
        fn serialize_key<T: ?Sized + serde::Serialize>(
            &mut self,
            _: &T,
        ) -> Result<(), Self::Error> {
            self.0 += 1;
            Ok(())
        }
        fn serialize_value<T: ?Sized + serde::Serialize>(
            &mut self,
            _: &T,
        ) -> Result<(), Self::Error> {
            Ok(())
        }
        fn end(self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn written(order: &KeyOrder, named: &[&str], rest: &Map<String, Value>) -> usize {
        let mut count = Count(0);
        order
            .serialize(
                &mut count,
                named,
                |map, key| map.serialize_entry(key, &()),
                rest,
            )
            .unwrap();
        count.0
    }

    /// The length hint is the number of entries written, also when `rest`
    /// holds a named key (which is not written from `rest`), or keys the
    /// order lacks, or the order keys `rest` lacks.
    #[test]
    fn the_length_hint_counts_what_is_written() {
        let named = ["event_type", "id", "actor"];
        let rest: Map<String, Value> = serde_json::from_str(
            r#"{"id":"colliding","actor":null,"parent_object_id":"p","zeta":1}"#,
        )
        .unwrap();
        let orders = [
            KeyOrder::of(&named),
            KeyOrder::of(&["event_type", "id", "parent_object_id", "actor"]),
            KeyOrder::of(&["zeta", "missing", "actor", "actor"]),
            KeyOrder::default(),
        ];
        for order in &orders {
            assert_eq!(written(order, &named, &rest), 5, "{order:?}");
            assert_eq!(KeyOrder::written_len(&named, &rest), 5, "{order:?}");
        }
        let empty = Map::new();
        assert_eq!(KeyOrder::written_len(&named, &empty), 3);
        assert_eq!(written(&KeyOrder::default(), &named, &empty), 3);
    }
}
