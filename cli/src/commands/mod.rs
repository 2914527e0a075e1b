//! One file per command; `run` dispatches.

mod apply;
mod create;
mod delete;
mod dev;
mod docs;
mod get;
mod list;
mod listen;
mod plan;
pub mod redeliver;
mod trigger;
mod update;

use crate::args::{Command, Global};
use crate::cli_error::CliError;
use crate::output::Output;

/// How a command that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Done (exit 0).
    Done,
    /// `plan --detailed-exitcode` found changes to make (exit 5).
    Differences,
}

/// What every command gets: the global options and how to print.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// `--token`, `--base-url`, `--timeout`, ...
    pub global: &'a Global,
    /// `--json` and `--quiet`.
    pub out: Output,
}

/// Runs one command.
pub async fn run(command: Command, global: &Global) -> Result<Status, CliError> {
    let ctx = Ctx {
        global,
        out: Output {
            json: global.json,
            quiet: global.quiet,
        },
    };
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
        Command::Completions(args) => docs::completions(args.shell),
        Command::Man => docs::man(),
    }
}

/// Warns about event types this version does not know: they are sent
/// anyway (Attio may have added them), and Attio answers 400 if they are typos.
fn warn_unknown_event_types<'s>(
    subscriptions: impl IntoIterator<Item = &'s attio_webhooks::Subscription>,
    out: Output,
) {
    for subscription in subscriptions {
        if !subscription.event_type.is_known() {
            out.warn(&format!(
                "{:?} is not an event type this version knows; sending it anyway (`attio-webhooks trigger --list` shows the known ones)",
                subscription.event_type.as_str()
            ));
        }
    }
}
