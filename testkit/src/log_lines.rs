//! The fake's log on stderr (`FakeAttioBuilder::log_requests_as`,
//! `fake-attio --log-requests`): one line per request served over HTTP and
//! one per delivery attempt, as JSON or as text. Never a header, a body, a
//! query string, a signature or a secret.

use std::fmt::Write as _;

use serde_json::json;

/// How the fake writes its log lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON object a line (the default).
    #[default]
    Json,
    /// `key=value` pairs after the kind of line, for reading.
    Text,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            other => Err(format!("unknown log format {other:?}: json or text")),
        }
    }
}

#[cfg_attr(not(feature = "server"), allow(dead_code))]
/// The line of one request: method, path (no query), status (0 when the
/// connection was dropped), microseconds and the execution id answered.
pub(crate) fn request(
    format: LogFormat,
    method: &str,
    path: &str,
    status: u16,
    micros: u64,
    execution_id: Option<&str>,
) {
    let line = match format {
        LogFormat::Json => json!({
            "kind": "request",
            "method": method,
            "path": path,
            "status": status,
            "micros": micros,
            "execution_id": execution_id,
        })
        .to_string(),
        LogFormat::Text => format!(
            "request method={method} path={path} status={status} micros={micros} execution_id={}",
            execution_id.unwrap_or("-")
        ),
    };
    eprintln!("{line}");
}

/// What the line of one delivery attempt says; the delivery worker fills
/// it from its log entry (this module knows nothing of deliveries).
pub(crate) struct DeliveryLine<'a> {
    pub(crate) webhook_id: &'a dyn std::fmt::Display,
    pub(crate) attempt: u32,
    /// `emitted`, `follow_up`, `duplicate`, `redelivery`.
    pub(crate) origin: &'a str,
    /// The whole target URL: only its scheme, host and path are written.
    pub(crate) target_url: &'a str,
    /// `delivered`, `failed`, `skipped`.
    pub(crate) outcome: &'a str,
    pub(crate) status: Option<u16>,
    pub(crate) execution_id: &'a str,
}

/// The line of one delivery attempt: webhook, attempt number, origin,
/// target (scheme, host and path: no query, no user info), outcome,
/// status and the attempt's execution id.
pub(crate) fn delivery(format: LogFormat, attempt: &DeliveryLine<'_>) {
    let DeliveryLine {
        webhook_id,
        attempt,
        origin,
        target_url,
        outcome,
        status,
        execution_id,
    } = attempt;
    let target = target(target_url);
    let line = match format {
        LogFormat::Json => json!({
            "kind": "delivery",
            "webhook_id": webhook_id.to_string(),
            "attempt": attempt,
            "origin": origin,
            "target": target,
            "outcome": outcome,
            "status": status,
            "execution_id": execution_id,
        })
        .to_string(),
        LogFormat::Text => {
            let mut line = format!(
                "delivery webhook_id={webhook_id} attempt={attempt} origin={origin} target={target} outcome={outcome}"
            );
            if let Some(status) = status {
                let _ = write!(line, " status={status}");
            }
            let _ = write!(line, " execution_id={execution_id}");
            line
        }
    };
    eprintln!("{line}");
}

/// `scheme://host[:port]/path` of a target URL: a query or user info may
/// hold a token.
fn target(url: &str) -> String {
    match url.parse::<http::Uri>() {
        Ok(uri) => format!(
            "{}://{}{}",
            uri.scheme_str().unwrap_or("?"),
            uri.authority()
                .map_or("", |a| a.as_str().rsplit('@').next().unwrap_or("")),
            uri.path()
        ),
        Err(_) => "<unparsable>".to_owned(),
    }
}
