//! Many isolated workspaces on one fake: the registry that makes them,
//! finds a request's workspace by its bearer token, and drops them.
//!
//! A request reaches a created workspace only through one of its three
//! tokens (read-write, read-only, control); every token of a created
//! workspace starts with [`TOKEN_PREFIX`], so a request carrying such a
//! token that the registry does not hold (a deleted workspace's, a guess)
//! is refused with 401 before anything records it, instead of falling
//! through to the default workspace. Everything else goes to the default
//! workspace, as it did before workspaces existed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use attio_webhooks::WorkspaceId;

use super::auth::{ControlAccess, Scope, Tokens};
use super::state::{Config, FakeState};
use super::workspaces::{CreateWorkspaceError, WorkspaceGrant, WorkspaceOptions, WorkspaceSummary};
use crate::clock::Clock;
use crate::locked::Locked;

/// The prefix of every token of a created workspace (reserved: the
/// default workspace's tokens should not start with it).
pub(crate) const TOKEN_PREFIX: &str = "fake-ws-";

/// How often, at most, creation sweeps idle workspaces out.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// How long a measurement of the process's resident memory is reused.
const RESIDENT_FRESH_FOR: Duration = Duration::from_millis(20);

/// What a token opens in its workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// An API token (its scopes are in the workspace's own token table).
    Api,
    /// The workspace's control token.
    Control,
}

/// One created workspace.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) state: Arc<FakeState>,
    /// Milliseconds since the registry's origin at its last request.
    last_used: AtomicU64,
    /// Held by a Rust handle: never dropped for idleness.
    held: bool,
    /// Its three tokens, to forget them with it.
    tokens: [String; 3],
}

#[derive(Debug, Default)]
struct Inner {
    by_token: HashMap<String, (Arc<Entry>, Role)>,
    by_id: HashMap<WorkspaceId, Arc<Entry>>,
    last_sweep: Option<Instant>,
    resident: Option<(Instant, u64)>,
}

/// The created workspaces of one fake.
#[derive(Debug)]
pub(crate) struct Registry {
    inner: Locked<Inner>,
    /// The server's configuration, which each workspace starts from.
    template: Config,
    origin: Instant,
    /// The ports the server listens on: never a delivery target of any
    /// workspace.
    #[cfg(feature = "server")]
    own_ports: Locked<Vec<u16>>,
    #[cfg(feature = "server")]
    log: Option<crate::log_lines::LogFormat>,
}

/// Where a request goes.
#[derive(Debug)]
pub(crate) enum Resolved {
    /// No workspace token: the default workspace.
    Default,
    /// A created workspace, through one of its tokens.
    Workspace(Arc<Entry>, Role),
}

impl Registry {
    pub(crate) fn new(
        template: Config,
        #[cfg(feature = "server")] log: Option<crate::log_lines::LogFormat>,
    ) -> Self {
        Self {
            inner: Locked::new("workspace registry", Inner::default()),
            template,
            origin: Instant::now(),
            #[cfg(feature = "server")]
            own_ports: Locked::new("server ports", Vec::new()),
            #[cfg(feature = "server")]
            log,
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The workspace `token` opens: `Ok(Default)` for a token that is not
    /// a workspace token (or none), `Err(())` for a workspace token the
    /// registry does not hold.
    pub(crate) fn resolve(&self, token: Option<&str>) -> Result<Resolved, ()> {
        let Some(token) = token.filter(|t| t.starts_with(TOKEN_PREFIX)) else {
            return Ok(Resolved::Default);
        };
        let found = self.inner.with(|inner| inner.by_token.get(token).cloned());
        let (entry, role) = found.ok_or(())?;
        entry.last_used.store(self.millis(), Ordering::Relaxed);
        Ok(Resolved::Workspace(entry, role))
    }

    /// Makes a workspace; `held` when a Rust handle owns it.
    pub(crate) fn create(
        &self,
        options: &WorkspaceOptions,
        held: bool,
    ) -> Result<(WorkspaceGrant, Arc<FakeState>), CreateWorkspaceError> {
        let limits = &self.template.limits;
        self.sweep_idle();
        if let Some(resident) = self.resident_bytes() {
            if resident > limits.workspaces_resident_bytes {
                return Err(CreateWorkspaceError::OutOfMemory {
                    resident,
                    max: limits.workspaces_resident_bytes,
                });
            }
        }
        let grant = WorkspaceGrant {
            workspace_id: WorkspaceId::from_uuid(uuid::Uuid::new_v4()),
            token: fresh_token("rw"),
            read_only_token: fresh_token("ro"),
            control_token: fresh_token("ctl"),
        };
        let state = Arc::new(self.state_for(&grant, options));
        #[cfg(feature = "server")]
        for port in self.own_ports.with(|ports| ports.clone()) {
            state.deliveries.add_own_port(port);
        }
        let entry = Arc::new(Entry {
            state: Arc::clone(&state),
            last_used: AtomicU64::new(self.millis()),
            held,
            tokens: [
                grant.token.clone(),
                grant.read_only_token.clone(),
                grant.control_token.clone(),
            ],
        });
        let max = limits.workspaces;
        self.inner.with(|inner| {
            if inner.by_id.len() >= max {
                return Err(CreateWorkspaceError::TooMany { max });
            }
            for (token, role) in [
                (&grant.token, Role::Api),
                (&grant.read_only_token, Role::Api),
                (&grant.control_token, Role::Control),
            ] {
                inner
                    .by_token
                    .insert(token.clone(), (Arc::clone(&entry), role));
            }
            inner.by_id.insert(grant.workspace_id, entry);
            Ok(())
        })?;
        Ok((grant, state))
    }

    /// A workspace's state: the server's configuration with the
    /// workspace's id, tokens, clock, rate limits and memory share.
    fn state_for(&self, grant: &WorkspaceGrant, options: &WorkspaceOptions) -> FakeState {
        let template = &self.template;
        let mut tokens = Tokens::default();
        tokens.insert(grant.token.clone(), vec![Scope::ReadWrite]);
        tokens.insert(grant.read_only_token.clone(), vec![Scope::Read]);
        let mut limits = template.limits.clone();
        let share = limits.workspace_bytes;
        limits.recorded_bytes = limits.recorded_bytes.min(share);
        limits.delivery_log_bytes = limits.delivery_log_bytes.min(share);
        limits.stored_bytes = limits.stored_bytes.min(share);
        let config = Config {
            workspace_id: grant.workspace_id,
            limits,
            control: ControlAccess::Token(grant.control_token.clone()),
            tokens,
            first_token: grant.token.clone(),
            rate_limits: options
                .rate_limits
                .map(|r| (r.reads_per_second, r.writes_per_second))
                .or(template.rate_limits),
            ..template.clone()
        };
        let clock = options
            .manual_clock
            .map_or_else(Clock::system, Clock::manual);
        let state = FakeState::new(config, clock);
        #[cfg(feature = "server")]
        if let Some(format) = self.log {
            state.deliveries.log_attempts(format);
        }
        state
    }

    /// Deletes workspace `id`: its tokens stop working at once, and what it
    /// held is cleared. `false` if there is no such workspace.
    pub(crate) fn delete(&self, id: WorkspaceId) -> bool {
        let removed = self.inner.with(|inner| inner.remove(id));
        match removed {
            Some(entry) => {
                // Outside the registry's lock (one lock at a time): frees
                // its webhooks and logs now, and stops its deliveries.
                entry.state.reset();
                true
            }
            None => false,
        }
    }

    /// Every workspace, oldest id order not promised.
    pub(crate) fn list(&self) -> Vec<WorkspaceSummary> {
        self.sweep_idle();
        let now = self.millis();
        self.inner.with(|inner| {
            inner
                .by_id
                .iter()
                .map(|(id, entry)| WorkspaceSummary {
                    workspace_id: *id,
                    idle_seconds: now.saturating_sub(entry.last_used.load(Ordering::Relaxed))
                        / 1000,
                    held: entry.held,
                })
                .collect()
        })
    }

    /// Deletes the workspaces created over HTTP that have had no request
    /// for [`crate::Limits::workspace_idle_timeout`] (at most once a second).
    fn sweep_idle(&self) {
        let idle_after = self.template.limits.workspace_idle_timeout;
        let idle_ms = u64::try_from(idle_after.as_millis()).unwrap_or(u64::MAX);
        let now = self.millis();
        let removed: Vec<Arc<Entry>> = self.inner.with(|inner| {
            if inner
                .last_sweep
                .is_some_and(|at| at.elapsed() < SWEEP_EVERY)
            {
                return Vec::new();
            }
            inner.last_sweep = Some(Instant::now());
            let idle: Vec<WorkspaceId> = inner
                .by_id
                .iter()
                .filter(|(_, e)| {
                    !e.held && now.saturating_sub(e.last_used.load(Ordering::Relaxed)) >= idle_ms
                })
                .map(|(id, _)| *id)
                .collect();
            idle.into_iter().filter_map(|id| inner.remove(id)).collect()
        });
        for entry in removed {
            entry.state.reset();
        }
    }

    /// The process's resident memory, measured at most every 20 ms.
    fn resident_bytes(&self) -> Option<u64> {
        let cached = self.inner.with(|inner| {
            inner
                .resident
                .filter(|(at, _)| at.elapsed() < RESIDENT_FRESH_FOR)
                .map(|(_, bytes)| bytes)
        });
        if cached.is_some() {
            return cached;
        }
        let measured = resident_bytes()?;
        self.inner
            .with(|inner| inner.resident = Some((Instant::now(), measured)));
        Some(measured)
    }

    /// The server listens on `port`: no workspace delivers there.
    #[cfg(feature = "server")]
    pub(crate) fn listening_on(&self, port: u16) {
        self.own_ports.with(|ports| ports.push(port));
        for state in self.states() {
            state.deliveries.add_own_port(port);
        }
    }

    /// The server stopped listening on `port`.
    #[cfg(feature = "server")]
    pub(crate) fn stopped_listening(&self, port: u16) {
        self.own_ports.with(|ports| ports.retain(|p| *p != port));
        for state in self.states() {
            state.deliveries.remove_own_port(port);
        }
    }

    #[cfg(feature = "server")]
    fn states(&self) -> Vec<Arc<FakeState>> {
        self.inner
            .with(|inner| inner.by_id.values().map(|e| Arc::clone(&e.state)).collect())
    }
}

impl Inner {
    fn remove(&mut self, id: WorkspaceId) -> Option<Arc<Entry>> {
        let entry = self.by_id.remove(&id)?;
        for token in &entry.tokens {
            self.by_token.remove(token);
        }
        Some(entry)
    }
}

/// `fake-ws-<kind>-` and 32 bytes from the operating system, in hex.
fn fresh_token(kind: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    format!("{TOKEN_PREFIX}{kind}-{}", const_hex::encode(bytes))
}

/// The process's resident set size, from `/proc/self/status` (Linux);
/// `None` where that does not exist.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_bytes_reads_linux_status() {
        if cfg!(target_os = "linux") {
            let bytes = resident_bytes().unwrap();
            // A test process holds more than a megabyte and less than a terabyte.
            assert!((1 << 20..1 << 40).contains(&bytes), "{bytes}");
        }
    }

    #[test]
    fn tokens_are_prefixed_random_and_distinct() {
        let a = fresh_token("rw");
        let b = fresh_token("rw");
        assert_ne!(a, b);
        assert!(a.starts_with("fake-ws-rw-") && a.len() == "fake-ws-rw-".len() + 64);
    }
}
