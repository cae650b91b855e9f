-- Replication: where each backup was copied besides its primary store (storage.replicas), and
-- how the copy went. A failed copy is an alert recorded here, never a failed backup. 'running'
-- while the copy is under way, so that whoever follows the backup can wait for it.

CREATE TABLE backup_replicas (
  backup_id    text NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
  store        text NOT NULL,
  location     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  error        text,
  bytes        bigint CHECK (bytes >= 0),
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  PRIMARY KEY (backup_id, store),
  CHECK ((status = 'failed') = (error IS NOT NULL)),
  CHECK ((status = 'running') = (finished_at IS NULL))
);
