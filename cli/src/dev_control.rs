//! Reaching a running `dev` through its fake's control routes, for
//! `trigger` and `redeliver`: where it is (its state file, or `--dev-url`
//! with `--control-token`) and what a failed control call means.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use attio_webhooks_testkit::{control::ControlError, ControlClient};
use clap::Args;

use crate::cli_error::{with_causes, CliError};
use crate::dev_state;

/// How long to wait for `dev` to answer a control call.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the running `dev` is.
#[derive(Debug, Args)]
pub struct DevTargetArgs {
    /// The running dev's state file.
    #[arg(long, env = "ATTIO_WEBHOOKS_DEV_STATE", value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// The running dev's URL, instead of reading the state file.
    #[arg(
        long,
        env = "ATTIO_WEBHOOKS_DEV_URL",
        requires = "control_token",
        value_name = "URL"
    )]
    pub dev_url: Option<String>,
    /// The running dev's control token, with --dev-url.
    #[arg(
        long,
        env = "ATTIO_WEBHOOKS_DEV_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub control_token: Option<String>,
}

/// A control client for the running `dev`, and its URL. The control token
/// is only ever sent to http:// on a loopback host.
pub fn connect(target: &DevTargetArgs) -> Result<(ControlClient, String), CliError> {
    let (url, token) = match (&target.dev_url, &target.control_token) {
        (Some(url), Some(token)) => (url.clone(), token.clone()),
        _ => {
            let state = dev_state::read(&dev_state::path(target.state_file.as_deref())?)?;
            (state.url, state.control_token)
        }
    };
    if !crate::connect::is_loopback_http(&url) {
        return Err(CliError::Usage(format!(
            "the dev URL {url:?} is not http:// on a loopback host; the control token is only sent to this machine"
        )));
    }
    let control = ControlClient::new(&url, Some(&token))
        .map_err(|e| CliError::Local(format!("could not set up HTTP: {e}")))?;
    Ok((control, url))
}

/// Waits for the control call `call` to `dev` at `url` (about `what`, for
/// the messages) and reads its failure: a 4xx refusal is exit 3, no answer
/// or a 5xx exit 4.
pub async fn answer<T>(
    url: &str,
    what: &str,
    call: impl Future<Output = Result<T, ControlError>>,
) -> Result<T, CliError> {
    let unreachable = |why: String| {
        CliError::Unreachable(format!(
            "could not reach `attio-webhooks dev` at {url}: {why} (is it still running?)"
        ))
    };
    match tokio::time::timeout(TIMEOUT, call).await {
        Err(_) => Err(unreachable(format!("no answer within {TIMEOUT:?}"))),
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(ControlError::UnknownIdempotencyKey(key))) => Err(CliError::Refused(format!(
            "`dev` has no delivery with Idempotency-Key {key:?} in its log (it keeps the newest attempts only; `dev` prints each attempt's key)"
        ))),
        Ok(Err(ControlError::Refused(refusal))) => {
            let hint = if matches!(refusal.status_code, 401 | 403) {
                " (the control token does not match: is the state file from another run?)"
            } else {
                ""
            };
            let failure = format!(
                "`dev` refused {what} with {}: {}{hint}",
                refusal.status_code, refusal.message
            );
            if (400..500).contains(&refusal.status_code) {
                Err(CliError::Refused(failure))
            } else {
                Err(CliError::Unreachable(failure))
            }
        }
        Ok(Err(ControlError::Transport(e))) => Err(unreachable(with_causes(&*e))),
        Ok(Err(other)) => Err(unreachable(format!("an unexpected answer ({other})"))),
    }
}
