//! `listen --port P (--secret S | --secret-env NAME)`: a local receiver.

use std::net::SocketAddr;

use attio_webhooks::Secret;
use tokio::net::TcpListener;

use super::{Ctx, Status};
use crate::args::ListenArgs;
use crate::cli_error::CliError;
use crate::receiver::Receiver;

/// Serves the receiver until Ctrl-C or SIGTERM.
pub async fn run(args: ListenArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let secret = match (args.secret, args.secret_env) {
        (Some(secret), _) => secret,
        (None, Some(name)) => std::env::var(&name).map_err(|_| {
            CliError::Usage(format!(
                "--secret-env {name}: the variable is not set (or not UTF-8)"
            ))
        })?,
        (None, None) => return Err(CliError::Usage("give --secret or --secret-env".to_owned())),
    };
    if secret.is_empty() {
        return Err(CliError::Usage("the signing secret is empty".to_owned()));
    }
    // Before the port is bound and announced: a signal sent the instant
    // the line below appears stops it cleanly.
    let stop = attio_webhooks_testkit::StopSignals::install();
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Local(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::Local(format!("cannot read the bound address: {e}")))?;
    // Always printed (tests and scripts read the port from it), on stderr.
    eprintln!("listening on http://{bound} (any path); Ctrl-C to stop");
    let receiver = Receiver::new(Secret::new(secret), ctx.out, "");
    tokio::select! {
        () = receiver.serve(listener) => {}
        () = stop.wait() => {}
    }
    Ok(Status::Done)
}
