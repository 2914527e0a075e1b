//! `fake-attio`'s command line: flags, environment variables, and what
//! they parse to.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::time::Duration;

use attio_webhooks::WorkspaceId;
use attio_webhooks_testkit::tls::{roots_from_pem, CertificateDer};
use attio_webhooks_testkit::{Limits, Scope};

/// The help text, with the defaults of [`Limits`] (one source for both).
pub(crate) fn usage() -> String {
    let limits = Limits::default();
    format!(
        "\
usage: fake-attio [options]

Serves a fake Attio webhooks API (REST v2). Prints its base URL on one line
once it is listening; stops on SIGTERM or SIGINT, letting running requests
finish.

options:
  --port PORT              port to listen on; 0 picks a free one (default 0)
  --host ADDR              address to bind: an IP address or localhost
                           (default 127.0.0.1). Beyond loopback it needs
                           --control-token or --no-control.
  --token TOKEN[=SCOPES]   accept this bearer token; SCOPES is a comma list of
                           webhook:read and webhook:read-write (default
                           webhook:read-write). Repeatable. Without any token
                           from any source, fake-attio-token is accepted.
  --tokens-file FILE       read tokens from FILE, one TOKEN[=SCOPES] a line
                           (# comments); keeps them out of `ps`
  --control-token TOKEN    the control routes (/__fake/...) need
                           Authorization: Bearer TOKEN (else 401)
  --no-control             no control routes at all (404)
  --workspace-id UUID      workspace id of every webhook (default random)
  --allow-http-targets     also accept http:// target URLs on loopback hosts
  --allow-http-targets-to HOSTS
                           also accept (and deliver to) http:// target URLs
                           on loopback and on these comma-separated hosts,
                           e.g. receiver in a compose network; unencrypted,
                           for test networks only
  --trust-delivery-root FILE
                           deliver to https:// targets (on loopback and the
                           hosts above) whose certificate comes from a root
                           in FILE (PEM); repeatable. No other root is
                           trusted, and without one https targets are
                           skipped
  --rate-limit             enforce Attio's 100 reads/s and 25 writes/s
  --manual-clock           run on a manual clock that starts now and moves
                           only by POST /__fake/clock/advance
  --attio-like-deliveries SEED
                           deliver as Attio does, every choice drawn from
                           SEED (an integer): events about one record batched
                           within 200 ms, a system record.updated 1 s after a
                           user's record change, some messages sent twice or
                           held back, timed-out requests left running while
                           their retry goes out (DeliveryProfile::attio_like)
  --log-requests, --log    one line per request on stderr (method, path,
                           status, micros, execution_id) and one per
                           delivery attempt (webhook_id, attempt, origin,
                           target, outcome, status, execution_id); never a
                           token, a body, a query or a signature
  --log-format FORMAT      json (default) or text; implies --log-requests
  --header-timeout SECS    close connections that take longer to send
                           request headers (default {header})
  --idle-timeout SECS      close keep-alive connections idle this long
                           (default {idle})
  --max-connections N      serve at most N connections at once (default {connections})
  --max-stored-mib N       hold at most N MiB of webhooks (default {stored}); past
                           it, creates answer 400
  --max-workspaces N       hold at most N workspaces made by
                           POST /__fake/workspaces besides the default one
                           (default {workspaces}; 0 makes none); past it, 503
  --workspace-idle-timeout SECS
                           delete a workspace made over HTTP after this long
                           without a request (default {workspace_idle})
  --version                print the version
  --help                   print this help

environment:
  FAKE_ATTIO_TOKENS         TOKEN[=SCOPES],... as --token, comma-separated
                            (a scope after a token belongs to it)
  FAKE_ATTIO_CONTROL_TOKEN  as --control-token
  FAKE_ATTIO_ALLOW_HTTP_TARGETS_TO
                            HOST,... as --allow-http-targets-to
  FAKE_ATTIO_TRUST_DELIVERY_ROOT
                            FILE as --trust-delivery-root

Test controls live under /__fake (reset, seed, requests, faults, events,
deliveries, clock, workspaces): see the README of attio-webhooks. Each
POST /__fake/workspaces makes an isolated workspace with its own tokens;
requests without one of those go to the default workspace.",
        header = limits.header_read_timeout.as_secs_f64(),
        idle = limits.idle_timeout.as_secs_f64(),
        connections = limits.max_connections,
        stored = limits.stored_bytes >> 20,
        workspaces = limits.workspaces,
        workspace_idle = limits.workspace_idle_timeout.as_secs_f64(),
    )
}

#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) host: IpAddr,
    pub(crate) host_given: String,
    pub(crate) port: u16,
    pub(crate) tokens: Vec<(String, Vec<Scope>)>,
    pub(crate) control_token: Option<String>,
    pub(crate) no_control: bool,
    pub(crate) workspace_id: Option<WorkspaceId>,
    pub(crate) allow_http_targets: bool,
    pub(crate) allow_http_targets_to: Vec<String>,
    /// From `--trust-delivery-root` files and FAKE_ATTIO_TRUST_DELIVERY_ROOT.
    pub(crate) delivery_roots: Vec<CertificateDer<'static>>,
    pub(crate) rate_limit: bool,
    pub(crate) manual_clock: bool,
    pub(crate) attio_like_deliveries: Option<u64>,
    /// `--log-requests`/`--log` and `--log-format`.
    pub(crate) log: Option<attio_webhooks_testkit::LogFormat>,
    pub(crate) limits: Limits,
}

pub(crate) enum Parsed {
    Run(Box<Options>),
    Help,
    Version,
}

fn parse_scopes(token: &str, scopes: &str) -> Result<(String, Vec<Scope>), String> {
    let scopes = scopes
        .split(',')
        .map(|s| s.trim().parse::<Scope>().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    token_with(token, scopes)
}

fn token_with(token: &str, scopes: Vec<Scope>) -> Result<(String, Vec<Scope>), String> {
    if token.is_empty() {
        return Err("a token must not be empty".to_owned());
    }
    Ok((token.to_owned(), scopes))
}

/// `TOKEN` or `TOKEN=SCOPE,SCOPE`.
fn parse_token(spec: &str) -> Result<(String, Vec<Scope>), String> {
    match spec.split_once('=') {
        Some((token, scopes)) => parse_scopes(token, scopes),
        None => token_with(spec, vec![Scope::ReadWrite]),
    }
}

/// `TOKEN[=SCOPES],...`: an item that is a scope name belongs to the token before it.
fn parse_token_list(list: &str) -> Result<Vec<(String, Vec<Scope>)>, String> {
    let mut tokens: Vec<(String, Vec<Scope>)> = Vec::new();
    let mut explicit = false;
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let (Ok(scope), true) = (item.parse::<Scope>(), explicit) {
            if let Some((_, scopes)) = tokens.last_mut() {
                scopes.push(scope);
                continue;
            }
        }
        explicit = item.contains('=');
        tokens.push(parse_token(item)?);
    }
    Ok(tokens)
}

fn parse_tokens_file(path: &str) -> Result<Vec<(String, Vec<Scope>)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--tokens-file: cannot read {path}: {e}"))?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| parse_token(line).map_err(|e| format!("--tokens-file {path}: {e}")))
        .collect()
}

fn parse_host(value: &str) -> Result<IpAddr, String> {
    if let Ok(ip) = value.parse() {
        return Ok(ip);
    }
    if value.eq_ignore_ascii_case("localhost") {
        // Resolved like a client would, preferring IPv4.
        let resolved: Vec<IpAddr> = ("localhost", 0)
            .to_socket_addrs()
            .map(|addrs| addrs.map(|a| a.ip()).collect())
            .unwrap_or_default();
        return Ok(resolved
            .iter()
            .copied()
            .find(IpAddr::is_ipv4)
            .or(resolved.first().copied())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
    Err(format!(
        "--host: {value:?} is not an IP address or localhost"
    ))
}

/// `HOST,HOST`: the hosts, trimmed, without empty items.
fn host_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The certificates in the PEM file at `path`, each usable as a root.
fn read_roots(source: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{source}: cannot read {path}: {e}"))?;
    roots_from_pem(&pem).map_err(|e| format!("{source} {path}: {e}"))
}

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{flag}: {value:?} is not a positive number of seconds"))
}

pub(crate) fn parse_args(
    args: Vec<std::ffi::OsString>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Parsed, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        host_given: "127.0.0.1".to_owned(),
        port: 0,
        tokens: Vec::new(),
        control_token: env("FAKE_ATTIO_CONTROL_TOKEN").filter(|t| !t.is_empty()),
        no_control: false,
        workspace_id: None,
        allow_http_targets: false,
        allow_http_targets_to: env("FAKE_ATTIO_ALLOW_HTTP_TARGETS_TO")
            .map(|list| host_list(&list))
            .unwrap_or_default(),
        delivery_roots: Vec::new(),
        rate_limit: false,
        manual_clock: false,
        attio_like_deliveries: None,
        log: None,
        limits: Limits::default(),
    };
    if let Some(path) = env("FAKE_ATTIO_TRUST_DELIVERY_ROOT").filter(|p| !p.is_empty()) {
        options.delivery_roots = read_roots("FAKE_ATTIO_TRUST_DELIVERY_ROOT", &path)?;
    }
    if let Some(list) = env("FAKE_ATTIO_TOKENS") {
        options.tokens = parse_token_list(&list).map_err(|e| format!("FAKE_ATTIO_TOKENS: {e}"))?;
    }
    let mut parser = lexopt::Parser::from_args(args);
    let value = |parser: &mut lexopt::Parser| -> Result<String, String> {
        parser
            .value()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|_| "arguments must be UTF-8".to_owned())
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("port") => {
                let v = value(&mut parser)?;
                options.port = v
                    .parse()
                    .map_err(|_| format!("--port: {v:?} is not a port number"))?;
            }
            Long("host") => {
                let v = value(&mut parser)?;
                options.host = parse_host(&v)?;
                options.host_given = v;
            }
            Long("token") => options
                .tokens
                .push(parse_token(&value(&mut parser)?).map_err(|e| format!("--token: {e}"))?),
            Long("tokens-file") => options
                .tokens
                .extend(parse_tokens_file(&value(&mut parser)?)?),
            Long("control-token") => {
                let v = value(&mut parser)?;
                if v.is_empty() {
                    return Err("--control-token needs a non-empty token".to_owned());
                }
                options.control_token = Some(v);
            }
            Long("no-control") => options.no_control = true,
            Long("workspace-id") => {
                let v = value(&mut parser)?;
                options.workspace_id = Some(v.parse().map_err(|e| format!("--workspace-id: {e}"))?);
            }
            Long("allow-http-targets") => options.allow_http_targets = true,
            Long("allow-http-targets-to") => {
                let hosts = host_list(&value(&mut parser)?);
                if hosts.is_empty() {
                    return Err("--allow-http-targets-to needs at least one host".to_owned());
                }
                options.allow_http_targets_to.extend(hosts);
            }
            Long("trust-delivery-root") => {
                let path = value(&mut parser)?;
                options
                    .delivery_roots
                    .extend(read_roots("--trust-delivery-root", &path)?);
            }
            Long("rate-limit") => options.rate_limit = true,
            Long("manual-clock") => options.manual_clock = true,
            Long("attio-like-deliveries") => {
                let v = value(&mut parser)?;
                options.attio_like_deliveries = Some(v.parse().map_err(|_| {
                    format!(
                        "--attio-like-deliveries: {v:?} is not a seed (an integer from 0 to {})",
                        u64::MAX
                    )
                })?);
            }
            Long("log" | "log-requests") => {
                options.log.get_or_insert_with(Default::default);
            }
            Long("log-format") => {
                let v = value(&mut parser)?;
                options.log = Some(v.parse().map_err(|e| format!("--log-format: {e}"))?);
            }
            Long("header-timeout") => {
                options.limits.header_read_timeout =
                    seconds("--header-timeout", &value(&mut parser)?)?;
            }
            Long("idle-timeout") => {
                options.limits.idle_timeout = seconds("--idle-timeout", &value(&mut parser)?)?;
            }
            Long("max-connections") => {
                let v = value(&mut parser)?;
                options.limits.max_connections =
                    v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("--max-connections: {v:?} is not a positive number")
                    })?;
            }
            Long("max-stored-mib") => {
                let v = value(&mut parser)?;
                options.limits.stored_bytes = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .and_then(|n| n.checked_mul(1 << 20))
                    .ok_or_else(|| {
                        format!("--max-stored-mib: {v:?} is not a positive number of MiB")
                    })?;
            }
            Long("max-workspaces") => {
                let v = value(&mut parser)?;
                options.limits.workspaces = v
                    .parse()
                    .map_err(|_| format!("--max-workspaces: {v:?} is not a number"))?;
            }
            Long("workspace-idle-timeout") => {
                options.limits.workspace_idle_timeout =
                    seconds("--workspace-idle-timeout", &value(&mut parser)?)?;
            }
            Long("version") | Short('V') => return Ok(Parsed::Version),
            Long("help") | Short('h') => return Ok(Parsed::Help),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if options.no_control && options.control_token.is_some() {
        return Err("--no-control and a control token exclude each other".to_owned());
    }
    if !options.host.is_loopback() && !options.no_control && options.control_token.is_none() {
        return Err(format!(
            "refusing to listen on {} (beyond loopback) with open control routes: anyone \
             who can reach /__fake could read every webhook secret and the recorded \
             requests, and wipe the state. Either set FAKE_ATTIO_CONTROL_TOKEN=<secret> \
             (or pass --control-token <secret>), and the control routes need \
             `Authorization: Bearer <secret>`; or pass --no-control to remove them. \
             (GET /__health needs neither.)",
            options.host_given
        ));
    }
    Ok(Parsed::Run(Box::new(options)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Parsed, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_args(args.iter().map(Into::into).collect(), move |k| {
            env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        })
    }

    fn options(args: &[&str], env: &[(&str, &str)]) -> Options {
        match parse(args, env) {
            Ok(Parsed::Run(o)) => *o,
            Ok(_) => panic!("help or version"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn token_lists_attach_scopes_to_the_token_before_them() {
        let tokens =
            parse_token_list("a=webhook:read,webhook:read-write,b,c=webhook:read").unwrap();
        assert_eq!(
            tokens,
            [
                ("a".to_owned(), vec![Scope::Read, Scope::ReadWrite]),
                ("b".to_owned(), vec![Scope::ReadWrite]),
                ("c".to_owned(), vec![Scope::Read]),
            ]
        );
        assert!(parse_token_list("a=webhook:write").is_err());
    }

    #[test]
    fn http_target_hosts_from_flags_and_the_environment() {
        let env = [("FAKE_ATTIO_ALLOW_HTTP_TARGETS_TO", " receiver, ,10.0.0.7 ")];
        assert_eq!(
            options(&[], &env).allow_http_targets_to,
            ["receiver", "10.0.0.7"]
        );
        let both = options(&["--allow-http-targets-to", "hooks,api"], &env);
        assert_eq!(
            both.allow_http_targets_to,
            ["receiver", "10.0.0.7", "hooks", "api"]
        );
        assert!(options(&[], &[]).allow_http_targets_to.is_empty());
        let err = parse(&["--allow-http-targets-to", " , "], &[])
            .err()
            .unwrap();
        assert!(err.contains("at least one host"), "{err}");
    }

    #[test]
    fn delivery_roots_from_files_named_by_flags_and_the_environment() {
        let dir = std::env::temp_dir().join(format!("fake-attio-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (one, two) = (
            attio_webhooks_testkit::tls::LoopbackCertificate::mint(),
            attio_webhooks_testkit::tls::LoopbackCertificate::mint(),
        );
        let (one_pem, two_pem, key_pem) = (
            dir.join("one.pem"),
            dir.join("two.pem"),
            dir.join("key.pem"),
        );
        std::fs::write(&one_pem, one.root_pem()).unwrap();
        std::fs::write(&two_pem, two.root_pem()).unwrap();
        std::fs::write(&key_pem, one.key_pem()).unwrap();
        let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();

        let env = [("FAKE_ATTIO_TRUST_DELIVERY_ROOT", path(&one_pem))];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(options(&[], &env).delivery_roots, [one.root()]);
        let both = options(&["--trust-delivery-root", &path(&two_pem)], &env);
        assert_eq!(both.delivery_roots, [one.root(), two.root()]);
        assert!(options(&[], &[]).delivery_roots.is_empty());

        let err = parse(&["--trust-delivery-root", &path(&key_pem)], &[])
            .err()
            .unwrap();
        assert!(err.contains("--trust-delivery-root"), "{err}");
        assert!(err.contains("no CERTIFICATE"), "{err}");
        let missing = path(&dir.join("missing.pem"));
        let err = parse(&[], &[("FAKE_ATTIO_TRUST_DELIVERY_ROOT", &missing)])
            .err()
            .unwrap();
        assert!(
            err.contains("FAKE_ATTIO_TRUST_DELIVERY_ROOT: cannot read"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn beyond_loopback_needs_a_control_token_or_no_control() {
        for host in ["0.0.0.0", "::", "192.168.1.20"] {
            let err = parse(&["--host", host], &[]).err().unwrap();
            assert!(err.contains("--control-token"), "{err}");
            assert!(err.contains("FAKE_ATTIO_CONTROL_TOKEN="), "{err}");
            assert!(err.contains("--no-control"), "{err}");
            options(&["--host", host, "--no-control"], &[]);
            options(&["--host", host, "--control-token", "t"], &[]);
            options(&["--host", host], &[("FAKE_ATTIO_CONTROL_TOKEN", "t")]);
        }
        assert!(options(&["--host", "localhost"], &[]).host.is_loopback());
        assert!(parse(&["--host", "example.com"], &[]).is_err());
        assert!(parse(&["--no-control", "--control-token", "t"], &[]).is_err());
    }

    #[test]
    fn tokens_from_the_environment_and_flags_add_up() {
        let o = options(
            &["--token", "x=webhook:read"],
            &[("FAKE_ATTIO_TOKENS", "y")],
        );
        assert_eq!(o.tokens.len(), 2);
        let o = options(&["--header-timeout", "0.5", "--max-connections", "3"], &[]);
        assert_eq!(o.limits.header_read_timeout, Duration::from_millis(500));
        assert_eq!(o.limits.max_connections, 3);
        assert!(parse(&["--idle-timeout", "0"], &[]).is_err());
        assert_eq!(options(&[], &[]).attio_like_deliveries, None);
        let o = options(&["--attio-like-deliveries", "42"], &[]);
        assert_eq!(o.attio_like_deliveries, Some(42));
        let err = parse(&["--attio-like-deliveries", "-1"], &[])
            .err()
            .unwrap();
        assert!(err.contains("not a seed"), "{err}");
        let o = options(&["--max-stored-mib", "16"], &[]);
        assert_eq!(o.limits.stored_bytes, 16 << 20);
        assert!(parse(&["--max-stored-mib", "0"], &[]).is_err());
    }

    #[test]
    fn workspace_limits() {
        let o = options(
            &[
                "--max-workspaces",
                "10000",
                "--workspace-idle-timeout",
                "2.5",
            ],
            &[],
        );
        assert_eq!(o.limits.workspaces, 10_000);
        assert_eq!(o.limits.workspace_idle_timeout, Duration::from_millis(2500));
        assert_eq!(
            options(&["--max-workspaces", "0"], &[]).limits.workspaces,
            0
        );
        assert!(parse(&["--max-workspaces", "-1"], &[]).is_err());
        assert!(parse(&["--workspace-idle-timeout", "0"], &[]).is_err());
    }
}
