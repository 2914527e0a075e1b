//! The battery of `probe`: deliveries shaped and signed as Attio's, and
//! deliberately wrong ones, sent to a receiver; each answer graded.
//!
//! What the probe can observe is the answer's status and how long it
//! took; nothing else. Acceptance is 200 or 202, the only answers Attio
//! counts as delivered (FIDELITY.md, "Success"); a refusal is any 4xx.
//! Whether a handler ran is invisible, so "must not run twice" is graded
//! by status only, and only when the receiver claims at-most-once.
//!
//! Bounds: at most [`MAX_REQUESTS`] requests, one at a time except the
//! two copies of `same-message-twice`; each is cut off at
//! [`Battery::request_limit`], a bit above the attempt timeout.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use attio_webhooks::receive::signature::{self, SIGNATURE_HEADER, X_SIGNATURE_HEADER};
use attio_webhooks::receive::{Delivery, Event, DEFAULT_MAX_BODY_BYTES, IDEMPOTENCY_KEY_HEADER};
use attio_webhooks::transport::{HyperTransport, Transport};
use attio_webhooks::{EventType, Secret, WebhookId};
use attio_webhooks_testkit::delivery::DELIVERY_USER_AGENT;
use attio_webhooks_testkit::samples;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use serde::Serialize;

use crate::cli_error::{with_causes, CliError};

/// The attempt timeout the probe holds a receiver to by default: the
/// fake's (`DeliveryPolicy::attempt_timeout`, FIDELITY.md "Attempt
/// timeout"). Attio does not document its own.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most requests one run sends (the timestamp diagnosis included).
pub const MAX_REQUESTS: usize = 13;

/// The size of the `near-1-mib` body: 1 KiB under the 1 MiB the project's
/// receivers accept (`attio_webhooks::receive::DEFAULT_MAX_BODY_BYTES`).
pub const NEAR_LIMIT_BYTES: usize = DEFAULT_MAX_BODY_BYTES - 1024;

/// The events in the `batch` check's delivery.
const BATCH_EVENTS: usize = 3;

/// The headers of a delivery that popular guides (not Attio) tell
/// receivers to demand; sent only to explain a refused valid delivery.
const TIMESTAMP_HEADERS: [&str; 2] = ["attio-timestamp", "x-attio-timestamp"];

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The receiver answered as Attio needs.
    Pass,
    /// It did not.
    Fail,
    /// Not graded: the probe cannot observe it (see `why`).
    Skip,
}

/// One line of the report card (and one object of `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct Graded {
    /// The check's name, e.g. `wrong-signature`.
    pub check: &'static str,
    /// pass, fail or skip.
    pub outcome: Outcome,
    /// The answer that passes, e.g. `200 or 202`.
    pub expected: String,
    /// What came back, e.g. `401 in 3 ms`.
    pub observed: String,
    /// Why it passed or failed, in a sentence.
    pub why: String,
}

/// What one request got back.
#[derive(Clone, Debug)]
struct Answer {
    /// The status, or why there was none (timeout, refused connection).
    status: Result<StatusCode, String>,
    /// Whether the request was cut off at the limit.
    timed_out: bool,
    elapsed: Duration,
    /// The start of the answer's body, lowercased (for the diagnosis).
    body: String,
}

impl Answer {
    fn accepted(&self) -> bool {
        matches!(self.status, Ok(s) if s == StatusCode::OK || s == StatusCode::ACCEPTED)
    }

    fn refused(&self) -> bool {
        matches!(self.status, Ok(s) if s.is_client_error())
    }

    /// `401 in 3 ms`, or `no answer in 1.3 s: ...`.
    fn observed(&self) -> String {
        match &self.status {
            Ok(status) => format!("{} in {}", status.as_u16(), millis(self.elapsed)),
            Err(why) => format!("no answer after {}: {why}", millis(self.elapsed)),
        }
    }
}

/// `3 ms`, `1.52 s`.
pub fn millis(elapsed: Duration) -> String {
    let ms = elapsed.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.2} s", elapsed.as_secs_f64())
    }
}

/// One message: its body and its `Idempotency-Key`.
#[derive(Clone)]
struct Message {
    body: Bytes,
    key: String,
}

/// How a request is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signing {
    /// Both headers, lowercase hex, as Attio sends.
    Both,
    /// `Attio-Signature` alone.
    AttioOnly,
    /// `X-Attio-Signature` alone.
    XOnly,
    /// Both headers, uppercase hex.
    Uppercase,
    /// Both headers, signed with another secret.
    OtherSecret,
    /// No signature header.
    Unsigned,
    /// Both headers, signed over different bytes than the body sent.
    BeforeChange,
    /// As Attio, plus the timestamp headers some guides demand.
    WithTimestamp,
}

/// A run against one receiver.
pub struct Battery {
    transport: HyperTransport,
    url: http::Uri,
    secret: Secret,
    attempt_timeout: Duration,
    at_most_once: bool,
    /// Every answer, by check, for `answers-in-time`.
    timings: Vec<(&'static str, Answer)>,
    sent: usize,
}

impl Battery {
    /// A battery against `url`, signing with `secret`, holding the receiver
    /// to `attempt_timeout`.
    pub fn new(
        url: http::Uri,
        secret: Secret,
        attempt_timeout: Duration,
        at_most_once: bool,
    ) -> Result<Self, CliError> {
        let transport = HyperTransport::builder()
            .connect_timeout(attempt_timeout.min(Duration::from_secs(10)))
            .max_response_bytes(1024 * 1024)
            .build()
            .map_err(|e| CliError::Local(format!("could not set up HTTPS: {e}")))?;
        Ok(Self {
            transport,
            url,
            secret,
            attempt_timeout,
            at_most_once,
            timings: Vec::new(),
            sent: 0,
        })
    }

    /// Where each request is cut off: the attempt timeout plus half of it
    /// (at least 1 s more), so a slow answer is still seen and timed.
    pub fn request_limit(attempt_timeout: Duration) -> Duration {
        attempt_timeout + (attempt_timeout / 2).max(Duration::from_secs(1))
    }

    /// The longest a whole run can take: every request at its limit, and a
    /// few seconds to spare.
    pub fn run_limit(attempt_timeout: Duration) -> Duration {
        Self::request_limit(attempt_timeout) * MAX_REQUESTS as u32 + Duration::from_secs(5)
    }

    /// Runs every check in order. Fails only when the receiver cannot be
    /// reached at all (the first request's connection is refused).
    pub async fn run(mut self) -> Result<Vec<Graded>, CliError> {
        let mut card = Vec::new();

        // valid: one event, both headers, as Attio sends it. Its message
        // comes back at the end as a redelivery.
        let first = self.message(vec![sample(&EventType::RecordCreated)])?;
        let answer = self.send("valid", &first, Signing::Both).await;
        if let Err(why) = &answer.status {
            if !answer.timed_out && why.contains("connect") {
                return Err(CliError::Unreachable(format!(
                    "could not reach {}: {why}",
                    self.url
                )));
            }
        }
        let timestamp = if answer.refused() {
            self.demands_timestamp(&first, &answer).await
        } else {
            false
        };
        let valid_ok = answer.accepted();
        let refusing_all: Option<String> = (!valid_ok).then(|| {
            if timestamp {
                "refuses deliveries without a timestamp header (see valid)".to_owned()
            } else {
                "refuses even the valid delivery (see valid)".to_owned()
            }
        });
        let blocked = refusing_all.clone();
        card.push(if timestamp {
            Graded {
                check: "valid",
                outcome: Outcome::Fail,
                expected: ACCEPTED.to_owned(),
                observed: answer.observed(),
                why: "demands a timestamp header: Attio sends none (it signs the body alone), \
                      so this receiver refuses every real delivery; it accepted the same \
                      delivery with Attio-Timestamp added"
                    .to_owned(),
            }
        } else {
            accept("valid", &answer, "a delivery as Attio sends it", None)
        });

        // batch: three events about one record in one delivery.
        let batch = self.message(batch_events())?;
        let answer = self.send("batch", &batch, Signing::Both).await;
        let hint = if valid_ok && answer.refused() {
            Some(format!(
                "refuses batches: a delivery of {BATCH_EVENTS} events was refused; Attio puts \
                 several events about one record in one delivery, so handle every event of \
                 `events`"
            ))
        } else {
            refusing_all.clone()
        };
        card.push(accept(
            "batch",
            &answer,
            &format!("a delivery of {BATCH_EVENTS} events"),
            hint,
        ));

        // Each signature header alone, then uppercase hex.
        for (check, signing, what, flaw) in [
            (
                "attio-signature-only",
                Signing::AttioOnly,
                "a delivery with only Attio-Signature",
                "reads only X-Attio-Signature? Attio sends both; check Attio-Signature, or \
                 whichever is present",
            ),
            (
                "x-attio-signature-only",
                Signing::XOnly,
                "a delivery with only X-Attio-Signature",
                "reads only Attio-Signature? Attio sends both; check X-Attio-Signature too, \
                 whichever is present",
            ),
            (
                "uppercase-hex",
                Signing::Uppercase,
                "a delivery signed in uppercase hex",
                "compares the signature as text: hex is case-insensitive; decode it and \
                 compare the bytes in constant time",
            ),
        ] {
            let message = self.message(vec![sample(&EventType::NoteCreated)])?;
            let answer = self.send(check, &message, signing).await;
            let hint = if valid_ok && answer.refused() {
                Some(flaw.to_owned())
            } else {
                refusing_all.clone()
            };
            card.push(accept(check, &answer, what, hint));
        }

        // What must be refused.
        for (check, signing, what, flaw) in [
            (
                "wrong-signature",
                Signing::OtherSecret,
                "a delivery signed with another secret",
                "accepted a delivery signed with another secret: anyone who finds the URL \
                 can send it events",
            ),
            (
                "missing-signature",
                Signing::Unsigned,
                "a delivery with no signature header",
                "accepted an unsigned delivery: anyone who finds the URL can send it events",
            ),
            (
                "body-changed",
                Signing::BeforeChange,
                "a body changed after signing",
                "accepted a body that does not match its signature: verify the raw bytes \
                 as received, before parsing",
            ),
        ] {
            let message = self.message(vec![sample(&EventType::RecordUpdated)])?;
            let answer = self.send(check, &message, signing).await;
            card.push(refuse(check, &answer, what, flaw));
        }

        // The same message twice at once (Attio's duplicates and
        // overlapping attempts): graded only for a receiver claiming
        // at-most-once, and then only by status.
        card.push(self.same_message_twice(refusing_all.clone()).await?);

        // redelivery: the valid check's message again, unchanged.
        let answer = self.send("redelivery", &first, Signing::Both).await;
        let hint = if valid_ok && !answer.accepted() {
            Some(
                "did not acknowledge a message it had accepted: Attio sends the same bytes, \
                 signature and Idempotency-Key again on retries and redeliveries, and retries \
                 (for about 3 days) every answer but 200 and 202; answer 200 to a message \
                 already handled"
                    .to_owned(),
            )
        } else {
            refusing_all.clone()
        };
        card.push(accept(
            "redelivery",
            &answer,
            "the valid delivery's message again (same bytes, signature, Idempotency-Key)",
            hint,
        ));

        // near-1-mib: one event, padded with JSON whitespace.
        let large = self.padded_message(NEAR_LIMIT_BYTES)?;
        let answer = self.send("near-1-mib", &large, Signing::Both).await;
        let hint = if valid_ok && (answer.refused() || answer.status.is_err()) {
            Some(format!(
                "did not take a {NEAR_LIMIT_BYTES}-byte delivery: Attio batches events, and \
                 this project's receivers read bodies up to 1 MiB"
            ))
        } else {
            refusing_all
        };
        card.push(accept(
            "near-1-mib",
            &answer,
            &format!("a {NEAR_LIMIT_BYTES}-byte delivery (one event, JSON whitespace)"),
            hint,
        ));

        card.push(self.answers_in_time());
        if let Some(why) = &blocked {
            not_graded_behind_valid(&mut card, why);
        }
        Ok(card)
    }

    /// After a refused valid delivery: whether the receiver wants a
    /// timestamp header (its refusal says "timestamp", or the same
    /// delivery with the timestamp headers is accepted).
    async fn demands_timestamp(&mut self, message: &Message, refusal: &Answer) -> bool {
        if refusal.body.contains("timestamp") {
            return true;
        }
        self.send("valid", message, Signing::WithTimestamp)
            .await
            .accepted()
    }

    async fn same_message_twice(
        &mut self,
        refusing_all: Option<String>,
    ) -> Result<Graded, CliError> {
        let check = "same-message-twice";
        let expected = "one 200 or 202; the other 200, 202 or 409 (still in progress)";
        if !self.at_most_once {
            return Ok(Graded {
                check,
                outcome: Outcome::Skip,
                expected: expected.to_owned(),
                observed: "not sent".to_owned(),
                why: "not graded: the probe sees answers, not handler runs; pass \
                      --at-most-once if the receiver handles each Idempotency-Key once"
                    .to_owned(),
            });
        }
        let message = self.message(vec![sample(&EventType::TaskCreated)])?;
        let (a, b) = futures::join!(
            self.request(&message, Signing::Both),
            self.request(&message, Signing::Both)
        );
        self.sent += 2;
        self.timings.push((check, a.clone()));
        self.timings.push((check, b.clone()));
        let observed = format!("{}; {}", a.observed(), b.observed());
        let in_progress = |x: &Answer| matches!(x.status, Ok(StatusCode::CONFLICT));
        let pass = (a.accepted() && (b.accepted() || in_progress(&b)))
            || (b.accepted() && in_progress(&a));
        let why = if pass {
            "both copies answered as Attio needs; whether the handler ran once is not \
             visible to the probe (only the statuses are)"
                .to_owned()
        } else if let Some(refusing_all) = refusing_all {
            refusing_all
        } else {
            "two copies of one message at once, as Attio's duplicates and overlapping \
             attempts arrive: answer the copy still in progress with 409 (as the library's \
             Once does), so Attio retries it, never with another refusal"
                .to_owned()
        };
        Ok(Graded {
            check,
            outcome: if pass { Outcome::Pass } else { Outcome::Fail },
            expected: expected.to_owned(),
            observed,
            why,
        })
    }

    /// `answers-in-time`: the slowest answer of the run against the
    /// attempt timeout.
    fn answers_in_time(&self) -> Graded {
        let check = "answers-in-time";
        let limit = self.attempt_timeout;
        let expected = format!("every answer within {}", millis(limit));
        let slowest = self
            .timings
            .iter()
            .filter(|(_, answer)| answer.status.is_ok() || answer.timed_out)
            .max_by_key(|(_, answer)| answer.elapsed);
        let Some((which, answer)) = slowest else {
            return Graded {
                check,
                outcome: Outcome::Fail,
                expected,
                observed: "no answers".to_owned(),
                why: "nothing answered".to_owned(),
            };
        };
        let observed = format!(
            "slowest {} ({which}) of {} answers",
            if answer.timed_out {
                format!("over {}", millis(answer.elapsed))
            } else {
                millis(answer.elapsed)
            },
            self.timings.len()
        );
        if answer.timed_out || answer.elapsed > limit {
            Graded {
                check,
                outcome: Outcome::Fail,
                expected,
                observed,
                why: format!(
                    "answered after the attempt timeout ({}): Attio counts that attempt as \
                     failed and retries it; answer first, then do slow work",
                    millis(limit)
                ),
            }
        } else {
            Graded {
                check,
                outcome: Outcome::Pass,
                expected,
                observed,
                why: format!("every answer came within {}", millis(limit)),
            }
        }
    }

    /// Sends one request for `check` and keeps its timing.
    async fn send(&mut self, check: &'static str, message: &Message, signing: Signing) -> Answer {
        let answer = self.request(message, signing).await;
        self.sent += 1;
        debug_assert!(self.sent <= MAX_REQUESTS);
        self.timings.push((check, answer.clone()));
        answer
    }

    async fn request(&self, message: &Message, signing: Signing) -> Answer {
        let request = self.build(message, signing);
        let limit = Self::request_limit(self.attempt_timeout);
        let started = Instant::now();
        let result = tokio::time::timeout(limit, self.transport.send(request)).await;
        let elapsed = started.elapsed();
        match result {
            Err(_) => Answer {
                status: Err(format!("cut off at {}", millis(limit))),
                timed_out: true,
                elapsed,
                body: String::new(),
            },
            Ok(Err(error)) => Answer {
                status: Err(with_causes(&error)),
                timed_out: false,
                elapsed,
                body: String::new(),
            },
            Ok(Ok(response)) => {
                let body = response.body();
                let start = &body[..body.len().min(4096)];
                Answer {
                    status: Ok(response.status()),
                    timed_out: false,
                    elapsed,
                    body: String::from_utf8_lossy(start).to_lowercase(),
                }
            }
        }
    }

    fn build(&self, message: &Message, signing: Signing) -> http::Request<Bytes> {
        let signed = match signing {
            Signing::OtherSecret => sign(
                &Secret::new(format!("not-{}", self.secret.expose())),
                &message.body,
            ),
            _ => sign(&self.secret, &message.body),
        };
        let body = match signing {
            Signing::BeforeChange => changed(&message.body),
            _ => message.body.clone(),
        };
        let signed = if signing == Signing::Uppercase {
            signed.to_uppercase()
        } else {
            signed
        };
        let mut request = http::Request::post(self.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, DELIVERY_USER_AGENT)
            .header(IDEMPOTENCY_KEY_HEADER, message.key.as_str())
            .body(body)
            .expect("a request from a parsed URI and valid headers");
        let value = HeaderValue::from_str(&signed).expect("hex is a valid header value");
        let headers = request.headers_mut();
        if !matches!(signing, Signing::XOnly | Signing::Unsigned) {
            headers.insert(SIGNATURE_HEADER, value.clone());
        }
        if !matches!(signing, Signing::AttioOnly | Signing::Unsigned) {
            headers.insert(X_SIGNATURE_HEADER, value);
        }
        if signing == Signing::WithTimestamp {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            for name in TIMESTAMP_HEADERS {
                headers.insert(name, HeaderValue::from(now));
            }
        }
        request
    }

    /// A new message (fresh `Idempotency-Key`) carrying `events`.
    fn message(&self, events: Vec<Event>) -> Result<Message, CliError> {
        let body = serde_json::to_vec(&Delivery::batch(webhook_id()?, events))
            .map_err(|e| CliError::Local(format!("could not encode a delivery: {e}")))?;
        Ok(Message {
            body: Bytes::from(body),
            key: uuid()?,
        })
    }

    /// A new message of one event whose body is `size` bytes, the rest
    /// JSON whitespace before the closing brace.
    fn padded_message(&self, size: usize) -> Result<Message, CliError> {
        let message = self.message(vec![sample(&EventType::RecordUpdated)])?;
        let mut body = message.body.to_vec();
        let close = body.pop();
        debug_assert_eq!(close, Some(b'}'));
        body.resize(size.saturating_sub(1).max(body.len()), b' ');
        body.push(b'}');
        Ok(Message {
            body: Bytes::from(body),
            key: message.key,
        })
    }
}

const ACCEPTED: &str = "200 or 202";

fn sign(secret: &Secret, body: &[u8]) -> String {
    signature::sign(secret, body)
}

/// After a refused valid delivery, every other delivery Attio would send
/// is refused for the same reason: those checks are not graded (their
/// answers stay in `observed`), so the card names one failure, `valid`,
/// with its cause. The checks of what must be refused still count.
fn not_graded_behind_valid(card: &mut [Graded], why: &str) {
    const BEHIND_VALID: [&str; 7] = [
        "batch",
        "attio-signature-only",
        "x-attio-signature-only",
        "uppercase-hex",
        "same-message-twice",
        "redelivery",
        "near-1-mib",
    ];
    for graded in card.iter_mut() {
        if BEHIND_VALID.contains(&graded.check) && graded.outcome == Outcome::Fail {
            graded.outcome = Outcome::Skip;
            graded.why = format!("not graded: {why}");
        }
    }
}

/// Grades a check whose delivery must be accepted. `hint` says what the
/// refusal means for this check.
fn accept(check: &'static str, answer: &Answer, what: &str, hint: Option<String>) -> Graded {
    let (outcome, why) = if answer.accepted() {
        (Outcome::Pass, format!("accepted {what}"))
    } else {
        let why = match (&answer.status, hint) {
            (_, Some(hint)) => hint,
            (Ok(status), None) if status.is_success() => format!(
                "answered {} to {what}: Attio counts only 200 and 202 as delivered and \
                 retries the rest",
                status.as_u16()
            ),
            (Ok(status), None) if *status == StatusCode::UNAUTHORIZED => {
                format!("refused {what} with 401: is it verifying with this secret?")
            }
            (Ok(status), None) => format!(
                "answered {} to {what}: Attio retries it, and marks the webhook degraded \
                 after 10 retries",
                status.as_u16()
            ),
            (Err(why), None) => format!("no answer to {what}: {why}"),
        };
        (Outcome::Fail, why)
    };
    Graded {
        check,
        outcome,
        expected: ACCEPTED.to_owned(),
        observed: answer.observed(),
        why,
    }
}

/// Grades a check whose delivery must be refused with a 4xx.
fn refuse(check: &'static str, answer: &Answer, what: &str, flaw: &str) -> Graded {
    let (outcome, why) = match &answer.status {
        Ok(status) if status.is_client_error() => (Outcome::Pass, format!("refused {what}")),
        Ok(status) if status.is_success() => (Outcome::Fail, flaw.to_owned()),
        Ok(status) => (
            Outcome::Fail,
            format!(
                "answered {} to {what}: refuse it with a 4xx (401), or Attio-shaped forgeries \
                 look like outages",
                status.as_u16()
            ),
        ),
        Err(why) => (Outcome::Fail, format!("no answer to {what}: {why}")),
    };
    Graded {
        check,
        outcome,
        expected: "4xx (401 or 400)".to_owned(),
        observed: answer.observed(),
        why,
    }
}

/// The body with the first digit of its webhook id changed: the same
/// length, still a delivery, no longer the bytes signed.
fn changed(body: &[u8]) -> Bytes {
    const KEY: &[u8] = br#""webhook_id":""#;
    let mut body = body.to_vec();
    let at = body
        .windows(KEY.len())
        .position(|w| w == KEY)
        .map_or(0, |at| at + KEY.len());
    if let Some(b) = body.get_mut(at) {
        *b = if *b == b'0' { b'1' } else { b'0' };
    }
    Bytes::from(body)
}

/// A realistic event of `event_type` (every known type has a sample).
fn sample(event_type: &EventType) -> Event {
    samples::event(event_type).expect("the testkit has a sample of every known event type")
}

/// Three `record.updated` of one record, each about another attribute,
/// as Attio batches changes to one record.
fn batch_events() -> Vec<Event> {
    [
        "1f6d2c3a-0b6e-4d57-9c1a-6a3f1d0e2b71",
        "2a7e3d4b-1c7f-4e68-8d2b-7b4a2e1f3c82",
        "3b8f4e5c-2d80-4f79-9e3c-8c5b3f2a4d93",
    ]
    .into_iter()
    .take(BATCH_EVENTS)
    .map(|attribute| sample(&EventType::RecordUpdated).with_id("attribute_id", attribute))
    .collect()
}

fn webhook_id() -> Result<WebhookId, CliError> {
    uuid()?
        .parse()
        .map_err(|e| CliError::Local(format!("could not make a webhook id: {e}")))
}

/// A random UUID (version 4), for ids and `Idempotency-Key`s.
fn uuid() -> Result<String, CliError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| CliError::Local(format!("no randomness from the OS: {e}")))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        let _ = write!(text, "{b:02x}");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_deliveries_attio_could_send() {
        let battery = Battery::new(
            "http://127.0.0.1:9/".parse().unwrap(),
            Secret::new("s"),
            DEFAULT_ATTEMPT_TIMEOUT,
            false,
        )
        .unwrap();
        let batch = battery.message(batch_events()).unwrap();
        assert_eq!(Delivery::parse(&batch.body).unwrap().events.len(), 3);
        let large = battery.padded_message(NEAR_LIMIT_BYTES).unwrap();
        assert_eq!(large.body.len(), NEAR_LIMIT_BYTES);
        assert_eq!(Delivery::parse(&large.body).unwrap().events.len(), 1);
        let changed = changed(&batch.body);
        assert_eq!(changed.len(), batch.body.len());
        assert_ne!(changed, batch.body);
        let key = uuid().unwrap();
        assert_eq!((key.len(), &key[14..15]), (36, "4"));
        assert_ne!(key, uuid().unwrap());
    }

    #[test]
    fn each_signing_sends_the_headers_it_names() {
        let secret = Secret::new("s");
        let battery = Battery::new(
            "http://127.0.0.1:9/".parse().unwrap(),
            secret.clone(),
            DEFAULT_ATTEMPT_TIMEOUT,
            false,
        )
        .unwrap();
        let message = battery
            .message(vec![sample(&EventType::NoteCreated)])
            .unwrap();
        let good = sign(&secret, &message.body);
        let header = |signing, name: &HeaderName| {
            battery
                .build(&message, signing)
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        use http::HeaderName;
        let (a, x) = (&SIGNATURE_HEADER, &X_SIGNATURE_HEADER);
        assert_eq!(header(Signing::Both, a).as_deref(), Some(good.as_str()));
        assert_eq!(header(Signing::Both, x).as_deref(), Some(good.as_str()));
        assert_eq!(header(Signing::AttioOnly, x), None);
        assert_eq!(header(Signing::XOnly, a), None);
        assert!(header(Signing::AttioOnly, a).is_some() && header(Signing::XOnly, x).is_some());
        assert_eq!(header(Signing::Unsigned, a), None);
        assert_eq!(header(Signing::Unsigned, x), None);
        assert_eq!(header(Signing::Uppercase, a), Some(good.to_uppercase()));
        assert_ne!(
            header(Signing::OtherSecret, a).as_deref(),
            Some(good.as_str())
        );
        let request = battery.build(&message, Signing::BeforeChange);
        assert_eq!(
            header(Signing::BeforeChange, a).as_deref(),
            Some(good.as_str())
        );
        assert_ne!(request.body(), &message.body);
        let request = battery.build(&message, Signing::Both);
        assert_eq!(
            request.headers()[http::header::USER_AGENT],
            DELIVERY_USER_AGENT
        );
        assert_eq!(
            request.headers()[IDEMPOTENCY_KEY_HEADER],
            message.key.as_str()
        );
    }

    #[test]
    fn the_limits_sit_a_bit_above_the_attempt_timeout() {
        let ten = Duration::from_secs(10);
        assert_eq!(Battery::request_limit(ten), Duration::from_secs(15));
        assert_eq!(
            Battery::request_limit(Duration::from_millis(200)),
            Duration::from_millis(1200)
        );
        assert_eq!(Battery::run_limit(ten), Duration::from_secs(15 * 13 + 5));
    }
}
