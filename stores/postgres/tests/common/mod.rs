//! What the PostgreSQL store's test files share: the test server's URL, a
//! plain connection for the tests' own statements (the oracle), and a
//! delivery signed and verified as a receiver gets it.

use attio_webhooks::receive::{signature, VerifiedDelivery, Verifier};
use attio_webhooks::Secret;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5440/postgres";

/// `ATTIO_TEST_POSTGRES_URL`, or the server `scripts/test-servers.sh
/// start` runs.
pub fn url() -> String {
    std::env::var("ATTIO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A plain connection for the test's own statements (the oracle).
pub async fn sql() -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(client)
}

/// `body` as signed by Attio with message id `key`, verified.
pub fn verified(body: &str, key: &str) -> VerifiedDelivery {
    let secret = Secret::new("shh");
    let mut headers = attio_webhooks::http::HeaderMap::new();
    headers.insert(
        "attio-signature",
        signature::sign(&secret, body.as_bytes()).parse().unwrap(),
    );
    headers.insert("idempotency-key", key.parse().unwrap());
    Verifier::new(secret)
        .verify(&headers, body.as_bytes())
        .unwrap()
}
