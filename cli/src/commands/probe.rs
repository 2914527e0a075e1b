//! `probe URL --secret S`: a graded battery of deliveries against any receiver.

use std::time::Duration;

use attio_webhooks::Secret;
use clap::{ArgGroup, Args};

use crate::cli_error::CliError;
use crate::context::{Ctx, Status};
use crate::output::{line, table};
use crate::probe::{millis, Battery, Outcome, DEFAULT_ATTEMPT_TIMEOUT, MAX_REQUESTS};

/// The arguments of `probe`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("key").required(true).args(["secret", "secret_env"])))]
#[command(
    after_help = "Sends at most 13 deliveries, signed as Attio signs them (or deliberately not), and
grades each answer: 200 or 202 where Attio needs it delivered, a 4xx where it must be
refused. Checks: valid, batch (3 events), attio-signature-only, x-attio-signature-only,
uppercase-hex, wrong-signature, missing-signature, body-changed, same-message-twice
(graded only with --at-most-once), redelivery, near-1-mib, answers-in-time.

Exit codes: 0 every graded check passed, 6 at least one failed, 2 usage error,
4 the receiver could not be reached at all.

Examples:
  attio-webhooks probe http://localhost:3000/attio --secret-env ATTIO_WEBHOOK_SECRET
  attio-webhooks probe https://hooks.example.com/attio --secret-env S --at-most-once --json
  attio-webhooks probe http://localhost:3000/attio --secret-env S --attempt-timeout 2   # stricter"
)]
pub struct ProbeArgs {
    /// The receiver's URL (http:// or https://); every delivery goes there.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The webhook's signing secret (visible to other users; prefer --secret-env).
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// The name of an environment variable holding the signing secret.
    #[arg(long, value_name = "NAME")]
    pub secret_env: Option<String>,
    /// The receiver claims to handle each Idempotency-Key at most once:
    /// grade same-message-twice (two copies at once) by status.
    #[arg(long)]
    pub at_most_once: bool,
    /// How long an answer may take, in seconds (decimals allowed): the
    /// fake's attempt timeout, 10 s, by default (Attio documents none).
    /// Each request is cut off a bit later (half as long again, at least 1 s more).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub attempt_timeout: Duration,
}

/// Runs the battery and prints the report card.
pub async fn run(args: ProbeArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
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
    let url = receiver_url(&args.url)?;
    let timeout = args.attempt_timeout;
    ctx.out.progress(&format!(
        "probing {url}: at most {MAX_REQUESTS} requests, each cut off at {}",
        millis(Battery::request_limit(timeout))
    ));
    let battery = Battery::new(url.clone(), Secret::new(secret), timeout, args.at_most_once)?;
    let run_limit = Battery::run_limit(timeout);
    let card = tokio::time::timeout(run_limit, battery.run())
        .await
        .map_err(|_| {
            CliError::Unreachable(format!(
                "the probe of {url} ran past its limit of {}",
                millis(run_limit)
            ))
        })??;

    if ctx.out.json {
        ctx.out.json(&card)?;
    } else {
        let rows: Vec<Vec<String>> = card
            .iter()
            .map(|graded| {
                let why = match graded.outcome {
                    Outcome::Fail => format!("expected {}: {}", graded.expected, graded.why),
                    _ => graded.why.clone(),
                };
                vec![
                    outcome_word(graded.outcome).to_owned(),
                    graded.check.to_owned(),
                    graded.observed.clone(),
                    why,
                ]
            })
            .collect();
        line(&table(&["RESULT", "CHECK", "OBSERVED", "WHY"], &rows));
    }
    let count = |outcome| card.iter().filter(|g| g.outcome == outcome).count();
    let failed = count(Outcome::Fail);
    ctx.out.progress(&format!(
        "{url}: {} passed, {failed} failed, {} not graded",
        count(Outcome::Pass),
        count(Outcome::Skip)
    ));
    Ok(if failed == 0 {
        Status::Done
    } else {
        Status::ChecksFailed
    })
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::Skip => "skip",
    }
}

/// The receiver's URL: `http://` or `https://` with a host.
fn receiver_url(text: &str) -> Result<http::Uri, CliError> {
    let bad = |why: &str| CliError::Usage(format!("{text:?} is not a receiver URL: {why}"));
    let uri: http::Uri = text.parse().map_err(|_| bad("it does not parse"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad("only http:// and https:// URLs can be probed"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    Ok(uri)
}

/// `10`, `0.25`: seconds, more than 0 and at most 300.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 300.0) {
        return Err("give more than 0 and at most 300 seconds".to_owned());
    }
    debug_assert!(DEFAULT_ATTEMPT_TIMEOUT == Duration::from_secs(10));
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host() {
        for good in [
            "http://127.0.0.1:3000/attio",
            "https://hooks.example.com/a?x=1",
        ] {
            assert!(receiver_url(good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://example.com/",
            "example.com/attio",
            "http:///x",
            "not a url",
            "",
        ] {
            assert!(receiver_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_are_positive_and_bounded() {
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("10"), Ok(DEFAULT_ATTEMPT_TIMEOUT));
        for bad in ["0", "-1", "301", "NaN", "inf", "ten"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
