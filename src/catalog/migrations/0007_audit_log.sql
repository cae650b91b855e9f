-- The audit log: every command, approval request, vote, refusal, execution and outcome, one row
-- each, numbered 1, 2, 3, … without gaps. Each row holds the hash of the row before (prev_hash)
-- and its own hash over its fields and prev_hash (see src/audit/hash-chain.ts), so an edit, a
-- deletion or a reordering breaks the chain where it happened; `lifeboat audit verify` finds it.
-- Appenders take a transaction-level advisory lock and insert after the last row, so appends
-- from many processes never fork the chain. `at` is stored in whole milliseconds (the hash
-- covers it as a JavaScript Date sees it).

CREATE TABLE audit_log (
  seq         bigint PRIMARY KEY CHECK (seq > 0),
  at          timestamptz NOT NULL,
  identity    text NOT NULL,                 -- 'platform:immutable-id', or 'system:worker'
  platform    text NOT NULL,                 -- 'console', 'cli', 'slack', 'worker', …
  channel     text,
  action      text NOT NULL,                 -- 'command', 'approval.requested', 'restore.started', …
  command     text,                          -- as typed, when there is one
  args        jsonb,
  request_id  text,                          -- 'apr_…'
  outcome     text NOT NULL,
  detail      jsonb,
  prev_hash   text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash        text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);

-- `lifeboat audit export --since` and the history of one approval request.
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_request_idx ON audit_log (request_id, seq) WHERE request_id IS NOT NULL;

-- Append-only: rows are never changed or removed, not even by Lifeboat. (A superuser can still
-- get past this, e.g. with session_replication_role = replica; the hash chain is what shows it.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on audit_log is refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'entries are never changed or removed; lifeboat audit export copies them out';
END
$$;

CREATE TRIGGER audit_log_no_update_or_delete
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
