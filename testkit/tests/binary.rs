//! The `fake-attio` binary, run as another language's test would run it.

use crate::common;

use std::process::Command;

use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::{transport::HyperTransport, Client, EventType, Subscription};
use common::Binary;

fn start(args: &[&str]) -> (Binary, String) {
    let binary = Binary::start(args, &[]);
    let base_url = binary.base_url.clone();
    (binary, base_url)
}

fn client(base_url: &str, token: &str) -> Client<HyperTransport> {
    Client::builder(token)
        .base_url(base_url)
        .build(HyperTransport::new().unwrap())
        .unwrap()
}

#[tokio::test]
async fn serves_the_api_with_its_tokens_and_scopes() {
    let (_running, base_url) = start(&[
        "--port",
        "0",
        "--token",
        "KEY",
        "--token",
        "READER=webhook:read",
    ]);
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");

    let writer = client(&base_url, "KEY");
    let created = writer
        .create_webhook(
            "https://example.com/hook",
            vec![Subscription::new(EventType::RecordCreated)],
        )
        .await
        .unwrap();
    let reader = client(&base_url, "READER");
    assert_eq!(
        reader
            .get_webhook(created.webhook.webhook_id())
            .await
            .unwrap(),
        created.webhook
    );
    assert!(reader
        .delete_webhook(created.webhook.webhook_id())
        .await
        .unwrap_err()
        .is_forbidden());
    assert!(client(&base_url, "fake-attio-token")
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap_err()
        .is_unauthorized());
    writer
        .delete_webhook(created.webhook.webhook_id())
        .await
        .unwrap();
}

#[tokio::test]
async fn options_for_workspace_and_local_targets() {
    let ws = "14beef7a-99f7-4534-a87e-70b564330a4c";
    let (_running, base_url) = start(&["--workspace-id", ws, "--allow-http-targets"]);
    let client = Client::builder("fake-attio-token")
        .base_url(&base_url)
        .target_url_policy(attio_webhooks::model::TargetUrlPolicy::AllowLoopbackHttp)
        .build(HyperTransport::new().unwrap())
        .unwrap();
    let created = client
        .create_webhook(
            "http://127.0.0.1:9999/hook",
            vec![Subscription::new(EventType::NoteCreated)],
        )
        .await
        .unwrap();
    assert_eq!(created.webhook.id.workspace_id.to_string(), ws);
}

/// The clock's `now` as the control endpoint answers it, for `method` and `body`.
async fn clock(
    base_url: &str,
    method: &str,
    path: &str,
    body: &'static str,
) -> attio_webhooks::model::Timestamp {
    use http_body_util::BodyExt;
    let http: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{base_url}/__fake/{path}"))
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            body.as_bytes(),
        )))
        .unwrap();
    let answer = http
        .request(request)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    answer["data"]["now"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_manual_clock_moves_only_when_told() {
    let (_running, base_url) = start(&["--manual-clock"]);
    let before = clock(&base_url, "GET", "clock", "").await;
    let after = clock(
        &base_url,
        "POST",
        "clock/advance",
        r#"{"data":{"seconds":86400}}"#,
    )
    .await;
    assert_eq!(
        after.duration_since(before),
        std::time::Duration::from_secs(86400)
    );
    // Nothing else moves it.
    assert_eq!(clock(&base_url, "GET", "clock", "").await, after);
}

#[test]
fn bad_arguments_exit_with_usage() {
    for args in [
        &["--port", "http"][..],
        &["--token", "K=webhook:admin"],
        &["--frobnicate"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage: fake-attio"));
    }
    let help = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
}

#[test]
fn it_prints_its_version() {
    let output = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        format!(
            "fake-attio {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            option_env!("ATTIO_WEBHOOKS_COMMIT").unwrap_or("unknown")
        )
    );
}

#[test]
fn beyond_loopback_it_refuses_to_start_with_open_control_routes() {
    for host in ["0.0.0.0", "::"] {
        let output = common::command(&["--host", host, "--port", "0"], &[])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{host}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("refusing to listen on"), "{stderr}");
        assert!(
            stderr.contains("--control-token")
                && stderr.contains("FAKE_ATTIO_CONTROL_TOKEN")
                && stderr.contains("--no-control"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn on_all_interfaces_it_prints_a_loopback_url_and_guards_control() {
    for envs in [&[][..], &[("FAKE_ATTIO_CONTROL_TOKEN", "ctl")][..]] {
        let args: &[&str] = if envs.is_empty() {
            &["--host", "0.0.0.0", "--control-token", "ctl"]
        } else {
            &["--host", "0.0.0.0"]
        };
        let mut binary = Binary::start(args, envs);
        assert!(
            binary.base_url.starts_with("http://127.0.0.1:"),
            "{}",
            binary.base_url
        );
        let http = common::raw_client();
        let url = format!("{}/__fake/webhooks", binary.base_url);
        let open = common::send(&http, "GET", &url, &[], "").await.unwrap();
        assert_eq!(open.status, 401);
        let guarded = common::send(&http, "GET", &url, &[("authorization", "Bearer ctl")], "")
            .await
            .unwrap();
        assert_eq!(guarded.status, 200);
        binary.signal("TERM");
        assert!(binary
            .wait_for_exit(std::time::Duration::from_secs(10))
            .unwrap()
            .success());
        let stderr = binary.stderr();
        assert!(stderr.contains("listening on all interfaces"), "{stderr}");
        assert!(stderr.contains("well-known default token"), "{stderr}");
    }
}

#[tokio::test]
async fn no_control_removes_the_control_routes() {
    let binary = Binary::start(&["--no-control"], &[]);
    let answer = common::send(
        &common::raw_client(),
        "POST",
        &format!("{}/__fake/reset", binary.base_url),
        &[],
        "",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn tokens_come_from_a_file_and_the_environment_too() {
    let dir = std::env::temp_dir().join(format!("fake-attio-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tokens");
    std::fs::write(
        &file,
        "# one token a line\nFILE_RW\n\nFILE_RO=webhook:read\n",
    )
    .unwrap();
    let binary = Binary::start(
        &["--tokens-file", file.to_str().unwrap()],
        &[(
            "FAKE_ATTIO_TOKENS",
            "ENV_A=webhook:read,webhook:read-write,ENV_B",
        )],
    );
    for (token, writes) in [
        ("FILE_RW", true),
        ("FILE_RO", false),
        ("ENV_A", true),
        ("ENV_B", true),
    ] {
        let client = client(&binary.base_url, token);
        client.list_webhooks(ListWebhooks::new()).await.unwrap();
        let created = client
            .create_webhook(
                format!("https://example.com/{token}"),
                vec![Subscription::new(EventType::NoteCreated)],
            )
            .await;
        assert_eq!(created.is_ok(), writes, "{token}: {created:?}");
        if !writes {
            assert!(created.unwrap_err().is_forbidden());
        }
    }
    assert!(client(&binary.base_url, "fake-attio-token")
        .list_webhooks(ListWebhooks::new())
        .await
        .unwrap_err()
        .is_unauthorized());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn log_writes_one_json_line_per_request_without_credentials() {
    let mut binary = Binary::start(&["--log", "--token", "sk_live_do_not_print"], &[]);
    let http = common::raw_client();
    let auth = [("authorization", "Bearer sk_live_do_not_print")];
    common::send(
        &http,
        "GET",
        &format!("{}/v2/webhooks?limit=10", binary.base_url),
        &auth,
        "",
    )
    .await
    .unwrap();
    common::send(
        &http,
        "GET",
        &format!("{}/v2/webhooks/nope", binary.base_url),
        &auth,
        "",
    )
    .await
    .unwrap();
    binary.signal("TERM");
    binary
        .wait_for_exit(std::time::Duration::from_secs(10))
        .unwrap();
    let stderr = binary.stderr();
    assert!(!stderr.contains("sk_live_do_not_print"), "{stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert_eq!(
        (&lines[0]["method"], &lines[0]["path"], &lines[0]["status"]),
        (&"GET".into(), &"/v2/webhooks".into(), &200.into())
    );
    assert_eq!(lines[1]["status"], 404);
    assert!(lines.iter().all(|l| l["micros"].as_u64().is_some()));
}

/// A request held back by a `Delay` fault is in flight when the signal
/// arrives: it is answered, then the process exits 0.
async fn stops_gracefully(mut binary: Binary, signal: &str) {
    let http = common::raw_client();
    let fault = r#"{"data":{"fault":{"type":"delay","millis":700},"path":"/v2/webhooks"}}"#;
    let added = common::send(
        &http,
        "POST",
        &format!("{}/__fake/faults", binary.base_url),
        &[],
        fault,
    )
    .await
    .unwrap();
    assert_eq!(added.status, 200);
    let url = format!("{}/v2/webhooks", binary.base_url);
    let in_flight = tokio::spawn(async move {
        common::send(
            &http,
            "GET",
            &url,
            &[("authorization", "Bearer fake-attio-token")],
            "",
        )
        .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    binary.signal(signal);
    let answer = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answer.status, 200);
    let status = tokio::task::spawn_blocking(move || {
        binary.wait_for_exit(std::time::Duration::from_secs(10))
    })
    .await
    .unwrap()
    .expect("it exits");
    assert_eq!(status.code(), Some(0), "{signal}");
    // Within the in-flight request's remaining delay plus a few seconds.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    stops_gracefully(Binary::start(&[], &[]), "TERM").await;
}

#[tokio::test]
async fn sigint_stops_it_even_when_started_with_sigint_ignored() {
    // What a non-interactive shell does to a background job.
    let mut command = Command::new("sh");
    command.args([
        "-c",
        &format!("trap '' INT; exec {}", env!("CARGO_BIN_EXE_fake-attio")),
    ]);
    stops_gracefully(Binary::spawn(command), "INT").await;
}

/// `send` with a deadline: `None` when no answer came within `limit`.
async fn send_within(
    limit: std::time::Duration,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> Option<common::Answer> {
    // A fresh client each time: a new connection, closed when it is dropped.
    let http = common::raw_client();
    tokio::time::timeout(limit, common::send(&http, method, url, headers, body))
        .await
        .ok()
        .map(|answer| answer.expect("the connection is not dropped"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_connection_held_by_a_delayed_answer_the_control_routes_still_answer() {
    const CAP: usize = 8;
    const WAIT: std::time::Duration = std::time::Duration::from_secs(3);
    let binary = Binary::start(&["--max-connections", "8"], &[]);
    let base = binary.base_url.clone();
    let faults = format!("{base}/__fake/faults");
    // A delay beyond the cap is refused, saying what the cap is.
    let endless = r#"{"data":{"fault":{"type":"delay","millis":18446744073709551615}}}"#;
    let refused = send_within(WAIT, "POST", &faults, &[], endless)
        .await
        .unwrap();
    assert_eq!(refused.status, 400);
    let message = refused.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("60000 ms"), "{message}");
    let delay =
        r#"{"data":{"fault":{"type":"delay","millis":30000},"path":"/v2/webhooks","times":8}}"#;
    assert_eq!(
        send_within(WAIT, "POST", &faults, &[], delay)
            .await
            .unwrap()
            .status,
        200
    );
    // CAP requests on CAP connections, each answer held back 30 s. One that
    // lands on a control connection (while a poll below holds the last
    // regular one) is told 503 and tries again, as its Retry-After says.
    let auth = [("authorization", "Bearer fake-attio-token")];
    let url = format!("{base}/v2/webhooks");
    let held: Vec<_> = (0..CAP)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let http = common::raw_client();
                loop {
                    let answer = common::send(&http, "GET", &url, &auth, "").await;
                    if !matches!(&answer, Ok(a) if a.status == 503) {
                        return answer;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            })
        })
        .collect();
    // They are recorded before they are held: once all are, every
    // connection of the cap runs a request.
    let requests = format!("{base}/__fake/requests");
    let started = std::time::Instant::now();
    loop {
        let answer = send_within(WAIT, "GET", &requests, &[], "")
            .await
            .unwrap_or_else(|| {
                panic!(
                    "the control route did not answer within {WAIT:?} ({:?} in)",
                    started.elapsed()
                )
            });
        if answer.json()["data"].as_array().unwrap().len() == CAP {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The control routes and the health route answer at once ...
    let took = std::time::Instant::now();
    let clock = send_within(WAIT, "GET", &format!("{base}/__fake/clock"), &[], "")
        .await
        .expect("control answers while the API is saturated");
    assert_eq!(clock.status, 200);
    let health = send_within(WAIT, "GET", &format!("{base}/__health"), &[], "")
        .await
        .expect("health answers while the API is saturated");
    assert_eq!(health.status, 200);
    eprintln!(
        "control answered in {:?} with {CAP} of {CAP} connections held",
        took.elapsed()
    );
    // ... and an API request gets a 503 that says why, not a wait.
    let busy = send_within(WAIT, "GET", &url, &auth, "").await.unwrap();
    assert_eq!(busy.status, 503);
    assert_eq!(busy.json()["code"], "at_capacity");
    assert_eq!(busy.headers["retry-after"], "1");
    assert!(busy.json()["message"].as_str().unwrap().contains("/__fake"));
    for request in held {
        request.abort();
    }
}

/// The figure after `--idle-timeout` (in `--help`: "(default N)", in the
/// README: "`--idle-timeout SECS` (N)").
fn idle_figure(text: &str, after: &str) -> Option<u64> {
    let rest = &text[text.find("--idle-timeout")?..];
    let rest = &rest[rest.find(after)? + after.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[test]
fn the_idle_timeout_the_help_and_the_testkit_readme_give_is_the_default() {
    let default = attio_webhooks_testkit::Limits::default().idle_timeout;
    assert_eq!(
        default,
        attio_webhooks_testkit::limits::DEFAULT_IDLE_TIMEOUT
    );
    let help = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert_eq!(
        idle_figure(&help, "(default "),
        Some(default.as_secs()),
        "{help}"
    );
    let readme = include_str!("../README.md");
    assert_eq!(idle_figure(readme, "SECS` ("), Some(default.as_secs()));
}

#[tokio::test]
async fn the_health_route_answers_anyone_and_says_nothing_else() {
    let http = common::raw_client();
    for args in [
        &["--no-control"][..],
        &["--control-token", "ctl", "--token", "KEY"],
        &["--host", "0.0.0.0", "--control-token", "ctl"],
    ] {
        let binary = Binary::start(args, &[]);
        let health = format!("{}/__health", binary.base_url);
        // No token at all, whatever the API and control routes need.
        let answer = common::send(&http, "GET", &health, &[], "").await.unwrap();
        assert_eq!(answer.status, 200, "{args:?}");
        assert_eq!(
            answer.json(),
            serde_json::json!({"status": "ok"}),
            "{args:?}"
        );
        assert_eq!(
            answer.headers["content-type"],
            "application/json; charset=utf-8"
        );
        // Other methods: 405, GET allowed.
        for method in ["HEAD", "POST", "TRACE"] {
            let other = common::send(&http, method, &health, &[], "").await.unwrap();
            assert_eq!(other.status, 405, "{method} {args:?}");
            assert_eq!(other.headers["allow"], "GET");
        }
        // Never recorded.
        if args.contains(&"--control-token") {
            let requests = common::send(
                &http,
                "GET",
                &format!("{}/__fake/requests", binary.base_url),
                &[("authorization", "Bearer ctl")],
                "",
            )
            .await
            .unwrap();
            assert_eq!(requests.json()["data"], serde_json::json!([]), "{args:?}");
        }
    }
}

/// SIGTERM the instant the base URL is printed, again and again: the
/// handlers are installed before the port is bound, so the signal never
/// finds the default action (death by signal) in place.
#[cfg(unix)]
#[test]
fn sigterm_the_instant_the_url_is_printed_exits_0_every_time() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    const STARTS: usize = 40;
    for start in 0..STARTS {
        let mut child = common::command(&[], &[])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("http://"), "{line:?}");
        // SAFETY: kill(2) on a child we own, not yet reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(
            (status.code(), status.signal()),
            (Some(0), None),
            "start {start} of {STARTS}"
        );
    }
}

/// `--attio-like-deliveries SEED` switches on the seeded profile: two
/// updates of one record emitted together share one message, and a
/// `system` follow-up comes a second later; without it, each emit is its
/// own message and nothing follows.
#[tokio::test]
async fn attio_like_deliveries_batch_and_follow_up() {
    use attio_webhooks_testkit::{delivery::DeliveryOrigin, ControlClient, Seed};
    for flag in [true, false] {
        let mut args = vec!["--manual-clock"];
        if flag {
            args.extend(["--attio-like-deliveries", "5"]);
        }
        let (_running, base_url) = start(&args);
        let control = ControlClient::new(&base_url, None).unwrap();
        let seeded = control
            .seed(vec![Seed::new(
                "https://example.com/hook",
                vec![Subscription::new(EventType::RecordUpdated)],
            )])
            .await
            .unwrap();
        let update = |attribute: &str| -> attio_webhooks::receive::Event {
            serde_json::from_value(serde_json::json!({
                "event_type": "record.updated",
                "id": {
                    "workspace_id": seeded[0].webhook.id.workspace_id.to_string(),
                    "object_id": "deals",
                    "record_id": "r1",
                    "attribute_id": attribute,
                },
                "actor": {"type": "workspace-member", "id": "m-1"},
            }))
            .unwrap()
        };
        let first = control.emit(&update("a1")).await.unwrap();
        let second = control.emit(&update("a2")).await.unwrap();
        assert_eq!(first == second, flag, "one message for both: {flag}");
        control
            .advance(std::time::Duration::from_secs(10))
            .await
            .unwrap();
        let mut follow_ups = 0;
        for _ in 0..200 {
            let log = control.deliveries().await.unwrap();
            follow_ups = log
                .iter()
                .filter(|a| a.origin == DeliveryOrigin::FollowUp)
                .count();
            if follow_ups > 0 || !flag {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(follow_ups > 0, flag, "a system follow-up: {flag}");
    }
}

/// `--log-requests --log-format json`: one JSON line per request (with the
/// execution id answered, as the journal has it) and one per delivery
/// attempt (with the delivery log's execution id); no token, query or
/// signature in any line. `--log-format text` writes the same as text.
#[tokio::test]
async fn log_requests_writes_a_line_per_request_and_per_delivery_attempt() {
    use attio_webhooks_testkit::{ControlClient, Seed};
    let mut binary = Binary::start(
        &[
            "--log-requests",
            "--log-format",
            "json",
            "--token",
            "sk_live_do_not_print",
        ],
        &[],
    );
    let base_url = binary.base_url.clone();
    let http = common::raw_client();
    let auth = [("authorization", "Bearer sk_live_do_not_print")];
    let listed = common::send(&http, "GET", &format!("{base_url}/v2/webhooks"), &auth, "")
        .await
        .unwrap();
    let control = ControlClient::new(&base_url, None).unwrap();
    // Not a target the fake connects to: the attempt is logged as skipped.
    let seeded = control
        .seed(vec![Seed::new(
            "https://example.com/hook?token=query_secret",
            vec![Subscription::new(EventType::RecordCreated)],
        )])
        .await
        .unwrap();
    let event: attio_webhooks::receive::Event = serde_json::from_value(serde_json::json!({
        "event_type": "record.created",
        "id": {
            "workspace_id": seeded[0].webhook.id.workspace_id.to_string(),
            "object_id": "deals",
            "record_id": "r1",
        },
        "actor": {"type": "workspace-member", "id": "m-1"},
    }))
    .unwrap();
    control.emit(&event).await.unwrap();
    let mut requests = 4; // list, seed, emit, and each poll below
    let mut attempts = Vec::new();
    for _ in 0..200 {
        attempts = control.deliveries().await.unwrap().into_vec();
        if !attempts.is_empty() {
            break;
        }
        requests += 1;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(attempts.len(), 1);
    let journal = control.requests().await.unwrap().into_vec();
    requests += 1;
    binary.signal("TERM");
    binary
        .wait_for_exit(std::time::Duration::from_secs(10))
        .unwrap();
    let stderr = binary.stderr();
    for secret in [
        "sk_live_do_not_print",
        "query_secret",
        &attempts[0].signature,
    ] {
        assert!(!stderr.contains(secret), "{secret} in {stderr}");
    }
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["kind"] == kind).collect()
    };
    assert_eq!(of("request").len() + of("delivery").len(), lines.len());
    assert_eq!(of("request").len(), requests, "{stderr}");
    let list_id = listed.headers["x-attio-execution-id"].to_str().unwrap();
    assert_eq!(of("request")[0]["execution_id"], list_id);
    assert_eq!(journal[0].execution_id.as_deref(), Some(list_id));
    // The control routes answer with no execution id.
    assert!(of("request")[1]["execution_id"].is_null());

    let deliveries = of("delivery");
    assert_eq!(deliveries.len(), 1, "{stderr}");
    let line = deliveries[0];
    assert_eq!(line["execution_id"], attempts[0].execution_id.as_str());
    assert!(uuid::Uuid::parse_str(&attempts[0].execution_id).is_ok());
    assert_eq!(
        line["webhook_id"],
        seeded[0].webhook.id.webhook_id.to_string()
    );
    assert_eq!(
        (&line["attempt"], &line["outcome"], &line["target"]),
        (
            &1.into(),
            &"skipped".into(),
            &"https://example.com/hook".into()
        )
    );

    // The same as text: one line per request, `key=value`.
    let mut text = Binary::start(&["--log-format", "text"], &[]);
    common::send(
        &http,
        "GET",
        &format!("{}/v2/webhooks/nope", text.base_url),
        &[],
        "",
    )
    .await
    .unwrap();
    text.signal("TERM");
    text.wait_for_exit(std::time::Duration::from_secs(10))
        .unwrap();
    let stderr = text.stderr();
    assert!(
        stderr.starts_with("request method=GET path=/v2/webhooks/nope status=401 micros="),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}
