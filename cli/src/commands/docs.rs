//! `completions SHELL` and `man`: generated from the clap definitions
//! that also make `--help`, so they cannot drift from it.

use std::io::Write;

use clap::Args;

use crate::cli_error::CliError;
use crate::context::Status;

/// The arguments of `completions`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  attio-webhooks completions bash > ~/.local/share/bash-completion/completions/attio-webhooks
  attio-webhooks completions zsh > \"${fpath[1]}/_attio-webhooks\"
  attio-webhooks completions fish > ~/.config/fish/completions/attio-webhooks.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The arguments of `man`: none.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  attio-webhooks man > attio-webhooks.1 && man ./attio-webhooks.1")]
pub struct ManArgs {}

/// Prints the completion script of `cli` (the whole command line) for
/// the shell on standard output.
pub fn completions(args: CompletionsArgs, mut cli: clap::Command) -> Result<Status, CliError> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "attio-webhooks", &mut out);
    write_out(&out)
}

/// Prints the man page (roff) of `cli` (the whole command line) on
/// standard output.
pub fn man(_: ManArgs, cli: clap::Command) -> Result<Status, CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cli)
        .render(&mut out)
        .map_err(|e| CliError::Local(format!("could not render the man page: {e}")))?;
    write_out(&out)
}

fn write_out(bytes: &[u8]) -> Result<Status, CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Local(format!("could not write to standard output: {e}")))?;
    Ok(Status::Done)
}
