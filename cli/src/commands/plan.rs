//! `plan -f FILE [--prune]`: what `apply` would change; exit 5 if anything.

use attio_webhooks::{transport::HyperTransport, Client};

use super::{warn_unknown_event_types, Ctx, Status};
use crate::args::PlanArgs;
use crate::cli_error::CliError;
use crate::connect;
use crate::filter_syntax::format_subscription;
use crate::output::{count, line};
use crate::reconcile::{self, Change, Plan};
use crate::webhook_file;

/// The page size plan and apply read the workspace with.
const PAGE_SIZE: u32 = 100;

/// Prints what `apply` would change; `Differences` (exit 5) when anything.
pub async fn run(args: PlanArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let (_, plan) = compute(&args, ctx).await?;
    if ctx.out.json {
        ctx.out.json(&plan)?;
    } else {
        line(&describe(&plan));
    }
    Ok(if plan.changes.is_empty() {
        Status::Done
    } else {
        Status::Differences
    })
}

/// Reads the file, lists the workspace and compares them; the client is
/// returned for `apply` to make the changes with.
pub async fn compute(
    args: &PlanArgs,
    ctx: &Ctx<'_>,
) -> Result<(Client<HyperTransport>, Plan), CliError> {
    let specs = webhook_file::read_list(&args.file)?;
    warn_unknown_event_types(specs.iter().flat_map(|s| &s.subscriptions), ctx.out);
    let client = connect::client(ctx.global)?;
    let current = super::list::fetch_all(&client, PAGE_SIZE, ctx.out).await?;
    let plan = reconcile::plan(&specs, &current, args.prune);
    Ok((client, plan))
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
    if let Some(note) = unmanaged_note(plan) {
        out.push('\n');
        out.push_str(&note);
        out.push(':');
        for webhook in &plan.unmanaged {
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

/// The note on webhooks not in the file, if there are any (without `--prune`).
pub fn unmanaged_note(plan: &Plan) -> Option<String> {
    let n = plan.unmanaged.len();
    (n > 0).then(|| {
        format!(
            "{} in the workspace {} not in the file; left alone (--prune deletes them)",
            count(n, "webhook"),
            if n == 1 { "is" } else { "are" }
        )
    })
}

/// One change: `+ create URL`, `~ update URL (ID)`, `- delete URL (ID)`,
/// and the subscriptions it adds (`+`) and removes (`-`).
pub fn describe_change(change: &Change) -> String {
    let (head, add, remove) = match change {
        Change::Create {
            target_url,
            subscriptions,
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
        Change::Delete { current } => (
            format!("- delete {} ({})", current.target_url, current.webhook_id()),
            &[][..],
            current.subscriptions.as_slice(),
        ),
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
