//! A log that keeps its newest entries within a count cap and a byte
//! budget, dropping the oldest first and counting what it dropped. The
//! request recording and the delivery log are both one of these.

use std::collections::VecDeque;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

/// The newest entries of a bounded log, and how many older ones were
/// dropped to stay within its limits (see [`crate::Limits`]).
///
/// Dereferences to a slice, so `len()`, indexing and `iter()` work as on a
/// `Vec`.
///
/// ```
/// use attio_webhooks_testkit::FakeAttio;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), attio_webhooks::Error> {
/// let fake = FakeAttio::builder().max_recorded_requests(1).build();
/// fake.client().list_webhooks(Default::default()).await?;
/// fake.client().list_webhooks(Default::default()).await?;
/// let requests = fake.requests();
/// assert_eq!((requests.len(), requests.dropped()), (1, 1));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSnapshot<T> {
    #[serde(rename = "data")]
    entries: Vec<T>,
    dropped: u64,
}

impl<T> LogSnapshot<T> {
    /// How many entries were dropped, oldest first, to stay within the limits.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The entries, oldest first.
    pub fn into_vec(self) -> Vec<T> {
        self.entries
    }

    /// The same snapshot with each entry changed by `f`.
    pub(crate) fn map<U>(self, f: impl FnMut(T) -> U) -> LogSnapshot<U> {
        LogSnapshot {
            entries: self.entries.into_iter().map(f).collect(),
            dropped: self.dropped,
        }
    }
}

impl<T> Deref for LogSnapshot<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.entries
    }
}

impl<T> IntoIterator for LogSnapshot<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a LogSnapshot<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// The entries of a log, each with the bytes it holds.
#[derive(Debug)]
pub(crate) struct BoundedLog<T> {
    entries: VecDeque<(T, usize)>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
    dropped: u64,
}

impl<T> BoundedLog<T> {
    /// An empty log keeping at most `max_entries` entries and `max_bytes` bytes.
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
            max_entries,
            max_bytes,
            dropped: 0,
        }
    }

    /// Appends `entry`, which holds `size` bytes, dropping the oldest
    /// entries until both limits hold. An entry larger than the whole
    /// budget is dropped at once (and counted).
    pub(crate) fn push(&mut self, entry: T, size: usize) {
        if self.max_entries == 0 || size > self.max_bytes {
            self.dropped += 1;
            return;
        }
        while self.entries.len() >= self.max_entries || self.bytes + size > self.max_bytes {
            match self.entries.pop_front() {
                Some((_, old)) => {
                    self.bytes -= old;
                    self.dropped += 1;
                }
                None => break,
            }
        }
        self.bytes += size;
        self.entries.push_back((entry, size));
    }

    /// `true` when the log keeps nothing at all (a cap of 0): callers can
    /// count a drop without building the entry.
    pub(crate) fn keeps_nothing(&self) -> bool {
        self.max_entries == 0 || self.max_bytes == 0
    }

    /// Counts an entry that was not kept.
    pub(crate) fn count_dropped(&mut self) {
        self.dropped += 1;
    }

    /// Forgets every entry and the dropped count.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.dropped = 0;
    }

    /// The newest entry that `matches`, if the log still holds one.
    pub(crate) fn newest(&self, mut matches: impl FnMut(&T) -> bool) -> Option<&T> {
        self.entries
            .iter()
            .rev()
            .map(|(e, _)| e)
            .find(|e| matches(e))
    }

    /// The bytes held now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The entries (each turned into what callers see by `view`) and the dropped count.
    pub(crate) fn snapshot<U>(&self, view: impl FnMut(&T) -> U) -> LogSnapshot<U> {
        let mut view = view;
        LogSnapshot {
            entries: self.entries.iter().map(|(e, _)| view(e)).collect(),
            dropped: self.dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_within_both_limits() {
        let mut log = BoundedLog::new(3, 100);
        for i in 0..5 {
            log.push(i, 10);
        }
        let snap = log.snapshot(|e| *e);
        assert_eq!((&snap[..], snap.dropped()), (&[2, 3, 4][..], 2));
        // 30 + 90 is over 100: the two oldest go, the budget is met exactly.
        log.push(5, 90);
        assert_eq!(log.snapshot(|e| *e).to_vec(), [4, 5]);
        assert_eq!(log.bytes(), 100);
        // Larger than the whole budget: dropped at once, nothing else goes.
        log.push(6, 101);
        let snap = log.snapshot(|e| *e);
        assert_eq!((&snap[..], snap.dropped()), (&[4, 5][..], 5));
        assert_eq!(log.newest(|e| *e < 5), Some(&4));
        assert_eq!(log.newest(|e| *e < 4), None, "3 was dropped");
        log.clear();
        assert_eq!((log.snapshot(|e| *e).len(), log.bytes()), (0, 0));
    }

    #[test]
    fn a_zero_cap_keeps_nothing() {
        let mut log = BoundedLog::new(0, 100);
        log.push("x", 1);
        let snap = log.snapshot(|e| *e);
        assert_eq!((snap.len(), snap.dropped()), (0, 1));
    }
}
