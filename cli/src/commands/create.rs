//! `create --url URL --event TYPE[:FILTER]...` or `create --from FILE`.

use std::path::PathBuf;

use attio_webhooks::Subscription;
use clap::{ArgGroup, Args};

use crate::cli_error::CliError;
use crate::connect;
use crate::context::{Ctx, Status};
use crate::filter_syntax::{filter_syntax_help, parse_subscription};
use crate::output::{created_details, line, webhook_details};
use crate::secrets_file::SecretsFile;
use crate::webhook_file;

/// The arguments of `create`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["url", "from"])))]
#[command(after_help = concat!(
        filter_syntax_help!(),
        "\n\nExamples:
  attio-webhooks create --url https://example.com/attio --event record.created --event note.created
  attio-webhooks create --url https://example.com/attio --event 'record.created:id.object_id=people,actor.type!=system'
  attio-webhooks create --from webhook.json    # {\"target_url\", \"subscriptions\"} or {\"data\": {...}}, JSON or YAML"
    ))]
pub struct CreateArgs {
    /// Where Attio delivers events (https://).
    #[arg(long, requires = "event", value_name = "URL")]
    pub url: Option<String>,
    /// A subscription: an event type, then optionally `:FILTER`; repeat for more.
    #[arg(long = "event", value_name = "TYPE[:FILTER]", value_parser = parse_subscription)]
    pub event: Vec<Subscription>,
    /// A JSON or YAML file with the webhook in the API's shape.
    #[arg(long, conflicts_with_all = ["url", "event"], value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Add the secret to this file (mode 0600) instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub secrets_out: Option<PathBuf>,
}

/// Creates a webhook; its secret is printed once or added to `--secrets-out`.
pub async fn run(args: CreateArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    let (target_url, subscriptions) = match (&args.from, args.url) {
        (Some(path), _) => {
            let spec = webhook_file::read_one(path, connect::target_url_policy(ctx.global))?;
            (spec.target_url, spec.subscriptions)
        }
        (None, Some(url)) => (url, args.event),
        (None, None) => {
            return Err(CliError::Usage(
                "give --url and --event, or --from FILE".to_owned(),
            ))
        }
    };
    ctx.out.warn_unknown_event_types(&subscriptions);
    let mut secrets = SecretsFile::open_if_given(args.secrets_out.as_deref())?;
    let client = connect::client(ctx.global)?;
    let created = client.create_webhook(target_url, subscriptions).await?;
    // If the secrets file cannot be written, the secret is shown instead
    // (it cannot be fetched again) and the command fails.
    let kept = secrets.as_mut().map(|file| file.add(&created));
    match (&kept, ctx.out.json) {
        (Some(Ok(())), true) => ctx.out.json(&created.webhook)?,
        (Some(Ok(())), false) => line(&webhook_details(&created.webhook)),
        (_, true) => ctx.out.json(&created)?,
        (_, false) => {
            line(&created_details(&created));
            ctx.out.progress(
                "Keep the secret: Attio shows it only this once, and it signs every delivery.",
            );
        }
    }
    match (kept, secrets) {
        (Some(Err(e)), _) => {
            return Err(CliError::Local(format!(
                "{e}; the secret was printed instead"
            )))
        }
        (Some(Ok(())), Some(file)) => ctx
            .out
            .progress(&format!("secret added to {}", file.path().display())),
        _ => {}
    }
    Ok(Status::Done)
}
