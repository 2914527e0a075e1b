//! Every door answers alike: one table of requests runs through the
//! in-process transport, the loopback server and the `fake-attio` binary,
//! and for each request the status, the body and what the fake records
//! must be the same on all three. The only differences allowed are the
//! ones HTTP itself decides (listed in the testkit's crate docs): the
//! `host` and `content-length` headers a client adds, and a dropped
//! connection showing as a transport error.

use crate::common;

use attio_webhooks::{Transport, WorkspaceId};
use attio_webhooks_testkit::{
    limits::MAX_BODY_BYTES, FakeAttio, FakeServer, InProcessTransport, Scope,
};
use bytes::Bytes;
use serde_json::{json, Value};

const WORKSPACE: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";
const RW: &str = "Bearer door-rw";
const RO: &str = "Bearer door-ro";
const ID1: &str = "00000000-0000-4000-8000-000000000001";
const ID2: &str = "00000000-0000-4000-8000-000000000002";
const ID3: &str = "00000000-0000-4000-8000-000000000003";
const UNKNOWN: &str = "00000000-0000-4000-8000-0000000000ff";
const SEEDED_AT: &str = "2024-01-02T03:04:05.000000006Z";

/// One request of the table.
struct Step {
    method: &'static str,
    path: String,
    auth: Option<&'static str>,
    body: Bytes,
}

fn step(
    method: &'static str,
    path: impl Into<String>,
    auth: Option<&'static str>,
    body: &str,
) -> Step {
    Step {
        method,
        path: path.into(),
        auth,
        body: Bytes::copy_from_slice(body.as_bytes()),
    }
}

fn fault(fault: Value, method: &str, path: &str) -> Step {
    step(
        "POST",
        "/__fake/faults",
        None,
        &json!({"data": {"fault": fault, "method": method, "path": path}}).to_string(),
    )
}

fn seed(id: &str, url: &str, event: &str) -> Value {
    json!({"target_url": url, "subscriptions": [{"event_type": event, "filter": null}],
           "webhook_id": id, "created_at": SEEDED_AT, "secret": format!("secret-{id}")})
}

fn create(url: &str, event: &str) -> String {
    json!({"data": {"target_url": url, "subscriptions": [{"event_type": event, "filter": null}]}})
        .to_string()
}

/// The table: at least one request for each operation, each auth failure,
/// malformed and invalid bodies, unknown routes, every control route and
/// every fault type.
fn table() -> Vec<Step> {
    let hook = |id: &str| format!("/v2/webhooks/{id}");
    vec![
        step("GET", "/v2/webhooks", None, ""),
        step("GET", "/v2/webhooks", Some("Basic abc"), ""),
        step("GET", "/v2/webhooks", Some("Bearer nobody"), ""),
        step("POST", "/v2/webhooks", Some(RO), &create("https://x.test/ro", "note.created")),
        step(
            "POST",
            "/__fake/webhooks",
            None,
            &json!({"data": [seed(ID1, "https://x.test/1", "note.created"),
                             seed(ID2, "https://x.test/2", "task.created"),
                             seed(ID3, "https://x.test/3", "list.created")]})
            .to_string(),
        ),
        step("POST", "/__fake/webhooks", None, r#"{"data":[{"target_url":"not a url","subscriptions":[]}]}"#),
        step("POST", "/__fake/webhooks", None, &json!({"data": [seed(ID1, "https://x.test/9", "note.created")]}).to_string()),
        step("GET", "/v2/webhooks", Some(RO), ""),
        step("GET", "/v2/webhooks?limit=10&offset=1", Some(RO), ""),
        step("GET", "/v2/webhooks?limit=5", Some(RO), ""),
        step("GET", hook(ID1), Some(RO), ""),
        step("GET", "/v2/webhooks/not-a-uuid", Some(RO), ""),
        step("GET", hook(UNKNOWN), Some(RO), ""),
        step("POST", "/v2/webhooks", Some(RW), &create("https://x.test/new", "record.created")),
        step("POST", "/v2/webhooks", Some(RW), "{\"data\": {"),
        step("POST", "/v2/webhooks", Some(RW), r#"{"data":{"target_url":5,"subscriptions":[]}}"#),
        step("POST", "/v2/webhooks", Some(RW), &create("http://x.test/plain", "note.created")),
        step("POST", "/v2/webhooks", Some(RW), &create("https://x.test/u", "meeting.created")),
        step("POST", "/v2/webhooks", Some(RW), r#"{"data":{"target_url":"https://x.test/f","subscriptions":[{"event_type":"note.created"}]}}"#),
        step("POST", "/v2/webhooks", Some(RW), &create("https://x.test/1", "note.created")),
        step("PATCH", hook(ID1), Some(RW), r#"{"data":{"target_url":"https://x.test/moved"}}"#),
        step("PATCH", hook(UNKNOWN), Some(RW), r#"{"data":{}}"#),
        step("PATCH", hook(ID1), Some(RW), r#"{"data":{"target_url":null}}"#),
        step("DELETE", hook(ID2), Some(RW), ""),
        step("DELETE", hook(ID2), Some(RW), ""),
        step("PUT", "/v2/webhooks", Some(RW), ""),
        step("GET", "/nope", Some(RW), ""),
        Step {
            method: "POST",
            path: "/v2/webhooks".into(),
            auth: Some(RW),
            body: Bytes::from(vec![b' '; MAX_BODY_BYTES + 1]),
        },
        step("GET", "/__fake/webhooks", None, ""),
        fault(json!({"type": "status", "status": 503}), "GET", "/v2/webhooks"),
        step("GET", "/v2/webhooks", Some(RW), ""),
        fault(json!({"type": "rate_limited"}), "GET", "/v2/webhooks"),
        step("GET", "/v2/webhooks", Some(RW), ""),
        fault(json!({"type": "rate_limited_for", "seconds": 3}), "GET", "/v2/webhooks"),
        step("GET", "/v2/webhooks", Some(RW), ""),
        fault(json!({"type": "status_after_handling", "status": 503}), "DELETE", "/v2/webhooks/*"),
        step("DELETE", hook(ID3), Some(RW), ""),
        step("GET", hook(ID3), Some(RW), ""),
        fault(json!({"type": "malformed_body", "status": 502}), "GET", "/v2/webhooks/*"),
        step("GET", hook(ID1), Some(RW), ""),
        fault(json!({"type": "truncated_body"}), "GET", "/v2/webhooks/*"),
        step("GET", hook(ID1), Some(RW), ""),
        fault(json!({"type": "delay", "millis": 5}), "GET", "/v2/webhooks/*"),
        step("GET", hook(ID1), Some(RW), ""),
        fault(json!({"type": "drop_connection"}), "GET", "/v2/webhooks/*"),
        step("GET", hook(ID1), Some(RW), ""),
        fault(json!({"type": "drop_connection_after_handling"}), "PATCH", "/v2/webhooks/*"),
        step("PATCH", hook(ID1), Some(RW), r#"{"data":{"target_url":"https://x.test/after-drop"}}"#),
        step("GET", hook(ID1), Some(RW), ""),
        step("POST", "/__fake/faults", None, r#"{"data":{"fault":{"type":"explode"}}}"#),
        step("GET", "/__fake/faults", None, ""),
        step("DELETE", "/__fake/faults", None, ""),
        step("POST", "/__fake/events", None, &json!({"data": {"event_type": "note.created",
            "id": {"workspace_id": WORKSPACE, "note_id": "n1"}, "actor": {"type": "system", "id": null}}}).to_string()),
        step("GET", "/__fake/clock", None, ""),
        step("POST", "/__fake/clock/advance", None, r#"{"data":{"seconds":5}}"#),
        step("GET", "/__fake/nope", None, ""),
        step("DELETE", "/__fake/requests", None, ""),
        step("GET", "/v2/webhooks", Some(RW), ""),
        step("POST", "/__fake/reset", None, ""),
        step("GET", "/v2/webhooks", Some(RW), ""),
    ]
}

/// What one door did with one request, with the values that differ by
/// nature (fresh ids, secrets, times) replaced by placeholders.
#[derive(Debug, PartialEq)]
enum Outcome {
    Dropped,
    Answer {
        status: u16,
        content_type: Option<String>,
        retry_after: Option<String>,
        body: Value,
    },
}

/// Replaces the values that are fresh on every run.
fn normalize(value: &mut Value) {
    const FRESH: [&str; 9] = [
        "execution_id",
        "webhook_id",
        "secret",
        "created_at",
        "received_at",
        "now",
        "idempotency_key",
        "scheduled_at",
        "attempted_at",
    ];
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let seeded = v.as_str().is_some_and(|s| {
                    [ID1, ID2, ID3, SEEDED_AT].contains(&s) || s.starts_with("secret-")
                });
                if FRESH.contains(&key.as_str()) && !seeded && !v.is_null() {
                    *v = json!("<fresh>");
                } else {
                    normalize(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn outcome(answer: Result<http::Response<Bytes>, ()>) -> Outcome {
    let Ok(answer) = answer else {
        return Outcome::Dropped;
    };
    let header = |name| {
        answer
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let mut body = serde_json::from_slice(answer.body())
        .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(answer.body())}));
    normalize(&mut body);
    let retry_after = header("retry-after").map(|v| {
        // An HTTP date moves with the wall clock; its form does not.
        if v.ends_with("GMT") {
            "<http-date>".to_owned()
        } else {
            v
        }
    });
    Outcome::Answer {
        status: answer.status().as_u16(),
        content_type: header("content-type"),
        retry_after,
        body,
    }
}

/// A way in.
enum Door {
    InProcess(InProcessTransport),
    Http {
        base_url: String,
        client: Box<common::Raw>,
    },
}

impl Door {
    async fn send(&self, step: &Step) -> Result<http::Response<Bytes>, ()> {
        match self {
            Door::InProcess(transport) => {
                let mut request = http::Request::builder()
                    .method(step.method)
                    .uri(format!("http://localhost{}", step.path));
                if let Some(auth) = step.auth {
                    request = request.header("authorization", auth);
                }
                if !step.body.is_empty() {
                    request = request.header("content-type", "application/json");
                }
                transport
                    .send(request.body(step.body.clone()).unwrap())
                    .await
                    .map_err(|_| ())
            }
            Door::Http { base_url, client } => {
                let mut headers = Vec::new();
                if let Some(auth) = step.auth {
                    headers.push(("authorization", auth));
                }
                if !step.body.is_empty() {
                    headers.push(("content-type", "application/json"));
                }
                let url = format!("{base_url}{}", step.path);
                let answer = common::send(client, step.method, &url, &headers, step.body.clone())
                    .await
                    .map_err(|_| ())?;
                let mut response = http::Response::new(answer.body);
                *response.status_mut() = http::StatusCode::from_u16(answer.status).unwrap();
                *response.headers_mut() = answer.headers;
                Ok(response)
            }
        }
    }

    /// The recording as `GET /__fake/requests` shows it: how many, and the
    /// newest entry's method, path, body and the headers the test set.
    async fn recorded(&self) -> Value {
        let answer = self
            .send(&step("GET", "/__fake/requests", None, ""))
            .await
            .expect("the control route answers");
        let log: Value = serde_json::from_slice(answer.body()).unwrap();
        let entries = log["data"].as_array().unwrap();
        let newest = entries.last().map(|e| {
            let headers: Vec<&Value> = e["headers"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| ["authorization", "content-type"].contains(&h[0].as_str().unwrap()))
                .collect();
            json!({"method": e["method"], "path": e["path"], "body": e["body"], "headers": headers})
        });
        json!({"count": entries.len(), "dropped": log["dropped"], "newest": newest})
    }
}

fn fake() -> FakeAttio {
    FakeAttio::builder()
        .token("door-rw", [Scope::ReadWrite])
        .token("door-ro", [Scope::Read])
        .workspace_id(WORKSPACE.parse::<WorkspaceId>().unwrap())
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_door_answers_the_table_alike() {
    let in_process = fake();
    let server: FakeServer = fake().serve().await.unwrap();
    let binary = common::Binary::start(
        &[
            "--token",
            "door-rw",
            "--token",
            "door-ro=webhook:read",
            "--workspace-id",
            WORKSPACE,
        ],
        &[],
    );
    let doors = [
        ("in-process", Door::InProcess(in_process.transport())),
        (
            "server",
            Door::Http {
                base_url: server.base_url().to_owned(),
                client: Box::new(common::raw_client()),
            },
        ),
        (
            "binary",
            Door::Http {
                base_url: binary.base_url.clone(),
                client: Box::new(common::raw_client()),
            },
        ),
    ];
    let table = table();
    assert!(
        table
            .iter()
            .filter(|s| !s.path.starts_with("/__fake/faults"))
            .count()
            >= 30
    );
    let mut statuses = Vec::new();
    for (i, step) in table.iter().enumerate() {
        let mut seen = Vec::new();
        for (name, door) in &doors {
            let answer = outcome(door.send(step).await);
            let recorded = door.recorded().await;
            seen.push((name, answer, recorded));
        }
        let (_, first_answer, first_recorded) = &seen[0];
        for (name, answer, recorded) in &seen[1..] {
            assert_eq!(
                answer, first_answer,
                "step {i} ({} {}): {name} answers unlike in-process",
                step.method, step.path
            );
            assert_eq!(
                recorded, first_recorded,
                "step {i} ({} {}): {name} records unlike in-process",
                step.method, step.path
            );
        }
        statuses.push(match first_answer {
            Outcome::Dropped => 0,
            Outcome::Answer { status, .. } => *status,
        });
    }
    // The table reaches what it says it does (checked against the spec's
    // statuses, not against one door's answer).
    for expected in [200, 400, 401, 403, 404, 409, 413, 429, 502, 503, 0] {
        assert!(
            statuses.contains(&expected),
            "no step answered {expected}: {statuses:?}"
        );
    }
}
