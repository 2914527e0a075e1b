//! The checks behind each fuzz target, as plain functions of the input
//! bytes. The `fuzz_targets/` binaries only hand libFuzzer's input to
//! them, and `tests/fuzz_replay.rs` in the main crate runs the committed
//! corpus and every past crash through the same functions in the ordinary
//! test suite (`cargo test`), so nothing here depends on libFuzzer.
//!
//! Each function panics when the code under test breaks a property; a
//! panic is what libFuzzer reports as a crash.

pub mod decode;
pub mod delivery;
pub mod dispatcher;
pub mod filter;
pub mod signature;

use http::{HeaderMap, HeaderName, HeaderValue};

/// An input laid out like an HTTP message, so that seeds are readable and
/// mutations stay meaningful: a first line, `name: value` header lines, an
/// empty line, then the body (the rest of the input, any bytes).
///
/// Lines end in `\n` (a `\r` before it is dropped). Header lines without a
/// colon, or whose name or value HTTP does not allow, are skipped. Without
/// an empty line the whole input is head and the body is empty.
#[derive(Debug)]
pub struct Message<'a> {
    /// The first line (a status code, or `METHOD /path`).
    pub first_line: &'a [u8],
    /// The headers that are valid HTTP, in order.
    pub headers: HeaderMap,
    /// Everything after the empty line.
    pub body: &'a [u8],
}

impl<'a> Message<'a> {
    /// Splits `data` as described on [`Message`].
    pub fn parse(data: &'a [u8]) -> Self {
        let (head, body): (&[u8], &[u8]) = match find(data, b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &[]),
        };
        let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
        let first_line = lines.next().unwrap_or_default();
        let mut headers = HeaderMap::new();
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let name = HeaderName::from_bytes(&line[..colon]);
            let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii_start());
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.append(name, value);
            }
        }
        Message {
            first_line,
            headers,
            body,
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Formats an error's `Display`, `Debug` and whole source chain, the way
/// a log line or a report would, so that any panic in them shows up.
pub fn format_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{error} / {error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(&format!(" <- {cause} / {cause:?}"));
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_head_and_body() {
        let m = Message::parse(b"429\r\nretry-after: 3\nbad header\n\n{\"a\":1}\n\n");
        assert_eq!(m.first_line, b"429");
        assert_eq!(m.headers.len(), 1);
        assert_eq!(m.headers["retry-after"], "3");
        assert_eq!(m.body, b"{\"a\":1}\n\n");
        assert_eq!(Message::parse(b"200").body, b"");
    }
}
