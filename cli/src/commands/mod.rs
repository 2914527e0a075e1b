//! The command line: the top-level parser, the commands (one file each,
//! its arguments beside its `run`; no command imports another, shared
//! work lives below them), and `run`, which dispatches.

mod apply;
mod create;
mod delete;
mod dev;
mod docs;
mod get;
mod inbox;
mod list;
mod listen;
mod plan;
mod probe;
mod redeliver;
mod replay;
mod trigger;
mod update;

use clap::{CommandFactory, Parser, Subcommand};

use crate::cli_error::CliError;
use crate::context::{Ctx, Global, Status};

/// Below the root's `--help`: the exit codes, and examples.
const ROOT_AFTER_HELP: &str = "\
Exit codes: 0 success, 2 usage error, 3 Attio refused the request (4xx) or
`inbox` has no such event, 4 network failure, timeout, 429 or 5xx after retries
(or `inbox` cannot reach PostgreSQL), 5 `plan --detailed-exitcode`
found differences, 6 `probe` graded a check failed or `replay` got an answer other
than 200/202, 1 any other failure (e.g. a file that cannot be written).

Examples:
  export ATTIO_API_KEY=...                      # the token is never printed
  attio-webhooks list
  attio-webhooks create --url https://example.com/attio --event 'record.created:id.object_id=people'
  attio-webhooks plan -f webhooks.yaml --detailed-exitcode   # exit 5 when the workspace differs
  attio-webhooks apply -f webhooks.yaml --secrets-out secrets.json
  attio-webhooks dev --forward-to http://localhost:3000/attio
  attio-webhooks trigger record.created         # in another terminal
  attio-webhooks probe http://localhost:3000/attio --secret-env ATTIO_WEBHOOK_SECRET
  attio-webhooks listen --port 3000 --secret-env S --record deliveries.jsonl
  attio-webhooks listen --port 3000 --secret-env S --inbox postgres://app@db/app
  attio-webhooks inbox list --dead
  attio-webhooks replay deliveries.jsonl --to http://localhost:3000/attio --secret-env TEST_SECRET";

/// Manage Attio webhooks, keep them in a file, and develop a receiver locally.
#[derive(Debug, Parser)]
#[command(name = "attio-webhooks", version = version(), after_help = ROOT_AFTER_HELP)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, each with its arguments (beside its `run`, in its file).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List webhooks: every page, or one with --limit/--offset.
    List(list::ListArgs),
    /// Show one webhook.
    Get(get::GetArgs),
    /// Create a webhook; prints its signing secret, which Attio shows only once.
    Create(create::CreateArgs),
    /// Change a webhook's target URL or replace its subscriptions.
    Update(update::UpdateArgs),
    /// Delete a webhook.
    Delete(delete::DeleteArgs),
    /// Show what `apply` would change to make the workspace match a file.
    Plan(plan::PlanArgs),
    /// Make the workspace match a file (or a saved plan): create, update, and with --prune delete.
    Apply(apply::ApplyArgs),
    /// Run a local fake Attio that delivers signed sample events to your app.
    Dev(dev::DevArgs),
    /// Send a sample event of a type through a running `dev`.
    Trigger(trigger::TriggerArgs),
    /// Send a past message of a running `dev` again: same body, signature and Idempotency-Key.
    Redeliver(redeliver::RedeliverArgs),
    /// Receive deliveries: verify each signature and print each event.
    Listen(listen::ListenArgs),
    /// Operate a durable inbox on PostgreSQL (`listen --inbox`): status, list, show, replay, drop.
    Inbox(inbox::InboxArgs),
    /// Send recorded deliveries (`listen --record`) again, optionally re-signed for a test secret.
    Replay(replay::ReplayArgs),
    /// Grade any receiver: send deliveries as Attio does (and forged ones) and print a report card.
    Probe(probe::ProbeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    Completions(docs::CompletionsArgs),
    /// Print the man page (roff), generated from the same definitions as --help.
    Man(docs::ManArgs),
}

/// Runs one command.
pub async fn run(command: Command, global: &Global) -> Result<Status, CliError> {
    let ctx = Ctx::new(global);
    match command {
        Command::List(args) => list::run(args, &ctx).await,
        Command::Get(args) => get::run(args, &ctx).await,
        Command::Create(args) => create::run(args, &ctx).await,
        Command::Update(args) => update::run(args, &ctx).await,
        Command::Delete(args) => delete::run(args, &ctx).await,
        Command::Plan(args) => plan::run(args, &ctx).await,
        Command::Apply(args) => apply::run(args, &ctx).await,
        Command::Dev(args) => dev::run(args, &ctx).await,
        Command::Trigger(args) => trigger::run(args, &ctx).await,
        Command::Redeliver(args) => redeliver::run(args, &ctx).await,
        Command::Listen(args) => listen::run(args, &ctx).await,
        Command::Probe(args) => probe::run(args, &ctx).await,
        Command::Replay(args) => replay::run(args, &ctx).await,
        Command::Inbox(args) => inbox::run(args, &ctx).await,
        Command::Completions(args) => docs::completions(args, Cli::command()),
        Command::Man(args) => docs::man(args, Cli::command()),
    }
}

/// `0.2.0 (commit 1a2b3c4d5e6f)`: the version, and the commit named by
/// `ATTIO_WEBHOOKS_COMMIT` when the binary was built (scripts/build-image.sh
/// sets it), else `unknown`.
fn version() -> String {
    let commit = option_env!("ATTIO_WEBHOOKS_COMMIT").unwrap_or("unknown");
    format!("{} (commit {commit})", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// What in a command's source reaches another command: any path
    /// through `commands::`, and outside its `#[cfg(test)]` module any
    /// `super::` (the dispatcher and the other commands live there; what
    /// commands share lives below them, reached through `crate::`), and
    /// `super::super` inside it.
    fn reaches_another_command(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut in_tests = false;
        let mut depth = 0usize;
        let mut tests_depth = 0usize;
        let mut cfg_test = false;
        for (number, full) in source.lines().enumerate() {
            let line = full.split("//").next().unwrap_or_default();
            let trimmed = line.trim();
            if trimmed == "#[cfg(test)]" {
                cfg_test = true;
            } else if cfg_test && trimmed.starts_with("mod ") && trimmed.ends_with('{') {
                in_tests = true;
                tests_depth = depth;
                cfg_test = false;
            } else if !trimmed.is_empty() {
                cfg_test = false;
            }
            let upward = if in_tests { "super::super" } else { "super::" };
            if line.contains("commands::") || line.contains(upward) {
                found.push(format!("line {}: {}", number + 1, full.trim()));
            }
            depth += line.matches('{').count();
            depth = depth.saturating_sub(line.matches('}').count());
            if in_tests && depth <= tests_depth {
                in_tests = false;
            }
        }
        found
    }

    #[test]
    fn no_command_imports_another() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
        let mut checked = 0;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("src/commands") {
            let path = entry.expect("an entry of src/commands").path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("mod.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("a command's source");
            checked += 1;
            for hit in reaches_another_command(&source) {
                found.push(format!("{}: {hit}", path.display()));
            }
        }
        assert!(
            checked >= 12,
            "only {checked} command files in {}",
            dir.display()
        );
        assert!(
            found.is_empty(),
            "commands import nothing of each other (shared work goes below them, \
             e.g. planning.rs, listing.rs, output.rs):\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn the_check_sees_each_way_one_command_reaches_another() {
        for reaching in [
            "use super::plan::load;",
            "let plan = super::plan::compute(file).await?;",
            "use super::{list, Ctx};",
            "use crate::commands::list::fetch_all;",
            "use crate::{commands::plan, output};",
            "#[cfg(test)]\nmod tests {\n    use super::super::plan::describe;\n}",
        ] {
            assert!(
                !reaches_another_command(reaching).is_empty(),
                "not caught: {reaching}"
            );
        }
        let leaf = "use crate::planning;\nuse crate::context::{Ctx, Status};\n\
                    // super::plan, in a comment\n\
                    fn run() {}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n";
        assert!(reaches_another_command(leaf).is_empty());
    }
}
