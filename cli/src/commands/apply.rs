//! `apply -f FILE [--prune] | --plan PLAN` `[--yes] [--secrets-out FILE]`:
//! make the workspace match, through the library's reconcile engine.

use std::io::{BufRead, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

use attio_webhooks::reconcile::{self, Done, Plan};
use attio_webhooks::Webhook;
use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::cli_error::CliError;
use crate::connect;
use crate::context::{Ctx, Status};
use crate::output::{count, line};
use crate::planning::{self, first_line};
use crate::secrets_file::SecretsFile;

/// The arguments of `apply`.
#[derive(Debug, Args)]
#[command(
    after_help = "The file holds a list of webhooks in the API's shape, as JSON or YAML, and
the target-URL prefixes it owns:

  owns:                            # what --prune may delete; without it, nothing
    - https://example.com/
  webhooks:                        # or a bare list, or {\"data\": [...]} (owning nothing)
    - target_url: https://example.com/attio
      subscriptions:
        - event_type: record.created
          filter: {$and: [{field: id.object_id, operator: equals, value: people}]}
        - event_type: note.created   # no filter: every note.created

`attio-webhooks list --json` output is a valid file. Running apply again changes
nothing. --prune deletes only webhooks under `owns:` that the file does not list;
it is refused for a file that owns nothing. Deletes ask for confirmation on a
terminal; without one they need --yes. Secrets of created webhooks are printed
once, or added to --secrets-out (and removed from it when their webhook is pruned).

Examples:
  attio-webhooks apply -f webhooks.yaml --secrets-out secrets.json
  attio-webhooks plan -f webhooks.yaml --prune --out plan.json && attio-webhooks apply --plan plan.json --yes"
)]
pub struct ApplyArgs {
    /// The webhooks file (JSON or YAML; `-` reads standard input).
    #[arg(
        short,
        long,
        value_name = "FILE",
        required_unless_present = "plan",
        conflicts_with = "plan"
    )]
    pub file: Option<PathBuf>,
    /// Also delete webhooks the file owns (its `owns:` prefixes) and does not list.
    #[arg(long, conflicts_with = "plan")]
    pub prune: bool,
    /// Apply exactly this saved plan (`plan --out`); refused if the workspace changed since.
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// Delete without asking (needed for deletes when there is no terminal to ask on).
    #[arg(long)]
    pub yes: bool,
    /// Add the secrets of created webhooks to this file (mode 0600) instead of printing them; deleted webhooks' secrets are removed from it.
    #[arg(long, value_name = "FILE")]
    pub secrets_out: Option<PathBuf>,
}

/// What apply did, as `--json` prints it.
#[derive(Debug, Default, Serialize)]
struct Applied {
    /// Created webhooks; with their `secret` unless it went to --secrets-out.
    created: Vec<Value>,
    /// Updated webhooks, as Attio answered.
    updated: Vec<Webhook>,
    /// Deleted webhooks, as they were.
    deleted: Vec<Webhook>,
}

/// Makes the changes the plan lists, in its order, stopping at the first
/// failure (after printing what was done, secrets included).
pub async fn run(args: ApplyArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    // An unreadable secrets file stops the run before anything changes.
    let mut secrets = SecretsFile::open_if_given(args.secrets_out.as_deref())?;
    let (client, plan) = match (&args.plan, &args.file) {
        (Some(saved), _) => {
            let saved_plan = planning::load(saved)?;
            if saved_plan.base_url != ctx.global.base_url {
                return Err(CliError::Usage(format!(
                    "{} was planned against {}, not {}; nothing was changed",
                    saved.display(),
                    saved_plan.base_url,
                    ctx.global.base_url
                )));
            }
            let client = connect::client(ctx.global)?;
            let now = reconcile::fingerprint(&planning::workspace(&client, ctx).await?);
            if now != saved_plan.plan.fingerprint {
                return Err(CliError::Usage(format!(
                    "the workspace changed since {} was planned (fingerprint {} then, {now} now); run `plan --out` again; nothing was changed",
                    saved.display(),
                    saved_plan.plan.fingerprint
                )));
            }
            (client, saved_plan.plan)
        }
        (None, Some(file)) => planning::compute(file, args.prune, ctx).await?,
        (None, None) => return Err(CliError::Usage("give -f FILE or --plan PLAN".to_owned())),
    };
    confirm_deletes(&plan, args.yes)?;

    let mut applied = Applied::default();
    let total = plan.changes.len();
    let mut local_failure = None;
    if let Some(first) = plan.changes.first() {
        ctx.out
            .progress(&format!("[1/{total}] {}", first_line(first)));
    }
    let result = reconcile::apply(&client, &plan, |index, done| {
        if let Err(e) = record(done, secrets.as_mut(), &mut applied, ctx) {
            local_failure = Some(e);
            return ControlFlow::Break(());
        }
        if let Some(next) = plan.changes.get(index + 1) {
            ctx.out
                .progress(&format!("[{}/{total}] {}", index + 2, first_line(next)));
        }
        ControlFlow::Continue(())
    })
    .await;
    let failure = match result {
        Ok(_) => local_failure,
        Err(stopped) => Some(CliError::from(stopped.error)),
    };

    if ctx.out.json {
        ctx.out.json(&applied)?;
    } else if total == 0 {
        line(&planning::no_changes(&plan));
    } else {
        line(&format!(
            "Apply {}: {} created, {} updated, {} deleted.",
            if failure.is_some() {
                "stopped"
            } else {
                "complete"
            },
            applied.created.len(),
            applied.updated.len(),
            applied.deleted.len()
        ));
    }
    for (note, _) in planning::notes(&plan) {
        ctx.out.progress(&format!("{note}."));
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(Status::Done),
    }
}

/// Deletes go ahead with `--yes`, or when someone at a terminal types
/// `yes`; otherwise nothing is changed (exit 2).
fn confirm_deletes(plan: &Plan, yes: bool) -> Result<(), CliError> {
    let (_, _, deletes) = plan.counts();
    if deletes == 0 || yes {
        return Ok(());
    }
    let what = count(deletes, "webhook");
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "the plan deletes {what}; without a terminal to confirm on, pass --yes; nothing was changed"
        )));
    }
    let mut stderr = std::io::stderr();
    for change in &plan.changes {
        if matches!(change, reconcile::Change::Delete { .. }) {
            let _ = writeln!(stderr, "{}", first_line(change));
        }
    }
    let _ = write!(stderr, "Delete {what}? Type yes to go on: ");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Local(format!("could not read the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(CliError::Usage(
            "not confirmed; nothing was changed".to_owned(),
        ))
    }
}

/// Records one change the engine made; in table mode prints it at once
/// (with a new webhook's secret, unless it goes to the secrets file).
fn record(
    done: &Done,
    secrets: Option<&mut SecretsFile>,
    applied: &mut Applied,
    ctx: &Ctx<'_>,
) -> Result<(), CliError> {
    match done {
        Done::Created(created) => {
            // If the secrets file cannot be written, the secret is shown
            // instead (it cannot be fetched again) and apply stops.
            let kept = secrets.map(|file| file.add(created));
            let shown = match kept {
                Some(Ok(())) => encode(&created.webhook)?,
                _ => encode(created)?,
            };
            if !ctx.out.json {
                line(&format!(
                    "created  {}  {}",
                    created.webhook.webhook_id(),
                    created.webhook.target_url
                ));
                if shown.get("secret").is_some() {
                    line(&format!("  secret  {}", created.secret.expose()));
                }
            }
            applied.created.push(shown);
            if let Some(Err(e)) = kept {
                return Err(CliError::Local(format!(
                    "{e}; the secret was printed instead"
                )));
            }
        }
        Done::Updated(webhook) => {
            if !ctx.out.json {
                line(&format!(
                    "updated  {}  {}",
                    webhook.webhook_id(),
                    webhook.target_url
                ));
            }
            applied.updated.push(webhook.clone());
        }
        Done::Deleted(webhook) => {
            if !ctx.out.json {
                line(&format!(
                    "deleted  {}  {}",
                    webhook.webhook_id(),
                    webhook.target_url
                ));
            }
            applied.deleted.push(webhook.clone());
            if let Some(file) = secrets {
                if file.remove(webhook.webhook_id())? && !ctx.out.json {
                    line(&format!(
                        "  removed its secret from {}",
                        file.path().display()
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn encode<T: Serialize>(value: &T) -> Result<Value, CliError> {
    serde_json::to_value(value)
        .map_err(|e| CliError::Local(format!("could not encode a webhook: {e}")))
}
