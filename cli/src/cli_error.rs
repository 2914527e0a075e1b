//! Why a command failed, and the exit code each reason maps to.

use std::fmt;

/// Exit code: the command did what it was asked.
pub const EXIT_OK: u8 = 0;
/// Exit code: a local failure (a file that cannot be written, ...).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: the command line or an input file is wrong; nothing was sent.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: Attio (or the fake) refused the request with a 4xx answer.
pub const EXIT_API: u8 = 3;
/// Exit code: no usable answer: network failure, timeout, 429 or 5xx after retries.
pub const EXIT_UNREACHABLE: u8 = 4;
/// Exit code: `plan` found differences between the file and the workspace.
pub const EXIT_DIFFERENCES: u8 = 5;
/// Exit code: `probe` graded at least one check of the receiver failed, or
/// `replay` got an answer other than 200/202.
pub const EXIT_CHECKS_FAILED: u8 = 6;

/// A failed command. `Display` is the message printed after `error: `.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments or input files (exit 2).
    Usage(String),
    /// The client's error talking to Attio; its kind picks the exit code.
    Api(attio_webhooks::Error),
    /// A 4xx from a service other than the API (the `dev` control port).
    Refused(String),
    /// Nothing answered, or not usefully (exit 4).
    Unreachable(String),
    /// A local failure (exit 1).
    Local(String),
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Refused(_) => EXIT_API,
            CliError::Unreachable(_) => EXIT_UNREACHABLE,
            CliError::Local(_) => EXIT_FAILURE,
            CliError::Api(error) => api_exit_code(error),
        }
    }
}

/// 4xx answers are the caller's to fix (3); everything that may pass on its
/// own — connection failures, timeouts, 429 and 5xx after the client's
/// retries, undecodable 2xx/5xx answers — is 4; input the client refused
/// before sending is a usage error (2).
fn api_exit_code(error: &attio_webhooks::Error) -> u8 {
    use attio_webhooks::Error;
    match error {
        Error::InvalidInput(_) | Error::Config(_) => EXIT_USAGE,
        Error::RateLimited(_) | Error::Transport(_) => EXIT_UNREACHABLE,
        e if e.is_timeout() => EXIT_UNREACHABLE,
        _ => match error.status() {
            Some(status) if status.is_client_error() => EXIT_API,
            Some(_) => EXIT_UNREACHABLE,
            None => EXIT_FAILURE,
        },
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message)
            | CliError::Refused(message)
            | CliError::Unreachable(message)
            | CliError::Local(message) => f.write_str(message),
            CliError::Api(error) => {
                f.write_str(&with_causes(error))?;
                if error.is_unauthorized() {
                    f.write_str("\nhint: check the token in ATTIO_API_KEY (or --token)")?;
                } else if error.is_forbidden() {
                    f.write_str(
                        "\nhint: the token needs the webhook:read-write scope to change webhooks",
                    )?;
                } else if let attio_webhooks::Error::InvalidInput(input) = error {
                    if let Some(hint) = http_target_hint(input) {
                        f.write_str(hint)?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// An error's message followed by each cause ("connection refused", ...)
/// that the message does not already include.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl From<attio_webhooks::Error> for CliError {
    fn from(error: attio_webhooks::Error) -> Self {
        CliError::Api(error)
    }
}

impl From<attio_webhooks::error::InvalidInput> for CliError {
    fn from(error: attio_webhooks::error::InvalidInput) -> Self {
        let hint = http_target_hint(&error).unwrap_or_default();
        CliError::Usage(format!("{error}{hint}"))
    }
}

impl From<attio_webhooks::error::ConfigError> for CliError {
    fn from(error: attio_webhooks::error::ConfigError) -> Self {
        CliError::Usage(error.to_string())
    }
}

/// For a plain `http://` target URL: the CLI's flag that allows it against
/// a fake (the library's error cannot know the CLI's flags).
fn http_target_hint(error: &attio_webhooks::error::InvalidInput) -> Option<&'static str> {
    match error {
        attio_webhooks::error::InvalidInput::TargetUrl { url, .. } if url.starts_with("http://") => {
            Some(
                "\nhint: Attio takes only https://; against a fake, http:// goes to loopback, and to \
                 the hosts --allow-http-targets-to names (ATTIO_WEBHOOKS_ALLOW_HTTP_TARGETS_TO)",
            )
        }
        _ => None,
    }
}
