//! The API client every management command uses, built from the global options.

use std::time::Duration;

use attio_webhooks::{model::TargetUrlPolicy, transport::HyperTransport, Client};

use crate::args::Global;
use crate::cli_error::CliError;

/// A client for `--base-url` with the token, `--timeout`, and the client's
/// default retries (429 always, 5xx and network failures for everything
/// but create). Against a fake on a loopback `http://` base URL, `http://`
/// loopback target URLs are allowed too; Attio itself takes only `https://`.
pub fn client(global: &Global) -> Result<Client<HyperTransport>, CliError> {
    let token = global
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            CliError::Usage("no API token: set ATTIO_API_KEY or pass --token".to_owned())
        })?;
    let targets = target_url_policy(global);
    let transport = HyperTransport::new()
        .map_err(|e| CliError::Local(format!("could not set up HTTPS: {e}")))?;
    Ok(Client::builder(token)
        .base_url(global.base_url.as_str())
        .target_url_policy(targets)
        .timeout(Duration::from_secs(global.timeout))
        .build(transport)?)
}

/// The target URLs the client (and a webhooks file) may use: `https://`,
/// and `http://` to loopback when `--base-url` is a loopback fake.
pub fn target_url_policy(global: &Global) -> TargetUrlPolicy {
    if crate::loopback::is_loopback_http(&global.base_url) {
        TargetUrlPolicy::AllowLoopbackHttp
    } else {
        TargetUrlPolicy::HttpsOnly
    }
}
