//! The command line: global options, commands, their help and examples.

use std::path::PathBuf;

use attio_webhooks::{client::DEFAULT_BASE_URL, Subscription, WebhookId};
use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::commands::redeliver::RedeliverArgs;
use crate::dev_control::DevTargetArgs;
use crate::filter_syntax::parse_subscription;

/// The filter syntax, as `create --help`, `update --help` and `dev --help` explain it.
macro_rules! filter_syntax_help {
    () => {
        "Subscriptions are written TYPE[:FILTER]:
  record.created                                      every record.created event
  record.created:id.object_id=people                  FIELD=VALUE is `equals`
  record.updated:id.object_id=people,actor.type!=system
                                                      ',' joins conditions with $and, != is `not_equals`
  note.created:actor.type=app|actor.type=api-token    '|' joins them with $or (quote it in a shell)
  note.created:|actor.type=app                        a one-condition $or
FIELD is a dot path into the event (id.object_id, actor.type, parent_object_id, ...).
A backslash makes the next character literal (\\, \\| \\= \\! \\\\)."
    };
}

const ROOT_AFTER_HELP: &str = "\
Exit codes: 0 success, 2 usage error, 3 Attio refused the request (4xx),
4 network failure, timeout, 429 or 5xx after retries, 5 `plan --detailed-exitcode`
found differences, 1 any other failure (e.g. a file that cannot be written).

Examples:
  export ATTIO_API_KEY=...                      # the token is never printed
  attio-webhooks list
  attio-webhooks create --url https://example.com/attio --event 'record.created:id.object_id=people'
  attio-webhooks plan -f webhooks.yaml --detailed-exitcode   # exit 5 when the workspace differs
  attio-webhooks apply -f webhooks.yaml --secrets-out secrets.json
  attio-webhooks dev --forward-to http://localhost:3000/attio
  attio-webhooks trigger record.created         # in another terminal";

/// Manage Attio webhooks, keep them in a file, and develop a receiver locally.
#[derive(Debug, Parser)]
#[command(name = "attio-webhooks", version = version(), after_help = ROOT_AFTER_HELP)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

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

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List webhooks: every page, or one with --limit/--offset.
    #[command(after_help = "Examples:
  attio-webhooks list
  attio-webhooks list --json > webhooks.json     # a file `plan` and `apply` can read
  attio-webhooks list --limit 10 --offset 20     # one page")]
    List(ListArgs),
    /// Show one webhook.
    #[command(after_help = "Example:
  attio-webhooks get 23e42eaf-323a-41da-b5bb-fd67eebda553")]
    Get(IdArg),
    /// Create a webhook; prints its signing secret, which Attio shows only once.
    #[command(after_help = concat!(
        filter_syntax_help!(),
        "\n\nExamples:
  attio-webhooks create --url https://example.com/attio --event record.created --event note.created
  attio-webhooks create --url https://example.com/attio --event 'record.created:id.object_id=people,actor.type!=system'
  attio-webhooks create --from webhook.json    # {\"target_url\", \"subscriptions\"} or {\"data\": {...}}, JSON or YAML"
    ))]
    Create(CreateArgs),
    /// Change a webhook's target URL or replace its subscriptions.
    #[command(after_help = concat!(
        "--event replaces all subscriptions.\n\n",
        filter_syntax_help!(),
        "\n\nExamples:
  attio-webhooks update 23e42eaf-323a-41da-b5bb-fd67eebda553 --url https://example.com/v2
  attio-webhooks update 23e42eaf-323a-41da-b5bb-fd67eebda553 --event note.created --event task.created"
    ))]
    Update(UpdateArgs),
    /// Delete a webhook.
    #[command(after_help = "Example:
  attio-webhooks delete 23e42eaf-323a-41da-b5bb-fd67eebda553")]
    Delete(IdArg),
    /// Show what `apply` would change to make the workspace match a file.
    #[command(
        after_help = "Webhooks are matched by target URL; subscriptions and filter conditions
compare as sets, regardless of order, as Attio compares them. The file is JSON or
YAML in the API's shape (see `apply --help`). Each change says why; webhooks the
file does not own are listed and never touched.

Exit 0 when the plan was made, whatever it found; with --detailed-exitcode, 5 when
there is something to change.

Examples:
  attio-webhooks plan -f webhooks.yaml
  attio-webhooks plan -f webhooks.yaml --prune --out plan.json   # save it for apply --plan
  attio-webhooks plan -f webhooks.json --json --detailed-exitcode   # for CI"
    )]
    Plan(PlanArgs),
    /// Make the workspace match a file (or a saved plan): create, update, and with --prune delete.
    #[command(
        after_help = "The file holds a list of webhooks in the API's shape, as JSON or YAML, and
the target-URL prefixes it owns:

  owns:                            # what --prune may delete; without it, nothing
    - https://example.com/
  webhooks:                        # or a bare list, or {\"data\": [...]} (owning nothing)
    - target_url: https://example.com/attio
      subscriptions:
        - event_type: record.created
          filter: {$and: [{field: id.object_id, operator: equals, value: people}]}
        - event_type: note.created   # no filter: every note.created

`attio-webhooks list --json` output is a valid file. Running apply again changes
nothing. --prune deletes only webhooks under `owns:` that the file does not list;
it is refused for a file that owns nothing. Deletes ask for confirmation on a
terminal; without one they need --yes. Secrets of created webhooks are printed
once, or added to --secrets-out (and removed from it when their webhook is pruned).

Examples:
  attio-webhooks apply -f webhooks.yaml --secrets-out secrets.json
  attio-webhooks plan -f webhooks.yaml --prune --out plan.json && attio-webhooks apply --plan plan.json --yes"
    )]
    Apply(ApplyArgs),
    /// Run a local fake Attio that delivers signed sample events to your app.
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
    Dev(DevArgs),
    /// Send a sample event of a type through a running `dev`.
    #[command(
        after_help = "Every one of the 34 event types has a sample with the ids Attio puts in it.

Examples:
  attio-webhooks trigger record.created
  attio-webhooks trigger record.created --set id.object_id=people
  attio-webhooks trigger note.created --set actor.type=system --set actor.id=null
  attio-webhooks trigger note.created --print     # show the sample, send nothing
  attio-webhooks trigger --list                   # every event type"
    )]
    Trigger(TriggerArgs),
    /// Send a past message of a running `dev` again: same body, signature and Idempotency-Key.
    #[command(
        after_help = "As Attio's redeliveries: the receiver gets the same bytes under the same
Idempotency-Key, so a receiver that handles each message once answers 200 and does
nothing more. Only messages `dev`'s bounded delivery log still holds can be redelivered.

Examples:
  attio-webhooks redeliver 0b7c4a51-6a0e-4d4e-9a57-3f1b2c8d9e10   # a key `dev` or `trigger` printed
  attio-webhooks redeliver KEY --dev-url http://127.0.0.1:4455 --control-token TOKEN"
    )]
    Redeliver(RedeliverArgs),
    /// Receive deliveries: verify each signature and print each event.
    #[command(
        after_help = "Answers 200 to a correctly signed delivery, 401 to a missing or wrong
signature (with a line on stderr), 400 to a body that is not a delivery. Put any
tunnel in front of it to receive from Attio itself.

Examples:
  ATTIO_WEBHOOK_SECRET=... attio-webhooks listen --port 3000 --secret-env ATTIO_WEBHOOK_SECRET
  attio-webhooks listen --port 3000 --secret-env ATTIO_WEBHOOK_SECRET --json | jq .event_type
  attio-webhooks listen --host 0.0.0.0 --port 3000 --secret-file /run/secrets/attio_webhook_secret   # in a container"
    )]
    Listen(ListenArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    #[command(after_help = "Examples:
  attio-webhooks completions bash > ~/.local/share/bash-completion/completions/attio-webhooks
  attio-webhooks completions zsh > \"${fpath[1]}/_attio-webhooks\"
  attio-webhooks completions fish > ~/.config/fish/completions/attio-webhooks.fish")]
    Completions(CompletionsArgs),
    /// Print the man page (roff), generated from the same definitions as --help.
    #[command(after_help = "Example:
  attio-webhooks man > attio-webhooks.1 && man ./attio-webhooks.1")]
    Man,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Fetch one page of this many webhooks (10..=100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(10..=100))]
    pub limit: Option<u32>,
    /// Fetch one page starting after this many webhooks.
    #[arg(long)]
    pub offset: Option<u32>,
    /// Page size when fetching every page (10..=100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(10..=100))]
    pub page_size: u32,
}

/// A webhook id.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The webhook's id (a UUID).
    #[arg(value_name = "ID", value_parser = parse_webhook_id)]
    pub id: WebhookId,
}

/// `create`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["url", "from"])))]
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

/// `update`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true).args(["url", "event"])))]
pub struct UpdateArgs {
    /// The webhook's id (a UUID).
    #[arg(value_name = "ID", value_parser = parse_webhook_id)]
    pub id: WebhookId,
    /// A new target URL (https://).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A subscription: an event type, then optionally `:FILTER`; repeat for more. Replaces all subscriptions.
    #[arg(long = "event", value_name = "TYPE[:FILTER]", value_parser = parse_subscription)]
    pub event: Vec<Subscription>,
}

/// `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The webhooks file (JSON or YAML; `-` reads standard input).
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
    /// Also delete webhooks the file owns (its `owns:` prefixes) and does not list.
    #[arg(long)]
    pub prune: bool,
    /// Save the plan, with a fingerprint of the workspace, for `apply --plan`.
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,
    /// Exit 5 when there is something to change (0 otherwise), as Terraform does.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The webhooks file (JSON or YAML; `-` reads standard input).
    #[arg(
        short,
        long,
        value_name = "FILE",
        required_unless_present = "plan",
        conflicts_with = "plan"
    )]
    pub file: Option<PathBuf>,
    /// Also delete webhooks the file owns (its `owns:` prefixes) and does not list.
    #[arg(long, conflicts_with = "plan")]
    pub prune: bool,
    /// Apply exactly this saved plan (`plan --out`); refused if the workspace changed since.
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// Delete without asking (needed for deletes when there is no terminal to ask on).
    #[arg(long)]
    pub yes: bool,
    /// Add the secrets of created webhooks to this file (mode 0600) instead of printing them; deleted webhooks' secrets are removed from it.
    #[arg(long, value_name = "FILE")]
    pub secrets_out: Option<PathBuf>,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `dev`.
#[derive(Debug, Args)]
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

/// `trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The event type, e.g. record.created.
    #[arg(value_name = "TYPE", required_unless_present = "list")]
    pub event_type: Option<String>,
    /// Change a field of the sample: id.object_id=people, parent_record_id=..., actor.type=system (with actor.id=null); repeatable
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Print the sample event and send nothing.
    #[arg(long)]
    pub print: bool,
    /// List every event type that has a sample.
    #[arg(long, conflicts_with_all = ["event_type", "print", "set"])]
    pub list: bool,
    /// Where the running dev is.
    #[command(flatten)]
    pub dev: DevTargetArgs,
}

/// `listen`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("key").required(true).args(["secret", "secret_env", "secret_file"])))]
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
}

/// `0.2.0 (commit 1a2b3c4d5e6f)`: the version, and the commit named by
/// `ATTIO_WEBHOOKS_COMMIT` when the binary was built (scripts/build-image.sh
/// sets it), else `unknown`.
fn version() -> String {
    let commit = option_env!("ATTIO_WEBHOOKS_COMMIT").unwrap_or("unknown");
    format!("{} (commit {commit})", env!("CARGO_PKG_VERSION"))
}

fn parse_webhook_id(text: &str) -> Result<WebhookId, String> {
    WebhookId::parse(text).map_err(|e| e.to_string())
}
