//! A private PostgreSQL for one test: its own data directory and port,
//! so the test can restart it (`pg_ctl restart -m immediate`) without
//! touching the server other tests share. Started as
//! `scripts/test-servers.sh` starts the shared one (as the `postgres` user
//! when run as root); stopped and deleted on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;

pub struct PrivatePg {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

/// The newest `/usr/lib/postgresql/*/bin`, or the directory of `pg_ctl`
/// on the PATH.
fn server_binaries() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .find(|dir| dir.join("pg_ctl").exists() && dir.join("initdb").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl PrivatePg {
    /// Starts one, or says why not and gives `None` (a failure under `CI=true`).
    pub fn start(name: &str) -> Option<Self> {
        let Some(bin) = server_binaries() else {
            skip_without_server(
                "PostgreSQL server binaries (initdb, pg_ctl)",
                "none in /usr/lib/postgresql or on the PATH",
                "scripts/test-servers.sh start --install",
            );
            return None;
        };
        let dir = std::env::temp_dir().join(format!("attio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let owned = Command::new("chown")
                .arg("postgres")
                .arg(&dir)
                .status()
                .unwrap();
            assert!(owned.success(), "chown postgres {}", dir.display());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Self { bin, dir, port };
        let data = pg.data();
        pg.run("initdb", &["-D", &data, "-A", "trust", "-U", "postgres"]);
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            pg.dir.display()
        );
        let log = pg.dir.join("log").display().to_string();
        pg.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "start", "-o", &options],
        );
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// One of the server's programs, as `postgres` when root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command.current_dir(Path::new("/")).stdin(Stdio::null());
        command
    }

    /// Runs one of the server's programs; panics with its output if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl restart -m immediate`: every backend killed without a
    /// shutdown checkpoint, crash recovery, up again (`-w` waits).
    pub fn restart_immediate(&self) {
        let data = self.data();
        let log = self.dir.join("log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-m", "immediate", "restart"],
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
