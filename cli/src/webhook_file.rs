//! Webhook definitions read from JSON or YAML files, in the API's own shape.
//!
//! A webhook is `{target_url, subscriptions: [{event_type, filter}]}`, the
//! body of Attio's create request. `filter` is `null`, `{"$and": [...]}`
//! or `{"$or": [...]}` of `{field, operator, value}`; in files it may be
//! left out, meaning `null`. The read-only keys of a listed webhook (`id`,
//! `status`, `created_at`) are accepted and ignored, so the output of
//! `attio-webhooks list --json` is itself a valid file. Any other key is an
//! error, to catch typos.
//!
//! A file for `plan`/`apply` holds a list of webhooks: a bare list,
//! `{"data": [...]}` (Attio's list answer) or `{"webhooks": [...]}`, and,
//! in the last form only, `owns: [prefix, ...]`, the target-URL prefixes
//! the file owns (what `--prune` may delete; without it, nothing). A file
//! for `create --from` holds one webhook, bare or as `{"data": {...}}`
//! (Attio's create request, exactly). Files ending in `.json` are JSON,
//! `.yaml`/`.yml` YAML; others (and `-`, standard input) are JSON when
//! they start with `{` or `[`, YAML otherwise.
//!
//! Limits, so a hostile or mistaken file gets an error, not a hang: at
//! most 8 MiB, and at most 64 levels of nesting (checked on the text
//! before any parser sees it). The webhook shape itself is the library's
//! [`DesiredWebhook`], checked by [`Desired::check`], plus one rule of the
//! CLI's: an operator Attio does not document is refused here (Attio would
//! answer 400), rather than sent.

use std::io::Read;
use std::path::Path;

use attio_webhooks::model::TargetUrlPolicy;
use attio_webhooks::reconcile::{Desired, DesiredWebhook};
use serde::Deserialize;
use serde_json::Value;

use crate::cli_error::CliError;

/// The largest file read.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The deepest nesting of lists and maps accepted (a webhook file needs 6).
pub const MAX_DEPTH: usize = 64;

/// Reads a webhooks file for `plan` and `apply`: the desired webhooks and
/// the prefixes the file owns, checked against `policy` and Attio's rules.
pub fn read_desired(path: &Path, policy: TargetUrlPolicy) -> Result<Desired, CliError> {
    let document = read_document(path)?;
    let (list, owns, prefix) = match document {
        Value::Array(_) => (document, Value::Array(Vec::new()), ""),
        Value::Object(mut map)
            if map.len() == 1 && map.contains_key("data") =>
        {
            (map.remove("data").unwrap_or(Value::Null), Value::Array(Vec::new()), "data")
        }
        Value::Object(mut map)
            if map.contains_key("webhooks")
                && map.keys().all(|k| k == "webhooks" || k == "owns") =>
        {
            let owns = map.remove("owns").unwrap_or(Value::Array(Vec::new()));
            (map.remove("webhooks").unwrap_or(Value::Null), owns, "webhooks")
        }
        Value::Object(map) if map.contains_key("target_url") => {
            return Err(bad(
                path,
                "this file holds one webhook; plan and apply take a list ([...] or {\"webhooks\": [...]}); create --from takes one",
            ))
        }
        _ => {
            return Err(bad(
                path,
                "expected a list of webhooks: [...], {\"data\": [...]} or {\"webhooks\": [...], \"owns\": [...]}",
            ))
        }
    };
    let webhooks: Vec<DesiredWebhook> = typed(path, prefix, list)?;
    let owns: Vec<String> = typed(path, "owns", owns)?;
    let desired = Desired::from_parts(webhooks, owns);
    desired
        .check(&policy)
        .map_err(|e| bad(path, &e.to_string()))?;
    for webhook in desired.webhooks() {
        known_operators(path, webhook)?;
    }
    Ok(desired)
}

/// Reads one webhook (for `create --from`): bare, or Attio's create request `{"data": {...}}`.
pub fn read_one(path: &Path, policy: TargetUrlPolicy) -> Result<DesiredWebhook, CliError> {
    let document = read_document(path)?;
    let (one, prefix) = match document {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("data") => {
            (map.remove("data").unwrap_or(Value::Null), "data")
        }
        Value::Array(_) => {
            return Err(bad(
                path,
                "this file holds a list of webhooks; create --from takes one ({\"target_url\": ..., \"subscriptions\": [...]}); apply -f creates a list",
            ))
        }
        Value::Object(map) if map.contains_key("webhooks") => {
            return Err(bad(
                path,
                "this file holds a list of webhooks (`webhooks:`); create --from takes one; apply -f creates a list",
            ))
        }
        other => (other, ""),
    };
    let webhook: DesiredWebhook = typed(path, prefix, one)?;
    Desired::new()
        .with(webhook.clone())
        .check(&policy)
        .map_err(|e| bad(path, &e.to_string()))?;
    known_operators(path, &webhook)?;
    Ok(webhook)
}

fn known_operators(path: &Path, webhook: &DesiredWebhook) -> Result<(), CliError> {
    for subscription in &webhook.subscriptions {
        let conditions = subscription.filter.iter().flat_map(|f| f.conditions());
        for condition in conditions {
            if !condition.operator.is_known() {
                return Err(bad(
                    path,
                    &format!(
                        "{:?}: operator {:?} in a {} filter is not one Attio documents (equals, not_equals); Attio would refuse it",
                        webhook.target_url,
                        condition.operator.as_str(),
                        subscription.event_type
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn bad(path: &Path, message: &str) -> CliError {
    CliError::Usage(format!("{}: {message}", shown(path)))
}

fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

fn typed<T: for<'de> Deserialize<'de>>(
    path: &Path,
    prefix: &str,
    value: Value,
) -> Result<T, CliError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let at = match (prefix, inner.as_str()) {
            ("", p) => p.to_owned(),
            (prefix, ".") => prefix.to_owned(),
            (prefix, p) if p.starts_with('[') => format!("{prefix}{p}"),
            (prefix, p) => format!("{prefix}.{p}"),
        };
        bad(path, &format!("at {at}: {}", e.inner()))
    })
}

/// Reads at most [`MAX_FILE_BYTES`] (one more byte means too large).
fn read_text(path: &Path) -> Result<String, CliError> {
    let cannot =
        |e: std::io::Error| CliError::Usage(format!("could not read {}: {e}", shown(path)));
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    } else {
        std::fs::File::open(path)
            .map_err(cannot)?
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(bad(
            path,
            &format!(
                "larger than {} MiB; a webhooks file is a few kilobytes",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| bad(path, &format!("not UTF-8 text: {e}")))
}

/// The deepest nesting in a JSON or YAML text, counted in one pass: flow
/// brackets (`[`, `{`) outside quotes, plus block indentation levels (each
/// deeper indentation, or `- ` item marker, opens one). Over-counts rather
/// than under-counts, which only makes the limit stricter.
fn depth(text: &str) -> usize {
    let mut deepest = 0;
    let mut flow: usize = 0;
    let mut indents: Vec<usize> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if flow == 0 {
            let indent = line.len() - trimmed.len();
            while indents.last().is_some_and(|&i| i > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
            // "- - - x": each marker is a level too.
            let markers = trimmed
                .split_inclusive(' ')
                .take_while(|part| *part == "- " || *part == "-")
                .count();
            deepest = deepest.max(indents.len() + markers);
        }
        let mut quote = None;
        let mut escaped = false;
        for c in trimmed.chars() {
            match quote {
                Some(q) => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' && q == '"' {
                        escaped = true;
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '"' | '\'' => quote = Some(c),
                    '[' | '{' => {
                        flow += 1;
                        deepest = deepest.max(indents.len() + flow);
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    '#' if flow == 0 => break,
                    _ => {}
                },
            }
        }
    }
    deepest
}

fn read_document(path: &Path) -> Result<Value, CliError> {
    let text = read_text(path)?;
    if depth(&text) > MAX_DEPTH {
        return Err(bad(
            path,
            &format!("nested deeper than {MAX_DEPTH} levels; a webhooks file needs 6"),
        ));
    }
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let json = match extension {
        "json" => true,
        "yaml" | "yml" => false,
        _ => text.trim_start().starts_with(['{', '[']),
    };
    if json {
        serde_json::from_str(&text).map_err(|e| bad(path, &format!("not valid JSON: {e}")))
    } else {
        serde_yaml_ng::from_str(&text).map_err(|e| bad(path, &format!("not valid YAML: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use attio_webhooks::{Condition, EventType, Filter, Subscription};

    use super::*;

    const HTTPS: TargetUrlPolicy = TargetUrlPolicy::HttpsOnly;

    fn list(path: &Path) -> Result<Desired, CliError> {
        read_desired(path, HTTPS)
    }

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("attio-webhooks-cli-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn yaml_and_json_files_read_alike() {
        let yaml = write(
            "hooks.yaml",
            r#"
webhooks:
  - target_url: https://example.com/a
    subscriptions:
      - event_type: record.created
        filter:
          $and:
            - {field: id.object_id, operator: equals, value: people}
      - event_type: note.created
"#,
        );
        let json = write(
            "hooks.json",
            r#"[{"target_url":"https://example.com/a","subscriptions":[
                {"event_type":"record.created","filter":{"$and":[{"field":"id.object_id","operator":"equals","value":"people"}]}},
                {"event_type":"note.created","filter":null}]}]"#,
        );
        let expected = vec![DesiredWebhook::new(
            "https://example.com/a",
            vec![
                Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
                    Condition::equals("id.object_id", "people"),
                ])),
                Subscription::new(EventType::NoteCreated),
            ],
        )];
        assert_eq!(list(&yaml).unwrap().webhooks(), expected);
        assert_eq!(list(&json).unwrap().webhooks(), expected);
    }

    #[test]
    fn list_output_is_a_valid_file() {
        let listed = write(
            "listed.json",
            r#"[{"target_url":"https://example.com/a","subscriptions":[{"event_type":"task.created","filter":null}],
                "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"},
                "status":"active","created_at":"2023-04-27T13:22:49.061281000Z"}]"#,
        );
        assert_eq!(list(&listed).unwrap().webhooks().len(), 1);
    }

    #[test]
    fn mistakes_are_reported_with_where_they_are() {
        let cases = [
            ("typo.json", r#"[{"target_url":"https://e.com","subscription":[]}]"#, "unknown field `subscription`"),
            ("dup.json", r#"[{"target_url":"https://e.com","subscriptions":[{"event_type":"a.b"}]},{"target_url":"https://e.com","subscriptions":[{"event_type":"c.d"}]}]"#, "same target_url"),
            ("empty.json", r#"[{"target_url":"https://e.com","subscriptions":[]}]"#, "no subscriptions"),
            ("twice.yaml", "- target_url: https://e.com\n  subscriptions:\n  - {event_type: a.b, filter: {$or: [{field: x, operator: equals, value: '1'}, {field: y, operator: equals, value: '2'}]}}\n  - {event_type: a.b, filter: {$or: [{field: y, operator: equals, value: '2'}, {field: x, operator: equals, value: '1'}]}}\n", "twice"),
            ("shape.json", r#"{"hooks":[]}"#, "expected a list"),
            ("type.json", r#"{"data":[{"target_url":"https://e.com","subscriptions":[{"event_type":"a.b","filter":{"$and":[{"field":"x","operator":"equals","value":5}]}}]}]}"#, "data[0].subscriptions[0].filter"),
            ("broken.json", r#"[{"target_url":"#, "not valid JSON"),
        ];
        for (name, text, needle) in cases {
            let message = list(&write(name, text)).unwrap_err().to_string();
            assert!(message.contains(needle), "{name}: {message}");
        }
    }

    #[test]
    fn one_webhook_bare_or_as_the_create_request() {
        let bare = write(
            "one.yaml",
            "target_url: https://e.com\nsubscriptions: [{event_type: note.created}]\n",
        );
        let request = write(
            "one.json",
            r#"{"data":{"target_url":"https://e.com","subscriptions":[{"event_type":"note.created","filter":null}]}}"#,
        );
        assert_eq!(
            read_one(&bare, HTTPS).unwrap(),
            read_one(&request, HTTPS).unwrap()
        );
    }

    #[test]
    fn owns_sits_next_to_webhooks_and_a_bare_list_owns_nothing() {
        let owning = write(
            "owning.yaml",
            "owns: [https://hooks.example.com/]\nwebhooks:\n  - target_url: https://hooks.example.com/a\n    subscriptions: [{event_type: note.created}]\n",
        );
        let desired = list(&owning).unwrap();
        assert_eq!(desired.scope(), ["https://hooks.example.com/"]);
        assert_eq!(desired.webhooks().len(), 1);
        let bare = write(
            "bare.yaml",
            "- target_url: https://hooks.example.com/a\n  subscriptions: [{event_type: note.created}]\n",
        );
        assert!(list(&bare).unwrap().scope().is_empty());
    }

    #[test]
    fn what_attio_would_refuse_is_refused_before_anything_is_sent() {
        let sub = r#""subscriptions":[{"event_type":"note.created"}]"#;
        let cases = [
            ("http.json", format!(r#"[{{"target_url":"http://example.com/a",{sub}}}]"#), "https"),
            ("nourl.json", format!(r#"[{{"target_url":"not a url",{sub}}}]"#), "not a url"),
            (
                "operator.json",
                r#"[{"target_url":"https://e.com/a","subscriptions":[{"event_type":"note.created","filter":{"$and":[{"field":"x","operator":"greater_than","value":"1"}]}}]}]"#.to_owned(),
                "operator \"greater_than\"",
            ),
            ("emptyprefix.json", format!(r#"{{"owns":[""],"webhooks":[{{"target_url":"https://e.com/a",{sub}}}]}}"#), "empty"),
            ("one.json", format!(r#"{{"target_url":"https://e.com/a",{sub}}}"#), "holds one webhook"),
            ("extra.json", r#"{"webhooks":[],"own":[]}"#.to_owned(), "expected a list"),
        ];
        for (name, text, needle) in cases {
            let message = list(&write(name, &text)).unwrap_err().to_string();
            assert!(message.contains(needle), "{name}: {message}");
        }
        // A loopback http URL passes when the client is pointed at a local fake.
        let local = write(
            "local.json",
            &format!(r#"[{{"target_url":"http://127.0.0.1:3000/a",{sub}}}]"#),
        );
        assert!(read_desired(&local, TargetUrlPolicy::AllowLoopbackHttp).is_ok());
    }

    #[test]
    fn create_from_a_list_file_says_so() {
        let listed = write(
            "for-create.yaml",
            "webhooks:\n  - target_url: https://e.com/a\n    subscriptions: [{event_type: note.created}]\n",
        );
        let message = read_one(&listed, HTTPS).unwrap_err().to_string();
        assert!(message.contains("holds a list of webhooks"), "{message}");
        let bare_list = write("for-create.json", r#"[]"#);
        let message = read_one(&bare_list, HTTPS).unwrap_err().to_string();
        assert!(message.contains("create --from takes one"), "{message}");
    }

    #[test]
    fn huge_and_deeply_nested_files_are_refused_quickly() {
        let nested_flow = write(
            "nested.yaml",
            &format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
        );
        let message = list(&nested_flow).unwrap_err().to_string();
        assert!(message.contains("nested deeper than 64"), "{message}");
        let nested_block: String = (0..200)
            .map(|i| format!("{}- \n", " ".repeat(i * 2)))
            .collect();
        let message = list(&write("block.yaml", &nested_block))
            .unwrap_err()
            .to_string();
        assert!(message.contains("nested deeper than 64"), "{message}");
        let dashes = write("dashes.yaml", &format!("{}1\n", "- ".repeat(10_000)));
        let message = list(&dashes).unwrap_err().to_string();
        assert!(message.contains("nested deeper than 64"), "{message}");
        // A bracket inside a quoted string is text, not nesting.
        let quoted = write(
            "quoted.yaml",
            &format!("- target_url: https://e.com/a\n  subscriptions: [{{event_type: note.created, filter: {{$and: [{{field: x, operator: equals, value: '{}'}}]}}}}]\n", "[".repeat(200)),
        );
        assert!(list(&quoted).is_ok(), "{:?}", list(&quoted).err());

        let big = std::env::temp_dir().join(format!(
            "attio-webhooks-cli-big-{}.json",
            std::process::id()
        ));
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_FILE_BYTES + 1).unwrap();
        let message = list(&big).unwrap_err().to_string();
        assert!(message.contains("larger than 8 MiB"), "{message}");
        std::fs::remove_file(big).unwrap();
    }
}
