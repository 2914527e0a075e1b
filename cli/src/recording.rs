//! Recorded deliveries: the file `listen --record` writes and `replay`
//! reads. One JSON object a line, one line per delivery received:
//!
//! ```json
//! {"received_at":"2026-11-27T00:37:22.114Z","method":"POST","path":"/attio","status":200,"outcome":"verified",
//!  "headers":[["content-type","application/json"],["attio-signature","9f2c…"],…],
//!  "body_encoding":"utf-8","body":"{\"webhook_id\":…}"}
//! ```
//!
//! - `headers`: every header as received, in order, names lowercase, but
//!   never a credential ([`is_credential`]): the signature headers and
//!   `Idempotency-Key` are kept (a signature is an HMAC of the body, not
//!   the secret).
//! - `body`: the exact bytes. Valid UTF-8 is kept as a JSON string
//!   (`body_encoding: "utf-8"`), anything else as standard base64
//!   (`"base64"`); either way [`Recorded::body_bytes`] gives back the
//!   bytes received, byte for byte.
//! - `outcome` is `verified` or `refused` (then `refusal` says why), and
//!   `status` what `listen` answered. Only requests whose body was read
//!   whole are recorded: a refusal before the body (not a POST, over 1
//!   MiB, a body that never arrived) has nothing to replay.
//!
//! Each line is written with one `write` to a file opened for appending
//! (`O_APPEND`), so lines from concurrent deliveries never interleave; the
//! body limit of `listen` (1 MiB) bounds a line at about 1.4 MiB. The file
//! is created private (0600 on Unix).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::cli_error::CliError;

/// The most deliveries `replay` reads from one file.
pub const MAX_DELIVERIES: usize = 10_000;
/// The longest line `replay` reads: a 1 MiB body in base64, with room
/// for its headers.
pub const MAX_LINE_BYTES: usize = 2 * 1024 * 1024;

/// Names (lowercase) of headers never written to a recording, beyond
/// the testkit's list of credential headers (`Authorization`, `Cookie`,
/// ...; `attio_webhooks_testkit::control::CREDENTIAL_HEADERS`).
const CREDENTIAL_WORDS: [&str; 8] = [
    "auth", "cookie", "token", "secret", "password", "api-key", "apikey", "session",
];

/// Whether a header (name in any case) looks like a credential and is
/// left out of recordings: the testkit's credential headers, and any name
/// containing `auth`, `cookie`, `token`, `secret`, `password`, `api-key`,
/// `apikey` or `session`. The signature headers and `Idempotency-Key` are
/// not credentials.
pub fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    attio_webhooks_testkit::control::CREDENTIAL_HEADERS.contains(&name.as_str())
        || CREDENTIAL_WORDS.iter().any(|word| name.contains(word))
}

/// How `body` holds the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyEncoding {
    /// The bytes were valid UTF-8: `body` is them as a string.
    #[serde(rename = "utf-8")]
    Utf8,
    /// Standard base64 (with padding).
    #[serde(rename = "base64")]
    Base64,
}

/// Whether `listen` accepted the delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Signed with the secret, and a delivery: answered 200.
    Verified,
    /// Refused (a wrong or missing signature, not a delivery).
    Refused,
}

/// One recorded delivery: one line of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// When it arrived (RFC 3339, UTC).
    pub received_at: String,
    /// The request's method (always `POST` from `listen`).
    pub method: String,
    /// The request's path and query.
    pub path: String,
    /// What `listen` answered.
    pub status: u16,
    /// Verified or refused.
    pub outcome: Outcome,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// The headers as received, in order, credentials left out.
    pub headers: Vec<(String, String)>,
    /// How `body` is written.
    pub body_encoding: BodyEncoding,
    /// The body (see `body_encoding`).
    pub body: String,
}

impl Recorded {
    /// A record of a request, its credential headers left out.
    pub fn new(
        parts: &http::request::Parts,
        body: &[u8],
        status: u16,
        refusal: Option<String>,
    ) -> Self {
        let headers = parts
            .headers
            .iter()
            .filter(|(name, _)| !is_credential(name.as_str()))
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let (body_encoding, body) = match std::str::from_utf8(body) {
            Ok(text) => (BodyEncoding::Utf8, text.to_owned()),
            Err(_) => (
                BodyEncoding::Base64,
                base64::engine::general_purpose::STANDARD.encode(body),
            ),
        };
        Recorded {
            received_at: attio_webhooks::model::Timestamp::now().to_string(),
            method: parts.method.as_str().to_owned(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            status,
            outcome: if refusal.is_some() {
                Outcome::Refused
            } else {
                Outcome::Verified
            },
            refusal,
            headers,
            body_encoding,
            body,
        }
    }

    /// The body's bytes, exactly as received.
    pub fn body_bytes(&self) -> Result<Vec<u8>, String> {
        match self.body_encoding {
            BodyEncoding::Utf8 => Ok(self.body.as_bytes().to_vec()),
            BodyEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(&self.body)
                .map_err(|e| format!("the base64 body does not decode: {e}")),
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Appends recorded deliveries to a file, one line each.
#[derive(Debug)]
pub struct Recorder {
    file: Mutex<File>,
    path: PathBuf,
}

impl Recorder {
    /// Opens `path` for appending, creating it private (0600 on Unix). An
    /// existing file that others may read is refused: recordings hold
    /// workspace data.
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let shown = path.display();
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(path)
            .map_err(|e| CliError::Usage(format!("--record {shown}: cannot open it: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file
                .metadata()
                .map_err(|e| CliError::Usage(format!("--record {shown}: {e}")))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(CliError::Usage(format!(
                    "--record {shown}: others may read it (mode {:o}); recordings hold workspace \
                     data: chmod 600 it, or name a new file",
                    mode & 0o777
                )));
            }
        }
        Ok(Recorder {
            file: Mutex::new(file),
            path: path.to_owned(),
        })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line, with a single write.
    pub fn append(&self, recorded: &Recorded) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(recorded).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let written = file.write(&line)?;
        if written != line.len() {
            return Err(std::io::Error::other(format!(
                "wrote {written} of {} bytes (disk full?)",
                line.len()
            )));
        }
        Ok(())
    }
}

/// Every delivery in a recording, in order; blank lines are skipped. A
/// line that is not a recorded delivery is a usage error naming it.
pub fn read(path: &Path) -> Result<Vec<Recorded>, CliError> {
    let shown = path.display();
    let file =
        File::open(path).map_err(|e| CliError::Usage(format!("{shown}: cannot open it: {e}")))?;
    read_from(BufReader::new(file), &shown.to_string())
}

/// [`read`] from any reader; `name` names it in errors.
pub fn read_from(mut reader: impl BufRead, name: &str) -> Result<Vec<Recorded>, CliError> {
    let mut deliveries = Vec::new();
    let mut number = 0usize;
    loop {
        number += 1;
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_LINE_BYTES + 1).unwrap_or(u64::MAX);
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(|e| CliError::Usage(format!("{name}: cannot read line {number}: {e}")))?;
        if read == 0 {
            return Ok(deliveries);
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(CliError::Usage(format!(
                "{name}: line {number} is over {MAX_LINE_BYTES} bytes"
            )));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let recorded: Recorded = serde_json::from_slice(&line).map_err(|e| {
            CliError::Usage(format!(
                "{name}: line {number} is not a recorded delivery: {e}"
            ))
        })?;
        recorded
            .body_bytes()
            .map_err(|e| CliError::Usage(format!("{name}: line {number}: {e}")))?;
        if deliveries.len() == MAX_DELIVERIES {
            return Err(CliError::Usage(format!(
                "{name}: more than {MAX_DELIVERIES} deliveries; split the file"
            )));
        }
        deliveries.push(recorded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> http::request::Parts {
        let mut request = http::Request::post("/attio?x=1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn credentials_are_left_out_and_signatures_kept() {
        let recorded = Recorded::new(
            &parts(&[
                ("authorization", "Bearer t"),
                ("Cookie", "s=1"),
                ("proxy-authorization", "Basic x"),
                ("x-api-key", "k"),
                ("x-auth-token", "k"),
                ("x-webhook-secret", "k"),
                ("attio-signature", "ab"),
                ("x-attio-signature", "ab"),
                ("idempotency-key", "k-1"),
                ("content-type", "application/json"),
                ("user-agent", "Attio 2.0"),
            ]),
            b"{}",
            200,
            None,
        );
        let names: Vec<&str> = recorded.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "attio-signature",
                "x-attio-signature",
                "idempotency-key",
                "content-type",
                "user-agent"
            ]
        );
        assert_eq!(recorded.path, "/attio?x=1");
        assert_eq!(recorded.outcome, Outcome::Verified);
    }

    #[test]
    fn bodies_round_trip_byte_for_byte_through_a_line() {
        for body in [
            &b"{\"webhook_id\":\"x\",\"events\":[]}"[..],
            b"caf\xc3\xa9 \"quoted\" \\ \n\t\x00",
            b"\xff\xfe not UTF-8 \x80",
            b"",
        ] {
            let recorded = Recorded::new(&parts(&[]), body, 401, Some("why".to_owned()));
            let line = serde_json::to_string(&recorded).unwrap();
            assert!(!line.contains('\n'));
            let back = read_from(line.as_bytes(), "test").unwrap();
            assert_eq!(back, std::slice::from_ref(&recorded));
            assert_eq!(back[0].body_bytes().unwrap(), body);
        }
        let odd = Recorded::new(&parts(&[]), b"\xff", 200, None);
        assert_eq!(odd.body_encoding, BodyEncoding::Base64);
    }

    #[test]
    fn a_bad_line_is_named() {
        let text = "\n{\"not\": \"a delivery\"}\n";
        let error = read_from(text.as_bytes(), "rec.jsonl").unwrap_err();
        assert!(
            error.to_string().starts_with("rec.jsonl: line 2 "),
            "{error}"
        );
    }
}
