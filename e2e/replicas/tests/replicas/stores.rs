//! The two shared stores, reached through a [`Relay`] so a test can take
//! the store away. Each replica gets a store of its own (its own
//! connections) on the same server, prefix or table.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use attio_webhooks::receive::SeenKeys;
use attio_webhooks_postgres::PostgresSeenKeys;
use attio_webhooks_redis::RedisSeenKeys;
use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;

use crate::relay::Relay;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Redis,
    Postgres,
}

/// The server's `host:port` and the URL with `{addr}` where it goes.
fn server(url: &str) -> (SocketAddr, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, host) = authority
        .rsplit_once('@')
        .map_or(("", authority), |(u, h)| (u, h));
    let at = if user.is_empty() { "" } else { "@" };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .unwrap()
        .next()
        .unwrap();
    (addr, format!("{scheme}://{user}{at}{{addr}}/{path}"))
}

impl Backend {
    fn url(self) -> String {
        let (var, default) = match self {
            Backend::Redis => ("ATTIO_TEST_REDIS_URL", "redis://127.0.0.1:6390/"),
            Backend::Postgres => (
                "ATTIO_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5440/postgres",
            ),
        };
        std::env::var(var).unwrap_or_else(|_| default.to_owned())
    }

    /// A relay to the test server, or `None` (after saying so) when the
    /// server does not answer and this is not CI.
    pub async fn relay(self) -> Option<Shared> {
        let url = self.url();
        let (addr, template) = server(&url);
        let probe =
            tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
                .await;
        if !matches!(probe, Ok(Ok(_))) {
            skip_without_server(
                &format!("{self:?} at {url}"),
                "nothing answers",
                "scripts/test-servers.sh start",
            );
            return None;
        }
        let relay = Relay::start(addr).await;
        let url = template.replace("{addr}", &relay.addr.to_string());
        Some(Shared {
            backend: self,
            relay,
            url,
        })
    }
}

/// One store server behind a relay.
pub struct Shared {
    pub backend: Backend,
    pub relay: Relay,
    url: String,
}

impl Shared {
    /// A store for one replica, in the namespace `name` (a key prefix or
    /// a table), with `lease`.
    pub async fn store(&self, name: &str, lease: Duration) -> Arc<dyn SeenKeys> {
        let name = format!("replicas_{name}_{}", std::process::id());
        match self.backend {
            Backend::Redis => Arc::new(
                RedisSeenKeys::connect(&self.url)
                    .await
                    .unwrap()
                    .with_prefix(format!("{name}:"))
                    .with_lease(lease),
            ),
            Backend::Postgres => {
                let store = PostgresSeenKeys::connect(&self.url)
                    .unwrap()
                    .with_table(&name)
                    .unwrap()
                    .with_lease(lease);
                store.migrate().await.unwrap();
                Arc::new(store)
            }
        }
    }
}
