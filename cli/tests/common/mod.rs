//! Helpers shared by the CLI's tests: a fake Attio served on loopback from
//! a background runtime, the built binary run with a deadline, long-running
//! children that are always killed, and scratch directories.

#![allow(dead_code)] // each test file uses its own subset

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use attio_webhooks::{model::TargetUrlPolicy, transport::HyperTransport, Client};
use attio_webhooks_testkit::{delivery::DeliveryPolicy, FakeAttio, FakeServer, Scope};
use tokio::runtime::Runtime;

/// The token the test fakes accept.
pub const TOKEN: &str = "cli-test-token";
/// How long one CLI invocation may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The built binary.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_attio-webhooks")
}

/// A fake Attio on 127.0.0.1, served from its own runtime so that the test
/// thread can block on child processes meanwhile.
pub struct Fake {
    pub server: FakeServer,
    pub runtime: Runtime,
}

impl Fake {
    /// A fake that accepts [`TOKEN`] and http:// loopback targets, and
    /// retries failed deliveries after 200 ms, twice.
    pub fn start() -> Self {
        Self::start_with(FakeAttio::builder().allow_loopback_http_targets())
    }

    /// Like [`Fake::start`], from `builder` (its token, delivery policy and
    /// loopback address are set here).
    pub fn start_with(builder: attio_webhooks_testkit::FakeAttioBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(async {
            builder
                .token(TOKEN, [Scope::ReadWrite])
                .delivery_policy(
                    DeliveryPolicy::default()
                        .first_retry_after(Duration::from_millis(200))
                        .retries(2)
                        .attempt_timeout(Duration::from_secs(5)),
                )
                .build()
                .serve_on(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .unwrap()
        });
        Fake { server, runtime }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url().to_owned()
    }

    /// The CLI, pointed at this fake with its token.
    pub fn cli(&self) -> Cli {
        Cli::new()
            .env("ATTIO_BASE_URL", &self.base_url())
            .env("ATTIO_API_KEY", TOKEN)
    }

    /// A client of the library, to arrange state independently of the CLI.
    pub fn client(&self) -> Client<HyperTransport> {
        Client::builder(TOKEN)
            .base_url(self.server.base_url())
            .target_url_policy(TargetUrlPolicy::AllowLoopbackHttp)
            .build(HyperTransport::new().unwrap())
            .unwrap()
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// One invocation of the binary, with a clean environment for its own variables.
pub struct Cli {
    command: Command,
}

/// What an invocation printed and how it ended.
#[derive(Debug)]
pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Stdout parsed as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.stdout))
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code {} instead of {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

impl Cli {
    pub fn new() -> Self {
        let mut command = Command::new(binary());
        for name in [
            "ATTIO_API_KEY",
            "ATTIO_BASE_URL",
            "ATTIO_WEBHOOKS_DEV_STATE",
            "ATTIO_WEBHOOKS_DEV_URL",
            "ATTIO_WEBHOOKS_DEV_TOKEN",
            "ATTIO_WEBHOOKS_ALLOW_PLAIN_HTTP",
            "ATTIO_WEBHOOKS_ALLOW_HTTP_TARGETS_TO",
            "XDG_RUNTIME_DIR",
        ] {
            command.env_remove(name);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Cli { command }
    }

    pub fn arg_path(mut self, path: &Path) -> Self {
        self.command.arg(path);
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.command.env(name, value);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Runs to completion within [`DEADLINE`]; kills it and fails the test otherwise.
    pub fn run(mut self) -> Finished {
        let mut child = Killed(self.command.spawn().expect("the binary starts"));
        let stdout = drain(child.0.stdout.take().unwrap());
        let stderr = drain(child.0.stderr.take().unwrap());
        let started = Instant::now();
        let status: ExitStatus = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the CLI ran longer than {DEADLINE:?}"
            );
            thread::sleep(Duration::from_millis(10));
        };
        Finished {
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    /// Starts a long-running command (`listen`, `dev`), read line by line.
    pub fn spawn(mut self) -> Running {
        let mut child = self.command.spawn().expect("the binary starts");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Running {
            child: Killed(child),
            stdout,
            stderr,
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

/// A child process that is killed when dropped, even if the test panics.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A long-running CLI process and its output, line by line.
pub struct Running {
    pub child: Killed,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Running {
    /// The next stdout line, within `timeout`.
    #[track_caller]
    pub fn stdout_line(&self, timeout: Duration) -> String {
        next(&self.stdout, timeout, "stdout")
    }

    /// The next stderr line, within `timeout`.
    #[track_caller]
    pub fn stderr_line(&self, timeout: Duration) -> String {
        next(&self.stderr, timeout, "stderr")
    }

    /// The address `listen` announces on its first stderr line
    /// (`listening on http://ADDR ...`), within `timeout`.
    #[track_caller]
    pub fn listening_addr(&self, timeout: Duration) -> SocketAddr {
        let announced = self.stderr_line(timeout);
        announced
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {announced}"))
    }

    /// Stdout lines until one satisfies `done`, within `timeout` in all.
    #[track_caller]
    pub fn stdout_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&str) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    let stop = done(&line);
                    seen.push(line);
                    if stop {
                        return seen;
                    }
                }
                Err(e) => panic!(
                    "stdout ended or timed out ({e:?}); lines so far:\n{}",
                    seen.join("\n")
                ),
            }
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits up to `timeout` for the process to end.
    pub fn interrupt(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.child.0.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.0.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

#[track_caller]
fn next(lines: &Receiver<String>, timeout: Duration, which: &str) -> String {
    match lines.recv_timeout(timeout) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => panic!("no {which} line within {timeout:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("{which} closed"),
    }
}

/// A scratch directory, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "attio-webhooks-cli-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Unix permission bits of a file.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Lowercase hex HMAC-SHA256 of `body` keyed with `secret`, computed with
/// `hmac` and `sha2` directly (not with the crate under test).
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    const_hex::encode(mac.finalize().into_bytes())
}

/// Sends one raw HTTP/1.1 request to `path` and returns the status code (0
/// without an answer). A refused body may be cut short by the server's
/// answer: the answer is read all the same.
pub fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> u16 {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
