//! Tests that need a server the developer starts: skipped with a line
//! saying how to start it, except under `CI=true`, where they fail.

use std::fmt::Display;
use std::io::Write;

/// Call when a server a test needs (Redis, PostgreSQL, ...) did not
/// answer, then return from the test.
///
/// Under `CI=true` it panics, naming the server and why, so a CI that
/// forgot to start the server fails instead of passing with nothing
/// tested. Otherwise it writes one line to stderr, `skipped: no <server>
/// (<why>); start one with `<start_with>``, straight to the terminal (the
/// test harness hides a passing test's `eprintln!`).
///
/// ```
/// # std::env::remove_var("CI");
/// use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;
/// skip_without_server(
///     "Redis at redis://127.0.0.1:6390/",
///     "connection refused",
///     "redis-server --port 6390 --save '' --appendonly no",
/// );
/// ```
pub fn skip_without_server(server: &str, why: impl Display, start_with: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("no {server} ({why}); CI must start one: {start_with}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped: no {server} ({why}); start one with `{start_with}`"
    );
}
