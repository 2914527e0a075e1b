//! `fake-attio`: the testkit's fake Attio webhooks API as a standalone
//! server, for tests in any language.
//!
//! Prints one line, its base URL, once it is listening; serves until killed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use attio_webhooks::{Timestamp, WorkspaceId};
use attio_webhooks_testkit::{Clock, FakeAttio, Scope};

const USAGE: &str = "\
usage: fake-attio [options]

Serves a fake Attio webhooks API (REST v2) until killed. Prints its base URL
on one line once it is listening.

options:
  --port PORT              port to listen on; 0 picks a free one (default 0)
  --host ADDR              address to bind (default 127.0.0.1)
  --token TOKEN[=SCOPES]   accept this bearer token; SCOPES is a comma list of
                           webhook:read and webhook:read-write (default
                           webhook:read-write). Repeatable. Without any, the
                           token fake-attio-token is accepted.
  --workspace-id UUID      workspace id of every webhook (default random)
  --allow-http-targets     also accept http:// target URLs on loopback hosts
  --rate-limit             enforce Attio's 100 reads/s and 25 writes/s
  --manual-clock           run on a manual clock that starts now and moves
                           only by POST /__fake/clock/advance (to run days of
                           delivery retries in moments)
  --help                   print this help

Test controls live under /__fake (reset, seed, requests, faults, events,
deliveries, clock): see the README of attio-webhooks.";

struct Options {
    host: IpAddr,
    port: u16,
    tokens: Vec<(String, Vec<Scope>)>,
    workspace_id: Option<WorkspaceId>,
    allow_http_targets: bool,
    rate_limit: bool,
    manual_clock: bool,
}

fn parse_token(spec: &str) -> Result<(String, Vec<Scope>), String> {
    let (token, scopes) = match spec.split_once('=') {
        Some((token, scopes)) => {
            let scopes = scopes
                .split(',')
                .map(|s| s.trim().parse::<Scope>().map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            (token, scopes)
        }
        None => (spec, vec![Scope::ReadWrite]),
    };
    if token.is_empty() {
        return Err("--token needs a non-empty token".to_owned());
    }
    Ok((token.to_owned(), scopes))
}

fn parse_args() -> Result<Option<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        tokens: Vec::new(),
        workspace_id: None,
        allow_http_targets: false,
        rate_limit: false,
        manual_clock: false,
    };
    let mut parser = lexopt::Parser::from_env();
    let text = |value: std::ffi::OsString| {
        value
            .into_string()
            .map_err(|_| "arguments must be UTF-8".to_owned())
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("port") => {
                let value = text(parser.value().map_err(|e| e.to_string())?)?;
                options.port = value
                    .parse()
                    .map_err(|_| format!("--port: {value:?} is not a port number"))?;
            }
            Long("host") => {
                let value = text(parser.value().map_err(|e| e.to_string())?)?;
                options.host = value
                    .parse()
                    .map_err(|_| format!("--host: {value:?} is not an IP address"))?;
            }
            Long("token") => options.tokens.push(parse_token(&text(
                parser.value().map_err(|e| e.to_string())?,
            )?)?),
            Long("workspace-id") => {
                let value = text(parser.value().map_err(|e| e.to_string())?)?;
                options.workspace_id =
                    Some(value.parse().map_err(|e| format!("--workspace-id: {e}"))?);
            }
            Long("allow-http-targets") => options.allow_http_targets = true,
            Long("rate-limit") => options.rate_limit = true,
            Long("manual-clock") => options.manual_clock = true,
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Some(options))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fake-attio: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = FakeAttio::builder();
    for (token, scopes) in options.tokens {
        builder = builder.token(token, scopes);
    }
    if let Some(id) = options.workspace_id {
        builder = builder.workspace_id(id);
    }
    if options.allow_http_targets {
        builder = builder.allow_loopback_http_targets();
    }
    if options.rate_limit {
        builder = builder.attio_rate_limits();
    }
    if options.manual_clock {
        builder = builder.clock(Clock::manual(Timestamp::now()));
    }
    let fake = builder.build();
    let server = match fake
        .serve_on(SocketAddr::new(options.host, options.port))
        .await
    {
        Ok(server) => server,
        Err(error) => {
            eprintln!(
                "fake-attio: cannot listen on {}:{}: {error}",
                options.host, options.port
            );
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.base_url());
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
