//! A conformance suite for [`SeenKeys`] stores: the claim protocol that
//! makes [`Once`] hold on a shared store,
//! checked against any implementation (the in-memory one, a Redis or SQL
//! one, your own).
//!
//! ```
//! use attio_webhooks::receive::MemorySeenKeys;
//! use attio_webhooks_testkit::seen_keys_conformance::{check, StoreTimes};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let result = check(|times: StoreTimes| async move {
//!     MemorySeenKeys::new().with_lease(times.lease).with_ttl(times.ttl)
//! })
//! .await;
//! assert!(result.is_ok(), "{result:?}");
//! # }
//! ```
//!
//! The suite waits for leases and time-to-lives to run out in real time
//! (about 5 s in all with the default [`StoreTimes`]), and uses keys with a
//! random prefix, so it can run against a store other tests share.
//! A store's own tests that need its server use [`skip_without_server`].

use std::future::Future;
use std::time::Duration;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use attio_webhooks::receive::{Claim, ClaimToken, Once, SeenKeys, Settled};

pub use crate::needs_server::skip_without_server;

/// The lease and time-to-live the suite asks the store for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreTimes {
    /// How long a claim lasts.
    pub lease: Duration,
    /// How long a done key is remembered.
    pub ttl: Duration,
}

impl Default for StoreTimes {
    /// A 250 ms lease and a 500 ms time-to-live: long enough for a store
    /// on loopback to answer well within them, short enough to wait out.
    fn default() -> Self {
        Self {
            lease: Duration::from_millis(250),
            ttl: Duration::from_millis(500),
        }
    }
}

/// One property of the protocol that the store broke.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{property}: {detail}")]
#[non_exhaustive]
pub struct Violation {
    /// Which property, e.g. `one_winner`.
    pub property: &'static str,
    /// What happened instead.
    pub detail: String,
}

/// The properties, in the order [`check`] runs them.
pub const PROPERTIES: [&str; 9] = [
    "one_winner",
    "unique_tokens",
    "lease_expiry",
    "renewal",
    "slow_handler",
    "stale_token",
    "done_until_ttl",
    "release_own_only",
    "any_keys",
];

/// Runs every property against stores made by `make` with the default
/// [`StoreTimes`]; see [`check_with`].
pub async fn check<S, F, Fut>(make: F) -> Result<(), Vec<Violation>>
where
    S: SeenKeys + 'static,
    F: Fn(StoreTimes) -> Fut,
    Fut: Future<Output = S>,
{
    check_with(StoreTimes::default(), make).await
}

/// Runs every property, each against a fresh store from `make(times)`,
/// and returns every violation found (not just the first).
///
/// - `one_winner`: of 16 claims of a free key made truly in parallel (4
///   at once on each of 4 threads, released together by a barrier),
///   exactly one succeeds and the others see it in progress; 50 rounds,
///   each on a fresh key, so a claim that reads then writes (not atomic)
///   is caught every run.
/// - `unique_tokens`: two successive claims of a key get different tokens.
/// - `lease_expiry`: once a claim's lease has run out, another claim takes
///   the key, and the expired holder cannot complete it.
/// - `renewal`: the store says its lease ([`SeenKeys::lease`]), and a
///   holder renewing every third of it keeps its claim for two leases and
///   more; a renewal with another token, of a claim that ran out, or of a
///   done key answers lost.
/// - `slow_handler`: through [`Once`] (on
///   tokio's timer), a handler that takes three leases runs once:
///   deliveries of its key while it runs answer in progress, and one after
///   it finished answers already handled.
/// - `stale_token`: a holder whose lease ran out and whose key was taken
///   over can neither complete nor release the new holder's claim.
/// - `done_until_ttl`: a completed key answers done (release does not
///   change that) until the time-to-live, then it is free.
/// - `release_own_only`: a release with another token changes nothing;
///   the holder's release frees the key.
/// - `any_keys`: empty, 10 000-character, non-ASCII and control-character
///   keys work, and keys that differ in one character (or only in case)
///   are different keys.
pub async fn check_with<S, F, Fut>(times: StoreTimes, make: F) -> Result<(), Vec<Violation>>
where
    S: SeenKeys + 'static,
    F: Fn(StoreTimes) -> Fut,
    Fut: Future<Output = S>,
{
    check_properties(&PROPERTIES, times, make).await
}

/// Runs the named `properties` only (names from [`PROPERTIES`]; others
/// are ignored), as [`check_with`] does: for repeating one, such as
/// `one_winner`, many times.
pub async fn check_properties<S, F, Fut>(
    properties: &[&'static str],
    times: StoreTimes,
    make: F,
) -> Result<(), Vec<Violation>>
where
    S: SeenKeys + 'static,
    F: Fn(StoreTimes) -> Fut,
    Fut: Future<Output = S>,
{
    let run = format!("conformance-{}-", uuid::Uuid::new_v4().simple());
    let mut violations = Vec::new();
    for &property in PROPERTIES.iter().filter(|p| properties.contains(p)) {
        let store = Arc::new(make(times).await);
        let prefix = format!("{run}{property}-");
        let outcome = match property {
            "one_winner" => one_winner(Arc::clone(&store), &prefix).await,
            "unique_tokens" => unique_tokens(&*store, &prefix).await,
            "lease_expiry" => lease_expiry(&*store, &prefix, times).await,
            "renewal" => renewal(&*store, &prefix, times).await,
            "slow_handler" => slow_handler(store, &prefix, times).await,
            "stale_token" => stale_token(&*store, &prefix, times).await,
            "done_until_ttl" => done_until_ttl(&*store, &prefix, times).await,
            "release_own_only" => release_own_only(&*store, &prefix).await,
            _ => any_keys(&*store, &prefix).await,
        };
        if let Err(detail) = outcome {
            violations.push(Violation { property, detail });
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

type Checked = Result<(), String>;

/// `Err` with `what` unless `got` is `want`.
fn expect<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Checked {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: expected {want:?}, got {got:?}"))
    }
}

async fn claim(store: &impl SeenKeys, key: &str) -> Result<Claim, String> {
    store
        .claim(key)
        .await
        .map_err(|e| format!("claim({key:?}) failed: {e}"))
}

async fn claim_token(store: &impl SeenKeys, key: &str) -> Result<ClaimToken, String> {
    match claim(store, key).await? {
        Claim::Claimed(token) => Ok(token),
        other => Err(format!("claim({key:?}) of a free key answered {other:?}")),
    }
}

async fn complete(store: &impl SeenKeys, key: &str, token: &ClaimToken) -> Result<Settled, String> {
    store
        .complete(key, token)
        .await
        .map_err(|e| format!("complete({key:?}) failed: {e}"))
}

async fn renew(store: &impl SeenKeys, key: &str, token: &ClaimToken) -> Result<Settled, String> {
    store
        .renew(key, token)
        .await
        .map_err(|e| format!("renew({key:?}) failed: {e}"))
}

async fn release(store: &impl SeenKeys, key: &str, token: &ClaimToken) -> Result<Settled, String> {
    store
        .release(key, token)
        .await
        .map_err(|e| format!("release({key:?}) failed: {e}"))
}

/// Waits out `d` with a margin for a store's clock granularity.
async fn outlast(d: Duration) {
    tokio::time::sleep(d + d / 2 + Duration::from_millis(20)).await;
}

/// Threads per round, claims each thread makes at once, and rounds.
const THREADS: usize = 4;
const CLAIMS_PER_THREAD: usize = 4;
const ROUNDS: usize = 50;

async fn one_winner<S: SeenKeys + 'static>(store: Arc<S>, prefix: &str) -> Checked {
    // Claims on OS threads of their own, whatever the caller's runtime
    // (often one thread), released together by a barrier, so they really
    // overlap; and several at once on each thread, so a claim that yields
    // between its read and its write is caught even when the threads do
    // not overlap (a loaded machine). They run through the caller's
    // runtime handle, and nothing here blocks that runtime, so it keeps
    // driving the store's connections and timers.
    let runtime = tokio::runtime::Handle::current();
    let mut failed_rounds = Vec::new();
    for round in 0..ROUNDS {
        let key = Arc::new(format!("{prefix}k{round}"));
        let barrier = Arc::new(tokio::sync::Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (store, key, barrier) =
                    (Arc::clone(&store), Arc::clone(&key), Arc::clone(&barrier));
                let runtime = runtime.clone();
                let (answer, answered) = futures::channel::oneshot::channel();
                std::thread::spawn(move || {
                    let claims = runtime.block_on(async {
                        barrier.wait().await;
                        let claims = (0..CLAIMS_PER_THREAD).map(|_| claim(&*store, &key));
                        futures::future::join_all(claims).await
                    });
                    let _ = answer.send(claims);
                });
                answered
            })
            .collect();
        let mut winners = 0;
        for thread in threads {
            let claims = thread
                .await
                .map_err(|_| "a claimer's thread panicked".to_owned())?;
            for claimed in claims {
                match claimed? {
                    Claim::Claimed(_) => winners += 1,
                    Claim::InProgress => {}
                    other => return Err(format!("a concurrent claim answered {other:?}")),
                }
            }
        }
        if winners != 1 {
            failed_rounds.push((round, winners));
        }
    }
    if failed_rounds.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "claims that succeeded of {} in parallel: expected 1 in each of {ROUNDS} rounds; (round, winners): {failed_rounds:?}",
            THREADS * CLAIMS_PER_THREAD
        ))
    }
}

async fn unique_tokens(store: &impl SeenKeys, prefix: &str) -> Checked {
    let key = format!("{prefix}k");
    let first = claim_token(store, &key).await?;
    expect(
        "release by the holder",
        release(store, &key, &first).await?,
        Settled::Held,
    )?;
    let second = claim_token(store, &key).await?;
    if first == second {
        return Err(format!("two claims got the same token {first:?}"));
    }
    Ok(())
}

async fn lease_expiry(store: &impl SeenKeys, prefix: &str, times: StoreTimes) -> Checked {
    let key = format!("{prefix}k");
    let old = claim_token(store, &key).await?;
    expect(
        "a second claim within the lease",
        claim(store, &key).await?,
        Claim::InProgress,
    )?;
    outlast(times.lease).await;
    expect(
        "completing after the lease ran out",
        complete(store, &key, &old).await?,
        Settled::Lost,
    )?;
    let new = claim_token(store, &key).await?;
    expect(
        "the new holder completes",
        complete(store, &key, &new).await?,
        Settled::Held,
    )
}

async fn renewal(store: &impl SeenKeys, prefix: &str, times: StoreTimes) -> Checked {
    expect("the store's lease", store.lease(), Some(times.lease))?;
    let key = format!("{prefix}k");
    let holder = claim_token(store, &key).await?;
    let other = ClaimToken::new(format!("{}-not-mine", holder.as_str()));
    expect(
        "renew with another token",
        renew(store, &key, &other).await?,
        Settled::Lost,
    )?;
    // Renewed every third of the lease for two leases: still held, though
    // the first lease ran out long ago.
    for _ in 0..6 {
        tokio::time::sleep(times.lease / 3).await;
        expect(
            "renew by the holder",
            renew(store, &key, &holder).await?,
            Settled::Held,
        )?;
    }
    expect(
        "a claim after two leases of renewals",
        claim(store, &key).await?,
        Claim::InProgress,
    )?;
    // No more renewals: the claim runs out, and renewing is then too late.
    outlast(times.lease).await;
    expect(
        "renew after the lease ran out",
        renew(store, &key, &holder).await?,
        Settled::Lost,
    )?;
    let next = claim_token(store, &key).await?;
    expect(
        "the stale holder's renew",
        renew(store, &key, &holder).await?,
        Settled::Lost,
    )?;
    expect(
        "the new holder completes",
        complete(store, &key, &next).await?,
        Settled::Held,
    )?;
    expect(
        "renew of a done key",
        renew(store, &key, &next).await?,
        Settled::Lost,
    )?;
    expect("the key once done", claim(store, &key).await?, Claim::Done)
}

async fn slow_handler<S: SeenKeys + 'static>(
    store: Arc<S>,
    prefix: &str,
    times: StoreTimes,
) -> Checked {
    let once = Once::from_arc(store);
    let key = format!("{prefix}k");
    let runs = AtomicU32::new(0);
    let handler = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(times.lease * 3).await;
        Ok::<_, ()>(())
    };
    let first = once.run(Some(&key), handler);
    // Past the first lease and past the second, while the first runs.
    let during = async {
        let mut seen = Vec::new();
        for _ in 0..2 {
            tokio::time::sleep(times.lease + times.lease / 4).await;
            seen.push(once.run(Some(&key), handler).await.code());
        }
        seen
    };
    let (first, during) = tokio::join!(first, during);
    expect("the first delivery", first.code(), "handled")?;
    expect(
        "deliveries while it runs",
        during,
        vec!["in_progress", "in_progress"],
    )?;
    let after = once.run(Some(&key), handler).await;
    expect("a delivery after it", after.code(), "already_handled")?;
    expect("runs of the handler", runs.load(Ordering::SeqCst), 1)
}

async fn stale_token(store: &impl SeenKeys, prefix: &str, times: StoreTimes) -> Checked {
    let key = format!("{prefix}k");
    let stale = claim_token(store, &key).await?;
    outlast(times.lease).await;
    let live = claim_token(store, &key).await?;
    expect(
        "release with the stale token",
        release(store, &key, &stale).await?,
        Settled::Lost,
    )?;
    expect(
        "the key after the stale release",
        claim(store, &key).await?,
        Claim::InProgress,
    )?;
    expect(
        "complete with the stale token",
        complete(store, &key, &stale).await?,
        Settled::Lost,
    )?;
    expect(
        "the key after the stale complete",
        claim(store, &key).await?,
        Claim::InProgress,
    )?;
    expect(
        "the live holder completes",
        complete(store, &key, &live).await?,
        Settled::Held,
    )?;
    expect("the key once done", claim(store, &key).await?, Claim::Done)
}

async fn done_until_ttl(store: &impl SeenKeys, prefix: &str, times: StoreTimes) -> Checked {
    let key = format!("{prefix}k");
    let token = claim_token(store, &key).await?;
    expect(
        "complete by the holder",
        complete(store, &key, &token).await?,
        Settled::Held,
    )?;
    expect("the key once done", claim(store, &key).await?, Claim::Done)?;
    expect(
        "release of a done key",
        release(store, &key, &token).await?,
        Settled::Lost,
    )?;
    expect(
        "the key after release",
        claim(store, &key).await?,
        Claim::Done,
    )?;
    outlast(times.ttl).await;
    claim_token(store, &key).await.map(drop)
}

async fn release_own_only(store: &impl SeenKeys, prefix: &str) -> Checked {
    let key = format!("{prefix}k");
    let holder = claim_token(store, &key).await?;
    let other = ClaimToken::new(format!("{}-not-mine", holder.as_str()));
    expect(
        "release with another token",
        release(store, &key, &other).await?,
        Settled::Lost,
    )?;
    expect(
        "the key after it",
        claim(store, &key).await?,
        Claim::InProgress,
    )?;
    expect(
        "complete with another token",
        complete(store, &key, &other).await?,
        Settled::Lost,
    )?;
    expect(
        "release by the holder",
        release(store, &key, &holder).await?,
        Settled::Held,
    )?;
    claim_token(store, &key).await.map(drop)
}

async fn any_keys(store: &impl SeenKeys, prefix: &str) -> Checked {
    let long = format!("{prefix}{}", "x".repeat(10_000));
    let keys = [
        prefix.to_owned(),
        format!("{prefix}ключ-🔑-鍵"),
        format!("{prefix}a\0b\nc\td\"e\\f'g;DROP TABLE h"),
        format!("{prefix}case"),
        format!("{prefix}CASE"),
        long.clone(),
        format!("{long}y"),
    ];
    let mut tokens = Vec::new();
    for key in &keys {
        tokens.push(claim_token(store, key).await?);
    }
    for (key, token) in keys.iter().zip(&tokens) {
        expect(
            "complete",
            complete(store, key, token).await?,
            Settled::Held,
        )?;
    }
    for key in &keys {
        expect(
            &format!("{:?}…", key.chars().take(40).collect::<String>()),
            claim(store, key).await?,
            Claim::Done,
        )?;
    }
    // A key that differs from a done one only in its last character is free.
    claim_token(store, &format!("{long}z")).await.map(drop)
}
