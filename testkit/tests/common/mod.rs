//! Helpers shared by the testkit's integration tests: the `fake-attio`
//! binary as a child process, and a raw HTTP client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

/// The `fake-attio` binary, killed when dropped (even when the test panics).
pub struct Binary {
    child: Child,
    pub base_url: String,
    stderr: Option<ChildStderr>,
}

impl Binary {
    /// Starts the binary and waits for the base URL it prints.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::spawn(command(args, envs))
    }

    /// Runs `command` (which runs the binary) and waits for the base URL.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let stderr = child.stderr.take();
        Binary {
            child,
            base_url: line.trim().to_owned(),
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident set size (`VmRSS` in /proc, Linux), in bytes.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Sends `signal` (`TERM`, `INT`, ...) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Everything written to stderr, once the process has exited.
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            stderr.read_to_string(&mut text).unwrap();
        }
        text
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary with `args` and `envs`, as a command to run.
pub fn command(args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fake-attio"));
    command
        .args(args)
        .env_remove("FAKE_ATTIO_TOKENS")
        .env_remove("FAKE_ATTIO_CONTROL_TOKEN");
    for (k, v) in envs {
        command.env(k, v);
    }
    command
}

/// A plain HTTP/1.1 client.
pub type Raw = HyperClient<HttpConnector, Full<Bytes>>;

pub fn raw_client() -> Raw {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

/// An answer as received.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Sends one request; `Err` when the connection failed or was dropped.
pub async fn send(
    client: &Raw,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<Answer, String> {
    let mut request = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request.body(Full::new(body.into())).unwrap();
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Every (method, path) of the control routes, as their OpenAPI
/// description (`spec/fake-control.openapi.json`) lists them.
/// A path that routes to the described `path`: its one parameter
/// (`{idempotency_key}`, `{workspace_id}`) filled in with an escaped key
/// no log holds, or an id no fake holds.
pub fn route_instance(path: &str) -> String {
    path.replace("{idempotency_key}", "k%2F1")
        .replace("{workspace_id}", "00000000-0000-4000-8000-000000000000")
}

pub fn control_routes() -> Vec<(String, String)> {
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../../spec/fake-control.openapi.json")).unwrap();
    let mut routes = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            routes.push((method.to_uppercase(), path.clone()));
        }
    }
    routes.sort();
    routes
}
