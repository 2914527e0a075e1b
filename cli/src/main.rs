//! `attio-webhooks`: manage Attio webhooks from the command line, keep them
//! in a file (`plan`/`apply`), and develop a receiver locally (`dev`,
//! `trigger`, `listen`). See `attio-webhooks --help` and the README.

#![warn(missing_docs)]

mod cli_error;
mod commands;
mod connect;
mod context;
mod dev_control;
mod dev_state;
mod filter_syntax;
mod listing;
mod output;
mod planning;
mod private_file;
mod probe;
mod receiver;
mod recording;
mod secrets_file;
mod webhook_file;

use std::process::ExitCode;

use clap::Parser;

use crate::cli_error::{EXIT_CHECKS_FAILED, EXIT_DIFFERENCES, EXIT_FAILURE, EXIT_OK};
use crate::context::Status;

fn main() -> ExitCode {
    let cli = match commands::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Usage errors exit 2; --help and --version print and exit 0.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(commands::run(cli.command, &cli.global)) {
        Ok(Status::Done) => ExitCode::from(EXIT_OK),
        Ok(Status::Differences) => ExitCode::from(EXIT_DIFFERENCES),
        Ok(Status::ChecksFailed) => ExitCode::from(EXIT_CHECKS_FAILED),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
