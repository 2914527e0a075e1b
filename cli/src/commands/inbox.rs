//! `inbox (status | list [--dead] | show ID | replay ID | replay --dead | drop ID)`:
//! operate a durable inbox on PostgreSQL (the one `listen --inbox` and
//! `attio_webhooks_postgres::PostgresInbox` fill).

use attio_webhooks_postgres::{Error, InboxRow, PostgresInbox, DEFAULT_INBOX_TABLE};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::cli_error::{with_causes, CliError};
use crate::context::{Ctx, Status};
use crate::output::{count, line, table};

/// The arguments of `inbox`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 done; 2 usage (a bad URL or table name); 3 no such event,
or a worker holds it now (replay, drop); 4 PostgreSQL cannot be reached; 1 any other
failure (e.g. the table does not exist: start `listen --inbox` or call migrate).

Examples:
  export ATTIO_INBOX_DATABASE_URL=postgres://app@db/app
  attio-webhooks inbox status
  attio-webhooks inbox list --dead
  attio-webhooks inbox show 42 --json | jq .event
  attio-webhooks inbox replay 42          # run a dead letter again, once
  attio-webhooks inbox replay --dead      # every dead letter, after the fix
  attio-webhooks inbox drop 42"
)]
pub struct InboxArgs {
    /// The PostgreSQL database holding the inbox (postgres://user:password@host/db).
    #[arg(
        long,
        env = "ATTIO_INBOX_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database: String,
    /// The inbox's table (`name` or `schema.name`).
    #[arg(long, default_value = DEFAULT_INBOX_TABLE, value_name = "NAME")]
    pub table: String,
    /// What to do.
    #[command(subcommand)]
    pub action: InboxAction,
}

/// What `inbox` does.
#[derive(Debug, Subcommand)]
pub enum InboxAction {
    /// Counts: ready (in flight, retrying), done, dead, and how long the oldest ready event waited.
    Status,
    /// Events not done yet, oldest first (with --dead, only dead letters).
    List {
        /// Only dead letters.
        #[arg(long)]
        dead: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// One event, with its exact bytes.
    Show {
        /// The event's id.
        id: i64,
    },
    /// Put an event (or every dead letter) back to ready as new: workers run it again, once.
    Replay {
        /// The event's id.
        #[arg(required_unless_present = "dead", conflicts_with = "dead")]
        id: Option<i64>,
        /// Every dead letter.
        #[arg(long)]
        dead: bool,
    },
    /// Delete an event: it will not run.
    Drop {
        /// The event's id.
        id: i64,
    },
}

/// Runs one inbox action against the database.
pub async fn run(args: InboxArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let inbox = PostgresInbox::connect(&args.database)
        .and_then(|inbox| inbox.with_table(&args.table))
        .map_err(failed)?;
    match args.action {
        InboxAction::Status => {
            let status = inbox.status().await.map_err(failed)?;
            if ctx.out.json {
                ctx.out.json(&json!({
                    "ready": status.ready,
                    "in_flight": status.in_flight,
                    "retrying": status.retrying,
                    "done": status.done,
                    "dead": status.dead,
                    "oldest_ready_secs": status.oldest_ready_secs,
                }))?;
            } else {
                let waited = status
                    .oldest_ready_secs
                    .map(|s| format!("; the oldest has waited {s:.1} s"))
                    .unwrap_or_default();
                line(&format!(
                    "ready {} (in flight {}, retrying {}){waited}\ndone  {}\ndead  {}",
                    status.ready, status.in_flight, status.retrying, status.done, status.dead
                ));
            }
        }
        InboxAction::List { dead, limit } => {
            let rows = inbox.list(dead, limit).await.map_err(failed)?;
            if ctx.out.json {
                ctx.out
                    .json(&rows.iter().map(row_json).collect::<Vec<_>>())?;
            } else if rows.is_empty() {
                ctx.out.progress(if dead {
                    "no dead letters"
                } else {
                    "no events waiting"
                });
            } else {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.to_string(),
                            state(r).to_owned(),
                            r.attempts.to_string(),
                            r.event_type.clone(),
                            r.ordering_key.clone(),
                            r.last_error.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                line(&table(
                    &[
                        "ID",
                        "STATE",
                        "ATTEMPTS",
                        "EVENT",
                        "ORDERING KEY",
                        "LAST ERROR",
                    ],
                    &cells,
                ));
                ctx.out.progress(&count(rows.len(), "event"));
            }
        }
        InboxAction::Show { id } => {
            let row = inbox
                .show(id)
                .await
                .map_err(failed)?
                .ok_or_else(|| missing(id))?;
            let body = row.body.clone().unwrap_or_default();
            if ctx.out.json {
                let mut shown = row_json(&row);
                shown["event"] = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
                shown["body"] = Value::String(String::from_utf8_lossy(&body).into_owned());
                ctx.out.json(&shown)?;
            } else {
                line(&format!(
                    "id            {}\nstate         {}\nattempts      {}\nevent         {}\nordering key  {}\ndedupe key    {}\naccepted at   {}\nlast error    {}\n\n{}",
                    row.id,
                    state(&row),
                    row.attempts,
                    row.event_type,
                    row.ordering_key,
                    row.dedupe_key,
                    row.accepted_at,
                    row.last_error.as_deref().unwrap_or("-"),
                    String::from_utf8_lossy(&body)
                ));
            }
        }
        InboxAction::Replay { id: Some(id), .. } => {
            if !inbox.replay(id).await.map_err(failed)? {
                return Err(held_or_missing(id));
            }
            done(
                ctx,
                json!({ "replayed": [id] }),
                &format!("event {id} is ready again"),
            )?;
        }
        InboxAction::Replay { id: None, .. } => {
            let n = inbox.replay_dead().await.map_err(failed)?;
            done(
                ctx,
                json!({ "replayed": n }),
                &format!("{} ready again", count(n as usize, "dead letter")),
            )?;
        }
        InboxAction::Drop { id } => {
            if !inbox.drop_event(id).await.map_err(failed)? {
                return Err(held_or_missing(id));
            }
            done(
                ctx,
                json!({ "dropped": id }),
                &format!("event {id} dropped"),
            )?;
        }
    }
    Ok(Status::Done)
}

/// Prints what a change did: `json` with --json, else `text`.
fn done(ctx: &Ctx<'_>, json: Value, text: &str) -> Result<(), CliError> {
    if ctx.out.json {
        ctx.out.json(&json)
    } else {
        line(text);
        Ok(())
    }
}

/// `ready`, `in flight`, `done` or `dead`.
fn state(row: &InboxRow) -> &str {
    if row.in_flight {
        "in flight"
    } else {
        &row.state
    }
}

fn row_json(row: &InboxRow) -> Value {
    json!({
        "id": row.id,
        "state": row.state,
        "in_flight": row.in_flight,
        "attempts": row.attempts,
        "event_type": row.event_type,
        "ordering_key": row.ordering_key,
        "dedupe_key": row.dedupe_key,
        "accepted_at": row.accepted_at,
        "last_error": row.last_error,
    })
}

fn missing(id: i64) -> CliError {
    CliError::Refused(format!("no event {id} in the inbox"))
}

fn held_or_missing(id: i64) -> CliError {
    CliError::Refused(format!(
        "event {id} is not in the inbox, or a worker is handling it now"
    ))
}

/// A store error as the CLI reports it: a bad URL or name is a usage
/// error (2), no connection is unreachable (4), anything else 1.
fn failed(error: Error) -> CliError {
    let text = format!("inbox: {}", with_causes(&error));
    match error {
        Error::Url(_) | Error::TableName(_) => CliError::Usage(text),
        Error::Connection(_) | Error::Pool(_) => CliError::Unreachable(text),
        _ => CliError::Local(text),
    }
}
