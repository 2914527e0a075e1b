//! The API client every management command uses, built from the global
//! options, and which URLs are on this machine (the core's loopback rule).

use std::time::Duration;

use attio_webhooks::{model::TargetUrlPolicy, transport::HyperTransport, Client};

use crate::cli_error::CliError;
use crate::context::Global;

/// A client for `--base-url` with the token, `--timeout`, and the client's
/// default retries (429 always, 5xx and network failures for everything
/// but create). Against a fake on a loopback `http://` base URL, `http://`
/// loopback target URLs are allowed too; Attio itself takes only `https://`.
/// A plain `http://` base URL beyond loopback needs `--allow-plain-http`.
pub fn client(global: &Global) -> Result<Client<HyperTransport>, CliError> {
    let token = global
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            CliError::Usage("no API token: set ATTIO_API_KEY or pass --token".to_owned())
        })?;
    let plain_http = plain_http_beyond_loopback(global)?;
    if !global.allow_http_targets_to.is_empty() && !global.base_url.starts_with("http://") {
        return Err(CliError::Usage(
            "--allow-http-targets-to (ATTIO_WEBHOOKS_ALLOW_HTTP_TARGETS_TO) is for a fake on an \
             http:// --base-url; Attio delivers only to https:// target URLs"
                .to_owned(),
        ));
    }
    let targets = target_url_policy(global);
    let transport = HyperTransport::new()
        .map_err(|e| CliError::Local(format!("could not set up HTTPS: {e}")))?;
    let mut builder = Client::builder(token)
        .base_url(global.base_url.as_str())
        .target_url_policy(targets)
        .timeout(Duration::from_secs(global.timeout));
    if plain_http {
        builder = builder.allow_insecure_http();
    }
    Ok(builder.build(transport)?)
}

/// Whether `--base-url` is plain `http://` to a host that is not loopback:
/// refused unless `--allow-plain-http` (or its variable) is set, and then
/// warned about, since the token travels unencrypted.
fn plain_http_beyond_loopback(global: &Global) -> Result<bool, CliError> {
    let url = global.base_url.as_str();
    if !url.starts_with("http://") || is_loopback_http(url) {
        return Ok(false);
    }
    if !global.allow_plain_http {
        return Err(CliError::Usage(format!(
            "--base-url {url:?} is plain http:// to a host that is not loopback: the token would \
             travel unencrypted. For a fake on a test network, pass --allow-plain-http (or set \
             ATTIO_WEBHOOKS_ALLOW_PLAIN_HTTP=1)"
        )));
    }
    if !global.quiet {
        eprintln!(
            "warning: sending the API token over plain http:// to {url} (--allow-plain-http); \
             use this only on a test network"
        );
    }
    Ok(true)
}

/// The target URLs the client (and a webhooks file) may use: `https://`;
/// `http://` to loopback when `--base-url` is an `http://` fake; and
/// `http://` to the hosts of `--allow-http-targets-to` when it is one.
pub fn target_url_policy(global: &Global) -> TargetUrlPolicy {
    let fake = is_loopback_http(&global.base_url)
        || (global.allow_plain_http && global.base_url.starts_with("http://"));
    match (fake, global.allow_http_targets_to.is_empty()) {
        (false, _) => TargetUrlPolicy::HttpsOnly,
        (true, true) => TargetUrlPolicy::AllowLoopbackHttp,
        (true, false) => {
            TargetUrlPolicy::allow_http_to(global.allow_http_targets_to.iter().cloned())
        }
    }
}

/// `true` for a plain `http://` URL whose host is loopback (`localhost`,
/// `127.x.x.x`, `[::1]`): the only URLs `dev` delivers to and `trigger`
/// sends its control token to, and the base URLs of a fake, for which the
/// client accepts plain-HTTP target URLs.
///
/// Which hosts are loopback is the core's rule
/// ([`TargetUrlPolicy::AllowLoopbackHttp`]), asked about the host alone:
/// the rest of the URL (path, port) is checked where the URL is used.
pub fn is_loopback_http(url: &str) -> bool {
    url.starts_with("http://")
        && url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| {
                uri.host().map(|host| {
                    TargetUrlPolicy::AllowLoopbackHttp
                        .check(&format!("http://{host}/"))
                        .is_ok()
                })
            })
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::is_loopback_http;

    #[test]
    fn only_plain_http_to_a_loopback_host() {
        for yes in [
            "http://127.0.0.1:8080/hook",
            "http://127.3.2.1/",
            "http://[::1]:3000/attio",
            "http://LOCALHOST/x",
            // Only the scheme and the host decide; the client or the fake
            // refuses a bad port or character where the URL is used.
            "http://localhost:abc/",
            "http://127.0.0.1/{x}",
            "http://localhost/a%zz",
        ] {
            assert!(is_loopback_http(yes), "{yes}");
        }
        for no in [
            "https://127.0.0.1/x",
            "http://10.0.0.1/x",
            "http://example.com/hook",
            "http://localhost.example.com/",
            "http://[::2]/",
            "http://[::ffff:127.0.0.1]/",
            "http:///x",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            assert!(!is_loopback_http(no), "{no}");
        }
    }
}
