//! Files only the current user may read (mode 0600 on Unix): created
//! secrets and the `dev` state file.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::cli_error::CliError;

/// Replaces `path` with `contents`, atomically: the bytes go to a new
/// private file beside it, which is then renamed over `path`. A reader
/// never sees a half-written file, and a file that existed with wider
/// permissions is replaced by a private one.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    let fail = |what: &str, e: std::io::Error| {
        CliError::Local(format!("could not {what} {}: {e}", path.display()))
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(fail("write", e));
    }
    Ok(())
}

/// Creates `dir` and its parents; the last one private (0700 on Unix).
pub fn create_dir(dir: &Path) -> Result<(), CliError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| CliError::Local(format!("could not create {}: {e}", dir.display())))
}
