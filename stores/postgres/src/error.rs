//! What the PostgreSQL store can fail with.

/// An error of [`PostgresSeenKeys`](crate::PostgresSeenKeys).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The table name is not `name` or `schema.name` made of ASCII
    /// letters, digits and `_` (not starting with a digit), at most 52
    /// bytes a part.
    #[error("{0:?} is not a table name this store accepts: `name` or `schema.name`, ASCII letters, digits and _, not starting with a digit, at most 52 bytes a part")]
    TableName(String),
    /// The connection URL could not be read.
    #[error("the PostgreSQL connection URL is not valid: {0}")]
    Url(#[source] tokio_postgres::Error),
    /// The pool could not be made.
    #[error("could not make the PostgreSQL connection pool: {0}")]
    Pool(#[source] deadpool_postgres::CreatePoolError),
    /// No connection could be had from the pool (the server is down,
    /// refused, or the pool's wait ran out).
    #[error("no PostgreSQL connection: {0}")]
    Connection(#[source] deadpool_postgres::PoolError),
    /// PostgreSQL did not answer a store call within its call timeout
    /// ([`DEFAULT_CALL_TIMEOUT`](crate::DEFAULT_CALL_TIMEOUT) unless set):
    /// it is stalled or unreachable. `Once` and the inbox's `accept`
    /// answer 503.
    #[error("PostgreSQL did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    /// PostgreSQL refused or failed a statement.
    #[error("PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
}
