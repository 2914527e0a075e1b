//! What every command is given and gives back: the global options, the
//! context built from them (`Ctx`), and how a command ended (`Status`).

use attio_webhooks::client::DEFAULT_BASE_URL;
use clap::Args;

use crate::output::Output;

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Attio API token (API key or OAuth access token); prefer the environment
    /// variable, as arguments are visible to other users. Never printed.
    #[arg(
        long,
        env = "ATTIO_API_KEY",
        hide_env_values = true,
        global = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Where the API is: Attio, a proxy, or a fake (http:// only to loopback hosts, unless --allow-plain-http).
    #[arg(long, env = "ATTIO_BASE_URL", default_value = DEFAULT_BASE_URL, global = true, value_name = "URL")]
    pub base_url: String,
    /// Allow an http:// --base-url on a host that is not loopback (a fake in
    /// a compose network: http://fake-attio:8080). The token travels
    /// unencrypted; for test networks only. Warns on stderr.
    #[arg(long, env = "ATTIO_WEBHOOKS_ALLOW_PLAIN_HTTP", global = true, value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub allow_plain_http: bool,
    /// Also accept http:// target URLs on these hosts (comma-separated host
    /// names or IPs, e.g. receiver), for a receiver in a test network;
    /// only with a fake. http:// to loopback is accepted whenever
    /// --base-url is an http:// fake.
    #[arg(
        long,
        env = "ATTIO_WEBHOOKS_ALLOW_HTTP_TARGETS_TO",
        global = true,
        value_delimiter = ',',
        value_name = "HOSTS"
    )]
    pub allow_http_targets_to: Vec<String>,
    /// Print results as JSON (the API's objects) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 30, global = true, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// No progress messages on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// What every command gets: the global options and how to print.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// `--token`, `--base-url`, `--timeout`, ...
    pub global: &'a Global,
    /// `--json` and `--quiet`.
    pub out: Output,
}

impl<'a> Ctx<'a> {
    /// The context for a command run with `global`.
    pub fn new(global: &'a Global) -> Self {
        Ctx {
            global,
            out: Output {
                json: global.json,
                quiet: global.quiet,
            },
        }
    }
}

/// How a command that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Done (exit 0).
    Done,
    /// `plan --detailed-exitcode` found changes to make (exit 5).
    Differences,
    /// `probe` graded at least one check failed, or `replay` got an answer
    /// other than 200/202 (exit 6).
    ChecksFailed,
}
