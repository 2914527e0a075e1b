//! The state file through which `trigger` finds a running `dev`: the fake's
//! URL and its control token, in a private file (mode 0600, directory 0700).
//!
//! Where it is: `--state-file`, else `$ATTIO_WEBHOOKS_DEV_STATE` (both read
//! by clap), else `$XDG_RUNTIME_DIR/attio-webhooks/dev.json`, else
//! `~/.local/state/attio-webhooks/dev.json`.

use std::path::{Path, PathBuf};

use attio_webhooks::WebhookId;
use serde::{Deserialize, Serialize};

use crate::cli_error::CliError;

/// What a running `dev` tells `trigger`. Deliberately not `Debug`: it holds a token.
#[derive(Serialize, Deserialize)]
pub struct DevState {
    /// The fake's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bearer token of the fake's control routes.
    pub control_token: String,
    /// The `dev` process.
    pub pid: u32,
    /// The webhook `dev` created.
    pub webhook_id: WebhookId,
}

/// The state file's path: the one given, or the default.
pub fn path(given: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    let non_empty = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(runtime) = non_empty("XDG_RUNTIME_DIR") {
        return Ok(runtime.join("attio-webhooks").join("dev.json"));
    }
    if let Some(home) = non_empty("HOME").or_else(|| non_empty("USERPROFILE")) {
        return Ok(home
            .join(".local")
            .join("state")
            .join("attio-webhooks")
            .join("dev.json"));
    }
    Err(CliError::Usage(
        "no place for the dev state file (neither XDG_RUNTIME_DIR nor HOME is set); pass --state-file".to_owned(),
    ))
}

/// Writes the state file, creating its directory.
pub fn write(path: &Path, state: &DevState) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_file::create_dir(dir)?;
    }
    let text = serde_json::to_vec_pretty(state)
        .map_err(|e| CliError::Local(format!("could not encode the dev state: {e}")))?;
    crate::private_file::write(path, &text)
}

/// Reads the state file of a running `dev`.
pub fn read(path: &Path) -> Result<DevState, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CliError::Unreachable(format!(
                "no running `attio-webhooks dev` found ({} does not exist); start one, or pass --dev-url and --control-token",
                path.display()
            ))
        } else {
            CliError::Local(format!("could not read {}: {e}", path.display()))
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CliError::Local(format!("{} is not a dev state file: {e}", path.display())))
}

/// Removes the state file if it still belongs to this process (a newer
/// `dev` may have replaced it).
pub fn remove_own(path: &Path) {
    if read(path).is_ok_and(|state| state.pid == std::process::id()) {
        let _ = std::fs::remove_file(path);
    }
}
