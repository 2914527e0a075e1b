//! The table's name, checked, and every statement the store sends, built
//! from it once.

use crate::error::Error;

/// The table a new store uses.
pub const DEFAULT_TABLE: &str = "attio_webhooks_seen";

/// The longest name part accepted: PostgreSQL's 63-byte limit, less the
/// `_expires_at` suffix of the index.
const MAX_PART: usize = 63 - "_expires_at".len();

/// The store's SQL, with the table name quoted in.
#[derive(Clone, Debug)]
pub(crate) struct Statements {
    pub(crate) name: String,
    pub(crate) create: String,
    pub(crate) claim: String,
    pub(crate) complete: String,
    pub(crate) release: String,
    pub(crate) renew: String,
    pub(crate) sweep: String,
}

/// `name` or `schema.name`, each part an unquoted SQL identifier
/// (ASCII letters, digits, `_`, not starting with a digit), so it can be
/// quoted into statements without any escaping.
fn parts(name: &str) -> Result<Vec<&str>, Error> {
    let parts: Vec<&str> = name.split('.').collect();
    let valid = |part: &&str| {
        let mut bytes = part.bytes();
        matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && part.len() <= MAX_PART
    };
    if parts.len() > 2 || !parts.iter().all(valid) {
        return Err(Error::TableName(name.to_owned()));
    }
    Ok(parts)
}

/// `name` checked ([`parts`]) and quoted for SQL (`"schema"."name"`),
/// with its last part unquoted (to name its indexes after).
pub(crate) fn quoted(name: &str) -> Result<(String, &str), Error> {
    let parts = parts(name)?;
    let table = parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(".");
    Ok((table, parts[parts.len() - 1]))
}

impl Statements {
    pub(crate) fn for_table(name: &str) -> Result<Self, Error> {
        let (table, last) = quoted(name)?;
        let index = format!("\"{last}_expires_at\"");
        // A claim takes a free key or one whose claim or done record ran
        // out; it returns the row's token: the caller's (claimed), none
        // (done) or another holder's (in progress). One statement, so the
        // unique key makes concurrent claims queue on the row.
        // statement_timestamp() is the server's clock, the same value
        // everywhere in the statement.
        let claim = format!(
            "INSERT INTO {table} AS s (key, token, expires_at) \
             VALUES ($1, $2, statement_timestamp() + $3::bigint * interval '1 millisecond') \
             ON CONFLICT (key) DO UPDATE SET \
               token = CASE WHEN s.expires_at <= statement_timestamp() THEN EXCLUDED.token ELSE s.token END, \
               expires_at = CASE WHEN s.expires_at <= statement_timestamp() THEN EXCLUDED.expires_at ELSE s.expires_at END \
             RETURNING token"
        );
        let complete = format!(
            "UPDATE {table} SET token = NULL, \
               expires_at = statement_timestamp() + $3::bigint * interval '1 millisecond' \
             WHERE key = $1 AND token = $2 AND expires_at > statement_timestamp()"
        );
        let renew = format!(
            "UPDATE {table} SET \
               expires_at = statement_timestamp() + $3::bigint * interval '1 millisecond' \
             WHERE key = $1 AND token = $2 AND expires_at > statement_timestamp()"
        );
        let release = format!(
            "DELETE FROM {table} WHERE key = $1 AND token = $2 AND expires_at > statement_timestamp()"
        );
        // At most $1 rows, oldest first; rows another statement holds are
        // skipped, and the outer check keeps a row re-claimed meanwhile.
        let sweep = format!(
            "DELETE FROM {table} WHERE key IN ( \
               SELECT key FROM {table} WHERE expires_at <= statement_timestamp() \
               ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
             AND expires_at <= statement_timestamp()"
        );
        // Replicas starting together: the advisory lock makes one create
        // and the others find it made.
        let create = format!(
            "BEGIN; \
             SELECT pg_advisory_xact_lock(hashtext('attio-webhooks:' || '{name}')); \
             CREATE TABLE IF NOT EXISTS {table} ( \
               key bytea PRIMARY KEY, \
               token text, \
               expires_at timestamptz NOT NULL); \
             CREATE INDEX IF NOT EXISTS {index} ON {table} (expires_at); \
             COMMIT;"
        );
        Ok(Self {
            name: name.to_owned(),
            create,
            claim,
            complete,
            release,
            renew,
            sweep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        for good in ["seen", "_x1", "app.seen_keys", "A_b"] {
            assert!(Statements::for_table(good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_PART + 1);
        for bad in [
            "",
            "1seen",
            "seen;drop table users",
            "a.b.c",
            "se\"en",
            "app.",
            "sée",
            long.as_str(),
        ] {
            assert!(
                matches!(Statements::for_table(bad), Err(Error::TableName(n)) if n == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_name_is_quoted_into_every_statement() {
        let s = Statements::for_table("app.seen").unwrap();
        for sql in [
            &s.claim,
            &s.complete,
            &s.release,
            &s.renew,
            &s.sweep,
            &s.create,
        ] {
            assert!(sql.contains("\"app\".\"seen\""), "{sql}");
        }
        assert!(s.create.contains("INDEX IF NOT EXISTS \"seen_expires_at\""));
    }
}
