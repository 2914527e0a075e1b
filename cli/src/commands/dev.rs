//! `dev`: a fake Attio on 127.0.0.1 that delivers signed events to your
//! app, with every delivery attempt shown as it happens.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use attio_webhooks::{
    model::TargetUrlPolicy, receive::Delivery, transport::HyperTransport, Client, CreatedWebhook,
    EventType, Subscription,
};
use attio_webhooks_testkit::{
    delivery::DeliveryAttempt, delivery::DeliveryOutcome, delivery::DeliveryPolicy, samples,
    server::StopSignals, FakeAttio, FakeAttioBuilder, FakeServer, Scope,
};
use clap::Args;
use tokio::net::TcpListener;

use crate::cli_error::CliError;
use crate::context::{Ctx, Status};
use crate::dev_state::{self, DevState};
use crate::filter_syntax::parse_subscription;
use crate::output::{line, Output};
use crate::receiver::{clock_time, Receiver};

/// The arguments of `dev`.
#[derive(Debug, Args)]
#[command(
    after_help = "dev starts a fake Attio on 127.0.0.1, creates a webhook pointing at
--forward-to (or at a built-in receiver that prints what it gets, when no app
exists yet), prints the signing secret once, and shows every delivery attempt.
`attio-webhooks trigger TYPE`, run in another terminal, sends a sample event.
It finds this process through a state file (mode 0600) holding the fake's URL
and a random control token: --state-file, $ATTIO_WEBHOOKS_DEV_STATE, or by
default $XDG_RUNTIME_DIR/attio-webhooks/dev.json, else
~/.local/state/attio-webhooks/dev.json. The file is removed on Ctrl-C.

Failed deliveries are retried like Attio does, on a short schedule: after 1 s,
then doubling, 5 times (Attio waits 255 s, doubling, 10 times, ~3 days); set it
with --first-retry-after and --retries.

Examples:
  attio-webhooks dev --forward-to http://localhost:3000/attio
  attio-webhooks dev --event 'record.created:id.object_id=people' --event note.created
  attio-webhooks dev                        # no app yet: a built-in receiver prints events"
)]
pub struct DevArgs {
    /// Your app's webhook endpoint (http:// on localhost); without it, a built-in receiver prints events.
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,
    /// A subscription: an event type, then optionally `:FILTER` (syntax: `create --help`); repeat for more (default: every event type, no filter).
    #[arg(long = "event", value_name = "TYPE[:FILTER]", value_parser = parse_subscription)]
    pub event: Vec<Subscription>,
    /// The fake's port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where to write the state file `trigger` reads.
    #[arg(long, env = "ATTIO_WEBHOOKS_DEV_STATE", value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Retries after a failed delivery.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// Seconds before the first retry; each next wait doubles.
    #[arg(long, default_value_t = 1, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub first_retry_after: u64,
}

/// How long one delivery attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the delivery log is read.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// The retry schedule of `policy` in one sentence, for the banner.
fn describe_retries(policy: &DeliveryPolicy) -> String {
    if policy.retries == 0 {
        return "Failed deliveries are not retried".to_owned();
    }
    let waits: Vec<String> = (1..=policy.retries)
        .map(|n| format!("{}s", policy.wait_before_retry(n).as_secs()))
        .collect();
    format!(
        "Failed deliveries are retried after {} (Attio itself waits 255s, doubling, 10 times)",
        waits.join(", ")
    )
}

/// Runs the fake, creates the webhook, and shows deliveries until Ctrl-C.
pub async fn run(args: DevArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    if let Some(url) = &args.forward_to {
        if !crate::connect::is_loopback_http(url) {
            return Err(CliError::Usage(format!(
                "--forward-to {url:?}: dev delivers only to http:// URLs on this machine (localhost, 127.0.0.1, [::1])"
            )));
        }
    }
    ctx.out.warn_unknown_event_types(&args.event);
    let state_path = dev_state::path(args.state_file.as_deref())?;
    // Before the fake is bound and the banner printed: a signal sent the
    // instant it appears stops dev cleanly (and removes its state file).
    let stop = StopSignals::install();
    let schedule = DeliveryPolicy::default()
        .retries(args.retries)
        .first_retry_after(Duration::from_secs(args.first_retry_after))
        .attempt_timeout(ATTEMPT_TIMEOUT);
    let api_token = random_token()?;
    let control_token = random_token()?;
    let builder = FakeAttio::builder()
        .token(api_token.clone(), [Scope::ReadWrite])
        .workspace_id(samples::WORKSPACE_ID)
        .allow_loopback_http_targets()
        .delivery_policy(schedule.clone());
    let fake = require_control_token(builder, &control_token).build();
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let server = fake
        .serve_on(addr)
        .await
        .map_err(|e| CliError::Local(format!("cannot listen on {addr}: {e}")))?;

    // With no app, deliveries go to a built-in receiver on a free port.
    let (target, builtin) = match &args.forward_to {
        Some(url) => (url.clone(), None),
        None => {
            let local = |e: std::io::Error| {
                CliError::Local(format!("cannot start the built-in receiver: {e}"))
            };
            let listener = TcpListener::bind("127.0.0.1:0").await.map_err(local)?;
            let url = format!("http://{}/attio", listener.local_addr().map_err(local)?);
            (url, Some(listener))
        }
    };
    let subscriptions = if args.event.is_empty() {
        EventType::KNOWN
            .iter()
            .cloned()
            .map(Subscription::new)
            .collect()
    } else {
        args.event
    };
    let client = Client::builder(api_token.as_str())
        .base_url(server.base_url())
        .target_url_policy(TargetUrlPolicy::AllowLoopbackHttp)
        .build(
            HyperTransport::new()
                .map_err(|e| CliError::Local(format!("could not set up HTTP: {e}")))?,
        )?;
    let created = client.create_webhook(target.clone(), subscriptions).await?;
    let _receiver = builtin.map(|listener| {
        tokio::spawn(
            Receiver::new(created.secret.clone(), ctx.out, "app received  ").serve(listener),
        )
    });

    if state_path.exists() {
        ctx.out.warn(&format!(
            "replacing {}: `trigger` will now talk to this dev",
            state_path.display()
        ));
    }
    dev_state::write(
        &state_path,
        &DevState {
            url: server.base_url().to_owned(),
            control_token,
            pid: std::process::id(),
            webhook_id: created.webhook.webhook_id(),
        },
    )?;
    banner(
        &server,
        &created,
        &api_token,
        &state_path,
        &schedule,
        args.forward_to.is_none(),
        ctx.out,
    )?;

    let result = watch(&server, &schedule, ctx.out, stop).await;
    dev_state::remove_own(&state_path);
    result.map(|()| Status::Done)
}

/// Makes the fake's `/__fake` control routes require `Authorization:
/// Bearer <token>`, so that only `trigger` (which reads the token from the
/// private state file) can send events or read secrets.
fn require_control_token(builder: FakeAttioBuilder, token: &str) -> FakeAttioBuilder {
    builder.control_token(token)
}

/// 32 random bytes, in hex.
fn random_token() -> Result<String, CliError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| CliError::Local(format!("no randomness from the OS: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn banner(
    server: &FakeServer,
    created: &CreatedWebhook,
    api_token: &str,
    state_path: &Path,
    schedule: &DeliveryPolicy,
    builtin: bool,
    out: Output,
) -> Result<(), CliError> {
    if out.json {
        out.json_line(&serde_json::json!({
            "fake_url": server.base_url(),
            "api_token": api_token,
            "state_file": state_path,
            "webhook": created,
        }));
        return Ok(());
    }
    let webhook = &created.webhook;
    line(&format!(
        "Fake Attio on {} (workspace {})",
        server.base_url(),
        webhook.id.workspace_id
    ));
    line(&format!(
        "Webhook {} -> {}{} ({} subscriptions)",
        webhook.webhook_id(),
        webhook.target_url,
        if builtin {
            ", a built-in receiver that prints what it gets"
        } else {
            ""
        },
        webhook.subscriptions.len()
    ));
    line(&format!(
        "Signing secret (shown once): {}",
        created.secret.expose()
    ));
    line(&format!(
        "Manage it: ATTIO_BASE_URL={} ATTIO_API_KEY={api_token} attio-webhooks list",
        server.base_url()
    ));
    line(&format!("{}.", describe_retries(schedule)));
    line(&format!(
        "Send events from another terminal: attio-webhooks trigger record.created   (state: {})",
        state_path.display()
    ));
    line("Ctrl-C to stop.");
    line("");
    Ok(())
}

/// Prints delivery attempts as the fake makes them, until Ctrl-C or SIGTERM.
async fn watch(
    server: &FakeServer,
    schedule: &DeliveryPolicy,
    out: Output,
    stop: StopSignals,
) -> Result<(), CliError> {
    let shutdown = stop.wait();
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(POLL_EVERY);
    let mut seen: u64 = 0;
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            _ = ticker.tick() => {
                // The log keeps its newest entries and counts the dropped
                // ones: dropped + kept numbers every attempt ever logged.
                let log = server.delivery_log();
                let total = log.dropped() + log.len() as u64;
                if total < seen {
                    seen = 0; // the fake was reset
                }
                let new = usize::try_from(total - seen).unwrap_or(usize::MAX).min(log.len());
                for attempt in &log[log.len() - new..] {
                    print_attempt(attempt, schedule, out);
                }
                seen = total;
            }
        }
    }
}

fn print_attempt(attempt: &DeliveryAttempt, schedule: &DeliveryPolicy, out: Output) {
    // Every event of the message: one type, or several joined by commas.
    let event_type = Delivery::parse(&attempt.body)
        .ok()
        .map(|d| {
            let types: Vec<&str> = d.events.iter().map(|e| e.event_type.as_str()).collect();
            types.join(",")
        })
        .filter(|types| !types.is_empty())
        .unwrap_or_else(|| "?".to_owned());
    let failed = matches!(attempt.outcome, DeliveryOutcome::Failed { .. });
    let retry_in = (failed && attempt.attempt <= schedule.retries)
        .then(|| schedule.wait_before_retry(attempt.attempt));
    if out.json {
        out.json_line(&serde_json::json!({
            "attempted_at": attempt.attempted_at,
            "event_type": event_type,
            "webhook_id": attempt.webhook_id,
            "idempotency_key": attempt.idempotency_key,
            "attempt": attempt.attempt,
            "outcome": attempt.outcome,
            "retry_in_seconds": retry_in.map(|d| d.as_secs()),
        }));
        return;
    }
    let result = if let DeliveryOutcome::Delivered { status } = &attempt.outcome {
        format!("{status} delivered")
    } else if let DeliveryOutcome::Failed { status, error } = &attempt.outcome {
        let what = match (status, error) {
            (Some(status), _) => format!("{status} failed"),
            (None, Some(error)) => format!("failed: {error}"),
            (None, None) => "failed".to_owned(),
        };
        match retry_in {
            Some(wait) => format!("{what}; retry in {}s", wait.as_secs()),
            None => format!("{what}; gave up, the webhook is now degraded"),
        }
    } else if let DeliveryOutcome::Skipped { reason } = &attempt.outcome {
        format!("skipped: {reason}")
    } else {
        format!("{:?}", attempt.outcome)
    };
    let key: String = attempt.idempotency_key.chars().take(8).collect();
    line(&format!(
        "{}  {:<26}  attempt {}  {result}  (key {key})",
        clock_time(attempt.attempted_at),
        event_type,
        attempt.attempt
    ));
}
