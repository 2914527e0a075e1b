//! `create --url URL --event TYPE[:FILTER]...` or `create --from FILE`.

use super::{warn_unknown_event_types, Ctx, Status};
use crate::args::CreateArgs;
use crate::connect;
use crate::failure::Failure;
use crate::output::{created_details, line, webhook_details};
use crate::secrets_file::SecretsFile;
use crate::webhook_file;

/// Creates a webhook; its secret is printed once or added to `--secrets-out`.
pub async fn run(args: CreateArgs, ctx: &Ctx<'_>) -> Result<Status, Failure> {
    let (target_url, subscriptions) = match (&args.from, args.url) {
        (Some(path), _) => {
            let spec = webhook_file::read_one(path)?;
            (spec.target_url, spec.subscriptions)
        }
        (None, Some(url)) => (url, args.event),
        (None, None) => {
            return Err(Failure::Usage(
                "give --url and --event, or --from FILE".to_owned(),
            ))
        }
    };
    warn_unknown_event_types(&subscriptions, ctx.out);
    let mut secrets = SecretsFile::open_if_given(args.secrets_out.as_deref())?;
    let client = connect::client(ctx.global)?;
    let created = client.create_webhook(target_url, subscriptions).await?;
    match &mut secrets {
        Some(file) => {
            file.add(&created)?;
            ctx.out
                .progress(&format!("secret added to {}", file.path().display()));
            if ctx.out.json {
                ctx.out.json(&created.webhook)?;
            } else {
                line(&webhook_details(&created.webhook));
            }
        }
        None => {
            if ctx.out.json {
                ctx.out.json(&created)?;
            } else {
                line(&created_details(&created));
                ctx.out.progress(
                    "Keep the secret: Attio shows it only this once, and it signs every delivery.",
                );
            }
        }
    }
    Ok(Status::Done)
}
