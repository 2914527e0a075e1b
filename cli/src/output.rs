//! Where results go: a table or key/value block for people, one JSON
//! document (`--json`) for scripts, progress and warnings on stderr.

use std::io::Write;

use attio_webhooks::{CreatedWebhook, Subscription, Webhook};
use serde::Serialize;

use crate::cli_error::CliError;
use crate::filter_syntax::format_subscription;

/// How this invocation prints.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// `--json`: results as JSON on stdout.
    pub json: bool,
    /// `--quiet`: no progress on stderr.
    pub quiet: bool,
}

impl Output {
    /// Prints one JSON document (pretty, as it is the whole output).
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Local(format!("could not encode the output: {e}")))?;
        line(&text);
        Ok(())
    }

    /// Prints one compact JSON line (streams: `listen`, `dev`).
    pub fn json_line<T: Serialize + ?Sized>(&self, value: &T) {
        match serde_json::to_string(value) {
            Ok(text) => line(&text),
            Err(e) => self.warn(&format!("could not encode an output line: {e}")),
        }
    }

    /// A progress note on stderr, unless `--quiet`.
    pub fn progress(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// A warning on stderr, always.
    pub fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    /// Warns about event types this version does not know: they are sent
    /// anyway (Attio may have added them), and Attio answers 400 if they are typos.
    pub fn warn_unknown_event_types<'s>(
        &self,
        subscriptions: impl IntoIterator<Item = &'s Subscription>,
    ) {
        for subscription in subscriptions {
            if !subscription.event_type.is_known() {
                self.warn(&format!(
                    "{:?} is not an event type this version knows; sending it anyway (`attio-webhooks trigger --list` shows the known ones)",
                    subscription.event_type.as_str()
                ));
            }
        }
    }
}

/// Prints a line on stdout, flushed at once (stdout may be a pipe).
pub fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// `1 webhook`, `2 webhooks`: a count with its noun.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Lays rows out in columns separated by two spaces; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header_row: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out.pop();
    out
}

/// The webhooks as a table: one row per subscription, the webhook's own
/// columns filled on its first row only.
pub fn webhook_table(webhooks: &[Webhook]) -> String {
    let mut rows = Vec::new();
    for webhook in webhooks {
        let mut subscriptions = webhook.subscriptions.iter().map(format_subscription);
        rows.push(vec![
            webhook.webhook_id().to_string(),
            webhook.status.to_string(),
            webhook.target_url.clone(),
            subscriptions.next().unwrap_or_default(),
        ]);
        for rest in subscriptions {
            rows.push(vec![String::new(), String::new(), String::new(), rest]);
        }
    }
    table(&["ID", "STATUS", "TARGET URL", "SUBSCRIPTIONS"], &rows)
}

/// One webhook as `key  value` lines, subscriptions indented below.
pub fn webhook_details(webhook: &Webhook) -> String {
    let rows = vec![
        vec!["id".to_owned(), webhook.webhook_id().to_string()],
        vec!["workspace".to_owned(), webhook.id.workspace_id.to_string()],
        vec!["status".to_owned(), webhook.status.to_string()],
        vec!["target_url".to_owned(), webhook.target_url.clone()],
        vec!["created_at".to_owned(), webhook.created_at.to_string()],
    ];
    let mut out = String::new();
    for row in rows {
        out.push_str(&format!("{:<12}{}\n", row[0], row[1]));
    }
    out.push_str("subscriptions");
    for subscription in &webhook.subscriptions {
        out.push_str("\n  ");
        out.push_str(&format_subscription(subscription));
    }
    out
}

/// A created webhook: its details, then its secret, which Attio shows once.
pub fn created_details(created: &CreatedWebhook) -> String {
    format!(
        "{}\nsecret      {}",
        webhook_details(&created.webhook),
        created.secret.expose()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_lines_have_no_trailing_spaces() {
        let text = table(
            &["A", "BB", "C"],
            &[
                vec!["xyz".into(), "".into(), "1".into()],
                vec!["".into(), "q".into(), "".into()],
            ],
        );
        assert_eq!(text, "A    BB  C\nxyz      1\n     q");
    }
}
