//! Recorded deliveries through the built binary: `listen --record` keeps
//! what the fake delivers (headers without credentials, exact bytes),
//! `replay` sends it again (re-signed or not), and the fake's deliveries
//! have the shape of Attio's, as its reference shows them
//! (`tests/data/attio-deliveries.jsonl`, written by hand; its sources are
//! in the `.md` beside it).

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use attio_webhooks::operations::UpdateWebhook;
use attio_webhooks::{EventType, Subscription};
use attio_webhooks_testkit::samples;
use common::{hmac_hex, raw_request, Cli, Fake, Running, Scratch};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
const OTHER_SECRET: &str = "a-test-secret-for-replays";

/// `listen --record FILE` with `secret`; its address.
fn listen(secret: &str, record: &Path) -> (Running, SocketAddr) {
    let running = Cli::new()
        .env("HOOK_SECRET", secret)
        .args([
            "listen",
            "--port",
            "0",
            "--secret-env",
            "HOOK_SECRET",
            "--record",
        ])
        .arg_path(record)
        .spawn();
    let addr = running.listening_addr(WAIT);
    (running, addr)
}

/// The lines of a recording, parsed.
fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A recorded line's body bytes.
fn body_of(line: &Value) -> Vec<u8> {
    let body = line["body"].as_str().unwrap();
    match line["body_encoding"].as_str().unwrap() {
        "utf-8" => body.as_bytes().to_vec(),
        "base64" => decode_base64(body),
        other => panic!("unknown encoding {other}"),
    }
}

/// Standard base64, decoded here rather than with the CLI's crate.
fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// A recorded line's header `name`.
fn header<'a>(line: &'a Value, name: &str) -> Option<&'a str> {
    line["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|pair| pair[1].as_str().unwrap())
}

/// Waits until `path` holds `count` lines.
#[track_caller]
fn wait_for_lines(path: &Path, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let found = lines(path);
        if found.len() >= count {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} holds {} lines, not {count}",
            path.display(),
            found.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The fake, a webhook for `types` pointed at a recording `listen`, and
/// one sample of each type delivered: the recording's lines.
fn fake_deliveries(types: &[EventType], scratch: &Scratch, name: &str) -> (Vec<Value>, String) {
    let fake = Fake::start();
    let client = fake.client();
    let subscriptions = types.iter().cloned().map(Subscription::new).collect();
    let created = fake
        .block_on(client.create_webhook("http://127.0.0.1:9/not-yet", subscriptions))
        .unwrap();
    let secret = created.secret.expose().to_owned();
    let record = scratch.path(name);
    let (_listen, addr) = listen(&secret, &record);
    fake.block_on(client.update_webhook(
        UpdateWebhook::new(created.webhook.webhook_id()).target_url(format!("http://{addr}/attio")),
    ))
    .unwrap();
    for event_type in types {
        let event = samples::event(event_type).unwrap();
        // One at a time, so the recording's order is the types' order.
        fake.block_on(async { fake.server.emit(event) });
        fake.block_on(fake.server.settle_deliveries());
    }
    (wait_for_lines(&record, types.len()), secret)
}

// ---------------------------------------------------------------- parity

/// The shape of a JSON value: keys in their order, nulls, value types.
#[derive(Debug, PartialEq)]
enum Shape {
    Null,
    Bool,
    Number,
    Uuid,
    Text,
    Array(Vec<Shape>),
    Object(Vec<(String, Shape)>),
}

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Shape, E> {
                Ok(Shape::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape::Bool)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape::Number)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape::Number)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape::Number)
            }
            fn visit_str<E>(self, text: &str) -> Result<Shape, E> {
                let uuid = text.len() == 36
                    && text.char_indices().all(|(i, c)| match i {
                        8 | 13 | 18 | 23 => c == '-',
                        _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
                    });
                Ok(if uuid { Shape::Uuid } else { Shape::Text })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Shape, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Shape::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Shape, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Shape>()? {
                    entries.push((key, value));
                }
                Ok(Shape::Object(entries))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Shape {
    fn name(&self) -> &'static str {
        match self {
            Shape::Null => "null",
            Shape::Bool => "a boolean",
            Shape::Number => "a number",
            Shape::Uuid => "a lowercase UUID",
            Shape::Text => "a string",
            Shape::Array(_) => "an array",
            Shape::Object(_) => "an object",
        }
    }
}

/// Every difference between the reference's shape and the fake's, each
/// with its path.
fn differences(path: &str, reference: &Shape, fake: &Shape, out: &mut Vec<String>) {
    match (reference, fake) {
        (Shape::Object(a), Shape::Object(b)) => {
            let keys = |o: &[(String, Shape)]| o.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            if keys(a) != keys(b) {
                out.push(format!(
                    "{path}: keys {:?} in Attio's reference, {:?} from the fake",
                    keys(a),
                    keys(b)
                ));
            }
            for (key, value) in a {
                if let Some((_, other)) = b.iter().find(|(k, _)| k == key) {
                    differences(&format!("{path}.{key}"), value, other, out);
                }
            }
        }
        (Shape::Array(a), Shape::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: {} items in Attio's reference, {} from the fake",
                    a.len(),
                    b.len()
                ));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!(
            "{path}: {} in Attio's reference, {} from the fake",
            a.name(),
            b.name()
        )),
    }
}

/// Headers that belong to the connection, not to the delivery.
const CONNECTION_HEADERS: [&str; 4] = ["host", "content-length", "connection", "transfer-encoding"];

/// Differences between the headers of two recorded deliveries: the names
/// (beyond the connection's), `User-Agent` and `Content-Type`, and each
/// signature's form (64 lowercase hex).
fn header_differences(event_type: &str, reference: &Value, fake: &Value, out: &mut Vec<String>) {
    let names = |line: &Value| {
        let mut names: Vec<String> = line["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| pair[0].as_str().unwrap().to_ascii_lowercase())
            .filter(|n| !CONNECTION_HEADERS.contains(&n.as_str()))
            .collect();
        names.sort();
        names
    };
    if names(reference) != names(fake) {
        out.push(format!(
            "{event_type} headers: {:?} in Attio's reference, {:?} from the fake",
            names(reference),
            names(fake)
        ));
    }
    for name in ["user-agent", "content-type"] {
        if header(reference, name) != header(fake, name) {
            out.push(format!(
                "{event_type} {name}: {:?} in Attio's reference, {:?} from the fake",
                header(reference, name),
                header(fake, name)
            ));
        }
    }
    let hex64 = |v: &str| {
        v.len() == 64
            && v.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    for name in ["attio-signature", "x-attio-signature"] {
        for (who, line) in [("Attio's reference", reference), ("the fake", fake)] {
            match header(line, name) {
                Some(value) if hex64(value) => {}
                other => out.push(format!(
                    "{event_type} {name} from {who}: {other:?}, not 64 lowercase hex"
                )),
            }
        }
    }
}

/// The event type of a recorded delivery (its first event's).
fn event_type_of(line: &Value) -> String {
    let body: Value = serde_json::from_slice(&body_of(line)).unwrap();
    body["events"][0]["event_type"].as_str().unwrap().to_owned()
}

/// Every difference between Attio's deliveries as recorded in
/// `reference` and the fake's of the same event types.
fn parity(reference: &[Value], fake: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for line in reference {
        let event_type = event_type_of(line);
        let Some(ours) = fake.iter().find(|f| event_type_of(f) == event_type) else {
            out.push(format!("{event_type}: the fake delivered none"));
            continue;
        };
        let shape = |l: &Value| serde_json::from_slice::<Shape>(&body_of(l)).unwrap();
        differences(&event_type, &shape(line), &shape(ours), &mut out);
        header_differences(&event_type, line, ours, &mut out);
    }
    out
}

fn reference_deliveries() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/attio-deliveries.jsonl");
    let found = lines(&path);
    assert!(
        found.len() >= 7,
        "{} holds {} lines",
        path.display(),
        found.len()
    );
    found
}

#[test]
fn the_fakes_deliveries_have_the_shape_of_attios_reference() {
    let reference = reference_deliveries();
    let types: Vec<EventType> = reference
        .iter()
        .map(|line| EventType::from(event_type_of(line).as_str()))
        .collect();
    let scratch = Scratch::new();
    let (fake, _) = fake_deliveries(&types, &scratch, "fake.jsonl");
    let found = parity(&reference, &fake);
    assert!(
        found.is_empty(),
        "the fake's deliveries differ from Attio's reference:\n{}",
        found.join("\n")
    );
}

/// The comparison itself: a changed key order, a value that is no longer
/// null, a missing header and an uppercase signature are each named with
/// their path.
#[test]
fn the_parity_check_names_each_difference_with_its_path() {
    let reference = reference_deliveries();
    let comment = reference
        .iter()
        .find(|l| event_type_of(l) == "comment.created")
        .unwrap()
        .clone();
    let mut changed = comment.clone();
    let body = comment["body"]
        .as_str()
        .unwrap()
        .replace(
            r#""list_id":null"#,
            r#""list_id":"33ebdbe9-e529-47c9-b894-0ba25e9c15c0""#,
        )
        .replace(
            r#""thread_id":"a649e4d9-435c-43fb-83ba-847b4876f27a","object_id""#,
            r#""object_id""#,
        )
        .replace(
            r#","actor""#,
            r#","thread_id":"a649e4d9-435c-43fb-83ba-847b4876f27a","actor""#,
        );
    changed["body"] = Value::String(body);
    let headers = changed["headers"].as_array_mut().unwrap();
    headers.retain(|pair| pair[0] != "idempotency-key");
    headers[0][1] = Value::String(headers[0][1].as_str().unwrap().to_uppercase());
    let found = parity(&[comment], &[changed]);
    let text = found.join("\n");
    assert!(
        text.contains("comment.created.events[0]: keys [\"event_type\", \"id\", \"thread_id\""),
        "{text}"
    );
    assert!(text.contains("comment.created.events[0].list_id: null in Attio's reference, a lowercase UUID from the fake"), "{text}");
    assert!(text.contains("comment.created headers: "), "{text}");
    assert!(text.contains("attio-signature from the fake"), "{text}");
    assert_eq!(found.len(), 4, "{text}");
}

// ---------------------------------------------------------- record, replay

#[test]
fn recorded_deliveries_replay_re_signed_to_a_receiver_with_another_secret() {
    let scratch = Scratch::new();
    let types = [
        EventType::RecordCreated,
        EventType::NoteCreated,
        EventType::CommentCreated,
    ];
    let (recorded, _) = fake_deliveries(&types, &scratch, "from-fake.jsonl");
    assert_eq!(recorded.len(), 3);
    #[cfg(unix)]
    assert_eq!(common::mode(&scratch.path("from-fake.jsonl")), 0o600);
    for line in &recorded {
        assert_eq!(line["outcome"], "verified", "{line}");
        assert_eq!(line["status"], 200);
        assert_eq!(line["method"], "POST");
        assert_eq!(line["path"], "/attio");
        assert!(header(line, "idempotency-key").is_some());
        assert_eq!(
            header(line, "attio-signature"),
            header(line, "x-attio-signature")
        );
    }

    let again = scratch.path("replayed.jsonl");
    let (receiver, addr) = listen(OTHER_SECRET, &again);
    let replay = Cli::new()
        .env("TEST_SECRET", OTHER_SECRET)
        .args(["replay"])
        .arg_path(&scratch.path("from-fake.jsonl"))
        .args([
            "--to",
            &format!("http://{addr}/replayed"),
            "--secret-env",
            "TEST_SECRET",
        ])
        .run()
        .expect_code(0);
    assert_eq!(replay.stdout.lines().count(), 3, "{}", replay.stdout);
    assert!(
        replay.stdout.lines().all(|l| l.contains("  200  in ")),
        "{}",
        replay.stdout
    );
    let replayed = wait_for_lines(&again, 3);
    drop(receiver);
    for (before, after) in recorded.iter().zip(&replayed) {
        assert_eq!(after["outcome"], "verified", "{after}");
        assert_eq!(after["path"], "/replayed");
        assert_eq!(body_of(before), body_of(after), "bodies byte for byte");
        assert_eq!(
            header(before, "idempotency-key"),
            header(after, "idempotency-key")
        );
        assert_eq!(header(before, "user-agent"), header(after, "user-agent"));
        let resigned = hmac_hex(OTHER_SECRET, &body_of(before));
        assert_eq!(header(after, "attio-signature"), Some(resigned.as_str()));
        assert_eq!(header(after, "x-attio-signature"), Some(resigned.as_str()));
    }
}

#[test]
fn without_a_secret_replay_keeps_the_recorded_signatures() {
    let scratch = Scratch::new();
    let (recorded, secret) = fake_deliveries(&[EventType::TaskCreated], &scratch, "rec.jsonl");
    let file = scratch.path("rec.jsonl");

    // The original secret verifies the recorded signature.
    let (original, addr) = listen(&secret, &scratch.path("original.jsonl"));
    Cli::new()
        .args(["replay"])
        .arg_path(&file)
        .args(["--to", &format!("http://{addr}/attio"), "--json"])
        .run()
        .expect_code(0);
    let kept = wait_for_lines(&scratch.path("original.jsonl"), 1);
    drop(original);
    assert_eq!(kept[0]["outcome"], "verified");
    assert_eq!(
        header(&kept[0], "attio-signature"),
        header(&recorded[0], "attio-signature")
    );

    // Another secret refuses it: exit 6, one JSON line saying so.
    let (other, addr) = listen(OTHER_SECRET, &scratch.path("other.jsonl"));
    let refused = Cli::new()
        .args(["replay"])
        .arg_path(&file)
        .args(["--to", &format!("http://{addr}/attio"), "--json"])
        .run()
        .expect_code(6);
    let answer: Value = serde_json::from_str(refused.stdout.trim()).unwrap();
    assert_eq!(answer["status"], 401);
    assert_eq!(answer["delivered"], false);
    let logged = wait_for_lines(&scratch.path("other.jsonl"), 1);
    drop(other);
    assert_eq!(logged[0]["outcome"], "refused");
    assert_eq!(logged[0]["status"], 401);
    assert!(logged[0]["refusal"].as_str().unwrap().contains("signature"));
}

#[test]
fn credentials_never_reach_the_file_and_bytes_that_are_not_utf8_round_trip() {
    let scratch = Scratch::new();
    let file = scratch.path("raw.jsonl");
    let (first, addr) = listen("s3cret", &file);
    let body: &[u8] = b"{\"webhook_id\": \"\xff\xfe\x80 not UTF-8\"}\r\n\x00";
    let signed = hmac_hex("s3cret", body);
    let status = raw_request(
        addr,
        "POST",
        "/raw",
        &[
            ("authorization", "Bearer sk-live-TOKEN-1"),
            ("cookie", "session=COOKIE-2"),
            ("proxy-authorization", "Basic PROXY-3"),
            ("x-api-key", "KEY-4"),
            ("x-auth-token", "TOKEN-5"),
            ("attio-signature", &signed),
            ("idempotency-key", "k-raw-1"),
        ],
        body,
    );
    assert_eq!(status, 400, "signed, but not a delivery");
    let recorded = wait_for_lines(&file, 1);
    drop(first);
    let text = std::fs::read_to_string(&file).unwrap();
    for secret in [
        "TOKEN-1", "COOKIE-2", "PROXY-3", "KEY-4", "TOKEN-5", "s3cret",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    for name in ["authorization", "cookie", "x-api-key", "x-auth-token"] {
        assert!(header(&recorded[0], name).is_none(), "{name}");
    }
    assert_eq!(recorded[0]["outcome"], "refused");
    assert_eq!(recorded[0]["body_encoding"], "base64");
    assert_eq!(body_of(&recorded[0]), body);
    assert_eq!(
        header(&recorded[0], "attio-signature"),
        Some(signed.as_str())
    );

    // Replayed to a second recorder: the same bytes arrive; 400 is not
    // delivered, so exit 6.
    let second_file = scratch.path("second.jsonl");
    let (second, addr) = listen("s3cret", &second_file);
    let replay = Cli::new()
        .args(["replay"])
        .arg_path(&file)
        .args(["--to", &format!("http://{addr}/attio")])
        .run()
        .expect_code(6);
    assert!(
        replay.stdout.contains("400") && replay.stdout.contains("NOT DELIVERED"),
        "{}",
        replay.stdout
    );
    let again = wait_for_lines(&second_file, 1);
    drop(second);
    assert_eq!(body_of(&again[0]), body, "byte for byte after a replay");
    assert_eq!(header(&again[0], "idempotency-key"), Some("k-raw-1"));
}

#[test]
fn replay_exit_codes() {
    let scratch = Scratch::new();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/attio-deliveries.jsonl");
    // Nothing answers: 4.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = Cli::new()
        .args(["replay"])
        .arg_path(&file)
        .args([
            "--to",
            &format!("http://127.0.0.1:{port}/attio"),
            "--timeout",
            "5",
        ])
        .run()
        .expect_code(4);
    assert!(
        unreachable.stderr.contains("nothing answered"),
        "{}",
        unreachable.stderr
    );
    // Usage errors, nothing sent: 2.
    Cli::new()
        .args(["replay"])
        .arg_path(&file)
        .args(["--to", "ftp://127.0.0.1/attio"])
        .run()
        .expect_code(2);
    let bad = scratch.write("bad.jsonl", "{\"received_at\": 1}\n");
    let refused = Cli::new()
        .args(["replay"])
        .arg_path(&bad)
        .args(["--to", "http://127.0.0.1:9/attio"])
        .run()
        .expect_code(2);
    assert!(
        refused.stderr.contains("line 1 is not a recorded delivery"),
        "{}",
        refused.stderr
    );
    Cli::new()
        .args(["replay"])
        .arg_path(&scratch.path("missing.jsonl"))
        .args(["--to", "http://127.0.0.1:9/attio"])
        .run()
        .expect_code(2);
    // A recording others may read is refused before listening: 2.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let open = scratch.write("open.jsonl", "");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        let listen = Cli::new()
            .args(["listen", "--port", "0", "--secret", "s", "--record"])
            .arg_path(&open)
            .run()
            .expect_code(2);
        assert!(
            listen.stderr.contains("others may read it"),
            "{}",
            listen.stderr
        );
    }
}
