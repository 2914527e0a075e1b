//! The live mode tested without Attio (issue 29, item 5): the fake behind
//! a TLS terminator on loopback, with a root minted per test that the live
//! client trusts as an extra root, Attio's rate limits on, and 105 other
//! webhooks already in the workspace (so a listing takes two pages of 100
//! and eleven of 10), some of them near misses of the suite's prefix.
//!
//! The oracle is the fake's own state and request journal, which the live
//! code does not share: after each run the workspace holds exactly the
//! other webhooks, no request by id named one of them, every target the
//! run sent is under its prefix, no request was answered 429, and the
//! journal counts as many requests as the run's meter. Cleanup is proven
//! after a panic (a run panicking on a thread of its own), after SIGINT
//! (the test binary re-run as a child running `live::against_attio`) and
//! after SIGKILL (the child killed mid-run: the next run refuses, naming
//! exactly the leftovers, and `clean` deletes exactly those).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use attio_webhooks::{EventType, Subscription, WebhookId};
use attio_webhooks_testkit::tls::LoopbackCertificate;
use attio_webhooks_testkit::{FakeAttio, FakeServer, Fault, FaultRule, Scope, Seed};

use crate::live::{self, FromEnv, LiveConfig, LiveRun, Refusal, Signals};

const KEY: &str = "live-stand-in-key";
const READ_ONLY_KEY: &str = "live-stand-in-read-only-key";
const HOST: &str = "hooks.example.com";

/// The fake over TLS on loopback, and the other webhooks it holds.
struct StandIn {
    server: FakeServer,
    base_url: String,
    cert: LoopbackCertificate,
    others: BTreeSet<WebhookId>,
}

/// Accepts TLS on 127.0.0.1 with `cert` and relays the bytes to `backend`.
async fn tls_front(cert: &LoopbackCertificate, backend: SocketAddr) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(cert.server_config());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

impl StandIn {
    async fn start() -> StandIn {
        let fake = FakeAttio::builder()
            .token(KEY, [Scope::ReadWrite])
            .token(READ_ONLY_KEY, [Scope::Read])
            .attio_rate_limits()
            .build();
        let note = || vec![Subscription::new(EventType::NoteCreated)];
        let mut seeds: Vec<Seed> = (0..100)
            .map(|i| Seed::new(format!("https://app.example.org/hooks/{i}"), note()))
            .collect();
        // Near misses: another host with the same path, the host with a
        // longer path word, the path without its trailing slash's run,
        // plain http-looking text in the path.
        for url in [
            "https://other.example.com/attio-webhooks-contract/1-2-3/x",
            "https://hooks.example.com/attio-webhooks-contractual/x",
            "https://hooks.example.com/attio-webhooks-contract",
            "https://hooks.example.com/elsewhere/attio-webhooks-contract/x",
            "https://hooks.example.com.evil.test/attio-webhooks-contract/x",
        ] {
            seeds.push(Seed::new(url, note()));
        }
        let others = fake
            .seed(seeds)
            .unwrap()
            .iter()
            .map(|c| c.webhook.webhook_id())
            .collect();
        let server = fake.serve().await.unwrap();
        let cert = LoopbackCertificate::mint();
        let front = tls_front(&cert, server.addr()).await;
        StandIn {
            base_url: format!("https://localhost:{}", front.port()),
            server,
            cert,
            others,
        }
    }

    fn config(&self, clean: bool) -> LiveConfig {
        LiveConfig {
            api_key: KEY.into(),
            base_url: self.base_url.clone(),
            target_host: HOST.into(),
            run_id: live::new_run_id(),
            clean,
            extra_roots_pem: Some(self.cert.root_pem().as_bytes().to_vec()),
            snapshots: None,
            read_only_api_key: None,
        }
    }

    fn fake(&self) -> &FakeAttio {
        self.server.fake()
    }

    /// The ids of the webhooks under the family prefix now.
    fn family(&self) -> BTreeSet<WebhookId> {
        let family = format!("https://{HOST}{}", live::FAMILY_PATH);
        self.fake()
            .webhooks()
            .iter()
            .filter(|w| w.target_url.starts_with(&family))
            .map(|w| w.webhook_id())
            .collect()
    }

    fn all(&self) -> BTreeSet<WebhookId> {
        self.fake()
            .webhooks()
            .iter()
            .map(|w| w.webhook_id())
            .collect()
    }

    /// The webhook ids named in request paths, by method.
    fn by_id(&self, method: &str) -> Vec<WebhookId> {
        self.fake()
            .requests()
            .into_vec()
            .iter()
            .filter(|r| r.method == method)
            .filter_map(|r| r.path.strip_prefix("/v2/webhooks/"))
            .map(|id| id.parse().unwrap())
            .collect()
    }

    /// No request by id named another webhook; every target sent is under `prefix`.
    fn assert_untouched(&self, prefix: &str) {
        for method in ["GET", "PATCH", "DELETE"] {
            for id in self.by_id(method) {
                assert!(
                    !self.others.contains(&id),
                    "{method} touched another webhook: {id}"
                );
            }
        }
        for r in self.fake().requests().into_vec() {
            let Ok(body) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
                continue;
            };
            if let Some(url) = body["data"]["target_url"].as_str() {
                assert!(url.starts_with(prefix), "{} sent target {url}", r.method);
            }
        }
        assert_eq!(self.all(), self.others, "exactly the other webhooks remain");
    }
}

#[test]
fn the_skip_line_says_how_to_run_and_ci_is_no_failure() {
    let vars = |pairs: &'static [(&str, &str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let Ok(FromEnv::Skip(line)) = LiveConfig::from_vars(vars(&[])) else {
        panic!("no key: skipped")
    };
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(line.starts_with("skipped: "), "{line}");
    assert!(line.contains(live::HOW_TO_RUN), "{line}");
    assert!(!line.contains("CI=true"), "{line}");
    let Ok(FromEnv::Skip(line)) = LiveConfig::from_vars(vars(&[("CI", "true")])) else {
        panic!("no key under CI: skipped, not failed")
    };
    assert!(
        line.contains("CI=true") && line.contains("not a failure"),
        "{line}"
    );

    let Err(why) = LiveConfig::from_vars(vars(&[("ATTIO_LIVE_API_KEY", "k")])) else {
        panic!("a key without a target host is refused")
    };
    assert!(why.contains("ATTIO_LIVE_TARGET_HOST"), "{why}");
    let bad_host = vars(&[
        ("ATTIO_LIVE_API_KEY", "k"),
        ("ATTIO_LIVE_TARGET_HOST", "example.com/x"),
    ]);
    assert!(LiveConfig::from_vars(bad_host).is_err());

    let Ok(FromEnv::Run(config)) = LiveConfig::from_vars(vars(&[
        ("ATTIO_LIVE_API_KEY", "k"),
        ("ATTIO_LIVE_TARGET_HOST", "hooks.example.com"),
        ("ATTIO_LIVE_CLEAN", "1"),
    ])) else {
        panic!("a key and a host: run")
    };
    assert_eq!(config.base_url, "https://api.attio.com");
    assert!(config.clean);
    assert_eq!(
        config.run_prefix(),
        format!(
            "https://hooks.example.com/attio-webhooks-contract/{}/",
            config.run_id
        )
    );
    assert!(
        !format!("{config:?}").contains("\"k\""),
        "the key stays out of Debug"
    );
    assert_eq!(config.snapshots, None, "no snapshot writes unless asked");

    let Ok(FromEnv::Run(config)) = LiveConfig::from_vars(vars(&[
        ("ATTIO_LIVE_API_KEY", "k"),
        ("ATTIO_LIVE_TARGET_HOST", "hooks.example.com"),
        ("ATTIO_SNAPSHOTS_WRITE", "live"),
        ("ATTIO_LIVE_READ_ONLY_API_KEY", "ro"),
    ])) else {
        panic!("a key and a host: run")
    };
    assert_eq!(config.snapshots, Some(live::default_snapshot_dir()));
    assert!(live::default_snapshot_dir().join("create.json").is_file());
    assert_eq!(config.read_only_api_key.as_deref(), Some("ro"));
    assert!(!format!("{config:?}").contains("\"ro\""));
    let Ok(FromEnv::Run(config)) = LiveConfig::from_vars(vars(&[
        ("ATTIO_LIVE_API_KEY", "k"),
        ("ATTIO_LIVE_TARGET_HOST", "hooks.example.com"),
        ("ATTIO_SNAPSHOTS_WRITE", "live"),
        ("ATTIO_SNAPSHOTS_DIR", "/tmp/elsewhere"),
    ])) else {
        panic!("a key and a host: run")
    };
    assert_eq!(config.snapshots, Some("/tmp/elsewhere".into()));
}

/// The whole live run over TLS: the scenarios pass, the workspace ends as
/// it began, nothing else was touched, no 429, and the meter counts what
/// the fake received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_run_over_tls_leaves_the_workspace_as_it_was() {
    let stand_in = StandIn::start().await;
    let config = stand_in.config(false);
    let prefix = config.run_prefix();
    let started = Instant::now();
    let meter = live::run_all(config, Signals::Leave).await;
    let took = started.elapsed();
    stand_in.assert_untouched(&prefix);
    assert_eq!(
        meter.rate_limited.load(Ordering::SeqCst),
        0,
        "paced under the limits"
    );
    let journal = stand_in.fake().requests().into_vec();
    assert_eq!(
        journal.len() as u64,
        meter.calls(),
        "the meter counts every request"
    );
    let creates = journal.iter().filter(|r| r.method == "POST").count();
    let deleted: BTreeSet<_> = stand_in.by_id("DELETE").into_iter().collect();
    assert_eq!(
        deleted.len(),
        1 + live::PAGED,
        "each webhook made was deleted"
    );
    assert_eq!(
        creates,
        1 + live::PAGED + 1,
        "lifecycle, paging, the refused one"
    );
    // The cost the docs state: 31 writes, and 10 reads on an empty
    // workspace plus the extra pages the 105 others make: ten more pages
    // of 10 (one listing) and one more page of 100 (five listings).
    assert_eq!(meter.writes.load(Ordering::SeqCst), 31);
    assert_eq!(meter.reads.load(Ordering::SeqCst), 10 + 10 + 5);
    eprintln!("stand-in run: {} in {took:.1?}", meter.summary());
}

/// A run that panics mid-scenario deletes what it made while unwinding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_run_deletes_what_it_made() {
    let stand_in = StandIn::start().await;
    let config = stand_in.config(false);
    let prefix = config.run_prefix();
    // The run's own thread and runtime, as a failing `#[tokio::test]` has;
    // the stand-in keeps serving on this test's runtime.
    let run = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let run = LiveRun::start(config, Signals::Leave).await.unwrap();
                for i in 0..3 {
                    run.create(
                        &format!("panics/{i}"),
                        vec![Subscription::new(EventType::TaskCreated)],
                    )
                    .await
                    .unwrap();
                }
                let made = run.created();
                assert_eq!(made.len(), 3);
                panic!("a scenario failed after creating {made:?}");
            })
    })
    .join();
    let panic = run.expect_err("the run panicked");
    assert!(panic
        .downcast_ref::<String>()
        .is_some_and(|m| m.contains("a scenario failed")));
    assert_eq!(
        stand_in.family(),
        BTreeSet::new(),
        "nothing of the run is left"
    );
    assert_eq!(
        stand_in.by_id("DELETE").len(),
        3,
        "the three it made, once each"
    );
    stand_in.assert_untouched(&prefix);
}

/// The test binary itself, running `live::against_attio` against the stand-in.
#[cfg(unix)]
fn spawn_live_child(stand_in: &StandIn, root: &std::path::Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "live::against_attio",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ATTIO_LIVE_API_KEY", KEY)
        .env("ATTIO_LIVE_BASE_URL", &stand_in.base_url)
        .env("ATTIO_LIVE_TARGET_HOST", HOST)
        .env("ATTIO_LIVE_EXTRA_ROOTS", root)
        .env_remove("ATTIO_LIVE_CLEAN")
        .env_remove("CI")
        // Only the snapshot test asks for writes, and to a copy.
        .env_remove("ATTIO_SNAPSHOTS_WRITE")
        .env_remove("ATTIO_SNAPSHOTS_DIR")
        .env_remove("ATTIO_LIVE_READ_ONLY_API_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[cfg(unix)]
struct RootFile(std::path::PathBuf);

#[cfg(unix)]
impl RootFile {
    fn new(stand_in: &StandIn, name: &str) -> RootFile {
        let path =
            std::env::temp_dir().join(format!("attio-live-root-{}-{name}.pem", std::process::id()));
        std::fs::write(&path, stand_in.cert.root_pem()).unwrap();
        RootFile(path)
    }
}

#[cfg(unix)]
impl Drop for RootFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Waits until the child run holds at least `n` webhooks at once.
#[cfg(unix)]
async fn wait_for_webhooks(stand_in: &StandIn, child: &mut std::process::Child, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while stand_in.family().len() < n {
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        assert!(Instant::now() < deadline, "the child made no webhooks");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[cfg(unix)]
fn stderr_of(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut text = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Ctrl-C mid-run: the child deletes what it made and exits 130.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_run_deletes_what_it_made() {
    let stand_in = StandIn::start().await;
    let root = RootFile::new(&stand_in, "sigint");
    let mut child = spawn_live_child(&stand_in, &root.0);
    wait_for_webhooks(&stand_in, &mut child, 3).await;
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the child did not exit after SIGINT"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("live: interrupted; deleted"), "{stderr}");
    assert_eq!(stand_in.family(), BTreeSet::new(), "{stderr}");
    assert_eq!(stand_in.all(), stand_in.others);
    stand_in.assert_untouched(&format!("https://{HOST}{}", live::FAMILY_PATH));
}

/// SIGKILL mid-run leaves webhooks behind: the next run refuses and names
/// exactly them; with `clean` it deletes exactly them, and nothing else.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_kill_the_next_run_refuses_then_cleans_exactly_the_leftovers() {
    let stand_in = StandIn::start().await;
    let root = RootFile::new(&stand_in, "sigkill");
    let mut child = spawn_live_child(&stand_in, &root.0);
    wait_for_webhooks(&stand_in, &mut child, 3).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let leftovers = stand_in.family();
    assert!(
        leftovers.len() >= 3,
        "the kill left webhooks: {leftovers:?}"
    );

    let before = stand_in.fake().requests().len();
    let refusal = match LiveRun::start(stand_in.config(false), Signals::Leave).await {
        Err(refusal) => refusal,
        Ok(_) => panic!("a run started over leftovers"),
    };
    let Refusal::Leftovers(found) = &refusal else {
        panic!("{refusal}")
    };
    let found: BTreeSet<_> = found.iter().map(|w| w.webhook_id()).collect();
    assert_eq!(found, leftovers);
    let message = refusal.to_string();
    assert!(message.contains("ATTIO_LIVE_CLEAN=1"), "{message}");
    assert_eq!(stand_in.family(), leftovers, "refusing deletes nothing");
    let journal = stand_in.fake().requests().into_vec();
    assert!(
        journal[before..]
            .iter()
            .all(|r| r.method == "GET" && r.path.starts_with("/v2/webhooks?")),
        "refusing only lists"
    );

    stand_in.fake().clear_requests();
    let run = LiveRun::start(stand_in.config(true), Signals::Leave)
        .await
        .unwrap();
    let cleaned: BTreeSet<_> = run.cleaned.iter().copied().collect();
    assert_eq!(cleaned, leftovers);
    run.finish().await;
    let deleted: BTreeSet<_> = stand_in.by_id("DELETE").into_iter().collect();
    assert_eq!(deleted, leftovers, "clean deletes exactly the leftovers");
    assert_eq!(stand_in.all(), stand_in.others, "and nothing else");
    stand_in.assert_untouched(&format!("https://{HOST}{}", live::FAMILY_PATH));
}

/// The guard refuses, before sending anything, to get, update or delete
/// an id the run did not create.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_refuses_to_touch_an_id_it_did_not_create() {
    let stand_in = StandIn::start().await;
    let other = *stand_in.others.first().unwrap();
    let run = LiveRun::start(stand_in.config(false), Signals::Leave)
        .await
        .unwrap();
    let before = stand_in.fake().requests().len();
    // Each call on a task of its own: the guard's refusal is a panic.
    let run = std::sync::Arc::new(run);
    for call in 0..3 {
        let run = run.clone();
        let refused = tokio::spawn(async move {
            match call {
                0 => drop(run.get(other).await),
                1 => drop(run.update(other, Some("x"), None).await),
                _ => drop(run.delete(other).await),
            }
        })
        .await
        .expect_err("refused");
        let message = refused.into_panic();
        let message = message.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("not a webhook this run created"),
            "{message}"
        );
    }
    assert_eq!(stand_in.fake().requests().len(), before, "nothing was sent");
    std::sync::Arc::into_inner(run).unwrap().finish().await;
    stand_in.assert_untouched(&format!("https://{HOST}{}", live::FAMILY_PATH));
}

/// A copy of the repository's snapshot directory, removed on drop.
#[cfg(unix)]
struct SnapshotCopy(std::path::PathBuf);

#[cfg(unix)]
impl SnapshotCopy {
    fn new(name: &str) -> SnapshotCopy {
        let dir = std::env::temp_dir().join(format!(
            "attio-live-snapshots-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(live::default_snapshot_dir()).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        SnapshotCopy(dir)
    }

    /// Each file that differs from the committed one, once both `source`s
    /// are set aside, with the differences of its answer by field.
    fn changed(&self) -> Vec<(String, Vec<String>)> {
        use crate::snapshot;
        let committed = snapshot::load_all(&live::default_snapshot_dir());
        let rewritten = snapshot::load_all(&self.0);
        assert_eq!(committed.len(), rewritten.len());
        let mut changed = Vec::new();
        for ((file, text, seeded), (name, _, mut written)) in committed.into_iter().zip(rewritten) {
            assert_eq!(file, name);
            written.source = seeded.source.clone();
            if snapshot::to_text(&written) != text {
                let fields = snapshot::compare(&seeded.answer, &written.answer)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                changed.push((file, fields));
            }
        }
        changed
    }
}

#[cfg(unix)]
impl Drop for SnapshotCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `ATTIO_SNAPSHOTS_WRITE=live`: a run rewrites the snapshots from the
/// answers it got, masked. Against the unchanged fake (the test binary
/// re-run as a child, configured by the environment alone) every file it
/// sends comes back as committed but for its `source`, so masking and the
/// writer give the committed form; against a fake whose answer to one
/// scenario was changed (a fault rule), exactly that file changes, and the
/// difference names the field. The snapshot calls are counted and paced.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_rewrites_the_snapshots_it_may_send() {
    use crate::snapshot;
    let stand_in = StandIn::start().await;
    let root = RootFile::new(&stand_in, "snapshots");
    let copy = SnapshotCopy::new("unchanged");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["live::against_attio", "--exact", "--nocapture"])
        .env("ATTIO_LIVE_API_KEY", KEY)
        .env("ATTIO_LIVE_BASE_URL", &stand_in.base_url)
        .env("ATTIO_LIVE_TARGET_HOST", HOST)
        .env("ATTIO_LIVE_EXTRA_ROOTS", &root.0)
        .env("ATTIO_LIVE_READ_ONLY_API_KEY", READ_ONLY_KEY)
        .env("ATTIO_SNAPSHOTS_WRITE", "live")
        .env("ATTIO_SNAPSHOTS_DIR", &copy.0)
        .env_remove("ATTIO_LIVE_CLEAN")
        .env_remove("CI")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let stderr = stderr_of(&mut child);
        (child.wait().unwrap(), stderr)
    });
    let (status, stderr) = status.await.unwrap();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("live: snapshot list_empty.json: skipped: a listing answers"),
        "{stderr}"
    );
    assert_eq!(stderr.matches(": rewritten (").count(), 9, "{stderr}");
    assert_eq!(copy.changed(), Vec::new(), "{stderr}");
    let rewritten = snapshot::load_all(&copy.0);
    for (file, _, written) in &rewritten {
        if file == "list_empty.json" {
            assert!(written.source.from.starts_with("rbeene/"), "not sent, kept");
            continue;
        }
        assert_eq!(written.source.kind, "observed live", "{file}");
        assert!(
            written
                .source
                .from
                .starts_with("recorded live by the contract suite's live mode, ")
                && written.source.from.ends_with(", localhost"),
            "{file}: {}",
            written.source.from
        );
    }
    stand_in.assert_untouched(&format!("https://{HOST}{}", live::FAMILY_PATH));

    // The same run in-process against a fake that answers one scenario
    // otherwise: its generic 404 for the get of an unknown id.
    let copy = SnapshotCopy::new("changed");
    let get_unknown = rewritten
        .iter()
        .find(|(file, _, _)| file == "get_unknown.json")
        .map(|(_, _, s)| s.request.path.clone())
        .unwrap();
    stand_in.fake().clear_requests();
    stand_in.fake().inject(
        FaultRule::new(Fault::status(404))
            .method("GET")
            .path(get_unknown),
    );
    let mut config = stand_in.config(false);
    config.snapshots = Some(copy.0.clone());
    config.read_only_api_key = Some(READ_ONLY_KEY.to_owned());
    let prefix = config.run_prefix();
    let meter = live::run_all(config, Signals::Leave).await;
    assert_eq!(
        copy.changed(),
        [(
            "get_unknown.json".to_owned(),
            vec![r#"  body.message
    expected: "Webhook with ID \"<uuid:1>\" was not found."
    got:      "Webhook not found""#
                .to_owned()]
        )]
    );
    stand_in.assert_untouched(&prefix);
    assert_eq!(meter.rate_limited.load(Ordering::SeqCst), 0, "paced");
    assert_eq!(
        stand_in.fake().requests().len() as u64,
        meter.calls(),
        "the meter counts the snapshot calls too"
    );
    // 31 writes and 25 reads as without snapshots; then one listing (two
    // pages of 100), 3 POSTs, a PATCH and a DELETE, 4 GETs, and the
    // cleanup's delete of the webhook `create.json` made.
    assert_eq!(meter.writes.load(Ordering::SeqCst), 31 + 5 + 1);
    assert_eq!(meter.reads.load(Ordering::SeqCst), 25 + 2 + 4);
}
