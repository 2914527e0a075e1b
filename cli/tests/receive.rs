//! The receiving side, through the built binary: `listen` verifying
//! deliveries from the fake, and `dev` + `trigger` delivering a sample of
//! every event type to a receiver that checks signatures with `hmac` and
//! `sha2` directly.

use crate::common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::operations::UpdateWebhook;
use attio_webhooks::{receive::Event, EventType, Subscription, WorkspaceId};
use attio_webhooks_testkit::{delivery::DeliveryOutcome, samples};
use bytes::Bytes;
use common::{hmac_hex, raw_request, Cli, Fake, Scratch};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn listen_verifies_and_prints_a_delivery_from_the_fake() {
    let fake = Fake::start();
    let client = fake.client();
    let created = fake
        .block_on(client.create_webhook(
            "http://127.0.0.1:9/not-yet",
            vec![Subscription::new(EventType::RecordCreated)],
        ))
        .unwrap();
    let listen = Cli::new()
        .env("HOOK_SECRET", created.secret.expose())
        .args([
            "listen",
            "--port",
            "0",
            "--secret-env",
            "HOOK_SECRET",
            "--json",
        ])
        .spawn();
    let addr = listen.listening_addr(WAIT);
    let url = format!("http://{addr}");
    fake.block_on(client.update_webhook(
        UpdateWebhook::new(created.webhook.webhook_id()).target_url(format!("{url}/attio")),
    ))
    .unwrap();

    let event = samples::event(&EventType::RecordCreated).unwrap();
    let queued = fake.block_on(async { fake.server.emit(event.clone()) });
    assert_eq!(queued.len(), 1);
    let printed: Event = serde_json::from_str(&listen.stdout_line(WAIT)).unwrap();
    assert_eq!(printed, event);
    fake.block_on(fake.server.settle_deliveries());
    let log = fake.server.delivery_log();
    assert_eq!(log.len(), 1);
    assert!(
        matches!(log[0].outcome, DeliveryOutcome::Delivered { status: 200 }),
        "{:?}",
        log[0].outcome
    );

    // What listen refuses, each with a line on stderr.
    let body = log[0].body.clone();
    let forged = hmac_hex("not the secret", &body);
    assert_eq!(
        raw_request(
            addr,
            "POST",
            "/attio",
            &[("attio-signature", &forged)],
            &body
        ),
        401
    );
    assert!(listen
        .stderr_line(WAIT)
        .contains("401: the signature does not match the body"));
    assert_eq!(raw_request(addr, "POST", "/attio", &[], &body), 401);
    assert!(listen.stderr_line(WAIT).contains("401"));
    let garbage = b"{\"not\": \"a delivery\"}";
    let signed = hmac_hex(created.secret.expose(), garbage);
    assert_eq!(
        raw_request(
            addr,
            "POST",
            "/attio",
            &[("x-attio-signature", &signed)],
            garbage
        ),
        400
    );
    assert!(listen.stderr_line(WAIT).contains("400"));
    assert_eq!(raw_request(addr, "GET", "/attio", &[], b""), 405);
    assert!(listen.stderr_line(WAIT).contains("405"));
    let oversized = vec![b' '; 1024 * 1024 + 1];
    let signed = hmac_hex(created.secret.expose(), &oversized);
    assert_eq!(
        raw_request(
            addr,
            "POST",
            "/attio",
            &[("attio-signature", &signed)],
            &oversized
        ),
        413
    );
    assert!(listen.stderr_line(WAIT).contains("413"));
    // A correct signature computed here, not by the fake, is accepted.
    let good = hmac_hex(created.secret.expose(), &body);
    assert_eq!(
        raw_request(addr, "POST", "/attio", &[("attio-signature", &good)], &body),
        200
    );
    assert_eq!(
        serde_json::from_str::<Event>(&listen.stdout_line(WAIT)).unwrap(),
        event
    );

    // More sockets than its connection cap (64) that never send a byte,
    // held open: a delivery still gets through at once, not after their
    // 10 s header timeout (idle connections are shed for it).
    let idle: Vec<TcpStream> = (0..80).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(400));
    let started = std::time::Instant::now();
    assert_eq!(
        raw_request(addr, "POST", "/attio", &[("attio-signature", &good)], &body),
        200
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "locked out for {:?} by idle sockets",
        started.elapsed()
    );
    drop(idle);
}

/// One request the test receiver got.
struct Received {
    headers: http::HeaderMap,
    body: Bytes,
    status: u16,
}

/// A receiver on 127.0.0.1 that records every request and answers 500 to
/// the first delivery of `fail_once` (to see `dev` retry), 200 otherwise.
async fn receiver(fail_once: &'static str) -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::<Received>::new()));
    let log = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let log = Arc::clone(&log);
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let mut log = log.lock().unwrap();
                        let is_target = serde_json::from_slice::<Value>(&body)
                            .is_ok_and(|v| v["events"][0]["event_type"] == fail_once);
                        let already = log.iter().any(|r| {
                            serde_json::from_slice::<Value>(&r.body)
                                .is_ok_and(|v| v["events"][0]["event_type"] == fail_once)
                        });
                        let status = if is_target && !already { 500 } else { 200 };
                        log.push(Received {
                            headers: parts.headers,
                            body,
                            status,
                        });
                        let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"")));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, received)
}

#[test]
fn dev_delivers_every_event_types_sample_signed_with_retries() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (addr, received) = runtime.block_on(receiver("task.deleted"));
    let scratch = Scratch::new();
    let state = scratch.path("state/dev.json");
    let mut dev = Cli::new()
        .args([
            "dev",
            "--json",
            "--forward-to",
            &format!("http://127.0.0.1:{}/hook", addr.port()),
            "--state-file",
        ])
        .arg_path(&state)
        .spawn();
    let banner: Value = serde_json::from_str(&dev.stdout_line(WAIT)).unwrap();
    let secret = banner["webhook"]["secret"].as_str().unwrap().to_owned();
    let webhook_id = banner["webhook"]["id"]["webhook_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 64);
    assert_eq!(
        banner["webhook"]["subscriptions"].as_array().unwrap().len(),
        34
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["url"], banner["fake_url"]);
    #[cfg(unix)]
    assert_eq!(common::mode(&state), 0o600);

    for event_type in EventType::KNOWN {
        let sent = Cli::new()
            .args(["trigger", event_type.as_str(), "--state-file"])
            .arg_path(&state)
            .run()
            .expect_code(0);
        assert!(
            sent.stdout
                .starts_with(&format!("Sent {event_type} to 1 webhook")),
            "{}",
            sent.stdout
        );
    }

    // dev shows each attempt as it happens: 35 delivered (record.merged is
    // two events, one per original record), one of them after a retry.
    let mut delivered = 0;
    let lines = dev.stdout_until(WAIT, |line| {
        let attempt: Value = serde_json::from_str(line).unwrap();
        if attempt["outcome"]["type"] == "delivered" {
            delivered += 1;
        }
        delivered == EventType::KNOWN.len() + 1
    });
    let attempts: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(attempts.len(), 36, "{lines:#?}");
    let retried: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["event_type"] == "task.deleted")
        .collect();
    assert_eq!(retried.len(), 2);
    assert_eq!(retried[0]["attempt"], 1);
    assert_eq!(
        retried[0]["outcome"],
        json!({"type": "failed", "status": 500, "error": null})
    );
    assert_eq!(retried[0]["retry_in_seconds"], 1);
    assert_eq!(retried[1]["attempt"], 2);
    assert_eq!(
        retried[1]["outcome"],
        json!({"type": "delivered", "status": 200})
    );
    assert_eq!(retried[0]["idempotency_key"], retried[1]["idempotency_key"]);

    // The receiver's view: every delivery signed with dev's secret, carrying the sample.
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 36);
    // The events are of dev's own workspace, as Attio sends them.
    let workspace: WorkspaceId =
        serde_json::from_value(banner["webhook"]["id"]["workspace_id"].clone()).unwrap();
    let mut by_type: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for request in received.iter() {
        let signature = request.headers["attio-signature"].to_str().unwrap();
        assert_eq!(request.headers["x-attio-signature"], signature);
        assert_eq!(
            signature,
            hmac_hex(&secret, &request.body),
            "a delivery failed signature verification"
        );
        let delivery: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(delivery["webhook_id"], webhook_id.as_str());
        let event = &delivery["events"][0];
        let event_type = event["event_type"].as_str().unwrap().to_owned();
        assert_eq!(event["id"]["workspace_id"], workspace.to_string());
        let samples = samples::events_in(&EventType::from(event_type.as_str()), workspace);
        assert!(
            samples
                .iter()
                .any(|s| event == &serde_json::to_value(s).unwrap()),
            "{event}"
        );
        by_type.entry(event_type).or_default().push(request.status);
    }
    assert_eq!(by_type.len(), 34);
    assert_eq!(by_type["task.deleted"], [500, 200]);
    assert_eq!(by_type["record.merged"], [200, 200]);
    assert!(by_type
        .iter()
        .filter(|(t, _)| !matches!(t.as_str(), "task.deleted" | "record.merged"))
        .all(|(_, s)| s == &[200]));
    drop(received);

    // The fake's control routes need dev's token: a process that knows the
    // URL but not the token gets a 401 (exit 3), and nothing is delivered.
    let fake_url = banner["fake_url"].as_str().unwrap();
    let guessed = Cli::new()
        .args([
            "trigger",
            "note.created",
            "--dev-url",
            fake_url,
            "--control-token",
            "guess",
        ])
        .run()
        .expect_code(3);
    assert!(guessed.stderr.contains("401"), "{}", guessed.stderr);
    let refused = runtime.block_on(async {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        client
            .get(format!("{fake_url}/__fake/webhooks").parse().unwrap())
            .await
            .unwrap()
            .status()
    });
    assert_eq!(
        refused, 401,
        "the secrets are not readable without the token"
    );

    // Ctrl-C ends dev cleanly and removes its state file.
    let status = dev.interrupt(WAIT).expect("dev stops on Ctrl-C");
    assert!(status.success(), "{status:?}");
    assert!(!state.exists());
    let stale = Cli::new()
        .args(["trigger", "note.created", "--state-file"])
        .arg_path(&state)
        .run()
        .expect_code(4);
    assert!(
        stale
            .stderr
            .contains("no running `attio-webhooks dev` found"),
        "{}",
        stale.stderr
    );
}

#[test]
fn dev_without_an_app_prints_what_its_built_in_receiver_gets() {
    let scratch = Scratch::new();
    let state = scratch.path("dev.json");
    let dev = Cli::new()
        .args(["dev", "--state-file"])
        .arg_path(&state)
        .spawn();
    let banner = dev.stdout_until(WAIT, |line| line == "Ctrl-C to stop.");
    let secret_line = banner
        .iter()
        .find(|l| l.starts_with("Signing secret (shown once): "))
        .unwrap();
    assert_eq!(
        secret_line.len(),
        "Signing secret (shown once): ".len() + 64
    );

    Cli::new()
        .args([
            "trigger",
            "record.merged",
            "--set",
            "id.object_id=people",
            "--state-file",
        ])
        .arg_path(&state)
        .run()
        .expect_code(0);
    let mut lines = Vec::new();
    lines.extend(dev.stdout_until(WAIT, |line| line.contains("attempt 1")));
    let received = lines
        .iter()
        .find(|l| l.contains("app received"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    for part in [
        "record.merged",
        "object_id=people",
        "record_id=bf071e1f-6035-429d-b874-d83ea64ea13b",
        "duplicate_record_id=3405be95-8375-46a0-bde0-03b3753f8c79",
        "actor=workspace-member:50cf242c-7fa3-4cad-87d0-75b1af71c57b",
    ] {
        assert!(received.contains(part), "{part:?} missing from {received}");
    }
    let attempt = lines.last().unwrap();
    assert!(
        attempt.contains("record.merged") && attempt.contains("attempt 1  200 delivered"),
        "{attempt}"
    );
}

/// `trigger` says why an event reached no webhook: here dev's webhook
/// subscribes to note.created only, and a filter is not involved.
#[test]
fn trigger_names_each_webhook_the_event_missed_and_why() {
    let scratch = Scratch::new();
    let state = scratch.path("dev.json");
    let dev = Cli::new()
        .args(["dev", "--event", "note.created", "--state-file"])
        .arg_path(&state)
        .spawn();
    dev.stdout_until(WAIT, |line| line == "Ctrl-C to stop.");
    let missed = Cli::new()
        .args(["trigger", "record.created", "--state-file"])
        .arg_path(&state)
        .run()
        .expect_code(0);
    assert!(
        missed
            .stderr
            .contains("no webhook of the running dev receives"),
        "{}",
        missed.stderr
    );
    assert!(
        missed.stdout.contains("not sent: webhook ")
            && missed
                .stdout
                .contains("no subscription has this event type (it subscribes to note.created)"),
        "{}",
        missed.stdout
    );
    let json = Cli::new()
        .args(["trigger", "record.created", "--json", "--state-file"])
        .arg_path(&state)
        .run()
        .expect_code(0)
        .json();
    assert_eq!(json["queued"], json!([]));
    assert_eq!(
        json["near_misses"][0]["reason"],
        json!({"kind": "no_subscription_for_type", "subscribed": ["note.created"]})
    );
    drop(dev);
}

#[test]
fn trigger_prints_lists_and_refuses_what_it_cannot_send() {
    let printed = Cli::new()
        .args(["trigger", "comment.created", "--print"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(
        printed,
        serde_json::to_value(samples::event(&EventType::CommentCreated).unwrap()).unwrap()
    );
    let listed = Cli::new()
        .args(["trigger", "--list"])
        .run()
        .expect_code(0)
        .stdout;
    let expected: Vec<&str> = EventType::KNOWN.iter().map(EventType::as_str).collect();
    assert_eq!(listed.lines().collect::<Vec<_>>(), expected);
    Cli::new()
        .args(["trigger", "meeting.created", "--print"])
        .run()
        .expect_code(2);
    Cli::new()
        .args([
            "trigger",
            "note.created",
            "--set",
            "id.workspace_id=x",
            "--print",
        ])
        .run()
        .expect_code(2);
    // The control token only ever goes to this machine.
    let remote = Cli::new()
        .args([
            "trigger",
            "note.created",
            "--dev-url",
            "http://example.com:8080",
            "--control-token",
            "t",
        ])
        .run()
        .expect_code(2);
    assert!(remote.stderr.contains("loopback"), "{}", remote.stderr);
    Cli::new()
        .args(["dev", "--forward-to", "https://example.com/attio"])
        .run()
        .expect_code(2);
}

#[test]
fn listen_reads_its_secret_from_a_file_as_container_secrets_are_given() {
    let scratch = Scratch::new();
    let secret = "5a1e8c0d3f2b4a6e9c7d1b0a8f6e4d2c5a1e8c0d3f2b4a6e9c7d1b0a8f6e4d2c";
    let file = scratch.write("attio_webhook_secret", &format!("{secret}\n"));
    let listen = Cli::new()
        .args(["listen", "--port", "0", "--json", "--secret-file"])
        .arg_path(&file)
        .spawn();
    let addr = listen.listening_addr(WAIT);
    let event = samples::event(&EventType::RecordCreated).unwrap();
    let body = serde_json::to_vec(
        &json!({"webhook_id": "23e42eaf-323a-41da-b5bb-fd67eebda553", "events": [event]}),
    )
    .unwrap();
    let good = hmac_hex(secret, &body);
    assert_eq!(
        raw_request(addr, "POST", "/attio", &[("attio-signature", &good)], &body),
        200
    );
    // The newline is not part of the key.
    let with_newline = hmac_hex(&format!("{secret}\n"), &body);
    assert_eq!(
        raw_request(
            addr,
            "POST",
            "/attio",
            &[("attio-signature", &with_newline)],
            &body
        ),
        401
    );
    drop(listen);

    let too_big = scratch.write("big", &"a".repeat(5000));
    for (path, says) in [
        (too_big, "over 4096 bytes"),
        (scratch.path("missing"), "cannot open it"),
    ] {
        let failed = Cli::new()
            .args(["listen", "--port", "0", "--secret-file"])
            .arg_path(&path)
            .run()
            .expect_code(2);
        assert!(failed.stderr.contains(says), "{}", failed.stderr);
    }
    let both = Cli::new()
        .args([
            "listen",
            "--port",
            "0",
            "--secret",
            "s",
            "--secret-file",
            "/x",
        ])
        .run()
        .expect_code(2);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

/// Starts the binary `starts` times with `args(start)`; each time reads
/// its first line from stdout (`from_stdout`) or stderr, checks it with
/// `ready`, sends SIGTERM at once, and asserts a clean exit 0 (not death
/// by the signal).
#[cfg(unix)]
fn sigterm_at_once_exits_0(
    starts: usize,
    args: impl Fn(usize) -> Vec<String>,
    from_stdout: bool,
    ready: impl Fn(&str),
) {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let piped = |yes: bool| if yes { Stdio::piped() } else { Stdio::null() };
    for start in 0..starts {
        let mut child = std::process::Command::new(common::binary())
            .args(args(start))
            .env_remove("ATTIO_WEBHOOKS_DEV_STATE")
            .stdin(Stdio::null())
            .stdout(piped(from_stdout))
            .stderr(piped(!from_stdout))
            .spawn()
            .unwrap();
        let stream: Box<dyn std::io::Read> = if from_stdout {
            Box::new(child.stdout.take().unwrap())
        } else {
            Box::new(child.stderr.take().unwrap())
        };
        let mut line = String::new();
        std::io::BufReader::new(stream)
            .read_line(&mut line)
            .unwrap();
        ready(&line);
        // SAFETY: kill(2) on a child we own, not yet reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(
            (status.code(), status.signal()),
            (Some(0), None),
            "start {start} of {starts}"
        );
    }
}

/// SIGTERM the instant `listen` says it is listening, again and again: its
/// handlers are installed before it binds, so every run exits 0 instead of
/// dying by the signal.
#[cfg(unix)]
#[test]
fn listen_exits_0_on_sigterm_sent_the_instant_it_is_listening() {
    let args = |_| {
        ["listen", "--port", "0", "--secret", "s3cret"]
            .map(String::from)
            .to_vec()
    };
    sigterm_at_once_exits_0(40, args, false, |line| {
        assert!(line.starts_with("listening on http://"), "{line:?}");
    });
}

/// The same for `dev`: SIGTERM the instant its banner is out (the fake is
/// serving and the state file written) ends it with exit 0, every time.
#[cfg(unix)]
#[test]
fn dev_exits_0_on_sigterm_sent_the_instant_its_banner_is_out() {
    let scratch = Scratch::new();
    let args = |start: usize| {
        let state = scratch.path(&format!("dev-{start}.json"));
        vec![
            "dev".to_owned(),
            "--json".to_owned(),
            "--state-file".to_owned(),
            state.to_str().unwrap().to_owned(),
        ]
    };
    sigterm_at_once_exits_0(20, args, true, |line| {
        let banner: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert!(banner["fake_url"].as_str().is_some(), "{line}");
    });
}

/// `redeliver KEY` asks the running fake to send a logged message again:
/// the same body bytes, signature and `Idempotency-Key` (Attio's webhooks
/// guide: the key is "the same between retries and redeliveries"); an
/// unknown key and a wrong control token are refusals (exit 3).
#[test]
fn redeliver_sends_a_logged_message_again_with_its_key_and_signature() {
    let fake = Fake::start_with(
        attio_webhooks_testkit::FakeAttio::builder()
            .allow_loopback_http_targets()
            .control_token("ctl"),
    );
    let created = fake
        .block_on(fake.client().create_webhook(
            "https://example.com/attio",
            vec![Subscription::new(EventType::NoteCreated)],
        ))
        .unwrap();
    let server = &fake.server;
    let queued = server.emit(samples::event(&EventType::NoteCreated).unwrap());
    fake.block_on(server.settle_deliveries());
    let key = queued[0].idempotency_key.clone();
    let redeliver = |key: &str, token: &str| {
        Cli::new()
            .args([
                "redeliver",
                key,
                "--dev-url",
                &fake.base_url(),
                "--control-token",
                token,
            ])
            .run()
    };

    let done = redeliver(&key, "ctl").expect_code(0);
    assert!(done.stdout.contains(&key), "{}", done.stdout);
    fake.block_on(server.settle_deliveries());
    let log = server.delivery_log();
    assert_eq!(log.len(), 2, "{log:?}");
    let (first, again) = (&log[0], &log[1]);
    assert_eq!(again.idempotency_key, key);
    assert_eq!(again.body, first.body);
    assert_eq!(
        again.signature,
        hmac_hex(created.secret.expose(), &first.body)
    );
    assert_eq!(
        again.origin,
        attio_webhooks_testkit::delivery::DeliveryOrigin::Redelivery
    );

    let unknown = redeliver("no-such-key", "ctl").expect_code(3);
    assert!(
        unknown
            .stderr
            .contains("no delivery with Idempotency-Key \"no-such-key\""),
        "{}",
        unknown.stderr
    );
    redeliver(&key, "wrong").expect_code(3);
    assert_eq!(server.delivery_log().len(), 2, "nothing more was sent");
}
