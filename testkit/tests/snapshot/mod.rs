//! Masked snapshots of Attio's answers (issue 29, item 2): one file per
//! scenario in `testkit/tests/snapshots/attio/`, each holding where its
//! answer came from, the request, and the answer masked by the rules of
//! [`mask`]. `snapshots.rs` runs every file against the fake on each
//! `cargo test`; a live run against Attio (issue 29, item 1) rewrites them
//! with [`write_live`], and the git diff is what a reviewer reads.
//!
//! The seeded files are written by hand from public logs and Attio's
//! documents, never from the fake: they are the oracle, so nothing here
//! rewrites them from the fake's answers (`UPDATE_SNAPSHOTS` does nothing).

#![allow(dead_code)]

pub mod diff;
pub mod json;
pub mod mask;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use json::Json;
use mask::Masker;

/// The seeded snapshots.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/attio")
}

/// The `unknown` token: 64 characters, the length of Attio's keys (a key
/// of another length has a 401 of its own: rbeene/attio_ruby's capture).
/// The fake and a live run send the same one.
pub const UNKNOWN_TOKEN: &str = "snapshot-revoked-00000000000000000000000000000000000000000000000";

/// The headers an answer is compared on; any other header is ignored.
pub const HEADERS: [&str; 4] = [
    "content-type",
    "x-attio-execution-id",
    "retry-after",
    "allow",
];

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub scenario: String,
    pub source: Source,
    pub request: Request,
    pub answer: Answer,
}

/// Where the answer came from.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `observed live` or `documented`.
    pub kind: String,
    /// The public log, pull request or page, precisely enough to find it.
    pub from: String,
    pub date: String,
    /// The rows of FIDELITY.md this answer pins.
    pub fidelity: Vec<String>,
    /// What the source does not show and how the file fills it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

pub const KINDS: [&str; 2] = ["observed live", "documented"];

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub token: Token,
    /// Sent as compact JSON, keys in this order; `null`: no body.
    #[serde(default)]
    pub body: Option<Json>,
}

/// Which token the request carries.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum Token {
    None,
    Unknown,
    ReadOnly,
    ReadWrite,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub status: u16,
    /// Lowercase names of [`HEADERS`] to masked values; a header not named
    /// is absent.
    pub headers: Json,
    pub body: Json,
}

/// An answer as it came, before masking.
pub struct Recorded {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Every snapshot file in `dir`, by file name.
pub fn load_all(dir: &Path) -> Vec<(String, String, Snapshot)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let snapshot =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, text, snapshot)
        })
        .collect()
}

/// The request as HTTP, for `base` (`http://localhost` in process, or
/// Attio's base URL), with `token_for`'s token.
pub fn http_request(
    request: &Request,
    base: &str,
    token_for: impl Fn(Token) -> Option<String>,
) -> http::Request<Bytes> {
    let mut builder = http::Request::builder()
        .method(request.method.as_str())
        .uri(format!("{base}{}", request.path));
    if let Some(token) = token_for(request.token) {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match &request.body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Bytes::from(body.compact())
        }
        None => Bytes::new(),
    };
    builder.body(body).unwrap()
}

/// The answer by the rules of [`mask`], in the exchange's order: the
/// request's path and body, then the answer's headers and body.
pub fn masked(request: &Request, recorded: &Recorded) -> Answer {
    let mut masker = Masker::new();
    masker.string(&request.path);
    if let Some(body) = &request.body {
        masker.json(body);
    }
    let headers = HEADERS
        .iter()
        .filter_map(|name| {
            let value = recorded.headers.get(*name)?;
            let value = String::from_utf8_lossy(value.as_bytes());
            Some((name.to_string(), Json::String(masker.header(name, &value))))
        })
        .collect();
    let body = match std::str::from_utf8(&recorded.body)
        .ok()
        .and_then(|text| Json::parse(text).ok())
    {
        Some(body) => masker.json(&body),
        None => Json::String(format!(
            "<not JSON: {}>",
            String::from_utf8_lossy(&recorded.body)
        )),
    };
    Answer {
        status: recorded.status,
        headers: Json::Object(headers),
        body,
    }
}

/// Each difference between the snapshot's answer and a masked one.
pub fn compare(expected: &Answer, got: &Answer) -> Vec<diff::Difference> {
    let mut out = Vec::new();
    if expected.status != got.status {
        out.push(diff::Difference {
            at: "status".to_owned(),
            expected: expected.status.to_string(),
            got: got.status.to_string(),
        });
    }
    for name in HEADERS {
        let (want, have) = (expected.headers.get(name), got.headers.get(name));
        if want != have {
            let show = |v: Option<&Json>| v.map_or(diff::ABSENT.to_owned(), Json::compact);
            out.push(diff::Difference {
                at: format!("header {name}"),
                expected: show(want),
                got: show(have),
            });
        }
    }
    diff::json("body", &expected.body, &got.body, &mut out);
    out
}

/// The text of a snapshot file: pretty JSON, two-space indents, keys in
/// the tree's order, a final newline. The seeded files are in this form
/// (checked by `snapshots.rs`), so a live rewrite changes only what changed.
pub fn to_text(snapshot: &Snapshot) -> String {
    serde_json::to_string_pretty(snapshot).unwrap() + "\n"
}

/// The environment variable that lets a live run rewrite the snapshots.
pub const WRITE_VAR: &str = "ATTIO_SNAPSHOTS_WRITE";

/// True when `ATTIO_SNAPSHOTS_WRITE=live`: the live mode (issue 29, item 1)
/// then calls [`write_live`] with each answer Attio gave. Runs against the
/// fake never write, whatever the variable says.
pub fn live_writes_enabled() -> bool {
    writes_live(std::env::var(WRITE_VAR).ok().as_deref())
}

/// Whether `value`, the value of [`WRITE_VAR`], asks for live writes.
pub fn writes_live(value: Option<&str>) -> bool {
    value == Some("live")
}

/// Rewrites `dir/file` from a live answer: the scenario's name and request
/// are kept, the answer is `recorded` masked, and `source` says which run
/// it was (kind `observed live`, `from` the base URL and the run, `date`).
/// Returns the file's path; `git diff` on it is the review.
pub fn write_live(
    dir: &Path,
    file: &str,
    scenario: &str,
    request: &Request,
    recorded: &Recorded,
    source: Source,
) -> std::io::Result<PathBuf> {
    assert_eq!(
        source.kind, "observed live",
        "a live run writes what it observed"
    );
    let snapshot = Snapshot {
        scenario: scenario.to_owned(),
        source,
        request: request.clone(),
        answer: masked(request, recorded),
    };
    let path = dir.join(file);
    std::fs::write(&path, to_text(&snapshot))?;
    Ok(path)
}
