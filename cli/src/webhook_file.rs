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
//! `{"data": [...]}` (Attio's list answer) or `{"webhooks": [...]}`. A file
//! for `create --from` holds one webhook, bare or as `{"data": {...}}`
//! (Attio's create request, exactly). Files ending in `.json` are JSON,
//! `.yaml`/`.yml` YAML; others (and `-`, standard input) are JSON when
//! they start with `{` or `[`, YAML otherwise.

use std::path::Path;

use attio_webhooks::{EventType, Filter, Subscription};
use serde::Deserialize;
use serde_json::Value;

use crate::cli_error::CliError;

/// One webhook as a file defines it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSpec {
    /// Where events go; also the key `plan` matches webhooks by.
    pub target_url: String,
    /// What it receives.
    pub subscriptions: Vec<Subscription>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebhook {
    target_url: String,
    subscriptions: Vec<FileSubscription>,
    // Read-only keys of a listed webhook, accepted so that `list --json`
    // output can be used as a file.
    #[serde(default, rename = "id")]
    _id: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "status")]
    _status: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "created_at")]
    _created_at: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSubscription {
    event_type: EventType,
    #[serde(default)]
    filter: Option<Filter>,
}

impl From<FileWebhook> for WebhookSpec {
    fn from(file: FileWebhook) -> Self {
        WebhookSpec {
            target_url: file.target_url,
            subscriptions: file
                .subscriptions
                .into_iter()
                .map(|s| {
                    let subscription = Subscription::new(s.event_type);
                    match s.filter {
                        Some(filter) => subscription.with_filter(filter),
                        None => subscription,
                    }
                })
                .collect(),
        }
    }
}

/// Reads a list of webhooks (for `plan` and `apply`) and checks it: each
/// target URL once, at least one subscription each, no subscription twice.
pub fn read_list(path: &Path) -> Result<Vec<WebhookSpec>, CliError> {
    let document = read_document(path)?;
    let (list, prefix) =
        match document {
            Value::Array(_) => (document, ""),
            Value::Object(mut map)
                if map.len() == 1 && (map.contains_key("data") || map.contains_key("webhooks")) =>
            {
                let key = if map.contains_key("data") {
                    "data"
                } else {
                    "webhooks"
                };
                (map.remove(key).unwrap_or(Value::Null), key)
            }
            _ => return Err(bad(
                path,
                "expected a list of webhooks: [...], {\"data\": [...]} or {\"webhooks\": [...]}",
            )),
        };
    let parsed: Vec<FileWebhook> = typed(path, prefix, list)?;
    let specs: Vec<WebhookSpec> = parsed.into_iter().map(WebhookSpec::from).collect();
    for (i, spec) in specs.iter().enumerate() {
        check(path, spec)?;
        if let Some(j) = specs[..i]
            .iter()
            .position(|s| s.target_url == spec.target_url)
        {
            return Err(bad(
                path,
                &format!(
                    "webhooks {j} and {i} have the same target_url {:?}; webhooks are matched by target URL, so each may appear once (merge their subscriptions)",
                    spec.target_url
                ),
            ));
        }
    }
    Ok(specs)
}

/// Reads one webhook (for `create --from`): bare, or Attio's create request `{"data": {...}}`.
pub fn read_one(path: &Path) -> Result<WebhookSpec, CliError> {
    let document = read_document(path)?;
    let (one, prefix) = match document {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("data") => {
            (map.remove("data").unwrap_or(Value::Null), "data")
        }
        other => (other, ""),
    };
    let spec = WebhookSpec::from(typed::<FileWebhook>(path, prefix, one)?);
    check(path, &spec)?;
    Ok(spec)
}

fn check(path: &Path, spec: &WebhookSpec) -> Result<(), CliError> {
    if spec.subscriptions.is_empty() {
        return Err(bad(
            path,
            &format!(
                "{:?} has no subscriptions; a webhook needs at least one",
                spec.target_url
            ),
        ));
    }
    for (i, a) in spec.subscriptions.iter().enumerate() {
        if spec.subscriptions[..i]
            .iter()
            .any(|b| same_subscription(a, b))
        {
            return Err(bad(
                path,
                &format!(
                    "{:?} subscribes to {} twice with the same filter; Attio refuses that (409 uniqueness_conflict)",
                    spec.target_url, a.event_type
                ),
            ));
        }
    }
    Ok(())
}

/// Same event type and a filter Attio considers the same (condition order ignored).
pub fn same_subscription(a: &Subscription, b: &Subscription) -> bool {
    a.equivalent(b)
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

fn read_document(path: &Path) -> Result<Value, CliError> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| CliError::Usage(format!("could not read {}: {e}", shown(path))))?;
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
    use attio_webhooks::Condition;

    use super::*;

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
        let expected = vec![WebhookSpec {
            target_url: "https://example.com/a".into(),
            subscriptions: vec![
                Subscription::new(EventType::RecordCreated).with_filter(Filter::And(vec![
                    Condition::equals("id.object_id", "people"),
                ])),
                Subscription::new(EventType::NoteCreated),
            ],
        }];
        assert_eq!(read_list(&yaml).unwrap(), expected);
        assert_eq!(read_list(&json).unwrap(), expected);
    }

    #[test]
    fn list_output_is_a_valid_file() {
        let listed = write(
            "listed.json",
            r#"[{"target_url":"https://example.com/a","subscriptions":[{"event_type":"task.created","filter":null}],
                "id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"},
                "status":"active","created_at":"2023-04-27T13:22:49.061281000Z"}]"#,
        );
        assert_eq!(read_list(&listed).unwrap().len(), 1);
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
            let message = read_list(&write(name, text)).unwrap_err().to_string();
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
        assert_eq!(read_one(&bare).unwrap(), read_one(&request).unwrap());
    }
}
