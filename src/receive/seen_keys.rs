//! Remembering which `Idempotency-Key`s were handled: the [`SeenKeys`]
//! trait and its bounded in-memory implementation.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::BoxError;
use crate::runtime::Clock;

/// Proof of one successful [`SeenKeys::claim`]: completing or releasing
/// the claim needs it, so a holder whose lease ran out cannot settle the
/// claim someone else took over since.
///
/// Opaque text, unique per claim; a store may make its own (a row id, a
/// random value) or use [`ClaimToken::random`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// A token with this text (what a store reads back from its records).
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// 128 random bits as 32 hex digits: unique for every claim any
    /// replica makes (not a secret: it only tells holders apart). On
    /// `wasm32-unknown-unknown` that holds across instances only once each
    /// is seeded with [`seed_random`](crate::runtime::seed_random).
    pub fn random() -> Self {
        Self(format!("{:032x}", fastrand::u128(..)))
    }

    /// The token's text, for storing it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ClaimToken({})", self.0)
    }
}

/// What [`SeenKeys::claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The key was free and is now claimed by the caller, who must
    /// [`complete`](SeenKeys::complete) or [`release`](SeenKeys::release)
    /// it with this token.
    Claimed(ClaimToken),
    /// Someone holds a claim on the key that has not run out.
    InProgress,
    /// The key was handled and is still remembered.
    Done,
}

/// What [`SeenKeys::complete`] or [`SeenKeys::release`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settled {
    /// The caller still held the claim; it is now done (or released).
    Held,
    /// The caller no longer held the claim (its lease ran out, and the key
    /// may be claimed by someone else or done): nothing was changed.
    Lost,
}

/// A store of `Idempotency-Key`s with a time-to-live: the memory behind
/// [`Once`](crate::receive::Once).
///
/// A key goes through three states: free, claimed by one holder (for a
/// limited time, the store's *lease*, so that a claim whose holder vanished
/// runs out), and done (remembered for the store's *time-to-live*).
///
/// The protocol, which every implementation must keep (the testkit's
/// `seen_keys_conformance` checks it against a store):
///
/// - `claim` is atomic: of any number of concurrent claims of a free key,
///   exactly one gets [`Claim::Claimed`], with a [`ClaimToken`] unique to
///   that claim; the others get [`Claim::InProgress`].
/// - `complete` and `release` are compare-and-set on the token: they change
///   the key only while it is claimed, unexpired, by that token, and
///   answer [`Settled::Lost`] otherwise. A stale holder can neither mark
///   done nor free a claim someone else took over.
/// - Done stays done until the time-to-live, whatever `release` is called;
///   then the key is free again.
/// - Keys are any text (empty, long, any characters): hash them if the
///   store needs a bounded or restricted key.
/// - `renew` is compare-and-extend on the token: while the key is claimed,
///   unexpired, by that token, it pushes the claim's end to a full lease
///   from now and answers [`Settled::Held`]; otherwise it changes nothing
///   and answers [`Settled::Lost`]. A store that renews says how long its
///   lease is ([`SeenKeys::lease`]), so [`Once`](crate::receive::Once)
///   renews a claim every third of it while the handler runs: a slow
///   handler keeps its claim, and a process that dies stops renewing, so
///   its claim runs out a lease later.
/// - Errors are errors: a store that cannot answer returns `Err`, and
///   [`Once`](crate::receive::Once) then answers 503 so Attio retries
///   (fail closed), never runs the handler unguarded.
///
/// [`MemorySeenKeys`] keeps keys in this process. On a shared store:
/// Redis `SET key <token> NX PX <lease>` to claim; `complete` and `release`
/// as a Lua script that compares the value with the token before `SET key
/// done PX <ttl>` or `DEL`; or a SQL table with the key as primary key and
/// a token and expiry column, updated `WHERE key = $1 AND token = $2 AND
/// until > now()`.
#[async_trait::async_trait]
pub trait SeenKeys: Send + Sync {
    /// Claims `key` if it is free (or its claim or memory ran out).
    async fn claim(&self, key: &str) -> Result<Claim, BoxError>;

    /// Marks `key` handled, if `token` still holds its claim: later claims
    /// answer [`Claim::Done`] until the time-to-live runs out.
    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError>;

    /// Drops the claim `token` holds on `key` (the handler failed), so the
    /// next claim succeeds. Anything else (a key done, claimed by another
    /// token, or free) is left as it is.
    async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError>;

    /// How long a claim lasts: [`Once`](crate::receive::Once) renews its
    /// claim every third of it while the handler runs.
    ///
    /// The default, `None`, says the store does not renew: `Once` never
    /// calls [`renew`](SeenKeys::renew), and a handler that runs longer
    /// than the store's lease loses its claim, so a retry arriving after
    /// the lease runs the handler again (as every store did before 0.3).
    /// Override both methods to renew; the testkit's conformance suite
    /// fails a store that does not.
    fn lease(&self) -> Option<Duration> {
        None
    }

    /// Extends the claim `token` holds on `key` to a full lease from now,
    /// if it still holds it unexpired ([`Settled::Held`]); otherwise
    /// changes nothing ([`Settled::Lost`]: the lease ran out, and the key
    /// may be someone else's or done).
    ///
    /// The default answers an error saying the store does not renew; it
    /// is only called when [`lease`](SeenKeys::lease) is `Some`.
    async fn renew(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let _ = (key, token);
        Err("this SeenKeys store does not renew claims".into())
    }
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
/// use attio_webhooks::receive::{Claim, MemorySeenKeys, SeenKeys, Settled};
/// # futures::executor::block_on(async {
/// let keys = MemorySeenKeys::new().with_capacity(10_000).with_ttl(Duration::from_secs(3600));
/// let Claim::Claimed(token) = keys.claim("k1").await? else { unreachable!() };
/// assert_eq!(keys.claim("k1").await?, Claim::InProgress);
/// assert_eq!(keys.complete("k1", &token).await?, Settled::Held);
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
    clock: Arc<dyn Clock>,
}

#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
impl Default for MemorySeenKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySeenKeys {
    /// An empty store with [`DEFAULT_CAPACITY`], [`DEFAULT_TTL`] and
    /// [`DEFAULT_LEASE`], on the standard library's clock
    /// ([`StdClock`](crate::runtime::StdClock)).
    ///
    /// Not on `wasm32-unknown-unknown`, which has no such clock: use
    /// [`MemorySeenKeys::new_with_clock`] there.
    #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
    pub fn new() -> Self {
        Self::new_with_clock(crate::runtime::StdClock)
    }

    /// An empty store like [`MemorySeenKeys::new`] that measures leases and
    /// time-to-live on `clock`'s [`Clock::monotonic`]: the form for targets
    /// without a standard clock, and for tests that move time by hand.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use attio_webhooks::receive::{Claim, MemorySeenKeys, SeenKeys};
    /// use attio_webhooks::runtime::Clock;
    ///
    /// /// A clock that stands still.
    /// #[derive(Debug)]
    /// struct Frozen;
    /// impl Clock for Frozen {
    ///     fn monotonic(&self) -> Duration { Duration::ZERO }
    ///     fn wall(&self) -> SystemTime { SystemTime::UNIX_EPOCH }
    /// }
    /// # futures::executor::block_on(async {
    /// let keys = MemorySeenKeys::new_with_clock(Frozen).with_lease(Duration::from_secs(1));
    /// assert!(matches!(keys.claim("k1").await?, Claim::Claimed(_)));
    /// // Time does not move, so the lease never runs out.
    /// assert_eq!(keys.claim("k1").await?, Claim::InProgress);
    /// # Ok::<(), attio_webhooks::error::BoxError>(()) }).unwrap();
    /// ```
    pub fn new_with_clock(clock: impl Clock) -> Self {
        Self {
            table: Mutex::new(Table::default()),
            capacity: DEFAULT_CAPACITY,
            ttl: DEFAULT_TTL,
            lease: DEFAULT_LEASE,
            clock: Arc::new(clock),
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
    /// key over (at most 100 years). [`Once`](crate::receive::Once) renews
    /// it every third of the lease while the handler runs (given a timer);
    /// a handler future that is dropped (the sender hung up) stops
    /// renewing and leaves its claim until the lease runs out.
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
        let now = self.clock.monotonic();
        let token = ClaimToken::random();
        let claimed = self
            .table()
            .claim(digest(key), &token, now, now + self.lease, self.capacity);
        Ok(match claimed {
            Found::Claimed => Claim::Claimed(token),
            Found::InProgress => Claim::InProgress,
            Found::Done => Claim::Done,
        })
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let now = self.clock.monotonic();
        Ok(self
            .table()
            .complete(&digest(key), token, now, now + self.ttl))
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        Ok(self
            .table()
            .release(&digest(key), token, self.clock.monotonic()))
    }

    fn lease(&self) -> Option<Duration> {
        Some(self.lease)
    }

    async fn renew(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let now = self.clock.monotonic();
        Ok(self
            .table()
            .renew(&digest(key), token, now, now + self.lease))
    }
}

type Key = [u8; 32];

fn digest(key: &str) -> Key {
    Sha256::digest(key.as_bytes()).into()
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Claimed by the holder of this token.
    Claimed(ClaimToken),
    Done,
}

/// What the table found for a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Claimed,
    InProgress,
    Done,
}

#[derive(Debug)]
struct Entry {
    state: State,
    until: Duration,
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
    fn claim(
        &mut self,
        key: Key,
        token: &ClaimToken,
        now: Duration,
        until: Duration,
        capacity: usize,
    ) -> Found {
        match self.entries.get(&key) {
            Some(entry) if entry.until > now => match entry.state {
                State::Claimed(_) => Found::InProgress,
                State::Done => Found::Done,
            },
            _ => {
                self.write(key, State::Claimed(token.clone()), now, until, capacity);
                Found::Claimed
            }
        }
    }

    /// The entry for `key` if `token` holds its unexpired claim.
    fn held(&mut self, key: &Key, token: &ClaimToken, now: Duration) -> Option<&mut Entry> {
        self.entries
            .get_mut(key)
            .filter(|e| e.until > now && matches!(&e.state, State::Claimed(held) if held == token))
    }

    fn complete(
        &mut self,
        key: &Key,
        token: &ClaimToken,
        now: Duration,
        until: Duration,
    ) -> Settled {
        match self.held(key, token, now) {
            // Keeps its place in the queue: the oldest claim goes first.
            Some(entry) => {
                entry.state = State::Done;
                entry.until = until;
                Settled::Held
            }
            None => Settled::Lost,
        }
    }

    /// Keeps its place in the queue, like `complete`: a renewed claim is
    /// still the one claimed at that time.
    fn renew(&mut self, key: &Key, token: &ClaimToken, now: Duration, until: Duration) -> Settled {
        match self.held(key, token, now) {
            Some(entry) => {
                entry.until = until;
                Settled::Held
            }
            None => Settled::Lost,
        }
    }

    fn release(&mut self, key: &Key, token: &ClaimToken, now: Duration) -> Settled {
        if self.held(key, token, now).is_some() {
            self.entries.remove(key);
            Settled::Held
        } else {
            Settled::Lost
        }
    }

    fn write(&mut self, key: Key, state: State, now: Duration, until: Duration, capacity: usize) {
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
    fn sweep(&mut self, now: Duration, capacity: usize) {
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

    fn token(name: &str) -> ClaimToken {
        ClaimToken::new(name)
    }

    #[test]
    fn claims_complete_release_and_expiry_follow_the_clock() {
        let (a, b) = (token("a"), token("b"));
        let t0 = Duration::from_secs(1_000);
        let mut table = Table::default();
        assert_eq!(table.claim(key(1), &a, t0, t0 + LEASE, 10), Found::Claimed);
        assert_eq!(
            table.claim(key(1), &b, t0, t0 + LEASE, 10),
            Found::InProgress
        );
        // Another token can neither release nor complete a's claim.
        assert_eq!(table.release(&key(1), &b, t0), Settled::Lost);
        assert_eq!(table.complete(&key(1), &b, t0, t0 + TTL), Settled::Lost);
        assert_eq!(
            table.claim(key(1), &b, t0, t0 + LEASE, 10),
            Found::InProgress
        );
        // a's claim runs out: b takes the key over; a is stale.
        let t1 = t0 + LEASE;
        assert_eq!(table.claim(key(1), &b, t1, t1 + LEASE, 10), Found::Claimed);
        assert_eq!(table.release(&key(1), &a, t1), Settled::Lost);
        assert_eq!(table.complete(&key(1), &a, t1, t1 + TTL), Settled::Lost);
        assert_eq!(
            table.claim(key(1), &a, t1, t1 + LEASE, 10),
            Found::InProgress
        );
        assert_eq!(table.complete(&key(1), &b, t1, t1 + TTL), Settled::Held);
        assert_eq!(
            table.release(&key(1), &b, t1),
            Settled::Lost,
            "done stays done"
        );
        assert_eq!(table.claim(key(1), &a, t1, t1 + LEASE, 10), Found::Done);
        let almost = t1 + TTL - Duration::from_nanos(1);
        assert_eq!(
            table.claim(key(1), &a, almost, almost + LEASE, 10),
            Found::Done
        );
        let t2 = t1 + TTL;
        assert_eq!(table.claim(key(1), &a, t2, t2 + LEASE, 10), Found::Claimed);
        assert_eq!(table.release(&key(1), &a, t2), Settled::Held);
        assert_eq!(table.claim(key(1), &b, t2, t2 + LEASE, 10), Found::Claimed);
        // A claim whose lease ran out cannot be completed by its holder.
        let t3 = t2 + LEASE;
        assert_eq!(table.complete(&key(1), &b, t3, t3 + TTL), Settled::Lost);
    }

    #[test]
    fn renew_extends_only_the_holders_unexpired_claim() {
        let (a, b) = (token("a"), token("b"));
        let t0 = Duration::from_secs(1_000);
        let mut table = Table::default();
        assert_eq!(table.claim(key(1), &a, t0, t0 + LEASE, 10), Found::Claimed);
        // Renewed just before it runs out, a's claim lasts a lease from then.
        let t1 = t0 + LEASE - Duration::from_nanos(1);
        assert_eq!(table.renew(&key(1), &a, t1, t1 + LEASE), Settled::Held);
        assert_eq!(table.renew(&key(1), &b, t1, t1 + LEASE), Settled::Lost);
        let t2 = t0 + LEASE + LEASE / 2;
        assert_eq!(
            table.claim(key(1), &b, t2, t2 + LEASE, 10),
            Found::InProgress
        );
        // Not renewed again, it runs out: renewing then is too late.
        let t3 = t1 + LEASE;
        assert_eq!(table.renew(&key(1), &a, t3, t3 + LEASE), Settled::Lost);
        assert_eq!(table.claim(key(1), &b, t3, t3 + LEASE, 10), Found::Claimed);
        assert_eq!(table.renew(&key(1), &a, t3, t3 + LEASE), Settled::Lost);
        // A done key is not a claim: renewing it changes nothing.
        assert_eq!(table.complete(&key(1), &b, t3, t3 + TTL), Settled::Held);
        assert_eq!(table.renew(&key(1), &b, t3, t3 + LEASE), Settled::Lost);
        assert_eq!(table.claim(key(1), &a, t3 + LEASE * 2, t3, 10), Found::Done);
    }

    /// A clock that moves only when told to.
    #[derive(Debug, Default)]
    struct Manual(Mutex<Duration>);
    impl Clock for Manual {
        fn monotonic(&self) -> Duration {
            *self.0.lock().unwrap()
        }
        fn wall(&self) -> std::time::SystemTime {
            std::time::SystemTime::UNIX_EPOCH + self.monotonic()
        }
    }

    #[test]
    fn leases_and_the_time_to_live_run_on_the_stores_clock() {
        let clock = Arc::new(Manual::default());
        let keys = MemorySeenKeys::new_with_clock(Arc::clone(&clock))
            .with_lease(LEASE)
            .with_ttl(TTL);
        let advance = |by: Duration| *clock.0.lock().unwrap() += by;
        futures::executor::block_on(async {
            let Claim::Claimed(first) = keys.claim("k").await.unwrap() else {
                panic!("a free key is claimed")
            };
            advance(LEASE - Duration::from_nanos(1));
            assert_eq!(keys.claim("k").await.unwrap(), Claim::InProgress);
            advance(Duration::from_nanos(1));
            let Claim::Claimed(second) = keys.claim("k").await.unwrap() else {
                panic!("a lease that ran out on the clock frees the key")
            };
            assert_eq!(keys.complete("k", &first).await.unwrap(), Settled::Lost);
            assert_eq!(keys.complete("k", &second).await.unwrap(), Settled::Held);
            advance(TTL - Duration::from_nanos(1));
            assert_eq!(keys.claim("k").await.unwrap(), Claim::Done);
            advance(Duration::from_nanos(1));
            assert!(matches!(keys.claim("k").await.unwrap(), Claim::Claimed(_)));
        });
    }

    #[test]
    fn the_oldest_key_goes_first_when_full() {
        let t = token("t");
        let t0 = Duration::from_secs(1_000);
        let mut table = Table::default();
        for i in 0..3 {
            table.claim(key(i), &t, t0, t0 + TTL, 3);
            table.complete(&key(i), &t, t0, t0 + TTL);
        }
        table.claim(key(3), &t, t0, t0 + TTL, 3);
        assert_eq!(table.entries.len(), 3);
        assert_eq!(table.claim(key(0), &t, t0, t0 + TTL, 3), Found::Claimed);
        assert_eq!(table.claim(key(2), &t, t0, t0 + TTL, 3), Found::Done);
    }

    #[test]
    fn memory_stays_bounded_under_any_mix_of_calls() {
        let t0 = Duration::from_secs(1_000);
        let capacity = 50;
        let mut table = Table::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let tokens: Vec<ClaimToken> = (0..4).map(|i| token(&i.to_string())).collect();
        for step in 0..20_000u32 {
            let now = t0 + Duration::from_millis(u64::from(step));
            let k = key(rng.u32(0..500));
            let t = &tokens[rng.usize(0..tokens.len())];
            match rng.u8(0..4) {
                0 => {
                    table.claim(k, t, now, now + LEASE, capacity);
                }
                1 => {
                    table.complete(&k, t, now, now + TTL);
                }
                2 => {
                    table.renew(&k, t, now, now + LEASE);
                }
                _ => {
                    table.release(&k, t, now);
                }
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

    #[test]
    fn random_tokens_differ() {
        let tokens: std::collections::HashSet<String> = (0..1000)
            .map(|_| ClaimToken::random().as_str().to_owned())
            .collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens.iter().all(|t| t.len() == 32));
    }
}
