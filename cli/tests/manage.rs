//! The built `attio-webhooks` binary against the fake Attio over loopback:
//! the manage commands, plan/apply, exit codes and help.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use attio_webhooks::{EventType, Subscription};
use common::{Cli, Fake, Scratch, TOKEN};
use serde_json::{json, Value};

fn created_json(fake: &Fake, index: usize) -> Value {
    serde_json::to_value(&fake.server.webhooks_with_secrets()[index]).unwrap()
}

fn webhook_json(fake: &Fake, index: usize) -> Value {
    serde_json::to_value(&fake.server.webhooks_with_secrets()[index].webhook).unwrap()
}

#[test]
fn full_lifecycle_in_tables_and_json() {
    let fake = Fake::start();
    let empty = fake.cli().args(["list"]).run().expect_code(0);
    assert_eq!(empty.stdout.trim(), "No webhooks.");
    assert_eq!(
        fake.cli()
            .args(["list", "--json"])
            .run()
            .expect_code(0)
            .json(),
        json!([])
    );

    // create, JSON: the API object with its secret, as the fake stored it.
    let created = fake
        .cli()
        .args([
            "create",
            "--url",
            "https://example.com/hook",
            "--event",
            "record.created:id.object_id=people,actor.type!=system",
            "--event",
            "note.created",
            "--json",
        ])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(created, created_json(&fake, 0));
    assert_eq!(
        created["subscriptions"],
        json!([
            {"event_type": "record.created", "filter": {"$and": [
                {"field": "id.object_id", "operator": "equals", "value": "people"},
                {"field": "actor.type", "operator": "not_equals", "value": "system"}]}},
            {"event_type": "note.created", "filter": null}
        ])
    );
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64);
    let first = created["id"]["webhook_id"].as_str().unwrap().to_owned();

    // create, table: the secret is printed once, with a reminder on stderr.
    let second = fake
        .cli()
        .args([
            "create",
            "--url",
            "https://example.com/other",
            "--event",
            "note.created:|actor.type=app",
        ])
        .run()
        .expect_code(0);
    let stored = fake.server.webhooks_with_secrets()[1].clone();
    assert!(
        second
            .stdout
            .contains(&format!("secret      {}", stored.secret.expose())),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains("note.created:|actor.type=app"),
        "{}",
        second.stdout
    );
    assert!(
        second.stderr.contains("only this once"),
        "{}",
        second.stderr
    );
    let second_id = stored.webhook.webhook_id().to_string();

    // get
    let got = fake
        .cli()
        .args(["get", &first, "--json"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(got, webhook_json(&fake, 0));
    assert!(got.get("secret").is_none());
    let shown = fake.cli().args(["get", &first]).run().expect_code(0).stdout;
    for expected in [
        format!("id          {first}"),
        "status      active".to_owned(),
        "target_url  https://example.com/hook".to_owned(),
        "  record.created:id.object_id=people,actor.type!=system".to_owned(),
        "  note.created".to_owned(),
    ] {
        assert!(
            shown.contains(&expected),
            "{expected:?} missing from\n{shown}"
        );
    }

    // update: a new URL and subscriptions that replace the old ones.
    let updated = fake
        .cli()
        .args([
            "update",
            &first,
            "--url",
            "https://example.com/v2",
            "--event",
            "task.created",
            "--json",
        ])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(updated, webhook_json(&fake, 0));
    assert_eq!(updated["target_url"], "https://example.com/v2");
    assert_eq!(
        updated["subscriptions"],
        json!([{"event_type": "task.created", "filter": null}])
    );

    // list, table: one row per subscription.
    let table = fake.cli().args(["list"]).run().expect_code(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID")
            && lines[0].contains("STATUS")
            && lines[0].contains("SUBSCRIPTIONS")
    );
    assert!(
        lines[1].starts_with(&first)
            && lines[1].contains("https://example.com/v2")
            && lines[1].ends_with("task.created")
    );
    assert!(lines[2].starts_with(&second_id) && lines[2].ends_with("note.created:|actor.type=app"));

    // delete, then the webhook is gone: 404, exit 3.
    let deleted = fake.cli().args(["delete", &first]).run().expect_code(0);
    assert_eq!(deleted.stdout.trim(), format!("Deleted {first}."));
    assert_eq!(
        fake.cli()
            .args(["delete", &second_id, "--json"])
            .run()
            .expect_code(0)
            .json(),
        json!({})
    );
    assert!(fake.server.webhooks_with_secrets().is_empty());
    let gone = fake.cli().args(["get", &first]).run().expect_code(3);
    assert!(
        gone.stderr
            .contains(&format!("Webhook with ID \"{first}\" was not found.")),
        "{}",
        gone.stderr
    );
}

#[test]
fn create_from_a_file_in_the_api_shape() {
    let fake = Fake::start();
    let scratch = Scratch::new();
    let yaml = scratch.write(
        "one.yaml",
        "target_url: https://example.com/from-yaml\nsubscriptions:\n  - event_type: list-entry.created\n    filter: {$or: [{field: id.list_id, operator: equals, value: sales}]}\n",
    );
    fake.cli()
        .args(["create", "--from"])
        .arg_path(&yaml)
        .run()
        .expect_code(0);
    let request = scratch.write(
        "request.json",
        r#"{"data":{"target_url":"https://example.com/from-json","subscriptions":[{"event_type":"task.created","filter":null}]}}"#,
    );
    let secrets = scratch.path("secrets.json");
    let created = fake
        .cli()
        .args(["create", "--json", "--from"])
        .arg_path(&request)
        .args(["--secrets-out"])
        .arg_path(&secrets)
        .run()
        .expect_code(0)
        .json();
    // With --secrets-out the secret is in the file, not in the output.
    assert!(created.get("secret").is_none());
    let stored = fake.server.webhooks_with_secrets();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        serde_json::to_value(&stored[0].webhook.subscriptions).unwrap(),
        json!([{"event_type": "list-entry.created", "filter": {"$or": [{"field": "id.list_id", "operator": "equals", "value": "sales"}]}}])
    );
    let file: Value = serde_json::from_slice(&std::fs::read(&secrets).unwrap()).unwrap();
    assert_eq!(
        file,
        json!([{"webhook_id": stored[1].webhook.webhook_id(), "target_url": "https://example.com/from-json", "secret": stored[1].secret.expose()}])
    );
    #[cfg(unix)]
    assert_eq!(common::mode(&secrets), 0o600);
}

#[test]
fn list_fetches_every_page_with_progress_or_one_page() {
    let fake = Fake::start();
    let client = fake.client();
    fake.block_on(async {
        for i in 0..25 {
            client
                .create_webhook(
                    format!("https://example.com/{i}"),
                    vec![Subscription::new(EventType::NoteCreated)],
                )
                .await
                .unwrap();
        }
    });
    let expected: Vec<Value> = (0..25).map(|i| webhook_json(&fake, i)).collect();

    let all = fake
        .cli()
        .args(["list", "--page-size", "10", "--json"])
        .run()
        .expect_code(0);
    assert_eq!(all.json(), Value::Array(expected.clone()));
    assert!(all.stderr.contains("listed 10 webhooks"), "{}", all.stderr);
    assert!(all.stderr.contains("listed 20 webhooks"), "{}", all.stderr);
    let quiet = fake
        .cli()
        .args(["list", "--page-size", "10", "--json", "--quiet"])
        .run()
        .expect_code(0);
    assert_eq!(quiet.stderr, "");

    let page = fake
        .cli()
        .args(["list", "--limit", "10", "--offset", "20", "--json"])
        .run()
        .expect_code(0);
    assert_eq!(page.json(), Value::Array(expected[20..].to_vec()));
}

const WEBHOOKS_YAML: &str = r#"
owns: [https://example.com/]
webhooks:
  - target_url: https://example.com/crm
    subscriptions:
      - event_type: record.created
        filter:
          $and:
            - {field: id.object_id, operator: equals, value: people}
            - {field: actor.type, operator: not_equals, value: system}
      - event_type: note.created
  - target_url: https://example.com/tasks
    subscriptions:
      - event_type: task.created
        filter: null
"#;

/// The same webhooks as JSON, with subscriptions and conditions reordered:
/// Attio considers them equal, so plan must too.
const WEBHOOKS_JSON_REORDERED: &str = r#"[
  {"target_url": "https://example.com/tasks",
   "subscriptions": [{"event_type": "task.created", "filter": null}]},
  {"target_url": "https://example.com/crm",
   "subscriptions": [
     {"event_type": "note.created"},
     {"event_type": "record.created", "filter": {"$and": [
        {"value": "system", "operator": "not_equals", "field": "actor.type"},
        {"field": "id.object_id", "operator": "equals", "value": "people"}]}}]}
]"#;

#[test]
fn plan_and_apply_converge_and_prune() {
    let fake = Fake::start();
    let scratch = Scratch::new();
    let yaml = scratch.write("webhooks.yaml", WEBHOOKS_YAML);
    let secrets = scratch.path("secrets.json");

    // plan: two creates, exit 5.
    let planned = fake
        .cli()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg_path(&yaml)
        .run()
        .expect_code(5);
    assert!(planned.stdout.contains("+ create https://example.com/crm\n    + record.created:id.object_id=people,actor.type!=system\n    + note.created"), "{}", planned.stdout);
    assert!(
        planned
            .stdout
            .contains("Plan: 2 to create, 0 to update, 0 to delete; 0 unchanged."),
        "{}",
        planned.stdout
    );
    let planned_json = fake
        .cli()
        .args(["plan", "--detailed-exitcode", "--json", "-f"])
        .arg_path(&yaml)
        .run()
        .expect_code(5)
        .json();
    let actions: Vec<&str> = planned_json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "create"]);
    assert!(
        fake.server.webhooks_with_secrets().is_empty(),
        "plan changed nothing"
    );

    // apply: creates both; secrets go to the private file, not stdout.
    let applied = fake
        .cli()
        .args(["apply", "-f"])
        .arg_path(&yaml)
        .args(["--secrets-out"])
        .arg_path(&secrets)
        .run()
        .expect_code(0);
    let stored = fake.server.webhooks_with_secrets();
    assert_eq!(stored.len(), 2);
    for created in &stored {
        assert!(!applied.stdout.contains(created.secret.expose()));
        assert!(applied.stdout.contains(&format!(
            "created  {}  {}",
            created.webhook.webhook_id(),
            created.webhook.target_url
        )));
    }
    assert!(
        applied
            .stderr
            .contains("[1/2] + create https://example.com/crm"),
        "{}",
        applied.stderr
    );
    let file: Vec<Value> = serde_json::from_slice(&std::fs::read(&secrets).unwrap()).unwrap();
    let expected: Vec<Value> = stored
        .iter()
        .map(|c| json!({"webhook_id": c.webhook.webhook_id(), "target_url": c.webhook.target_url, "secret": c.secret.expose()}))
        .collect();
    assert_eq!(file, expected);
    #[cfg(unix)]
    assert_eq!(common::mode(&secrets), 0o600);

    // apply again: nothing to do, nothing done.
    let again = fake
        .cli()
        .args(["apply", "-f"])
        .arg_path(&yaml)
        .run()
        .expect_code(0);
    assert!(
        again
            .stdout
            .contains("No changes: the workspace matches the file (2 webhooks)."),
        "{}",
        again.stdout
    );
    assert_eq!(fake.server.webhooks_with_secrets(), stored);
    fake.cli()
        .args(["plan", "-f"])
        .arg_path(&yaml)
        .run()
        .expect_code(0);
    // Reordered subscriptions and conditions are the same to Attio.
    let reordered = scratch.write("reordered.json", WEBHOOKS_JSON_REORDERED);
    fake.cli()
        .args(["plan", "-f"])
        .arg_path(&reordered)
        .run()
        .expect_code(0);
    // `list --json` output is itself a file plan reads, and it matches.
    let listed = fake
        .cli()
        .args(["list", "--json"])
        .run()
        .expect_code(0)
        .stdout;
    let listed = scratch.write("listed.json", &listed);
    fake.cli()
        .args(["plan", "-f"])
        .arg_path(&listed)
        .run()
        .expect_code(0);

    // A changed filter is an update of the same webhook.
    let changed = scratch.write(
        "changed.yaml",
        &WEBHOOKS_YAML.replace("value: people", "value: companies"),
    );
    let plan = fake
        .cli()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg_path(&changed)
        .run()
        .expect_code(5)
        .stdout;
    let crm_id = stored[0].webhook.webhook_id().to_string();
    assert!(plan.contains(&format!("~ update https://example.com/crm ({crm_id})\n    - record.created:id.object_id=people,actor.type!=system\n    + record.created:id.object_id=companies,actor.type!=system")), "{plan}");
    let applied = fake
        .cli()
        .args(["apply", "--json", "-f"])
        .arg_path(&changed)
        .run()
        .expect_code(0)
        .json();
    assert_eq!(applied["updated"][0], webhook_json(&fake, 0));
    assert_eq!(applied["updated"][0]["id"]["webhook_id"], crm_id.as_str());
    assert_eq!(
        applied["updated"][0]["subscriptions"][0]["filter"]["$and"][0]["value"],
        "companies"
    );
    fake.cli()
        .args(["plan", "-f"])
        .arg_path(&changed)
        .run()
        .expect_code(0);

    // A webhook not in the file is left alone, unless --prune.
    fake.block_on(fake.client().create_webhook(
        "https://example.com/stray",
        vec![Subscription::new(EventType::TaskDeleted)],
    ))
    .unwrap();
    let kept = fake
        .cli()
        .args(["plan", "-f"])
        .arg_path(&changed)
        .run()
        .expect_code(0);
    assert!(
        kept.stdout
            .contains("not in the file; left alone (--prune deletes them)"),
        "{}",
        kept.stdout
    );
    let prune = fake
        .cli()
        .args(["plan", "--detailed-exitcode", "--prune", "-f"])
        .arg_path(&changed)
        .run()
        .expect_code(5);
    assert!(
        prune.stdout.contains("- delete https://example.com/stray"),
        "{}",
        prune.stdout
    );
    fake.cli()
        .args(["apply", "--prune", "--yes", "-f"])
        .arg_path(&changed)
        .run()
        .expect_code(0);
    let urls: Vec<String> = fake
        .server
        .webhooks_with_secrets()
        .into_iter()
        .map(|c| c.webhook.target_url)
        .collect();
    assert_eq!(
        urls,
        ["https://example.com/crm", "https://example.com/tasks"]
    );
    fake.cli()
        .args(["plan", "--prune", "-f"])
        .arg_path(&changed)
        .run()
        .expect_code(0);

    // Without --secrets-out, apply prints each new secret once; --json keeps it in the object.
    let more = scratch.write("more.json", r#"[{"target_url":"https://example.com/new","subscriptions":[{"event_type":"list.created"}]}]"#);
    let created = fake
        .cli()
        .args(["apply", "--json", "-f"])
        .arg_path(&more)
        .run()
        .expect_code(0)
        .json();
    let newest = fake.server.webhooks_with_secrets().pop().unwrap();
    assert_eq!(
        created["created"],
        json!([serde_json::to_value(&newest).unwrap()])
    );
}

#[test]
fn exit_codes() {
    let fake = Fake::start();
    let scratch = Scratch::new();
    let missing = "0b6a2a1e-3f4d-4c7a-9d32-5a0e0f6b1c2d";

    // 0
    fake.cli().args(["list"]).run().expect_code(0);

    // 2: usage errors, nothing sent.
    for args in [
        vec!["list", "--nope"],
        vec!["get", "not-a-uuid"],
        vec!["list", "--limit", "5"],
        vec![
            "create",
            "--url",
            "https://example.com/x",
            "--event",
            "record.created:oops",
        ],
        vec![
            "create",
            "--url",
            "https://example.com/x",
            "--event",
            "record.created:a=1,b=2|c=3",
        ],
        vec![
            "create",
            "--url",
            "http://example.com/x",
            "--event",
            "note.created",
        ],
        vec!["update", missing],
        vec!["plan", "-f", "/nonexistent/webhooks.yaml"],
    ] {
        let failed = fake.cli().args(&args).run().expect_code(2);
        assert!(
            failed.stderr.starts_with("error:"),
            "{args:?}: {}",
            failed.stderr
        );
    }
    let broken = scratch.write("broken.yaml", "- target_url: https://e.com\n  subscriptions: [{event_type: note.created, filter: {$xor: []}}]\n");
    let failed = fake
        .cli()
        .args(["apply", "-f"])
        .arg_path(&broken)
        .run()
        .expect_code(2);
    assert!(
        failed.stderr.contains("[0].subscriptions[0].filter"),
        "{}",
        failed.stderr
    );
    let no_token = Cli::new()
        .env("ATTIO_BASE_URL", &fake.base_url())
        .args(["list"])
        .run()
        .expect_code(2);
    assert!(
        no_token.stderr.contains("ATTIO_API_KEY"),
        "{}",
        no_token.stderr
    );
    assert!(fake.server.webhooks_with_secrets().is_empty());

    // 3: Attio refused: 404, 401 (the token is never echoed), 409.
    let not_found = fake.cli().args(["get", missing]).run().expect_code(3);
    assert!(
        not_found.stderr.contains("not_found"),
        "{}",
        not_found.stderr
    );
    let bad_token = "sk-wrong-token-value";
    let unauthorized = Cli::new()
        .env("ATTIO_BASE_URL", &fake.base_url())
        .args(["list", "--token", bad_token])
        .run()
        .expect_code(3);
    assert!(
        unauthorized.stderr.contains("401") && unauthorized.stderr.contains("hint"),
        "{}",
        unauthorized.stderr
    );
    assert!(!unauthorized.stderr.contains(bad_token) && !unauthorized.stdout.contains(bad_token));
    let create = [
        "create",
        "--url",
        "https://example.com/dup",
        "--event",
        "note.created",
    ];
    fake.cli().args(create).run().expect_code(0);
    let conflict = fake.cli().args(create).run().expect_code(3);
    assert!(
        conflict.stderr.contains("uniqueness_conflict"),
        "{}",
        conflict.stderr
    );

    // 4: nothing listening.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let refused = Cli::new()
        .env("ATTIO_API_KEY", TOKEN)
        .args(["list", "--base-url", &format!("http://{closed}")])
        .run()
        .expect_code(4);
    assert!(refused.stderr.starts_with("error:"), "{}", refused.stderr);
    // 4: 503 on every attempt (the client retries GETs, then gives up).
    let unavailable = fake.block_on(stub(Stub::Unavailable));
    let failed = Cli::new()
        .env("ATTIO_API_KEY", TOKEN)
        .args(["list", "--base-url", &format!("http://{unavailable}")])
        .run()
        .expect_code(4);
    assert!(failed.stderr.contains("503"), "{}", failed.stderr);
    // 4: a server that never answers, with a 1 s timeout per attempt.
    let silent = fake.block_on(stub(Stub::Silent));
    let timed_out = Cli::new()
        .env("ATTIO_API_KEY", TOKEN)
        .args([
            "get",
            missing,
            "--timeout",
            "1",
            "--base-url",
            &format!("http://{silent}"),
        ])
        .run()
        .expect_code(4);
    assert!(
        timed_out.stderr.contains("no response within the 1s"),
        "{}",
        timed_out.stderr
    );

    // 1: a local failure. The webhook is created but its secret cannot be
    // written to --secrets-out, so it is printed instead of lost.
    let unwritable = scratch.path("no/such/dir/secrets.json");
    let lost = fake
        .cli()
        .args([
            "create",
            "--url",
            "https://example.com/kept",
            "--event",
            "note.created",
            "--secrets-out",
        ])
        .arg_path(&unwritable)
        .run()
        .expect_code(1);
    let kept = fake.server.webhooks_with_secrets().pop().unwrap();
    assert_eq!(kept.webhook.target_url, "https://example.com/kept");
    assert!(
        lost.stdout.contains(kept.secret.expose()),
        "{}",
        lost.stdout
    );
    assert!(
        lost.stderr.contains("the secret was printed instead"),
        "{}",
        lost.stderr
    );

    // 5: plan found differences (and 0 when there are none).
    let file = scratch.write("one.json", r#"[{"target_url":"https://example.com/dup","subscriptions":[{"event_type":"task.created"}]}]"#);
    fake.cli()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg_path(&file)
        .run()
        .expect_code(5);
    fake.cli()
        .args(["apply", "-f"])
        .arg_path(&file)
        .run()
        .expect_code(0);
    fake.cli()
        .args(["plan", "-f"])
        .arg_path(&file)
        .run()
        .expect_code(0);
}

enum Stub {
    /// Answers 503 with Attio's error body to everything.
    Unavailable,
    /// Accepts connections and never answers.
    Silent,
}

/// A minimal HTTP server on loopback, serving until the runtime is dropped.
async fn stub(kind: Stub) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            match kind {
                Stub::Silent => held.push(stream),
                Stub::Unavailable => {
                    tokio::spawn(async move {
                        let mut head = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match tokio::time::timeout(
                                Duration::from_secs(5),
                                stream.read(&mut buf),
                            )
                            .await
                            {
                                Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                                _ => return,
                            }
                        }
                        let body = r#"{"status_code":503,"type":"internal_server_error","code":"internal_error","message":"Service unavailable."}"#;
                        let answer = format!(
                            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(answer.as_bytes()).await;
                    });
                }
            }
        }
    });
    addr
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        "list",
        "get",
        "create",
        "update",
        "delete",
        "plan",
        "apply",
        "dev",
        "trigger",
        "redeliver",
        "listen",
    ] {
        let help = Cli::new().args([command, "--help"]).run().expect_code(0);
        assert!(
            help.stdout.contains("Example"),
            "{command} --help has no example:\n{}",
            help.stdout
        );
        assert!(
            help.stdout.contains(&format!("attio-webhooks {command}")),
            "{command}: {}",
            help.stdout
        );
    }
    let root = Cli::new().args(["--help"]).run().expect_code(0);
    assert!(root.stdout.contains("Exit codes"));
}

#[test]
fn apply_stops_at_the_first_failure_and_prune_deletes_first() {
    let fake = Fake::start();
    let client = fake.client();
    let scratch = Scratch::new();
    let sub = |t: EventType| vec![Subscription::new(t)];
    fake.block_on(async {
        client
            .create_webhook("https://example.com/c", sub(EventType::NoteCreated))
            .await
            .unwrap();
        client
            .create_webhook("https://example.com/a", sub(EventType::NoteCreated))
            .await
            .unwrap();
        client
            .create_webhook("https://example.com/a", sub(EventType::TaskCreated))
            .await
            .unwrap();
    });
    let before = fake.server.webhooks_with_secrets();
    // The oldest webhook for /a is the match; moving it to task.created
    // collides with the newer one (409) unless --prune deletes that first.
    let file = scratch.write(
        "webhooks.json",
        r#"{"owns": ["https://example.com/"], "webhooks": [
            {"target_url":"https://example.com/c","subscriptions":[{"event_type":"note.updated"}]},
            {"target_url":"https://example.com/a","subscriptions":[{"event_type":"task.created"}]},
            {"target_url":"https://example.com/b","subscriptions":[{"event_type":"list.created"}]}]}"#,
    );
    let stopped = fake
        .cli()
        .args(["apply", "-f"])
        .arg_path(&file)
        .run()
        .expect_code(3);
    assert!(
        stopped.stderr.contains("uniqueness_conflict"),
        "{}",
        stopped.stderr
    );
    assert!(stopped.stdout.contains(&format!(
        "updated  {}  https://example.com/c",
        before[0].webhook.webhook_id()
    )));
    assert!(
        stopped
            .stdout
            .contains("Apply stopped: 0 created, 1 updated, 0 deleted."),
        "{}",
        stopped.stdout
    );
    let after = fake.server.webhooks_with_secrets();
    assert_eq!(after.len(), 3, "nothing after the failure was done");
    assert_eq!(after[1], before[1]);

    let pruned = fake
        .cli()
        .args(["apply", "--prune", "--yes", "-f"])
        .arg_path(&file)
        .run()
        .expect_code(0);
    let now = fake.server.webhooks_with_secrets();
    let summary: Vec<(String, String)> = now
        .iter()
        .map(|c| {
            (
                c.webhook.target_url.clone(),
                c.webhook.subscriptions[0].event_type.to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "https://example.com/c".to_owned(),
                "note.updated".to_owned()
            ),
            (
                "https://example.com/a".to_owned(),
                "task.created".to_owned()
            ),
            (
                "https://example.com/b".to_owned(),
                "list.created".to_owned()
            ),
        ]
    );
    assert_eq!(now[1].webhook.webhook_id(), before[1].webhook.webhook_id());
    let lines: Vec<&str> = pruned.stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!("deleted  {}", before[2].webhook.webhook_id())),
        "{}",
        pruned.stdout
    );
    assert!(
        lines[1].starts_with(&format!("updated  {}", before[1].webhook.webhook_id())),
        "{}",
        pruned.stdout
    );
    // Without --secrets-out the new webhook's secret is printed, once.
    assert_eq!(
        lines[2],
        format!(
            "created  {}  https://example.com/b",
            now[2].webhook.webhook_id()
        )
    );
    assert_eq!(lines[3], format!("  secret  {}", now[2].secret.expose()));
}

#[test]
fn prune_deletes_only_what_the_file_owns_after_confirmation_and_saved_plans_refuse_drift() {
    let fake = Fake::start();
    let scratch = Scratch::new();
    let note = || vec![Subscription::new(EventType::NoteCreated)];
    let (ours, theirs) = fake.block_on(async {
        let client = fake.client();
        let ours = client
            .create_webhook("https://hooks.example.com/old", note())
            .await
            .unwrap();
        let theirs = client
            .create_webhook("https://zapier.example.com/hook", note())
            .await
            .unwrap();
        (ours, theirs)
    });
    let owning = scratch.write(
        "owning.yaml",
        "owns: [https://hooks.example.com/]\nwebhooks:\n  - target_url: https://hooks.example.com/new\n    subscriptions: [{event_type: task.created}]\n",
    );
    let bare = scratch.write(
        "bare.yaml",
        "- target_url: https://hooks.example.com/new\n  subscriptions: [{event_type: task.created}]\n",
    );

    // A file that owns nothing cannot prune: exit 2, nothing changed.
    let refused = fake
        .cli()
        .args(["apply", "--prune", "--yes", "-f"])
        .arg_path(&bare)
        .run()
        .expect_code(2);
    assert!(
        refused.stderr.contains("add a top-level `owns:`"),
        "{}",
        refused.stderr
    );
    assert_eq!(fake.server.webhooks_with_secrets().len(), 2);

    // plan exits 0 whatever it finds; it lists the other integration's
    // webhook as never touched.
    let planned = fake
        .cli()
        .args(["plan", "--prune", "-f"])
        .arg_path(&owning)
        .run()
        .expect_code(0);
    assert!(planned.stdout.contains(&format!(
        "- delete https://hooks.example.com/old ({}): owned (under https://hooks.example.com/) and not wanted",
        ours.webhook.webhook_id()
    )), "{}", planned.stdout);
    assert!(
        planned
            .stdout
            .contains("outside its `owns`); never touched"),
        "{}",
        planned.stdout
    );
    assert!(
        !planned.stdout.contains("- delete https://zapier"),
        "{}",
        planned.stdout
    );

    // Deletes without a terminal need --yes: exit 2, nothing changed.
    let unconfirmed = fake
        .cli()
        .args(["apply", "--prune", "-f"])
        .arg_path(&owning)
        .run()
        .expect_code(2);
    assert!(
        unconfirmed.stderr.contains("pass --yes"),
        "{}",
        unconfirmed.stderr
    );
    assert_eq!(fake.server.webhooks_with_secrets().len(), 2);

    // A saved plan applies exactly, and is refused once the workspace drifts.
    let saved = scratch.path("plan.json");
    fake.cli()
        .args(["plan", "--prune", "-f"])
        .arg_path(&owning)
        .args(["--out"])
        .arg_path(&saved)
        .run()
        .expect_code(0);
    let drift = fake.block_on(
        fake.client()
            .create_webhook("https://hooks.example.com/late", note()),
    );
    let drifted = fake
        .cli()
        .args(["apply", "--yes", "--plan"])
        .arg_path(&saved)
        .run()
        .expect_code(2);
    assert!(
        drifted.stderr.contains("the workspace changed since"),
        "{}",
        drifted.stderr
    );
    assert_eq!(
        fake.server.webhooks_with_secrets().len(),
        3,
        "nothing changed"
    );
    fake.block_on(
        fake.client()
            .delete_webhook(drift.unwrap().webhook.webhook_id()),
    )
    .unwrap();

    // Back as planned: it applies, and the pruned webhook's secret leaves
    // --secrets-out.
    let secrets = scratch.write(
        "secrets.json",
        &serde_json::to_string(&serde_json::json!([{
            "webhook_id": ours.webhook.webhook_id(),
            "target_url": ours.webhook.target_url,
            "secret": ours.secret.expose(),
        }]))
        .unwrap(),
    );
    let applied = fake
        .cli()
        .args(["apply", "--yes", "--plan"])
        .arg_path(&saved)
        .args(["--secrets-out"])
        .arg_path(&secrets)
        .run()
        .expect_code(0);
    assert!(
        applied.stdout.contains("removed its secret"),
        "{}",
        applied.stdout
    );
    let urls: Vec<String> = fake
        .server
        .webhooks_with_secrets()
        .into_iter()
        .map(|c| c.webhook.target_url)
        .collect();
    assert_eq!(
        urls,
        [
            "https://zapier.example.com/hook",
            "https://hooks.example.com/new"
        ]
    );
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    let kept_urls: Vec<&str> = kept
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target_url"].as_str().unwrap())
        .collect();
    assert_eq!(kept_urls, ["https://hooks.example.com/new"]);
    assert_eq!(theirs.webhook.target_url, urls[0]);
}

#[test]
fn completions_and_the_man_page_come_from_the_same_definitions_as_help() {
    let script = Cli::new()
        .args(["completions", "bash"])
        .run()
        .expect_code(0)
        .stdout;
    // bash itself is the oracle: load the script, complete `attio-webhooks pl`.
    let dir = Scratch::new();
    let path = dir.write("completion.bash", &script);
    let completed = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(attio-webhooks pl); COMP_CWORD=1; _attio__webhooks attio-webhooks pl attio-webhooks; echo \"${{COMPREPLY[*]}}\"",
            path.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&completed.stdout).trim(), "plan");
    for shell in ["zsh", "fish"] {
        let out = Cli::new()
            .args(["completions", shell])
            .run()
            .expect_code(0)
            .stdout;
        assert!(out.contains("detailed-exitcode"), "{shell}");
    }
    let man = Cli::new().args(["man"]).run().expect_code(0).stdout;
    assert!(man.contains(".TH attio-webhooks 1"), "{man}");
    for command in ["plan", "apply", "listen", "completions"] {
        assert!(man.contains(command), "{command}");
    }
    Cli::new()
        .args(["completions", "tcsh"])
        .run()
        .expect_code(2);
}

/// `[::ffff:127.0.0.1]` reaches the fake on 127.0.0.1 (a dual-stack socket
/// maps it), yet it is not a loopback host by the rule the CLI applies
/// (only `localhost`, `127.x.x.x` and `[::1]` are): it stands in for a fake
/// on another host, such as `http://fake-attio:8080` in a compose network,
/// without any traffic leaving this machine.
#[test]
fn plain_http_beyond_loopback_needs_the_flag_or_the_variable_and_warns() {
    let fake = Fake::start_with(
        attio_webhooks_testkit::FakeAttio::builder().allow_http_targets_to(["receiver"]),
    );
    let port = fake.server.addr().port();
    let remote = format!("http://[::ffff:127.0.0.1]:{port}");
    let cli = || fake.cli().env("ATTIO_BASE_URL", &remote);

    for refused in [cli(), cli().env("ATTIO_WEBHOOKS_ALLOW_PLAIN_HTTP", "false")] {
        let failed = refused.args(["list"]).run().expect_code(2);
        assert!(
            failed.stderr.contains("--allow-plain-http"),
            "{}",
            failed.stderr
        );
        assert!(
            failed.stderr.contains("ATTIO_WEBHOOKS_ALLOW_PLAIN_HTTP"),
            "{}",
            failed.stderr
        );
        assert!(
            !failed.stderr.contains("allow_insecure_http"),
            "{}",
            failed.stderr
        );
    }
    assert!(fake.server.fake().requests().is_empty(), "nothing was sent");

    for allowed in [
        cli().args(["--allow-plain-http"]),
        cli().env("ATTIO_WEBHOOKS_ALLOW_PLAIN_HTTP", "1"),
    ] {
        let listed = allowed.args(["list", "--json"]).run().expect_code(0);
        assert!(
            listed
                .stderr
                .contains("warning: sending the API token over plain http://"),
            "{}",
            listed.stderr
        );
        assert_eq!(listed.json(), json!([]));
    }

    // http:// target URLs: loopback and the named hosts, nothing else.
    let create = |url: &str| {
        cli().args([
            "--allow-plain-http",
            "--json",
            "create",
            "--url",
            url,
            "--event",
            "note.created",
        ])
    };
    let refused = create("http://receiver:3000/attio").run().expect_code(2);
    assert!(
        refused.stderr.contains("--allow-http-targets-to"),
        "{}",
        refused.stderr
    );
    let created = create("http://receiver:3000/attio")
        .env("ATTIO_WEBHOOKS_ALLOW_HTTP_TARGETS_TO", "receiver")
        .run()
        .expect_code(0)
        .json();
    assert_eq!(created["target_url"], "http://receiver:3000/attio");
    create("http://other:3000/attio")
        .args(["--allow-http-targets-to", "receiver"])
        .run()
        .expect_code(2);
    assert_eq!(fake.server.fake().webhooks().len(), 1);

    // Against https (Attio), naming http hosts is a mistake, said before anything is sent.
    let failed = Cli::new()
        .env("ATTIO_API_KEY", TOKEN)
        .args(["--allow-http-targets-to", "receiver", "list"])
        .run()
        .expect_code(2);
    assert!(
        failed.stderr.contains("--allow-http-targets-to"),
        "{}",
        failed.stderr
    );
}

#[test]
fn version_names_the_commit() {
    let out = Cli::new().args(["--version"]).run().expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        format!(
            "attio-webhooks {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            option_env!("ATTIO_WEBHOOKS_COMMIT").unwrap_or("unknown")
        )
    );
}
