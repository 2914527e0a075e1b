//! The core on `wasm32-unknown-unknown`, end to end, with no imports: the
//! host calls `smoke()`, which returns 0 when every step passed, or the
//! number of the step that failed; `message_ptr()`/`message_len()` then
//! say what happened (a panic's message too, written before the trap).
//!
//! The clock and the timer are the user's, as in a browser: here a clock
//! that the timer moves, so a retry's wait is seen without waiting.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use attio_webhooks::bytes::Bytes;
use attio_webhooks::client::Endpoint;
use attio_webhooks::error::ConfigError;
use attio_webhooks::model::{Condition, Filter, Timestamp};
use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::receive::{signature, Delivery, MemorySeenKeys, Once, Verifier};
use attio_webhooks::runtime::{AsyncSleep, Clock, Sleep};
use attio_webhooks::transport::TransportError;
use attio_webhooks::{http, Client, RequestExt, RetryPolicy, Secret, Transport};

static MESSAGE: Mutex<String> = Mutex::new(String::new());

fn say(text: impl Into<String>) {
    *MESSAGE.lock().unwrap_or_else(|e| e.into_inner()) = text.into();
}

/// Where the last message starts in memory.
#[no_mangle]
pub extern "C" fn message_ptr() -> *const u8 {
    MESSAGE.lock().unwrap_or_else(|e| e.into_inner()).as_ptr()
}

/// How long the last message is, in bytes.
#[no_mangle]
pub extern "C" fn message_len() -> usize {
    MESSAGE.lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// Runs every step; 0 when all passed, else the failing step's number.
#[no_mangle]
pub extern "C" fn smoke() -> u32 {
    std::panic::set_hook(Box::new(|info| say(format!("panic: {info}"))));
    let steps: [(&str, fn() -> Result<String, String>); 6] = [
        ("sign and verify", sign_and_verify),
        ("verify, parse and filter a delivery", receive),
        ("handle a message once, on the user's clock", once),
        ("build ListWebhooks and decode its answer", build_and_decode),
        ("a client without a clock is refused, not a trap", no_clock),
        ("a whole Client call, 503 then 200", client_call),
    ];
    let mut report = String::new();
    for (number, (name, step)) in (1..).zip(steps) {
        say(format!("step {number} ({name}) did not finish"));
        match step() {
            Ok(detail) => report.push_str(&format!("ok {number} - {name}: {detail}\n")),
            Err(why) => {
                say(format!("{report}not ok {number} - {name}: {why}\n"));
                return number;
            }
        }
    }
    say(report);
    0
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    ok.then_some(()).ok_or_else(|| what.to_owned())
}

const WEBHOOK_ID: &str = "23e42eaf-323a-41da-b5bb-fd67eebda553";
const OBJECT_ID: &str = "97052eb9-e65e-443f-a297-f2d9a4a7f795";
const DELIVERY: &[u8] = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"record.updated","id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b","attribute_id":"41252299-f8c7-4b5e-99c9-4ff8321d2f96"},"actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}]}"#;
const LIST: &[u8] = br#"{"data":[{"target_url":"https://example.com/webhook","subscriptions":[{"event_type":"note.created","filter":null}],"id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553"},"status":"active","created_at":"2023-04-27T13:22:49.061281000Z"}]}"#;

fn sign_and_verify() -> Result<String, String> {
    let secret = Secret::new("shh");
    let hex = signature::sign(&secret, DELIVERY);
    signature::verify_hex(&secret, DELIVERY, &hex).map_err(|e| e.to_string())?;
    check(
        signature::verify_hex(&secret, b"{}", &hex).is_err(),
        "a changed body verified",
    )?;
    check(
        signature::verify_hex(&Secret::new("other"), DELIVERY, &hex).is_err(),
        "another secret verified",
    )?;
    Ok(format!("{}...", &hex[..12]))
}

fn headers(secret: &Secret, body: &[u8]) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let signed = signature::sign(secret, body);
    headers.insert("attio-signature", signed.parse().unwrap());
    headers.insert("idempotency-key", "k-1".parse().unwrap());
    headers
}

fn receive() -> Result<String, String> {
    let secret = Secret::new("shh");
    let verified = Verifier::new(secret.clone())
        .verify(&headers(&secret, DELIVERY), DELIVERY)
        .map_err(|e| e.to_string())?;
    let parsed = Delivery::parse(DELIVERY).map_err(|e| e.to_string())?;
    check(parsed == *verified.delivery(), "verify and parse disagree")?;
    check(
        parsed.webhook_id.to_string() == WEBHOOK_ID,
        "wrong webhook id",
    )?;
    let event = &parsed.events[0];
    let ours = Filter::And(vec![Condition::equals("id.object_id", OBJECT_ID)]);
    let theirs = Filter::Or(vec![Condition::equals("actor.type", "system")]);
    check(ours.matches(event), "the object's filter did not match")?;
    check(!theirs.matches(event), "the system-actor filter matched")?;
    Ok(format!("{} event(s), filters agree", parsed.events.len()))
}

fn once() -> Result<String, String> {
    let clock = Arc::new(PageClock::default());
    let once = Once::new(
        MemorySeenKeys::new_with_clock(Arc::clone(&clock)).with_lease(Duration::from_secs(5)),
    );
    let mut codes = Vec::new();
    for _ in 0..2 {
        let outcome = run(once.run(Some("k-1"), || async { Ok::<_, std::io::Error>(()) }));
        codes.push(outcome.code());
    }
    check(codes == ["handled", "already_handled"], "not once")?;
    Ok(codes.join(", "))
}

fn build_and_decode() -> Result<String, String> {
    let endpoint = Endpoint::new("token").map_err(|e| e.to_string())?;
    let request = endpoint
        .build(&ListWebhooks::new().limit(10).offset(20))
        .map_err(|e| e.to_string())?;
    let uri = request.uri().to_string();
    check(request.method() == http::Method::GET, "not a GET")?;
    check(
        uri == "https://api.attio.com/v2/webhooks?limit=10&offset=20",
        &format!("uri {uri}"),
    )?;
    check(
        request.headers()["authorization"] == "Bearer token",
        "no bearer token",
    )?;
    let webhooks = ListWebhooks::decode(http::Response::new(Bytes::from_static(LIST)))
        .map_err(|e| e.to_string())?;
    check(webhooks.len() == 1, "not one webhook")?;
    Ok(format!("{uri}, {} webhook(s)", webhooks.len()))
}

fn no_clock() -> Result<String, String> {
    let refused = Client::builder("token")
        .sleep(MovingSleep::default())
        .build(Scripted::default());
    check(
        matches!(refused, Err(ConfigError::NoClock)),
        "built without a clock",
    )?;
    Ok("ConfigError::NoClock".to_owned())
}

fn client_call() -> Result<String, String> {
    let clock = Arc::new(PageClock::default());
    let sleep = MovingSleep {
        clock: Arc::clone(&clock),
        waits: Arc::default(),
    };
    let waits = Arc::clone(&sleep.waits);
    let unavailable = http::Response::builder()
        .status(503)
        .body(Bytes::new())
        .unwrap();
    let transport = Scripted(Mutex::new(VecDeque::from([
        unavailable,
        http::Response::new(Bytes::from_static(LIST)),
    ])));
    let client = Client::builder("token")
        .clock(Arc::clone(&clock))
        .sleep(sleep)
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(200), Duration::from_secs(1)),
        )
        .build(transport)
        .map_err(|e| e.to_string())?;
    let started = Timestamp::now_with(&*clock);
    let webhooks = run(client.list_webhooks(ListWebhooks::new())).map_err(|e| e.to_string())?;
    let waits = waits.lock().unwrap().clone();
    check(webhooks.len() == 1, "not one webhook")?;
    check(
        client.transport().0.lock().unwrap().is_empty(),
        "not two attempts",
    )?;
    check(waits.len() == 1, "not one wait")?;
    check(
        Timestamp::now_with(&*clock) > started,
        "the wait did not move the clock",
    )?;
    Ok(format!("2 attempts, waited {:?}", waits[0]))
}

/// Polls `future` to its end with a waker that does nothing: everything
/// here is ready at once (a page would hand the future to its event loop).
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the future did not finish")
}

/// The user's clock: in a browser, `performance.now()` and `Date.now()`;
/// here one that only the timer moves.
#[derive(Debug, Default)]
struct PageClock(Mutex<Duration>);

impl Clock for PageClock {
    fn monotonic(&self) -> Duration {
        *self.0.lock().unwrap()
    }
    fn wall(&self) -> SystemTime {
        // 2026-01-01T00:00:00Z, then as far as the timer moved it.
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600) + self.monotonic()
    }
}

/// The user's timer: in a browser, `setTimeout`; here it moves the clock
/// and notes the wait.
#[derive(Debug, Default)]
struct MovingSleep {
    clock: Arc<PageClock>,
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl AsyncSleep for MovingSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        *self.clock.0.lock().unwrap() += duration;
        self.waits.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// Plays back its answers in order.
#[derive(Default)]
struct Scripted(Mutex<VecDeque<http::Response<Bytes>>>);

#[cfg_attr(not(target_arch = "wasm32"), attio_webhooks::async_trait)]
#[cfg_attr(target_arch = "wasm32", attio_webhooks::async_trait(?Send))]
impl Transport for Scripted {
    type Error = TransportError;
    async fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        Ok(self.0.lock().unwrap().pop_front().expect("no more answers"))
    }
}
