//! `listen --port P (--secret S | --secret-env NAME | --secret-file FILE) [--record FILE]`:
//! a receiver, optionally keeping every delivery it gets.

use std::net::SocketAddr;

use attio_webhooks::Secret;
use attio_webhooks_postgres::PostgresInbox;
use clap::{ArgGroup, Args};
use tokio::net::TcpListener;

use crate::cli_error::{with_causes, CliError};
use crate::context::{Ctx, Status};
use crate::receiver::Receiver;
use crate::recording::Recorder;

/// The arguments of `listen`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("key").required(true).args(["secret", "secret_env", "secret_file"])))]
#[command(
    after_help = "Answers 200 to a correctly signed delivery, 401 to a missing or wrong
signature (with a line on stderr), 400 to a body that is not a delivery. Put any
tunnel in front of it to receive from Attio itself.

--record FILE appends every delivery whose body was read (verified or refused, with
the outcome) as one JSON line: time, method, path, headers (signatures and
Idempotency-Key kept, credentials such as Authorization and Cookie never), and the
exact body bytes. `attio-webhooks replay FILE --to URL` sends them again.

--inbox URL stores each verified delivery's events in a durable inbox on that
PostgreSQL database (creating its table; done events are deleted after 73 hours)
before answering: 200 once stored, 503 when
PostgreSQL fails (Attio retries). Your workers (attio_webhooks_postgres::PostgresInbox::run)
handle them; `attio-webhooks inbox` shows and replays them.

Examples:
  ATTIO_WEBHOOK_SECRET=... attio-webhooks listen --port 3000 --secret-env ATTIO_WEBHOOK_SECRET
  attio-webhooks listen --port 3000 --secret-env ATTIO_WEBHOOK_SECRET --json | jq .event_type
  attio-webhooks listen --port 3000 --secret-env ATTIO_WEBHOOK_SECRET --record deliveries.jsonl
  attio-webhooks listen --port 3000 --secret-env ATTIO_WEBHOOK_SECRET --inbox postgres://app@db/app
  attio-webhooks listen --host 0.0.0.0 --port 3000 --secret-file /run/secrets/attio_webhook_secret   # in a container"
)]
pub struct ListenArgs {
    /// The port to listen on (0 picks a free one; the address is printed on stderr).
    #[arg(long)]
    pub port: u16,
    /// The address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// The webhook's signing secret (visible to other users; prefer --secret-env).
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// The name of an environment variable holding the signing secret.
    #[arg(long, value_name = "NAME")]
    pub secret_env: Option<String>,
    /// A file holding the signing secret (a container secret such as
    /// /run/secrets/attio_webhook_secret; a trailing newline is ignored).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<std::path::PathBuf>,
    /// Append every delivery received (verified or refused) to FILE, one
    /// JSON line each with its headers and exact body; created mode 0600.
    /// A line is at most about 1.4 MiB (bodies are limited to 1 MiB).
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// Store each verified delivery's events in a durable inbox on this
    /// PostgreSQL database before answering (503 when it fails).
    #[arg(
        long,
        env = "ATTIO_INBOX_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub inbox: Option<String>,
    /// The inbox's table (`name` or `schema.name`).
    #[arg(long, default_value = attio_webhooks_postgres::DEFAULT_INBOX_TABLE, value_name = "NAME", requires = "inbox")]
    pub inbox_table: String,
}

/// Serves the receiver until Ctrl-C or SIGTERM.
pub async fn run(args: ListenArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let secret = match (args.secret, args.secret_env, args.secret_file) {
        (Some(secret), _, _) => secret,
        (None, Some(name), _) => std::env::var(&name).map_err(|_| {
            CliError::Usage(format!(
                "--secret-env {name}: the variable is not set (or not UTF-8)"
            ))
        })?,
        (None, None, Some(path)) => read_secret_file(&path)?,
        (None, None, None) => {
            return Err(CliError::Usage(
                "give --secret, --secret-env or --secret-file".to_owned(),
            ))
        }
    };
    if secret.is_empty() {
        return Err(CliError::Usage("the signing secret is empty".to_owned()));
    }
    let recorder = args.record.as_deref().map(Recorder::open).transpose()?;
    let inbox = match &args.inbox {
        Some(url) => Some(open_inbox(url, &args.inbox_table).await?),
        None => None,
    };
    // Before the port is bound and announced: a signal sent the instant
    // the line below appears stops it cleanly.
    let stop = attio_webhooks_testkit::server::StopSignals::install();
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Local(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::Local(format!("cannot read the bound address: {e}")))?;
    // Always printed (tests and scripts read the port from it), on stderr.
    eprintln!("listening on http://{bound} (any path); Ctrl-C to stop");
    let mut receiver = Receiver::new(Secret::new(secret), ctx.out, "");
    if let Some(recorder) = recorder {
        ctx.out.progress(&format!(
            "recording every delivery to {}",
            recorder.path().display()
        ));
        receiver = receiver.record_to(recorder);
    }
    if let Some(inbox) = inbox {
        ctx.out.progress(&format!(
            "storing every delivery in the inbox table {}",
            inbox.table()
        ));
        receiver = receiver.with_inbox(std::sync::Arc::new(inbox));
    }
    tokio::select! {
        () = receiver.serve(listener) => {}
        () = stop.wait() => {}
    }
    Ok(Status::Done)
}

/// The inbox at `url`, its table created if it is not there.
async fn open_inbox(url: &str, table: &str) -> Result<PostgresInbox, CliError> {
    let inbox = PostgresInbox::connect(url)
        .and_then(|inbox| inbox.with_table(table))
        .map_err(|e| CliError::Usage(format!("--inbox: {}", with_causes(&e))))?;
    inbox
        .migrate()
        .await
        .map_err(|e| CliError::Unreachable(format!("--inbox: {}", with_causes(&e))))?;
    // Done events are deleted after the time-to-live, so the table holds
    // what is waiting, dead, or recently done.
    inbox.spawn_sweeper(std::time::Duration::from_secs(60), 1000);
    Ok(inbox)
}

/// The most a secret file may hold: Attio's secrets are 64 hex digits.
const SECRET_FILE_LIMIT: u64 = 4096;

/// The secret in `path`, without the trailing newline most tools write.
fn read_secret_file(path: &std::path::Path) -> Result<String, CliError> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::Usage(format!("--secret-file {shown}: cannot open it: {e}")))?;
    let mut text = String::new();
    file.take(SECRET_FILE_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            CliError::Usage(format!(
                "--secret-file {shown}: cannot read it as UTF-8 text: {e}"
            ))
        })?;
    if text.len() as u64 > SECRET_FILE_LIMIT {
        return Err(CliError::Usage(format!(
            "--secret-file {shown}: over {SECRET_FILE_LIMIT} bytes; it should hold only the signing secret"
        )));
    }
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}
