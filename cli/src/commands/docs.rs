//! `completions SHELL` and `man`: generated from the clap definitions
//! that also make `--help`, so they cannot drift from it.

use std::io::Write;

use clap::CommandFactory;

use super::Status;
use crate::args::Cli;
use crate::cli_error::CliError;

/// Prints the completion script for `shell` on standard output.
pub fn completions(shell: clap_complete::Shell) -> Result<Status, CliError> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "attio-webhooks", &mut out);
    write_out(&out)
}

/// Prints the man page (roff) on standard output.
pub fn man() -> Result<Status, CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
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
