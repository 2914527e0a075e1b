//! `replay FILE --to URL [--secret S | --secret-env NAME]`: send recorded
//! deliveries (`listen --record`) again, optionally re-signed.

use std::time::{Duration, Instant};

use attio_webhooks::receive::signature::{self, SIGNATURE_HEADER, X_SIGNATURE_HEADER};
use attio_webhooks::transport::{HyperTransport, Transport};
use attio_webhooks::Secret;
use bytes::Bytes;
use clap::{ArgGroup, Args};
use serde::Serialize;

use crate::cli_error::{with_causes, CliError};
use crate::context::{Ctx, Status};
use crate::output::line;
use crate::recording::{self, Recorded};

/// Headers of a recording that belong to the connection it arrived on,
/// not to the delivery: never sent again (the transport sets its own).
const CONNECTION_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "proxy-connection",
];

/// The arguments of `replay`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("key").args(["secret", "secret_env"])))]
#[command(
    after_help = "Sends each delivery of a recording (`listen --record FILE`) to URL, one at a time
and in order: a POST with the recorded body, byte for byte, and the recorded headers
(Idempotency-Key, User-Agent, Content-Type, ...; not Host, Content-Length and other
headers of the connection). With --secret (or --secret-env) both Attio-Signature and
X-Attio-Signature are replaced by the body's HMAC-SHA256 with that secret, in
lowercase hex as Attio signs; without, the recorded signatures are sent as they were.
The recorded path is not used: every delivery goes to URL.

Prints one line per delivery (its status and time). Each request is cut off after
--timeout seconds (default 30); a file holds at most 10000 deliveries.

Exit codes: 0 every delivery was answered 200 or 202 (what Attio counts as
delivered), 6 at least one was not, 4 none could be sent at all (nothing answers
at URL), 2 usage error (a bad file or URL; nothing sent).

Examples:
  attio-webhooks replay deliveries.jsonl --to http://localhost:3000/attio
  attio-webhooks replay deliveries.jsonl --to http://localhost:3000/attio --secret-env TEST_SECRET
  attio-webhooks replay deliveries.jsonl --to https://staging.example.com/attio --verified-only --json"
)]
pub struct ReplayArgs {
    /// The recording: JSON lines written by `listen --record`.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Where to send them (http:// or https://).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Re-sign each body with this secret (visible to other users; prefer --secret-env).
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// Re-sign each body with the secret in this environment variable.
    #[arg(long, value_name = "NAME")]
    pub secret_env: Option<String>,
    /// Send only the deliveries `listen` verified, not those it refused.
    #[arg(long)]
    pub verified_only: bool,
}

/// What became of one delivery (a line of `--json`).
#[derive(Debug, Serialize)]
struct Sent {
    /// Its line's position among the deliveries sent, from 1.
    index: usize,
    /// The recorded Idempotency-Key, if any.
    idempotency_key: Option<String>,
    /// The answer's status, if one came.
    status: Option<u16>,
    /// How long the answer took, in milliseconds.
    elapsed_ms: u128,
    /// Why there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Whether the answer was 200 or 202.
    delivered: bool,
}

/// Sends every delivery of the file and reports each answer.
pub async fn run(args: ReplayArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let url = receiver_url(&args.to)?;
    let secret = match (args.secret, args.secret_env) {
        (Some(secret), _) => Some(secret),
        (None, Some(name)) => Some(std::env::var(&name).map_err(|_| {
            CliError::Usage(format!(
                "--secret-env {name}: the variable is not set (or not UTF-8)"
            ))
        })?),
        (None, None) => None,
    };
    if secret.as_deref() == Some("") {
        return Err(CliError::Usage("the signing secret is empty".to_owned()));
    }
    let secret = secret.map(Secret::new);
    let mut deliveries = recording::read(&args.file)?;
    if args.verified_only {
        deliveries.retain(|d| d.outcome == recording::Outcome::Verified);
    }
    let timeout = Duration::from_secs(ctx.global.timeout);
    let transport = HyperTransport::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .max_response_bytes(1024 * 1024)
        .build()
        .map_err(|e| CliError::Local(format!("could not set up HTTPS: {e}")))?;
    ctx.out.progress(&format!(
        "replaying {} deliveries from {} to {url}{}",
        deliveries.len(),
        args.file.display(),
        if secret.is_some() {
            ", re-signed"
        } else {
            " with their recorded signatures"
        }
    ));

    let total = deliveries.len();
    let (mut delivered, mut answered) = (0usize, 0usize);
    for (at, recorded) in deliveries.iter().enumerate() {
        let request = build(&url, recorded, secret.as_ref())?;
        let started = Instant::now();
        let result = tokio::time::timeout(timeout, transport.send(request)).await;
        let elapsed = started.elapsed();
        let (status, error) = match result {
            Err(_) => (
                None,
                Some(format!("no answer within {} s", timeout.as_secs())),
            ),
            Ok(Err(e)) => (None, Some(with_causes(&e))),
            Ok(Ok(response)) => (Some(response.status().as_u16()), None),
        };
        let sent = Sent {
            index: at + 1,
            idempotency_key: recorded.header("idempotency-key").map(str::to_owned),
            status,
            elapsed_ms: elapsed.as_millis(),
            delivered: matches!(status, Some(200 | 202)),
            error,
        };
        answered += usize::from(sent.status.is_some());
        delivered += usize::from(sent.delivered);
        if ctx.out.json {
            ctx.out.json_line(&sent);
        } else {
            let observed = match (&sent.status, &sent.error) {
                (Some(status), _) => status.to_string(),
                (None, Some(why)) => format!("no answer: {why}"),
                (None, None) => "no answer".to_owned(),
            };
            let key = sent
                .idempotency_key
                .as_deref()
                .map(|k| format!("  (key {})", k.get(..8).unwrap_or(k)))
                .unwrap_or_default();
            line(&format!(
                "[{}/{total}]  {observed}  in {} ms{}{key}",
                sent.index,
                sent.elapsed_ms,
                if sent.delivered {
                    ""
                } else {
                    "  NOT DELIVERED"
                },
            ));
        }
    }
    ctx.out.progress(&format!(
        "{delivered} of {total} delivered (answered 200 or 202)"
    ));
    if total > 0 && answered == 0 {
        return Err(CliError::Unreachable(format!(
            "nothing answered at {url}: none of {total} deliveries could be sent"
        )));
    }
    Ok(if delivered == total {
        Status::Done
    } else {
        Status::ChecksFailed
    })
}

/// The request for one recorded delivery: its exact body, its headers but
/// the connection's, re-signed when there is a secret.
fn build(
    url: &http::Uri,
    recorded: &Recorded,
    secret: Option<&Secret>,
) -> Result<http::Request<Bytes>, CliError> {
    let body = recorded
        .body_bytes()
        .map_err(|e| CliError::Usage(format!("a recorded body: {e}")))?;
    let mut request = http::Request::post(url.clone());
    let headers = request
        .headers_mut()
        .ok_or_else(|| CliError::Usage(format!("{url} is not a URL to send to")))?;
    for (name, value) in &recorded.headers {
        let lower = name.to_ascii_lowercase();
        if CONNECTION_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        if secret.is_some()
            && (SIGNATURE_HEADER == lower.as_str() || X_SIGNATURE_HEADER == lower.as_str())
        {
            continue;
        }
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(lower.as_bytes()),
            http::HeaderValue::from_str(value),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    if let Some(secret) = secret {
        let signed = http::HeaderValue::from_str(&signature::sign(secret, &body))
            .map_err(|e| CliError::Local(format!("a signature that is not a header: {e}")))?;
        headers.insert(SIGNATURE_HEADER, signed.clone());
        headers.insert(X_SIGNATURE_HEADER, signed);
    }
    request
        .body(Bytes::from(body))
        .map_err(|e| CliError::Usage(format!("cannot build a request to {url}: {e}")))
}

/// The target: `http://` or `https://` with a host.
fn receiver_url(text: &str) -> Result<http::Uri, CliError> {
    let bad = |why: &str| CliError::Usage(format!("--to {text:?}: {why}"));
    let uri: http::Uri = text.parse().map_err(|_| bad("it does not parse"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad("only http:// and https:// URLs can be replayed to"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(headers: &[(&str, &str)]) -> Recorded {
        let line = serde_json::json!({
            "received_at": "2026-11-27T00:37:22Z", "method": "POST", "path": "/a",
            "status": 200, "outcome": "verified",
            "headers": headers, "body_encoding": "utf-8", "body": "{}"
        });
        serde_json::from_value(line).unwrap()
    }

    #[test]
    fn resigning_replaces_both_signatures_and_keeps_the_rest() {
        let url: http::Uri = "http://127.0.0.1:9/x".parse().unwrap();
        let one = recorded(&[
            ("host", "old:1"),
            ("content-length", "2"),
            ("attio-signature", "aa"),
            ("idempotency-key", "k-1"),
            (
                "user-agent",
                "Attio 2.0 (https://attio.com/developers/using-webhooks)",
            ),
        ]);
        let secret = Secret::new("test");
        let request = build(&url, &one, Some(&secret)).unwrap();
        let expected = signature::sign(&secret, b"{}");
        assert_eq!(request.headers()["attio-signature"], expected.as_str());
        assert_eq!(request.headers()["x-attio-signature"], expected.as_str());
        assert_eq!(request.headers()["idempotency-key"], "k-1");
        assert!(request.headers().get("host").is_none());
        assert!(request.headers().get("content-length").is_none());
        assert_eq!(request.body().as_ref(), b"{}");

        let kept = build(&url, &one, None).unwrap();
        assert_eq!(kept.headers()["attio-signature"], "aa");
        assert!(kept.headers().get("x-attio-signature").is_none());
    }

    #[test]
    fn only_http_and_https_urls() {
        assert!(receiver_url("https://hooks.example.com/a").is_ok());
        for bad in ["ftp://x/", "x/y", "http:///x", ""] {
            assert!(receiver_url(bad).is_err(), "{bad}");
        }
    }
}
