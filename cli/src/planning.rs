//! The plans of `plan` and `apply`: the webhooks file against the
//! workspace, through the library's reconcile engine; plans saved by
//! `plan --out`; and how a plan reads for people.

use std::path::Path;

use attio_webhooks::reconcile::{self, Change, Plan, Prune};
use attio_webhooks::{transport::HyperTransport, Client, Webhook};
use serde::{Deserialize, Serialize};

use crate::cli_error::CliError;
use crate::connect;
use crate::context::Ctx;
use crate::filter_syntax::format_subscription;
use crate::listing;
use crate::output::count;
use crate::webhook_file;

/// The page size plan and apply read the workspace with.
const PAGE_SIZE: u32 = 100;

/// A plan saved by `plan --out`, for `apply --plan`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    /// The format, 1.
    pub version: u32,
    /// The API it was computed against (`--base-url`).
    pub base_url: String,
    /// The plan, with the workspace's fingerprint.
    pub plan: Plan,
}

/// Reads the file, lists the workspace and plans; the client is returned
/// for `apply` to make the changes with.
pub async fn compute(
    file: &Path,
    prune: bool,
    ctx: &Ctx<'_>,
) -> Result<(Client<HyperTransport>, Plan), CliError> {
    let desired = webhook_file::read_desired(file, connect::target_url_policy(ctx.global))?;
    ctx.out
        .warn_unknown_event_types(desired.webhooks().iter().flat_map(|w| &w.subscriptions));
    let prune = if prune { Prune::Owned } else { Prune::No };
    if prune == Prune::Owned && desired.scope().is_empty() {
        return Err(CliError::Usage(format!(
            "{}: --prune needs to know which webhooks the file owns, and it owns none; add a top-level `owns:` list of target-URL prefixes next to `webhooks:` (e.g. owns: [https://hooks.example.com/]); nothing was changed",
            file.display()
        )));
    }
    let client = connect::client(ctx.global)?;
    let current = workspace(&client, ctx).await?;
    let plan =
        reconcile::plan(&desired, &current, prune).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok((client, plan))
}

/// Every webhook in the workspace.
pub async fn workspace(
    client: &Client<HyperTransport>,
    ctx: &Ctx<'_>,
) -> Result<Vec<Webhook>, CliError> {
    listing::every_webhook(client, PAGE_SIZE, ctx.out).await
}

/// Saves `plan`, made against `base_url`, for `apply --plan`.
pub fn save(path: &Path, base_url: &str, plan: &Plan) -> Result<(), CliError> {
    let saved = SavedPlan {
        version: 1,
        base_url: base_url.to_owned(),
        plan: plan.clone(),
    };
    let mut text = serde_json::to_vec_pretty(&saved)
        .map_err(|e| CliError::Local(format!("could not encode the plan: {e}")))?;
    text.push(b'\n');
    std::fs::write(path, text)
        .map_err(|e| CliError::Local(format!("could not write {}: {e}", path.display())))
}

/// Reads a plan saved by `plan --out`.
pub fn load(path: &Path) -> Result<SavedPlan, CliError> {
    let text = std::fs::read(path)
        .map_err(|e| CliError::Usage(format!("could not read {}: {e}", path.display())))?;
    let saved: SavedPlan = serde_json::from_slice(&text).map_err(|e| {
        CliError::Usage(format!(
            "{}: not a plan saved by `plan --out` ({e})",
            path.display()
        ))
    })?;
    if saved.version != 1 {
        return Err(CliError::Usage(format!(
            "{}: plan format {} is not one this version reads (1)",
            path.display(),
            saved.version
        )));
    }
    Ok(saved)
}

/// The plan for people: each change with its subscriptions, then a summary.
pub fn describe(plan: &Plan) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        out.push_str(&describe_change(change));
        out.push('\n');
    }
    let (create, update, delete) = plan.counts();
    if plan.changes.is_empty() {
        out.push_str(&no_changes(plan));
    } else {
        out.push_str(&format!(
            "\nPlan: {create} to create, {update} to update, {delete} to delete; {} unchanged.",
            plan.unchanged.len()
        ));
    }
    for (note, webhooks) in notes(plan) {
        out.push('\n');
        out.push_str(&note);
        out.push(':');
        for webhook in webhooks {
            out.push_str(&format!(
                "\n  {}  {}",
                webhook.webhook_id(),
                webhook.target_url
            ));
        }
    }
    out
}

/// The line for a plan without changes.
pub fn no_changes(plan: &Plan) -> String {
    format!(
        "No changes: the workspace matches the file ({}).",
        count(plan.unchanged.len(), "webhook")
    )
}

/// The notes on webhooks the plan leaves alone: owned ones not in the file
/// (without `--prune`) and everyone else's.
pub fn notes(plan: &Plan) -> Vec<(String, &[Webhook])> {
    let is_are = |n: usize| if n == 1 { "is" } else { "are" };
    let mut notes = Vec::new();
    let n = plan.not_desired.len();
    if n > 0 {
        notes.push((
            format!(
                "{} under the file's `owns` {} not in the file; left alone (--prune deletes them)",
                count(n, "webhook"),
                is_are(n)
            ),
            plan.not_desired.as_slice(),
        ));
    }
    let n = plan.unmanaged.len();
    if n > 0 {
        notes.push((
            format!(
                "{} in the workspace {} not the file's (outside its `owns`); never touched",
                count(n, "webhook"),
                is_are(n)
            ),
            plan.unmanaged.as_slice(),
        ));
    }
    notes
}

/// One change: `+ create URL`, `~ update URL (ID)`, `- delete URL (ID): why`,
/// and the subscriptions it adds (`+`) and removes (`-`).
pub fn describe_change(change: &Change) -> String {
    let (head, add, remove) = match change {
        Change::Create {
            target_url,
            subscriptions,
            ..
        } => (
            format!("+ create {target_url}"),
            subscriptions.as_slice(),
            &[][..],
        ),
        Change::Update {
            current,
            add,
            remove,
            ..
        } => (
            format!("~ update {} ({})", current.target_url, current.webhook_id()),
            add.as_slice(),
            remove.as_slice(),
        ),
        Change::Delete { current, .. } => (
            format!(
                "- delete {} ({}): {}",
                current.target_url,
                current.webhook_id(),
                change.reason()
            ),
            &[][..],
            current.subscriptions.as_slice(),
        ),
        _ => (format!("? {}", change.target_url()), &[][..], &[][..]),
    };
    let mut out = head;
    for subscription in remove {
        out.push_str(&format!("\n    - {}", format_subscription(subscription)));
    }
    for subscription in add {
        out.push_str(&format!("\n    + {}", format_subscription(subscription)));
    }
    out
}

/// The first line of a change (`+ create URL`, ...), without its subscriptions.
pub fn first_line(change: &Change) -> String {
    let text = describe_change(change);
    text.lines().next().unwrap_or_default().to_owned()
}
