//! `fake-attio --help | head`: writing to a pipe whose reader is gone
//! ends the program quietly (exit 0 for help and version, 2 for a usage
//! error), not with a "Broken pipe" panic (exit 101).

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

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
