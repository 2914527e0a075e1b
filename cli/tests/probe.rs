//! `probe` against receivers on loopback: the project's own (`listen`, an
//! axum app on the library's `VerifiedDelivery` and `Once`) pass; test
//! receivers built with one flaw each fail the check that flaw breaks.

use crate::common;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::receive::{
    signature, Delivery, Once, VerifiedDelivery, Verifier, IDEMPOTENCY_KEY_HEADER,
};
use attio_webhooks::Secret;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use common::{Cli, Finished};
use serde_json::Value;
use tokio::runtime::Runtime;

const SECRET: &str = "5a0c0e6b2f1d4e8a9b7c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
const WAIT: Duration = Duration::from_secs(15);
/// Every check of a run with --at-most-once.
const CHECKS: [&str; 12] = [
    "valid",
    "batch",
    "attio-signature-only",
    "x-attio-signature-only",
    "uppercase-hex",
    "wrong-signature",
    "missing-signature",
    "body-changed",
    "same-message-twice",
    "redelivery",
    "near-1-mib",
    "answers-in-time",
];

/// A runtime serving test receivers while the test thread runs the CLI.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Serves `app` on 127.0.0.1; returns its URL.
fn serve(runtime: &Runtime, app: Router) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/attio")
}

/// `probe URL --secret SECRET --json` plus `extra`.
fn probe(url: &str, extra: &[&str]) -> Finished {
    Cli::new()
        .args(["probe", url, "--secret", SECRET, "--json"])
        .args(extra)
        .run()
}

/// The report card's objects, by check name.
fn card(finished: &Finished) -> Vec<Value> {
    let card = finished.json();
    let card = card.as_array().expect("a JSON array").clone();
    for graded in &card {
        for key in ["check", "outcome", "expected", "observed", "why"] {
            assert!(graded[key].is_string(), "{key} in {graded}");
        }
    }
    card
}

fn failed(card: &[Value]) -> BTreeSet<String> {
    card.iter()
        .filter(|g| g["outcome"] == "fail")
        .map(|g| g["check"].as_str().unwrap().to_owned())
        .collect()
}

fn graded<'a>(card: &'a [Value], check: &str) -> &'a Value {
    card.iter()
        .find(|g| g["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {card:?}"))
}

// ---- the project's own receivers -------------------------------------

#[derive(Clone)]
struct App {
    verifier: Verifier,
    once: Once,
}

impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

/// examples/axum_receiver.rs's `hook`: verified by the extractor, run once per key.
async fn hook(State(app): State<App>, verified: VerifiedDelivery) -> Response {
    app.once
        .run(verified.dedupe_key(), || async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, StatusCode>(StatusCode::OK)
        })
        .await
        .into_response()
}

#[test]
fn the_projects_axum_receiver_passes_every_check_at_most_once_included() {
    let runtime = runtime();
    let app = App {
        verifier: Verifier::new(Secret::new(SECRET)),
        once: Once::in_memory(),
    };
    let url = serve(&runtime, Router::new().fallback(hook).with_state(app));
    let finished = probe(&url, &["--at-most-once"]).expect_code(0);
    let card = card(&finished);
    let names: Vec<&str> = card.iter().map(|g| g["check"].as_str().unwrap()).collect();
    assert_eq!(names, CHECKS);
    assert!(card.iter().all(|g| g["outcome"] == "pass"), "{card:#?}");
    assert!(finished
        .stderr
        .contains("12 passed, 0 failed, 0 not graded"));
}

#[test]
fn listen_passes_and_at_most_once_is_not_graded_without_the_flag() {
    let listen = Cli::new()
        .args(["listen", "--port", "0", "--secret", SECRET])
        .spawn();
    let url = format!("http://{}", listen.listening_addr(WAIT));
    let finished = probe(&format!("{url}/attio"), &[]).expect_code(0);
    let card = card(&finished);
    assert_eq!(failed(&card), BTreeSet::new(), "{card:#?}");
    let twice = graded(&card, "same-message-twice");
    assert_eq!(twice["outcome"], "skip");
    assert!(twice["why"].as_str().unwrap().contains("--at-most-once"));

    // The report card, as people read it: one line per check.
    let text = Cli::new()
        .args(["probe", &format!("{url}/attio"), "--secret", SECRET])
        .run()
        .expect_code(0);
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), 1 + CHECKS.len(), "{}", text.stdout);
    assert!(lines[1].starts_with("pass    valid "), "{}", lines[1]);
    assert!(text
        .stdout
        .lines()
        .any(|l| l.starts_with("skip    same-message-twice")));
}

// ---- receivers with one flaw each ------------------------------------

/// What a broken receiver gets wrong (one at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    /// None: the test receiver itself must pass.
    None,
    /// Accepts any signature, as long as a header is there.
    AnySignature,
    /// Verifies a signature when there is one; accepts a request without.
    AcceptsUnsigned,
    /// Wants `Attio-Timestamp` (popular guides teach it; Attio sends none).
    DemandsTimestamp,
    /// Refuses a delivery of more than one event.
    RefusesBatches,
    /// Compares the signature with its own lowercase hex as text.
    LowercaseOnly,
    /// Reads only X-Attio-Signature.
    OnlyX,
    /// Reads only Attio-Signature.
    OnlyAttio,
    /// Answers 409 to a key it has handled (instead of 200).
    RefusesSeenKeys,
    /// Answers 400 to a copy of a message still being handled.
    RefusesCopiesInFlight,
    /// Refuses bodies over 64 KiB.
    SmallBodies,
    /// Takes 600 ms over a body over 64 KiB.
    SlowOnLargeBodies,
}

#[derive(Default)]
struct Seen {
    keys: HashMap<String, bool>, // key -> done
}

struct Broken {
    flaw: Flaw,
    seen: Mutex<Seen>,
}

async fn broken(State(this): State<Arc<Broken>>, headers: HeaderMap, body: Bytes) -> Response {
    let flaw = this.flaw;
    let secret = Secret::new(SECRET);
    if flaw == Flaw::DemandsTimestamp && !headers.contains_key("attio-timestamp") {
        return (StatusCode::UNAUTHORIZED, "stale request").into_response();
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sent = match flaw {
        Flaw::OnlyX => header("x-attio-signature"),
        Flaw::OnlyAttio => header("attio-signature"),
        _ => header("attio-signature").or_else(|| header("x-attio-signature")),
    };
    let signed = match sent {
        None => flaw == Flaw::AcceptsUnsigned,
        Some(_) if flaw == Flaw::AnySignature => true,
        Some(sent) if flaw == Flaw::LowercaseOnly => sent == signature::sign(&secret, &body),
        Some(sent) => signature::verify_hex(&secret, &body, sent).is_ok(),
    };
    if !signed {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let large = body.len() > 64 * 1024;
    if flaw == Flaw::SmallBodies && large {
        return (StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response();
    }
    let Ok(delivery) = Delivery::parse(&body) else {
        return (StatusCode::BAD_REQUEST, "not a delivery").into_response();
    };
    if flaw == Flaw::RefusesBatches && delivery.events.len() > 1 {
        return (StatusCode::BAD_REQUEST, "one event per delivery").into_response();
    }
    if flaw == Flaw::SlowOnLargeBodies && large {
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let key = header(IDEMPOTENCY_KEY_HEADER.as_str())
        .unwrap_or_default()
        .to_owned();
    {
        let mut seen = this.seen.lock().unwrap();
        match seen.keys.get(&key) {
            Some(true) if flaw == Flaw::RefusesSeenKeys => {
                return (StatusCode::CONFLICT, "duplicate").into_response()
            }
            Some(true) => return (StatusCode::OK, "already handled").into_response(),
            Some(false) if flaw == Flaw::RefusesCopiesInFlight => {
                return (StatusCode::BAD_REQUEST, "duplicate").into_response()
            }
            Some(false) => return (StatusCode::CONFLICT, "in progress").into_response(),
            None => {
                seen.keys.insert(key.clone(), false);
            }
        }
    }
    // Handling takes a while, so two copies sent at once overlap.
    tokio::time::sleep(Duration::from_millis(100)).await;
    this.seen.lock().unwrap().keys.insert(key, true);
    StatusCode::OK.into_response()
}

/// Probes a receiver with `flaw` (--at-most-once, a 300 ms attempt timeout).
fn probe_flawed(flaw: Flaw) -> (Finished, Vec<Value>) {
    let runtime = runtime();
    let state = Arc::new(Broken {
        flaw,
        seen: Mutex::default(),
    });
    let url = serve(&runtime, Router::new().fallback(broken).with_state(state));
    let finished = probe(&url, &["--at-most-once", "--attempt-timeout", "0.3"]);
    let card = card(&finished);
    (finished, card)
}

#[test]
fn the_test_receiver_without_a_flaw_passes() {
    let (finished, card) = probe_flawed(Flaw::None);
    finished.expect_code(0);
    assert_eq!(card.len(), CHECKS.len());
    assert_eq!(failed(&card), BTreeSet::new(), "{card:#?}");
}

#[test]
fn each_flaw_fails_the_check_it_breaks_and_no_other() {
    for (flaw, checks, says) in [
        (
            Flaw::AcceptsUnsigned,
            &["missing-signature"][..],
            "accepted an unsigned delivery",
        ),
        (Flaw::RefusesBatches, &["batch"], "refuses batches"),
        (
            Flaw::LowercaseOnly,
            &["uppercase-hex"],
            "hex is case-insensitive",
        ),
        (
            Flaw::OnlyX,
            &["attio-signature-only"],
            "reads only X-Attio-Signature",
        ),
        (
            Flaw::OnlyAttio,
            &["x-attio-signature-only"],
            "reads only Attio-Signature",
        ),
        (
            Flaw::RefusesSeenKeys,
            &["redelivery"],
            "answer 200 to a message already handled",
        ),
        (Flaw::RefusesCopiesInFlight, &["same-message-twice"], "409"),
        (Flaw::SmallBodies, &["near-1-mib"], "1047552-byte"),
        (
            Flaw::SlowOnLargeBodies,
            &["answers-in-time"],
            "after the attempt timeout",
        ),
        // One flaw, two symptoms: neither a forged nor a changed body is caught.
        (
            Flaw::AnySignature,
            &["wrong-signature", "body-changed"],
            "anyone who finds the URL",
        ),
    ] {
        let (finished, card) = probe_flawed(flaw);
        let want: BTreeSet<String> = checks.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(failed(&card), want, "{flaw:?}: {card:#?}");
        assert_eq!(finished.code, 6, "{flaw:?}: {}", finished.stderr);
        let why = graded(&card, checks[0])["why"].as_str().unwrap();
        assert!(why.contains(says), "{flaw:?}: {why}");
    }
}

#[test]
fn a_receiver_that_demands_a_timestamp_header_fails_with_a_line_that_says_so() {
    let (finished, card) = probe_flawed(Flaw::DemandsTimestamp);
    assert_eq!(finished.code, 6);
    let valid = graded(&card, "valid");
    assert_eq!(valid["outcome"], "fail");
    assert!(
        valid["why"]
            .as_str()
            .unwrap()
            .contains("demands a timestamp header"),
        "{valid}"
    );
    // It refuses every delivery Attio would send: one failure, `valid`,
    // and the checks behind it are not graded, each saying why.
    assert_eq!(
        failed(&card),
        BTreeSet::from(["valid".to_owned()]),
        "{card:#?}"
    );
    for check in [
        "batch",
        "attio-signature-only",
        "x-attio-signature-only",
        "uppercase-hex",
        "same-message-twice",
        "redelivery",
        "near-1-mib",
    ] {
        let graded = graded(&card, check);
        assert_eq!(graded["outcome"], "skip", "{graded}");
        assert!(
            graded["why"].as_str().unwrap().contains("timestamp"),
            "{graded}"
        );
    }
    // What must be refused still is, and is graded.
    for check in ["wrong-signature", "missing-signature", "body-changed"] {
        assert_eq!(graded(&card, check)["outcome"], "pass", "{check}");
    }
}

#[test]
fn usage_errors_and_an_unreachable_receiver_have_their_exit_codes() {
    let bad = Cli::new()
        .args(["probe", "ftp://127.0.0.1/", "--secret", SECRET])
        .run()
        .expect_code(2);
    assert!(
        bad.stderr.contains("only http:// and https://"),
        "{}",
        bad.stderr
    );
    Cli::new()
        .args(["probe", "http://127.0.0.1:9/attio"])
        .run()
        .expect_code(2);
    Cli::new()
        .args([
            "probe",
            "http://127.0.0.1:9/",
            "--secret",
            SECRET,
            "--attempt-timeout",
            "0",
        ])
        .run()
        .expect_code(2);
    // Port 9 (discard) on loopback: nothing listens.
    let closed = Cli::new()
        .args(["probe", "http://127.0.0.1:9/attio", "--secret", SECRET])
        .run()
        .expect_code(4);
    assert!(
        closed.stderr.contains("could not reach"),
        "{}",
        closed.stderr
    );
}
