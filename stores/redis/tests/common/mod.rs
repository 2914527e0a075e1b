//! The test Redis, shared by the test files that need it.

// Each test file uses what it needs of it.
#![allow(dead_code)]

use std::time::Duration;

use attio_webhooks_redis::RedisSeenKeys;
use attio_webhooks_testkit::seen_keys_conformance::skip_without_server;

const DEFAULT_URL: &str = "redis://127.0.0.1:6390/";

/// `ATTIO_TEST_REDIS_URL`, or `redis://127.0.0.1:6390/`.
pub fn url() -> String {
    std::env::var("ATTIO_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A store on the test Redis with a prefix of its own, or `None` (after
/// saying so) when no Redis answers and this is not CI.
pub async fn store() -> Option<RedisSeenKeys> {
    let url = url();
    let connected =
        tokio::time::timeout(Duration::from_secs(2), RedisSeenKeys::connect(&url)).await;
    match connected {
        Ok(Ok(store)) => {
            Some(store.with_prefix(format!("attio-webhooks-test:{}:", std::process::id())))
        }
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 2 s".to_owned(),
            };
            skip_without_server(
                &format!("Redis at {url}"),
                why,
                "scripts/test-servers.sh start",
            );
            None
        }
    }
}
