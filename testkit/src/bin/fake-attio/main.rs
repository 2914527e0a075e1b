//! `fake-attio`: the testkit's fake Attio webhooks API as a standalone
//! server, for tests in any language.
//!
//! Prints one line, its base URL, once it is listening; serves until
//! SIGTERM or SIGINT, then lets running requests finish and exits 0.

mod args;

use std::net::SocketAddr;
use std::process::ExitCode;

use attio_webhooks::model::Timestamp;
use attio_webhooks_testkit::{
    delivery::DeliveryProfile, server::StopSignals, Clock, FakeAttio, DEFAULT_TOKEN,
};

use args::{parse_args, usage, Options, Parsed};

fn build(options: &Options) -> FakeAttio {
    let mut builder = FakeAttio::builder().limits(options.limits.clone());
    for (token, scopes) in &options.tokens {
        builder = builder.token(token.clone(), scopes.iter().copied());
    }
    if let Some(id) = options.workspace_id {
        builder = builder.workspace_id(id);
    }
    if !options.allow_http_targets_to.is_empty() {
        builder = builder.allow_http_targets_to(options.allow_http_targets_to.iter().cloned());
    } else if options.allow_http_targets {
        builder = builder.allow_loopback_http_targets();
    }
    for root in &options.delivery_roots {
        builder = builder.trust_delivery_root(root.clone());
    }
    if options.rate_limit {
        builder = builder.attio_rate_limits();
    }
    if options.manual_clock {
        builder = builder.clock(Clock::manual(Timestamp::now()));
    }
    if let Some(seed) = options.attio_like_deliveries {
        builder = builder.delivery_profile(DeliveryProfile::attio_like(seed));
    }
    if let Some(token) = &options.control_token {
        builder = builder.control_token(token.clone());
    }
    if options.no_control {
        builder = builder.without_control_routes();
    }
    if let Some(format) = options.log {
        builder = builder.log_requests_as(format);
    }
    builder.build()
}

/// Writes `text` and a newline to `out`, ignoring a reader that went away
/// (`fake-attio --help | head`): `println!` would panic on the broken pipe.
fn say(mut out: impl std::io::Write, text: std::fmt::Arguments<'_>) {
    let _ = out.write_fmt(text).and_then(|()| out.write_all(b"\n"));
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1).collect(), |k| {
        std::env::var(k).ok()
    }) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            say(std::io::stdout(), format_args!("{}", usage()));
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            // The commit comes from ATTIO_WEBHOOKS_COMMIT at build time
            // (scripts/build-image.sh sets it).
            let commit = option_env!("ATTIO_WEBHOOKS_COMMIT").unwrap_or("unknown");
            say(
                std::io::stdout(),
                format_args!("fake-attio {} (commit {commit})", env!("CARGO_PKG_VERSION")),
            );
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            say(
                std::io::stderr(),
                format_args!("fake-attio: {message}\n\n{}", usage()),
            );
            return ExitCode::from(2);
        }
    };
    // Installed here, synchronously, before the port is bound: a signal
    // sent the instant the port accepts or the URL is printed is kept.
    let stop = StopSignals::install();
    let fake = build(&options);
    let server = match fake
        .serve_on(SocketAddr::new(options.host, options.port))
        .await
    {
        Ok(server) => server,
        Err(error) => {
            say(
                std::io::stderr(),
                format_args!(
                    "fake-attio: cannot listen on {}:{}: {error}",
                    options.host, options.port
                ),
            );
            return ExitCode::FAILURE;
        }
    };
    // A reader of the URL that went away (`fake-attio | head -1`) must
    // not stop the server: `say`, never `println!`, from here on too.
    say(std::io::stdout(), format_args!("{}", server.base_url()));
    if options.host.is_unspecified() {
        say(
            std::io::stderr(),
            format_args!(
                "fake-attio: listening on all interfaces ({}); clients on this host can use {}",
                server.addr(),
                server.base_url()
            ),
        );
    }
    if !options.host.is_loopback() && fake.token() == DEFAULT_TOKEN {
        say(
            std::io::stderr(),
            format_args!(
                "fake-attio: warning: the API accepts the well-known default token {DEFAULT_TOKEN:?}; \
                 set your own with --tokens-file or FAKE_ATTIO_TOKENS"
            ),
        );
    }
    stop.wait().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
