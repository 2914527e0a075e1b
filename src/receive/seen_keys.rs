//! Remembering which `Idempotency-Key`s were handled: the [`SeenKeys`]
//! trait and its bounded in-memory implementation.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::BoxError;

/// What [`SeenKeys::claim`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The key was free and is now claimed by the caller, who must
    /// [`complete`](SeenKeys::complete) or [`release`](SeenKeys::release) it.
    Claimed,
    /// Someone else holds a claim on the key that has not run out.
    InProgress,
    /// The key was handled and is still remembered.
    Done,
}

/// A store of `Idempotency-Key`s with a time-to-live: the memory behind
/// [`Once`](crate::receive::Once).
///
/// A key goes through three states: free, claimed (for a limited time, the
/// store's *lease*, so that a claim whose holder vanished runs out), and
/// done (remembered for the store's *time-to-live*). `claim` must be atomic:
/// of two concurrent claims of a free key, one gets [`Claim::Claimed`].
///
/// [`MemorySeenKeys`] keeps keys in this process. To dedupe across several
/// processes or restarts, implement the trait on a shared store, e.g.
/// Redis (`SET key claimed NX PX lease`, then `SET key done PX ttl`, and
/// `DEL` on release) or a SQL table with a unique key and an expiry column.
#[async_trait::async_trait]
pub trait SeenKeys: Send + Sync {
    /// Claims `key` if it is free (or its claim or memory ran out).
    async fn claim(&self, key: &str) -> Result<Claim, BoxError>;

    /// Marks `key` handled: later claims answer [`Claim::Done`] until the
    /// time-to-live runs out.
    async fn complete(&self, key: &str) -> Result<(), BoxError>;

    /// Drops a claim on `key` that did not complete, so the next claim
    /// succeeds. A key already done stays done.
    async fn release(&self, key: &str) -> Result<(), BoxError>;
}

/// How long [`MemorySeenKeys`] remembers a handled key by default: 73
/// hours, just over Attio's retry window (255 s doubling over 10 retries,
/// 255 × 1023 s ≈ 72.5 h).
pub const DEFAULT_TTL: Duration = Duration::from_secs(73 * 3600);

/// How long a claim lasts by default before another delivery may take the
/// key over: 5 minutes, more than any delivery attempt lasts.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);

/// How many keys [`MemorySeenKeys`] holds by default: 100 000.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The longest time-to-live or lease accepted; longer ones are cut to it.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A bounded, in-memory [`SeenKeys`] for one process.
///
/// It holds at most `capacity` keys whatever the traffic: each is kept as
/// its SHA-256 (32 bytes, so a long key costs no more than a short one)
/// with its state and deadline, plus a queue of keys in the order they
/// were first claimed, at most one and a half times the capacity: under
/// 200 bytes per key in all, about 20 MB at the default capacity. When
/// full, the key claimed longest ago is forgotten first, even if its
/// time-to-live has not run out: with more distinct messages per
/// time-to-live than the capacity, a very late retry may run again.
///
/// What it does not promise: anything across processes or restarts. Two
/// replicas behind a load balancer each have their own memory, so a retry
/// landing on the other replica runs again; a restart forgets everything.
/// Back [`SeenKeys`] with a shared store for that.
///
/// ```
/// use std::time::Duration;
/// use attio_webhooks::receive::{Claim, MemorySeenKeys, SeenKeys};
/// # futures::executor::block_on(async {
/// let keys = MemorySeenKeys::new().with_capacity(10_000).with_ttl(Duration::from_secs(3600));
/// assert_eq!(keys.claim("k1").await?, Claim::Claimed);
/// assert_eq!(keys.claim("k1").await?, Claim::InProgress);
/// keys.complete("k1").await?;
/// assert_eq!(keys.claim("k1").await?, Claim::Done);
/// assert_eq!(keys.len(), 1);
/// # Ok::<(), attio_webhooks::error::BoxError>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct MemorySeenKeys {
    table: Mutex<Table>,
    capacity: usize,
    ttl: Duration,
    lease: Duration,
}

impl Default for MemorySeenKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySeenKeys {
    /// An empty store with [`DEFAULT_CAPACITY`], [`DEFAULT_TTL`] and
    /// [`DEFAULT_LEASE`].
    pub fn new() -> Self {
        Self {
            table: Mutex::new(Table::default()),
            capacity: DEFAULT_CAPACITY,
            ttl: DEFAULT_TTL,
            lease: DEFAULT_LEASE,
        }
    }

    /// Sets the most keys held (at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Sets how long a handled key is remembered (at most 100 years).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.min(MAX_DURATION);
        self
    }

    /// Sets how long a claim lasts before another delivery may take the
    /// key over (at most 100 years). A handler future that is dropped (the
    /// sender hung up) leaves its claim until then.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.min(MAX_DURATION);
        self
    }

    /// How many keys are held now, claimed or done (expired ones that were
    /// not yet swept included).
    pub fn len(&self) -> usize {
        self.table().entries.len()
    }

    /// `true` when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl SeenKeys for MemorySeenKeys {
    async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
        let now = Instant::now();
        Ok(self
            .table()
            .claim(digest(key), now, now + self.lease, self.capacity))
    }

    async fn complete(&self, key: &str) -> Result<(), BoxError> {
        let now = Instant::now();
        self.table()
            .complete(digest(key), now, now + self.ttl, self.capacity);
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), BoxError> {
        self.table().release(&digest(key));
        Ok(())
    }
}

type Key = [u8; 32];

fn digest(key: &str) -> Key {
    Sha256::digest(key.as_bytes()).into()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Claimed,
    Done,
}

#[derive(Debug)]
struct Entry {
    state: State,
    until: Instant,
    /// Which queue node is this entry's latest; older nodes are stale.
    seq: u64,
}

/// The store's data, with time passed in so it can be tested by the clock.
#[derive(Debug, Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    /// Keys in the order they were last written; a node whose `seq` is not
    /// its entry's is stale and skipped.
    order: VecDeque<(Key, u64)>,
    next_seq: u64,
}

impl Table {
    fn claim(&mut self, key: Key, now: Instant, until: Instant, capacity: usize) -> Claim {
        match self.entries.get(&key) {
            Some(entry) if entry.until > now => match entry.state {
                State::Claimed => Claim::InProgress,
                State::Done => Claim::Done,
            },
            _ => {
                self.write(key, State::Claimed, now, until, capacity);
                Claim::Claimed
            }
        }
    }

    fn complete(&mut self, key: Key, now: Instant, until: Instant, capacity: usize) {
        match self.entries.get_mut(&key) {
            // Keeps its place in the queue: the oldest claim goes first.
            Some(entry) => {
                entry.state = State::Done;
                entry.until = until;
            }
            // Forgotten meanwhile (capacity): remembered anew.
            None => self.write(key, State::Done, now, until, capacity),
        }
    }

    fn release(&mut self, key: &Key) {
        if self
            .entries
            .get(key)
            .is_some_and(|e| e.state == State::Claimed)
        {
            self.entries.remove(key);
        }
    }

    fn write(&mut self, key: Key, state: State, now: Instant, until: Instant, capacity: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.insert(key, Entry { state, until, seq });
        self.order.push_back((key, seq));
        self.sweep(now, capacity);
    }

    fn is_live(&self, (key, seq): &(Key, u64)) -> bool {
        self.entries.get(key).is_some_and(|e| e.seq == *seq)
    }

    /// Forgets the oldest keys while over capacity, then any expired or
    /// stale ones at the front, and compacts the queue when stale nodes
    /// (left by releases and expired claims) pile up, so the queue stays
    /// within one and a half times the capacity.
    fn sweep(&mut self, now: Instant, capacity: usize) {
        while let Some(front) = self.order.front() {
            let live = self.is_live(front);
            let expired = live && self.entries[&front.0].until <= now;
            if live && !expired && self.entries.len() <= capacity {
                break;
            }
            let (key, _) = self.order.pop_front().expect("front exists");
            if live {
                self.entries.remove(&key);
            }
        }
        if self.order.len() > capacity + capacity / 2 + 16 {
            let order = std::mem::take(&mut self.order);
            self.order = order.into_iter().filter(|n| self.is_live(n)).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(10);
    const TTL: Duration = Duration::from_secs(100);

    fn key(i: u32) -> Key {
        digest(&format!("key-{i}"))
    }

    #[test]
    fn claims_complete_release_and_expiry_follow_the_clock() {
        let t0 = Instant::now();
        let mut table = Table::default();
        assert_eq!(table.claim(key(1), t0, t0 + LEASE, 10), Claim::Claimed);
        assert_eq!(table.claim(key(1), t0, t0 + LEASE, 10), Claim::InProgress);
        // The claim runs out: someone else may take the key over.
        let t1 = t0 + LEASE;
        assert_eq!(table.claim(key(1), t1, t1 + LEASE, 10), Claim::Claimed);
        table.complete(key(1), t1, t1 + TTL, 10);
        table.release(&key(1)); // done stays done
        assert_eq!(table.claim(key(1), t1, t1 + LEASE, 10), Claim::Done);
        let almost = t1 + TTL - Duration::from_nanos(1);
        assert_eq!(table.claim(key(1), almost, almost + LEASE, 10), Claim::Done);
        let t2 = t1 + TTL;
        assert_eq!(table.claim(key(1), t2, t2 + LEASE, 10), Claim::Claimed);
        table.release(&key(1));
        assert_eq!(table.claim(key(1), t2, t2 + LEASE, 10), Claim::Claimed);
    }

    #[test]
    fn the_oldest_key_goes_first_when_full() {
        let t0 = Instant::now();
        let mut table = Table::default();
        for i in 0..3 {
            table.claim(key(i), t0, t0 + TTL, 3);
            table.complete(key(i), t0, t0 + TTL, 3);
        }
        table.claim(key(3), t0, t0 + TTL, 3);
        assert_eq!(table.entries.len(), 3);
        assert_eq!(table.claim(key(0), t0, t0 + TTL, 3), Claim::Claimed);
        assert_eq!(table.claim(key(2), t0, t0 + TTL, 3), Claim::Done);
    }

    #[test]
    fn memory_stays_bounded_under_any_mix_of_calls() {
        let t0 = Instant::now();
        let capacity = 50;
        let mut table = Table::default();
        let mut rng = fastrand::Rng::with_seed(7);
        for step in 0..20_000u32 {
            let now = t0 + Duration::from_millis(u64::from(step));
            let k = key(rng.u32(0..500));
            match rng.u8(0..3) {
                0 => {
                    table.claim(k, now, now + LEASE, capacity);
                }
                1 => table.complete(k, now, now + TTL, capacity),
                _ => table.release(&k),
            }
            assert!(table.entries.len() <= capacity);
            assert!(table.order.len() <= capacity + capacity / 2 + 16);
            if step % 500 == 0 {
                // Every entry still has its node, so the sweep can reach it.
                assert!(table
                    .entries
                    .iter()
                    .all(|(k, e)| table.order.contains(&(*k, e.seq))));
            }
        }
    }
}
