//! `fake-attio --help | head`: writing to a pipe whose reader is gone
//! ends the program quietly (exit 0 for help and version, 2 for a usage
//! error), not with a "Broken pipe" panic (exit 101); and a server whose
//! reader of the URL went away (`fake-attio | head -1`) keeps serving.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A pipe whose read end is already closed: its write end, for a child's
/// stdout or stderr.
fn pipe_without_reader() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: pipe(2) succeeded, so both are open descriptors we own.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

#[test]
fn help_and_version_into_a_closed_pipe_exit_quietly() {
    for (arg, code) in [("--help", 0), ("--version", 0), ("--no-such-option", 2)] {
        let output = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
            .arg(arg)
            .stdin(Stdio::null())
            .stdout(pipe_without_reader())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{arg}: {stderr}");
        if code == 0 {
            assert_eq!(output.status.code(), Some(0), "{arg}: {stderr}");
        }
        // A usage error goes to stderr; with stderr closed as well it
        // still exits 2.
        if code == 2 {
            let closed = Command::new(env!("CARGO_BIN_EXE_fake-attio"))
                .arg(arg)
                .stdin(Stdio::null())
                .stdout(pipe_without_reader())
                .stderr(pipe_without_reader())
                .status()
                .unwrap();
            assert_eq!(closed.code(), Some(2), "{arg} with stderr closed");
        }
    }
}

/// Kills the child when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_server_whose_url_reader_went_away_keeps_serving() {
    // A free port, for the server to take.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_fake-attio"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(pipe_without_reader())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "fake-attio did not listen within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // It prints its URL once it listens; a panic there took 0.1 s to end
    // the process (its runtime shutting down), long enough to answer a
    // first request. So: alive a full second later, and answering.
    while started.elapsed() < Duration::from_secs(1) {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("fake-attio ended ({status}) after printing its URL into a closed pipe");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /__health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
