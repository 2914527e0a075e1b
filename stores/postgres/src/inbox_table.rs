//! The inbox's table and every statement [`PostgresInbox`](crate::PostgresInbox)
//! sends, built once from its checked name.
//!
//! One row per event. `id` (a `bigserial`) is the order events were
//! stored in, which is the order of a delivery's events and of deliveries
//! stored one after another; `state` is `ready` (waiting or being
//! handled: `token` and `lease_until` say by whom, until when), `done` or
//! `dead`. Every time is the server's `statement_timestamp()`, never a
//! replica's clock.

use crate::error::Error;
use crate::table::quoted;

/// The table a new inbox uses.
pub const DEFAULT_INBOX_TABLE: &str = "attio_webhooks_inbox";

/// The inbox's SQL, with the table name quoted in.
#[derive(Clone, Debug)]
pub(crate) struct InboxStatements {
    pub(crate) name: String,
    pub(crate) create: String,
    pub(crate) accept: String,
    pub(crate) claim: String,
    pub(crate) heartbeat: String,
    pub(crate) complete: String,
    pub(crate) complete_and_claim: String,
    pub(crate) record: String,
    pub(crate) fail: String,
    pub(crate) sweep: String,
    pub(crate) status: String,
    pub(crate) list: String,
    pub(crate) show: String,
    pub(crate) replay: String,
    pub(crate) replay_dead: String,
    pub(crate) drop: String,
}

/// `$n` milliseconds from the statement's time.
fn after(n: u8) -> String {
    format!("statement_timestamp() + ${n}::bigint * interval '1 millisecond'")
}

/// A row's columns as [`crate::inbox`] reads them, in this order.
const COLUMNS: &str = "id, state, attempts, ordering_key, event_type, dedupe_key, last_error, \
     to_char(accepted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
     coalesce(state = 'ready' AND lease_until > statement_timestamp(), false)";

impl InboxStatements {
    pub(crate) fn for_table(name: &str) -> Result<Self, Error> {
        let (t, last) = quoted(name)?;
        // Replicas starting together: the advisory lock makes one create
        // and the others find it made. Pages kept 20 % free, so a claim or
        // a lease renewal (no indexed column changes) is a HOT update.
        let create = format!(
            "BEGIN; \
             SELECT pg_advisory_xact_lock(hashtext('attio-webhooks-inbox:' || '{name}')); \
             CREATE TABLE IF NOT EXISTS {t} ( \
               id bigserial PRIMARY KEY, \
               dedupe bytea NOT NULL UNIQUE, \
               dedupe_key text NOT NULL, \
               ordering_key text NOT NULL, \
               event_type text NOT NULL, \
               body bytea NOT NULL, \
               state text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'done', 'dead')), \
               attempts integer NOT NULL DEFAULT 0, \
               not_before timestamptz NOT NULL DEFAULT statement_timestamp(), \
               token text, \
               lease_until timestamptz, \
               last_error text, \
               accepted_at timestamptz NOT NULL DEFAULT statement_timestamp(), \
               finished_at timestamptz) \
             WITH (fillfactor = 80); \
             CREATE INDEX IF NOT EXISTS \"{last}_open\" ON {t} (ordering_key, id) WHERE state <> 'done'; \
             CREATE INDEX IF NOT EXISTS \"{last}_due\" ON {t} (not_before, id) WHERE state = 'ready'; \
             COMMIT;"
        );
        // A delivery's events in one statement, in the delivery's order
        // (ids follow it); a dedupe key stored already is skipped.
        let accept = format!(
            "INSERT INTO {t} (dedupe, dedupe_key, ordering_key, event_type, body) \
             SELECT d, k, o, e, b FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::bytea[]) \
               WITH ORDINALITY AS u(d, k, o, e, b, n) ORDER BY n \
             ON CONFLICT (dedupe) DO NOTHING"
        );
        // The first ready event that is due (by when it became due, then
        // by id), not leased, and the head of its ordering key: no earlier
        // event of the key is still open (ready, or dead when $3 asks for
        // strict order). A claimed event stays `ready` under its lease, so
        // it holds its key's later events back until it is done. The scan
        // follows the `_due` index, so events waiting out a backoff (due
        // later) cost a claim nothing; ordering by id alone stepped over
        // each of them (20 000 of them: 4 905 pages and 20 ms a claim,
        // against 8 pages and 0.07 ms). Order within a key is the NOT
        // EXISTS's, not the scan's. SKIP LOCKED: workers claiming at once
        // take different rows.
        let claim_where = |also: &str, before: &str| {
            format!(
                "UPDATE {t} SET token = $1, lease_until = {lease}, attempts = attempts + 1 \
                 WHERE id = ( \
                   SELECT c.id FROM {t} c \
                   WHERE c.state = 'ready' AND c.not_before <= statement_timestamp() {also}\
                     AND (c.lease_until IS NULL OR c.lease_until <= statement_timestamp()) \
                     AND NOT EXISTS ( \
                       SELECT 1 FROM {t} p WHERE p.ordering_key = c.ordering_key AND p.id < c.id \
                         AND p.state <> 'done' AND (p.state <> 'dead' OR $3) {before}) \
                   ORDER BY c.not_before, c.id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, dedupe_key, ordering_key, event_type, body, attempts",
                lease = after(2)
            )
        };
        let claim = claim_where("", "");
        let heartbeat = format!(
            "UPDATE {t} SET lease_until = {lease} WHERE id = $1 AND token = $2",
            lease = after(3)
        );
        let done = "SET state = 'done', token = NULL, lease_until = NULL, last_error = NULL, \
               finished_at = coalesce(finished_at, statement_timestamp())";
        let complete = format!(
            "UPDATE {t} {done} WHERE id = $1 AND token = $2 AND state IN ('ready', 'done')"
        );
        // A worker's steady state, one statement (one round trip, one
        // commit) an event: `complete` of event $4 (token $5) and `claim`
        // of the next. Both parts read the same snapshot, in which event
        // $4 is still open; so the claim counts it as done exactly when
        // `done` returned it (its token still held), and never takes it.
        // Column 6: 1 if event $4 was marked done; columns 0-5 are the
        // claimed event's, NULL when none may run.
        let complete_and_claim = format!(
            "WITH done AS (UPDATE {t} {done} \
               WHERE id = $4 AND token = $5 AND state IN ('ready', 'done') RETURNING id), \
             claimed AS ({claimed}) \
             SELECT claimed.*, (SELECT count(*) FROM done) FROM (VALUES (1)) AS one \
               LEFT JOIN claimed ON true",
            claimed = claim_where("AND c.id <> $4 ", "AND p.id NOT IN (SELECT id FROM done)")
        );
        // In the handler's own transaction: done with its writes, the
        // token kept so that the worker's `complete` still matches.
        let record = format!(
            "UPDATE {t} SET state = 'done', finished_at = statement_timestamp() \
             WHERE id = $1 AND token = $2 AND state = 'ready'"
        );
        // A failure: back to ready after the backoff ($5 ms), or dead
        // once it has had $4 attempts.
        let fail = format!(
            "UPDATE {t} SET token = NULL, lease_until = NULL, last_error = $3, \
               state = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'ready' END, \
               finished_at = CASE WHEN attempts >= $4 THEN statement_timestamp() END, \
               not_before = {backoff} \
             WHERE id = $1 AND token = $2 AND state = 'ready' \
             RETURNING state",
            backoff = after(5)
        );
        // At most $2 done events older than the time-to-live ($1 ms),
        // earliest stored first (by the primary key: an index on
        // `finished_at` would cost every `complete` one more index entry);
        // rows another statement holds are skipped.
        let sweep = format!(
            "DELETE FROM {t} WHERE id IN ( \
               SELECT id FROM {t} WHERE state = 'done' \
                 AND finished_at <= statement_timestamp() - $1::bigint * interval '1 millisecond' \
               ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"
        );
        let status = format!(
            "SELECT count(*) FILTER (WHERE state = 'ready'), \
               count(*) FILTER (WHERE state = 'ready' AND lease_until > statement_timestamp()), \
               count(*) FILTER (WHERE state = 'ready' AND attempts > 0), \
               count(*) FILTER (WHERE state = 'done'), \
               count(*) FILTER (WHERE state = 'dead'), \
               extract(epoch FROM statement_timestamp() - min(accepted_at) FILTER (WHERE state = 'ready'))::float8 \
             FROM {t}"
        );
        let list = format!(
            "SELECT {COLUMNS} FROM {t} WHERE state <> 'done' AND (state = 'dead' OR NOT $1) \
             ORDER BY id LIMIT $2"
        );
        let show = format!("SELECT {COLUMNS}, body FROM {t} WHERE id = $1");
        // Back to ready, as new, unless a worker is handling it now.
        let requeue = "SET state = 'ready', attempts = 0, not_before = statement_timestamp(), \
               token = NULL, lease_until = NULL, finished_at = NULL";
        let replay = format!(
            "UPDATE {t} {requeue} WHERE id = $1 \
               AND NOT (state = 'ready' AND coalesce(lease_until > statement_timestamp(), false))"
        );
        let replay_dead = format!("UPDATE {t} {requeue} WHERE state = 'dead'");
        let drop = format!(
            "DELETE FROM {t} WHERE id = $1 \
               AND NOT (state = 'ready' AND coalesce(lease_until > statement_timestamp(), false))"
        );
        Ok(Self {
            name: name.to_owned(),
            create,
            accept,
            claim,
            heartbeat,
            complete,
            complete_and_claim,
            record,
            fail,
            sweep,
            status,
            list,
            show,
            replay,
            replay_dead,
            drop,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_checked_and_quoted_into_every_statement() {
        assert!(matches!(
            InboxStatements::for_table("inbox; drop table users"),
            Err(Error::TableName(_))
        ));
        let s = InboxStatements::for_table("app.inbox").unwrap();
        for sql in [
            &s.create,
            &s.accept,
            &s.claim,
            &s.heartbeat,
            &s.complete,
            &s.complete_and_claim,
            &s.record,
            &s.fail,
            &s.sweep,
            &s.status,
            &s.list,
            &s.show,
            &s.replay,
            &s.replay_dead,
            &s.drop,
        ] {
            assert!(sql.contains("\"app\".\"inbox\""), "{sql}");
        }
        assert!(s.create.contains("INDEX IF NOT EXISTS \"inbox_open\""));
    }
}
