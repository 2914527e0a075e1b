//! `--secrets-out FILE`: the signing secrets of created webhooks, kept in a
//! private file (mode 0600) instead of printed.
//!
//! The file is a JSON list of `{webhook_id, target_url, secret}`. New
//! entries are added to those already there (a later `apply` keeps the
//! secrets of an earlier one), and the file is rewritten after each
//! creation, so a run that fails halfway still keeps every secret it got.

use std::path::{Path, PathBuf};

use attio_webhooks::{CreatedWebhook, Secret, WebhookId};
use serde::{Deserialize, Serialize};

use crate::cli_error::CliError;

/// One secret as the file stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretEntry {
    /// The webhook the secret signs deliveries for.
    pub webhook_id: WebhookId,
    /// Its target URL, to tell entries apart.
    pub target_url: String,
    /// The signing secret.
    pub secret: Secret,
}

/// An open secrets file.
#[derive(Debug)]
pub struct SecretsFile {
    path: PathBuf,
    entries: Vec<SecretEntry>,
}

impl SecretsFile {
    /// Opens `path`, reading the entries already there. Called before any
    /// change is made, so that an unreadable file stops the run early.
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let entries = match std::fs::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Vec::new(),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                CliError::Usage(format!(
                    "--secrets-out {}: the file exists but is not a secrets list ({e}); refusing to overwrite it",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(CliError::Local(format!("could not read {}: {e}", path.display())));
            }
        };
        Ok(Self {
            path: path.to_owned(),
            entries,
        })
    }

    /// Opens the file if one was given (`--secrets-out`).
    pub fn open_if_given(path: Option<&Path>) -> Result<Option<Self>, CliError> {
        path.map(Self::open).transpose()
    }

    /// Adds the secret of a newly created webhook and rewrites the file.
    pub fn add(&mut self, created: &CreatedWebhook) -> Result<(), CliError> {
        self.entries.push(SecretEntry {
            webhook_id: created.webhook.webhook_id(),
            target_url: created.webhook.target_url.clone(),
            secret: created.secret.clone(),
        });
        self.write()
    }

    /// Drops the secret of a deleted webhook, if the file has it, and
    /// rewrites the file; `false` when it had none.
    pub fn remove(&mut self, webhook_id: WebhookId) -> Result<bool, CliError> {
        let before = self.entries.len();
        self.entries.retain(|e| e.webhook_id != webhook_id);
        if self.entries.len() == before {
            return Ok(false);
        }
        self.write().map(|()| true)
    }

    fn write(&self) -> Result<(), CliError> {
        let mut text = serde_json::to_vec_pretty(&self.entries)
            .map_err(|e| CliError::Local(format!("could not encode the secrets: {e}")))?;
        text.push(b'\n');
        crate::private_file::write(&self.path, &text)
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
