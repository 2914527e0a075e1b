//! `plan -f FILE [--prune]`: what `apply` would change; exit 5 if anything.

use super::{warn_unknown_event_types, Ctx, Status};
use crate::args::PlanArgs;
use crate::connect;
use crate::failure::Failure;
use crate::filter_syntax::format_subscription;
use crate::output::line;
use crate::reconcile::{self, Change, Plan};
use crate::webhook_file;

/// The page size plan and apply read the workspace with.
pub const PAGE_SIZE: u32 = 100;

pub async fn run(args: PlanArgs, ctx: &Ctx<'_>) -> Result<Status, Failure> {
    let specs = webhook_file::read_list(&args.file)?;
    warn_unknown_event_types(specs.iter().flat_map(|s| &s.subscriptions), ctx.out);
    let client = connect::client(ctx.global)?;
    let current = super::list::fetch_all(&client, PAGE_SIZE, ctx.out).await?;
    let plan = reconcile::plan(&specs, &current, args.prune);
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

/// The plan for people: each change with its subscriptions, then a summary.
pub fn describe(plan: &Plan) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        out.push_str(&describe_change(change));
        out.push('\n');
    }
    let (create, update, delete) = plan.counts();
    if plan.changes.is_empty() {
        out.push_str(&format!(
            "No changes: the workspace matches the file ({} webhooks).",
            plan.unchanged.len()
        ));
    } else {
        out.push_str(&format!(
            "\nPlan: {create} to create, {update} to update, {delete} to delete; {} unchanged.",
            plan.unchanged.len()
        ));
    }
    if !plan.unmanaged.is_empty() {
        out.push_str(&format!(
            "\n{} webhooks in the workspace are not in the file; left alone (--prune deletes them):",
            plan.unmanaged.len()
        ));
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
