//! The named rules that turn an exchange into its snapshot form: what
//! changes from run to run (ids, secrets, times) becomes a token naming
//! its *shape*, so a change of shape (an uppercase id, another precision)
//! still shows as a difference. The rules apply to header values and to
//! every JSON string, and leave key order alone.
//!
//! | rule | matches | becomes |
//! |---|---|---|
//! | `secret` | a whole string of 64 lowercase hex digits | `<secret>` |
//! | `timestamp` | a whole RFC 3339 string | `<timestamp:SHAPE>`, SHAPE the fraction's form (below) |
//! | `uuid` | each lowercase hyphenated UUID, anywhere in a string | `<uuid:N>`, N counted from 1 in order of first sight in the exchange, so equal ids stay equal |
//! | `execution_id` | the `x-attio-execution-id` header, when it is a lowercase UUID | `<uuid:N>` (the `uuid` rule) |
//! | `http_date` | a `retry-after` that is an HTTP date | `<http-date>` (a number of seconds is kept) |
//!
//! Timestamp shapes: `ms-padded-to-9` (nine digits, the last six zero:
//! Attio's `…54.417000000Z`), `us-padded-to-9`, `ns` (nine digits), `ms`,
//! `us` (three or six digits), `s` (no fraction), `frac-N` (any other
//! count); a zone other than `Z` adds `,offset`.
//!
//! The order of masking is the exchange's: the request's path, the
//! request's body, the answer's headers, the answer's body.

/// The rules, by name, as the table above gives them.
pub const RULES: [&str; 5] = ["secret", "timestamp", "uuid", "execution_id", "http_date"];

/// Masks one exchange; holds the UUIDs seen so far.
#[derive(Default)]
pub struct Masker {
    uuids: Vec<String>,
}

impl Masker {
    pub fn new() -> Masker {
        Masker::default()
    }

    /// A JSON string or a path: `secret` and `timestamp` on the whole
    /// string, else `uuid` on each UUID in it.
    pub fn string(&mut self, s: &str) -> String {
        if is_secret(s) {
            return "<secret>".to_owned();
        }
        if let Some(shape) = timestamp_shape(s) {
            return format!("<timestamp:{shape}>");
        }
        self.uuids_in(s)
    }

    /// A header value, by the header's (lowercase) name.
    pub fn header(&mut self, name: &str, value: &str) -> String {
        match name {
            "x-attio-execution-id" if is_uuid(value) => self.uuids_in(value),
            "retry-after" if httpdate::parse_http_date(value).is_ok() => "<http-date>".to_owned(),
            _ => value.to_owned(),
        }
    }

    /// Every string of a JSON tree (keys are kept).
    pub fn json(&mut self, value: &super::json::Json) -> super::json::Json {
        use super::json::Json;
        match value {
            Json::String(s) => Json::String(self.string(s)),
            Json::Array(items) => Json::Array(items.iter().map(|v| self.json(v)).collect()),
            Json::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn uuids_in(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = find_uuid(rest) {
            out.push_str(&rest[..at]);
            let id = &rest[at..at + 36];
            let n = match self.uuids.iter().position(|seen| seen == id) {
                Some(i) => i + 1,
                None => {
                    self.uuids.push(id.to_owned());
                    self.uuids.len()
                }
            };
            out.push_str(&format!("<uuid:{n}>"));
            rest = &rest[at + 36..];
        }
        out.push_str(rest);
        out
    }
}

fn is_secret(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A lowercase hyphenated UUID, exactly.
fn is_uuid(s: &str) -> bool {
    is_uuid_bytes(s.as_bytes())
}

fn is_uuid_bytes(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// Where the first UUID in `s` starts, not inside a longer run of hex.
fn find_uuid(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..bytes.len().saturating_sub(35)).find(|&at| {
        // ASCII only: a match starts and ends on character boundaries.
        is_uuid_bytes(&bytes[at..at + 36])
            && (at == 0 || !bytes[at - 1].is_ascii_alphanumeric())
            && bytes
                .get(at + 36)
                .is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM)`: the shape of its fraction and zone.
fn timestamp_shape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let fixed = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !fixed {
        return None;
    }
    let mut at = 19;
    let mut fraction = "";
    if b[at] == b'.' {
        let end = at
            + 1
            + b[at + 1..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .count();
        fraction = &s[at + 1..end];
        if fraction.is_empty() {
            return None;
        }
        at = end;
    }
    let zone = &s[at..];
    let offset = match zone {
        "Z" | "z" => false,
        _ if zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && digits(at + 1..at + 3)
            && zone.as_bytes()[3] == b':'
            && digits(at + 4..at + 6) =>
        {
            true
        }
        _ => return None,
    };
    let shape = match fraction.len() {
        0 => "s".to_owned(),
        3 => "ms".to_owned(),
        6 => "us".to_owned(),
        9 if fraction.ends_with("000000") => "ms-padded-to-9".to_owned(),
        9 if fraction.ends_with("000") => "us-padded-to-9".to_owned(),
        9 => "ns".to_owned(),
        n => format!("frac-{n}"),
    };
    Some(if offset {
        format!("{shape},offset")
    } else {
        shape
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_turns_its_value_into_its_token() {
        let mut m = Masker::new();
        let secret = "a".repeat(32) + &"0".repeat(32);
        assert_eq!(m.string(&secret), "<secret>");
        assert_eq!(
            m.string(&secret.to_uppercase()),
            secret.to_uppercase(),
            "not Attio's form: kept"
        );
        assert_eq!(m.string(&secret[1..]), &secret[1..], "63 digits: kept");
        let a = "23e42eaf-323a-41da-b5bb-fd67eebda553";
        let b = "c570dd25-5ded-44f6-b94a-84250956455d";
        assert_eq!(
            m.string(&format!("Webhook with ID \"{a}\" was not found.")),
            "Webhook with ID \"<uuid:1>\" was not found."
        );
        assert_eq!(
            m.string(&format!("/v2/webhooks/{b}/{a}")),
            "/v2/webhooks/<uuid:2>/<uuid:1>"
        );
        assert_eq!(
            m.string(&a.to_uppercase()),
            a.to_uppercase(),
            "uppercase: kept, so it shows"
        );
        assert_eq!(
            m.string(&format!("{a}0")),
            format!("{a}0"),
            "part of a longer run: kept"
        );
        let c = "0e80364d-70b1-44d3-b7ba-0a6a564a7152";
        assert_eq!(
            m.string(&format!("é{c}→")),
            "é<uuid:3>→",
            "beside other characters"
        );
        assert_eq!(m.string(&"→".repeat(20)), "→".repeat(20));
        assert_eq!(m.header("x-attio-execution-id", b), "<uuid:2>");
        assert_eq!(m.header("x-attio-execution-id", "run-1"), "run-1");
        assert_eq!(
            m.header("retry-after", "Sun, 27 Jul 2025 14:06:23 GMT"),
            "<http-date>"
        );
        assert_eq!(m.header("retry-after", "2"), "2");
        assert_eq!(m.header("allow", "GET, POST"), "GET, POST");
    }

    #[test]
    fn a_timestamp_becomes_the_name_of_its_shape() {
        let mut m = Masker::new();
        for (time, token) in [
            (
                "2026-07-22T22:02:54.417000000Z",
                "<timestamp:ms-padded-to-9>",
            ),
            (
                "2026-07-22T22:02:54.000000000Z",
                "<timestamp:ms-padded-to-9>",
            ),
            (
                "2023-04-27T13:22:49.061281000Z",
                "<timestamp:us-padded-to-9>",
            ),
            ("2023-04-27T13:22:49.061281123Z", "<timestamp:ns>"),
            ("2026-07-22T22:02:54.417Z", "<timestamp:ms>"),
            ("2026-07-22T22:02:54.417123Z", "<timestamp:us>"),
            ("2026-07-22T22:02:54Z", "<timestamp:s>"),
            ("2026-07-22T22:02:54.41Z", "<timestamp:frac-2>"),
            ("2026-07-22T22:02:54.417+02:00", "<timestamp:ms,offset>"),
        ] {
            assert_eq!(m.string(time), token, "{time}");
        }
        for not_one in [
            "2026-07-22",
            "2026-07-22T22:02:54.Z",
            "2026-07-22T22:02:54.417",
            "2026-07-22 22:02:54Z",
        ] {
            assert_eq!(m.string(not_one), not_one);
        }
    }
}
