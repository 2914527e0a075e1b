//! One replica of a user's receiver: an axum app with the `VerifiedDelivery`
//! extractor and `Once` over the shared store, served on its own runtime
//! so that the test can kill it mid-handler (the runtime is dropped with
//! every task on it, as a process dies: no `release`, no answer).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attio_webhooks::receive::{Once, SeenKeys, VerifiedDelivery, Verifier};
use attio_webhooks::Secret;
use axum::extract::{FromRef, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

/// What handlers did, per message (`Idempotency-Key`), across replicas:
/// the test's oracle, kept outside the code under test.
#[derive(Default)]
pub struct Ledger {
    runs: Mutex<HashMap<String, Runs>>,
    /// How the handler behaves; the test changes it between phases.
    pub script: Mutex<Script>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Runs {
    pub started: u32,
    pub succeeded: u32,
    /// Which replica ran each start, in order.
    pub on: Vec<&'static str>,
}

#[derive(Clone, Debug, Default)]
pub struct Script {
    /// The first run of every message fails (the handler's database was
    /// down), so Attio retries it.
    pub fail_first_run: bool,
    /// Handlers on this replica never finish (until it is killed).
    pub hang_on: Option<&'static str>,
    /// How long a handler takes.
    pub takes: Duration,
}

impl Ledger {
    pub fn runs(&self) -> HashMap<String, Runs> {
        self.runs.lock().unwrap().clone()
    }

    fn start(&self, key: &str, replica: &'static str) -> u32 {
        let mut runs = self.runs.lock().unwrap();
        let entry = runs.entry(key.to_owned()).or_default();
        entry.started += 1;
        entry.on.push(replica);
        entry.started
    }

    fn succeed(&self, key: &str) {
        self.runs.lock().unwrap().get_mut(key).unwrap().succeeded += 1;
    }
}

#[derive(Clone)]
struct App {
    name: &'static str,
    verifier: Verifier,
    once: Once,
    ledger: Arc<Ledger>,
}

impl FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

/// The user's handler, as the README writes it, with the test's ledger.
async fn hook(State(app): State<App>, verified: VerifiedDelivery) -> Response {
    let key = verified.dedupe_key().unwrap_or_default().to_owned();
    let outcome = app
        .once
        .run(verified.dedupe_key(), || async {
            let run = app.ledger.start(&key, app.name);
            let script = app.ledger.script.lock().unwrap().clone();
            if script.hang_on == Some(app.name) {
                std::future::pending::<()>().await;
            }
            if !script.takes.is_zero() {
                tokio::time::sleep(script.takes).await;
            }
            if script.fail_first_run && run == 1 {
                return Err((http::StatusCode::INTERNAL_SERVER_ERROR, "first run fails"));
            }
            app.ledger.succeed(&key);
            Ok(http::StatusCode::OK)
        })
        .await;
    outcome.into_response()
}

pub struct Replica {
    pub addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Replica {
    pub fn start(
        name: &'static str,
        secret: Secret,
        store: Arc<dyn SeenKeys>,
        ledger: Arc<Ledger>,
    ) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let app = App {
            name,
            verifier: Verifier::new(secret),
            once: Once::from_arc(store),
            ledger,
        };
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let router = Router::new().route("/attio", post(hook)).with_state(app);
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            addr,
            runtime: Some(runtime),
        }
    }

    /// Kills the replica: every task on its runtime (the server, each
    /// connection, each handler in flight) is dropped where it stands.
    pub fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}
