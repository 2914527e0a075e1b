//! The fake against the masked snapshots of Attio's answers
//! (`tests/snapshots/attio/`, see `snapshot/mod.rs` and TESTING.md,
//! "Masked snapshots"). Each file's answer was written by hand from the
//! public log or document its `source` names, never from the fake.

use std::time::Instant;

use attio_webhooks::Transport;
use attio_webhooks_testkit::{FakeAttio, InProcessTransport, Scope};

use crate::snapshot::json::Json;
use crate::snapshot::{self, Answer, Recorded, Snapshot, Source, Token};

const READ_WRITE: &str = "snapshot-read-write";
const READ_ONLY: &str = "snapshot-read-only";

fn token(kind: Token) -> Option<String> {
    match kind {
        Token::None => None,
        Token::Unknown => Some(snapshot::UNKNOWN_TOKEN.to_owned()),
        Token::ReadOnly => Some(READ_ONLY.to_owned()),
        Token::ReadWrite => Some(READ_WRITE.to_owned()),
    }
}

/// The scenario's request against a fresh, empty fake with a token of
/// each scope.
async fn fake_answer(snapshot: &Snapshot) -> Answer {
    let fake = FakeAttio::builder()
        .token(READ_WRITE, [Scope::ReadWrite])
        .token(READ_ONLY, [Scope::Read])
        .build();
    let request = snapshot::http_request(&snapshot.request, InProcessTransport::BASE_URL, token);
    let response = fake.transport().send(request).await.unwrap();
    let recorded = Recorded {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.into_body(),
    };
    snapshot::masked(&snapshot.request, &recorded)
}

fn report(file: &str, snapshot: &Snapshot, differences: &[snapshot::diff::Difference]) -> String {
    let mut out = format!(
        "{file} ({}; {}: {}, {}):\n",
        snapshot.scenario, snapshot.source.kind, snapshot.source.from, snapshot.source.date
    );
    for difference in differences {
        out.push_str(&format!("{difference}\n"));
    }
    out
}

/// FIDELITY.md, each row a snapshot names: the fake answers every scenario
/// as its snapshot says, once masked.
#[tokio::test]
async fn the_fake_answers_each_scenario_as_its_snapshot() {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        eprintln!(
            "UPDATE_SNAPSHOTS is ignored: the snapshots are written from Attio's answers, \
             never from the fake's (a live run rewrites them with {}=live)",
            snapshot::WRITE_VAR
        );
    }
    let start = Instant::now();
    let snapshots = snapshot::load_all(&snapshot::dir());
    let mut failures = String::new();
    for (file, _, snapshot) in &snapshots {
        let got = fake_answer(snapshot).await;
        let differences = snapshot::compare(&snapshot.answer, &got);
        if !differences.is_empty() {
            failures.push_str(&report(file, snapshot, &differences));
        }
    }
    eprintln!(
        "{} snapshots compared in {:?}",
        snapshots.len(),
        start.elapsed()
    );
    assert!(
        failures.is_empty(),
        "the fake's answers differ from the snapshots of Attio's:\n{failures}"
    );
}

/// The scenarios there are, so a deleted file fails too.
const SCENARIOS: [&str; 10] = [
    "create.json",
    "create_empty_data.json",
    "delete_unknown.json",
    "get_unknown.json",
    "list_empty.json",
    "no_token.json",
    "read_only_token_creates.json",
    "unknown_route.json",
    "unknown_token.json",
    "update_unknown.json",
];

/// Every file says where its answer came from, names FIDELITY.md rows that
/// exist, and is in the form `write_live` writes (so a live rewrite's diff
/// holds only what changed).
#[test]
fn each_snapshot_says_where_it_came_from() {
    let fidelity = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../FIDELITY.md"),
    )
    .unwrap();
    let snapshots = snapshot::load_all(&snapshot::dir());
    let names: Vec<&str> = snapshots.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(names, SCENARIOS);
    for (file, text, snapshot) in &snapshots {
        let source = &snapshot.source;
        assert!(
            snapshot::KINDS.contains(&source.kind.as_str()),
            "{file}: {}",
            source.kind
        );
        assert!(!source.from.is_empty() && !source.date.is_empty(), "{file}");
        assert!(
            !source.fidelity.is_empty(),
            "{file} names no FIDELITY.md row"
        );
        for row in &source.fidelity {
            assert!(
                fidelity.contains(&format!("\n| {row} |")),
                "{file}: FIDELITY.md has no row \"{row}\""
            );
        }
        assert!(
            fidelity.contains(&format!("`{file}`")),
            "FIDELITY.md does not point to {file}"
        );
        assert_eq!(
            *text,
            snapshot::to_text(snapshot),
            "{file} is not in the writer's form"
        );
    }
}

/// The comparison fails, naming the field, when the fake's answer differs:
/// the fake's real answers against snapshots changed here in memory.
#[tokio::test]
async fn a_changed_answer_is_a_difference_naming_its_field() {
    let snapshots = snapshot::load_all(&snapshot::dir());
    let find = |name: &str| {
        snapshots
            .iter()
            .find(|(file, _, _)| file == name)
            .map(|(_, _, s)| s.clone())
            .unwrap()
    };

    let mut delete = find("delete_unknown.json");
    let got = fake_answer(&delete).await;
    assert!(snapshot::compare(&delete.answer, &got).is_empty());
    delete.answer.body = Json::parse(
        r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Webhook was not found"}"#,
    )
    .unwrap();
    let differences: Vec<String> = snapshot::compare(&delete.answer, &got)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        differences,
        ["  body.message\n    expected: \"Webhook was not found\"\n    got:      \"Webhook not found\""]
    );

    // Another precision of `created_at`, a secret no longer masked, another
    // status and no execution id: each named.
    let mut create = find("create.json");
    let got = fake_answer(&create).await;
    assert!(snapshot::compare(&create.answer, &got).is_empty());
    let text = create
        .answer
        .body
        .compact()
        .replace("<timestamp:ms-padded-to-9>", "<timestamp:ns>");
    create.answer.body = Json::parse(&text).unwrap();
    create.answer.status = 201;
    let Json::Object(headers) = &mut create.answer.headers else {
        panic!()
    };
    headers.retain(|(name, _)| name != "x-attio-execution-id");
    let at: Vec<String> = snapshot::compare(&create.answer, &got)
        .into_iter()
        .map(|d| d.at)
        .collect();
    assert_eq!(
        at,
        [
            "status",
            "header x-attio-execution-id",
            "body.data.created_at"
        ]
    );
}

/// `write_live` (what a live run calls with `ATTIO_SNAPSHOTS_WRITE=live`)
/// writes the masked answer and the run as its source; the rewritten file
/// reads back, and its diff against the seeded one names what changed.
#[test]
fn a_live_run_rewrites_a_snapshot_masked() {
    let dir = std::env::temp_dir().join(format!(
        "attio-snapshots-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let snapshots = snapshot::load_all(&snapshot::dir());
    let (file, _, seeded) = snapshots
        .iter()
        .find(|(file, _, _)| file == "get_unknown.json")
        .unwrap();
    // What Attio might answer one day, written by hand.
    let id = seeded.request.path.rsplit('/').next().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        "application/json; charset=utf-8".parse().unwrap(),
    );
    headers.insert(
        "x-attio-execution-id",
        "a7e75d7b-ee72-4ecc-b78a-ed3a2eb4171d".parse().unwrap(),
    );
    headers.insert("cf-ray", "965cb2773f9a7295-EWR".parse().unwrap());
    let recorded = Recorded {
        status: 404,
        headers,
        body: format!(
            r#"{{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Webhook {id} not found"}}"#
        )
        .into(),
    };
    let source = Source {
        kind: "observed live".to_owned(),
        from: "live run against https://api.attio.com".to_owned(),
        date: "2026-12-01".to_owned(),
        fidelity: seeded.source.fidelity.clone(),
        notes: None,
    };
    let path = snapshot::write_live(
        &dir,
        file,
        &seeded.scenario,
        &seeded.request,
        &recorded,
        source,
    )
    .unwrap();
    let written = snapshot::load_all(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let (_, text, rewritten) = &written[0];
    assert_eq!(path.file_name().unwrap().to_str(), Some(file.as_str()));
    assert_eq!(*text, snapshot::to_text(rewritten));
    // The request keeps its id (it is what a run sends); the answer has none.
    let answer = serde_json::to_string(&rewritten.answer).unwrap();
    assert!(
        !answer.contains(id) && !answer.contains("a7e75d7b"),
        "{text}"
    );
    assert!(
        !text.contains("cf-ray"),
        "only the headers that matter: {text}"
    );
    assert_eq!(
        rewritten.request.path, seeded.request.path,
        "the request is kept"
    );
    let differences: Vec<String> = snapshot::compare(&seeded.answer, &rewritten.answer)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        differences,
        [r#"  body.message
    expected: "Webhook with ID \"<uuid:1>\" was not found."
    got:      "Webhook <uuid:1> not found""#]
    );
}
