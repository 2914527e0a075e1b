//! The start-up durability check against private Redis servers, each
//! started by the test on a free loopback port with its own data
//! directory, and killed at the end: one without persistence (warned
//! about, by setting), one with `appendonly yes` and `appendfsync always`
//! (nothing to warn about), one with `CONFIG` renamed away (a warning that
//! nothing could be checked, not an error). And what the check is for:
//! after `kill -9` and a restart, a key handled on the server without
//! persistence is free again (its message would run again), and on the
//! persistent one it is still done.
//!
//! Needs `redis-server` on the `PATH` (`scripts/test-servers.sh start
//! --install` installs it); without it the tests say they skipped, except
//! under `CI=true`, where they fail.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attio_webhooks::receive::{Claim, SeenKeys, Settled};
use attio_webhooks_redis::{DurabilityWarning, RedisSeenKeys};
use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;

/// A redis-server of the test's own, killed (and its directory removed)
/// when dropped.
struct PrivateRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
}

impl PrivateRedis {
    /// Starts `redis-server` with `args` on a free port, or `None` (after
    /// saying so) when there is no `redis-server` and this is not CI.
    fn start(name: &str, args: &[&str]) -> Option<PrivateRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!(
            "attio-webhooks-redis-{name}-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let child = match spawn(port, &dir, &args) {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&dir);
                skip_without_server(
                    "redis-server",
                    error,
                    "scripts/test-servers.sh start --install",
                );
                return None;
            }
        };
        let server = PrivateRedis {
            child,
            port,
            dir,
            args,
        };
        server.wait_ready();
        Some(server)
    }

    /// Waits (at most 10 s) until the port accepts connections.
    fn wait_ready(&self) {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`, then the same server again on the same port and data.
    fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn(self.port, &self.dir, &self.args).unwrap();
        self.wait_ready();
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

/// `redis-server` on `port` with its data in `dir`.
fn spawn(port: u16, dir: &std::path::Path, args: &[String]) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const NO_PERSISTENCE: &[&str] = &["--save", "", "--appendonly", "no"];
const PERSISTENT: &[&str] = &[
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
];

/// What `tracing` writes while the test runs, kept.
#[derive(Clone, Default)]
struct Logged(Arc<Mutex<Vec<u8>>>);

impl Write for Logged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Connects to `server` with warnings captured; returns the store and the
/// log of connecting (which runs the check once). Only one test captures:
/// `tracing`'s per-thread subscribers can miss events when several tests
/// set theirs at once.
async fn connect_logged(server: &PrivateRedis) -> (RedisSeenKeys, String) {
    let logged = Logged::default();
    let writer = logged.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let store = RedisSeenKeys::connect(&server.url()).await.unwrap();
    let log = String::from_utf8(logged.0.lock().unwrap().clone()).unwrap();
    (store, log)
}

#[tokio::test(flavor = "current_thread")]
async fn without_persistence_connecting_warns_naming_appendonly() {
    let Some(server) = PrivateRedis::start("volatile", NO_PERSISTENCE) else {
        return;
    };
    let (store, log) = connect_logged(&server).await;
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("appendonly is no"), "{log}");
    assert!(log.contains("setting=\"appendonly\""), "{log}");
    let warnings = store.check_durability().await.unwrap();
    let settings: Vec<_> = warnings.iter().map(DurabilityWarning::setting).collect();
    assert_eq!(settings, ["appendonly"], "{warnings:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn with_appendonly_always_and_noeviction_nothing_is_warned() {
    let Some(server) = PrivateRedis::start("durable", PERSISTENT) else {
        return;
    };
    // What the check returns is what it logs.
    let store = RedisSeenKeys::connect(&server.url()).await.unwrap();
    assert_eq!(store.check_durability().await.unwrap(), []);
}

#[tokio::test(flavor = "current_thread")]
async fn eviction_and_a_lazy_fsync_are_named_too() {
    let Some(server) = PrivateRedis::start(
        "evicting",
        &[
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxmemory-policy",
            "volatile-lru",
        ],
    ) else {
        return;
    };
    let store = RedisSeenKeys::connect(&server.url()).await.unwrap();
    let warnings = store.check_durability().await.unwrap();
    let settings: Vec<_> = warnings.iter().map(DurabilityWarning::setting).collect();
    assert_eq!(
        settings,
        ["appendfsync", "maxmemory-policy"],
        "{warnings:?}"
    );
    assert!(warnings[1].to_string().contains("volatile-lru"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_server_without_config_is_warned_about_not_refused() {
    let Some(server) = PrivateRedis::start("no-config", &["--rename-command", "CONFIG", ""]) else {
        return;
    };
    let store = RedisSeenKeys::connect(&server.url()).await.unwrap();
    let warnings = store.check_durability().await.unwrap();
    assert!(
        matches!(&warnings[..], [DurabilityWarning::Unchecked { reason }] if reason.contains("unknown command")),
        "{warnings:?}"
    );
    // The store itself works.
    assert!(matches!(store.claim("k").await.unwrap(), Claim::Claimed(_)));
}

/// Handles a key on `server`, kills it with SIGKILL, restarts it, and
/// returns what a claim of the key finds then.
async fn after_a_crash(server: &mut PrivateRedis) -> Claim {
    let store = RedisSeenKeys::connect(&server.url()).await.unwrap();
    let Claim::Claimed(token) = store.claim("message-1").await.unwrap() else {
        panic!("a free key is claimed")
    };
    assert_eq!(
        store.complete("message-1", &token).await.unwrap(),
        Settled::Held
    );
    server.kill_and_restart();
    let store = RedisSeenKeys::connect(&server.url()).await.unwrap();
    store.claim("message-1").await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn after_kill_9_a_handled_key_survives_only_with_persistence() {
    let Some(mut volatile) = PrivateRedis::start("crash-volatile", NO_PERSISTENCE) else {
        return;
    };
    assert!(
        matches!(after_a_crash(&mut volatile).await, Claim::Claimed(_)),
        "without persistence the handled key is forgotten: its message would run again"
    );
    let Some(mut durable) = PrivateRedis::start("crash-durable", PERSISTENT) else {
        return;
    };
    assert_eq!(after_a_crash(&mut durable).await, Claim::Done);
}
