//! The `SeenKeys` conformance suite: the in-memory store passes it, and
//! stores broken the ways shared-store implementations go wrong fail the
//! property they break (so the suite can fail).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use attio_webhooks::error::BoxError;
use attio_webhooks::receive::{Claim, ClaimToken, MemorySeenKeys, SeenKeys, Settled};
use attio_webhooks_testkit::seen_keys_conformance::{check, StoreTimes, Violation, PROPERTIES};

#[tokio::test]
async fn the_memory_store_keeps_the_protocol() {
    let result = check(|times: StoreTimes| async move {
        MemorySeenKeys::new()
            .with_lease(times.lease)
            .with_ttl(times.ttl)
    })
    .await;
    assert_eq!(result, Ok(()));
}

/// How a hand-rolled store can go wrong.
#[derive(Clone, Copy, Default)]
struct Bugs {
    /// Reads, yields (a network round trip), then writes: not atomic.
    racy_claim: bool,
    /// `release` deletes whatever claim is there (`DEL key`).
    release_ignores_token: bool,
    /// `complete` marks done whoever holds the claim.
    complete_ignores_token: bool,
    /// Keys are cut to 64 bytes (a VARCHAR(64) column).
    truncates_keys: bool,
    /// No `lease`/`renew` (a store written for 0.2, on the defaults).
    no_renewal: bool,
}

#[derive(Clone, PartialEq)]
enum State {
    Claimed(ClaimToken),
    Done,
}

struct Broken {
    bugs: Bugs,
    times: StoreTimes,
    entries: Mutex<HashMap<String, (State, Instant)>>,
}

impl Broken {
    fn new(bugs: Bugs, times: StoreTimes) -> Self {
        Self {
            bugs,
            times,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, key: &str) -> String {
        if self.bugs.truncates_keys {
            key.chars().take(64).collect()
        } else {
            key.to_owned()
        }
    }

    fn live(&self, key: &str) -> Option<State> {
        let entries = self.entries.lock().unwrap();
        entries
            .get(key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(state, _)| state.clone())
    }
}

impl Broken {
    /// What a claim that found `found` answers, writing the claim if free.
    fn claim_found(
        &self,
        key: String,
        found: Option<State>,
        entries: &mut HashMap<String, (State, Instant)>,
    ) -> Claim {
        match found {
            Some(State::Claimed(_)) => Claim::InProgress,
            Some(State::Done) => Claim::Done,
            None => {
                let token = ClaimToken::random();
                let until = Instant::now() + self.times.lease;
                entries.insert(key, (State::Claimed(token.clone()), until));
                Claim::Claimed(token)
            }
        }
    }
}

#[async_trait::async_trait]
impl SeenKeys for Broken {
    async fn claim(&self, key: &str) -> Result<Claim, BoxError> {
        let key = self.key(key);
        if self.bugs.racy_claim {
            // Read, yield, then write: another claimer gets in between.
            let found = self.live(&key);
            tokio::task::yield_now().await;
            return Ok(self.claim_found(key, found, &mut self.entries.lock().unwrap()));
        }
        // Read and write under one lock: atomic.
        let mut entries = self.entries.lock().unwrap();
        let found = entries
            .get(&key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(state, _)| state.clone());
        Ok(self.claim_found(key, found, &mut entries))
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let key = self.key(key);
        let held = match self.live(&key) {
            Some(State::Claimed(holder)) => self.bugs.complete_ignores_token || holder == *token,
            _ => false,
        };
        if !held {
            return Ok(Settled::Lost);
        }
        let until = Instant::now() + self.times.ttl;
        self.entries
            .lock()
            .unwrap()
            .insert(key, (State::Done, until));
        Ok(Settled::Held)
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        let key = self.key(key);
        let held = match self.live(&key) {
            Some(State::Claimed(holder)) => self.bugs.release_ignores_token || holder == *token,
            _ => false,
        };
        if !held {
            return Ok(Settled::Lost);
        }
        self.entries.lock().unwrap().remove(&key);
        Ok(Settled::Held)
    }

    fn lease(&self) -> Option<Duration> {
        (!self.bugs.no_renewal).then_some(self.times.lease)
    }

    async fn renew(&self, key: &str, token: &ClaimToken) -> Result<Settled, BoxError> {
        if self.bugs.no_renewal {
            return Err("does not renew".into());
        }
        let key = self.key(key);
        let mut entries = self.entries.lock().unwrap();
        match entries.get_mut(&key) {
            Some((State::Claimed(holder), until)) if holder == token && *until > Instant::now() => {
                *until = Instant::now() + self.times.lease;
                Ok(Settled::Held)
            }
            _ => Ok(Settled::Lost),
        }
    }
}

/// The properties the suite finds broken in a store with `bugs`.
async fn broken_properties(bugs: Bugs) -> Vec<&'static str> {
    match check(|times| async move { Broken::new(bugs, times) }).await {
        Ok(()) => Vec::new(),
        Err(violations) => violations.iter().map(|v: &Violation| v.property).collect(),
    }
}

#[tokio::test]
async fn a_correct_hand_rolled_store_passes_and_each_bug_fails_its_property() {
    assert_eq!(broken_properties(Bugs::default()).await, Vec::<&str>::new());
    let racy = Bugs {
        racy_claim: true,
        ..Bugs::default()
    };
    assert_eq!(broken_properties(racy).await, ["one_winner"]);
    let release = Bugs {
        release_ignores_token: true,
        ..Bugs::default()
    };
    assert_eq!(
        broken_properties(release).await,
        ["stale_token", "release_own_only"]
    );
    let complete = Bugs {
        complete_ignores_token: true,
        ..Bugs::default()
    };
    assert_eq!(
        broken_properties(complete).await,
        ["stale_token", "release_own_only"]
    );
    let truncates = Bugs {
        truncates_keys: true,
        ..Bugs::default()
    };
    assert_eq!(broken_properties(truncates).await, ["any_keys"]);
    let no_renewal = Bugs {
        no_renewal: true,
        ..Bugs::default()
    };
    assert_eq!(
        broken_properties(no_renewal).await,
        ["renewal", "slow_handler"]
    );
    assert_eq!(PROPERTIES.len(), 9);
}
