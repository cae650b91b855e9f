-- Verifications of backups: level 1 checksums, 2 structure, 3 restore test. "Verified" (for
-- retention) means a `passed` row of any level.

CREATE TABLE backup_verifications (
  id           text PRIMARY KEY,              -- 'vf_…'
  backup_id    text NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
  level        integer NOT NULL CHECK (level BETWEEN 1 AND 3),
  status       text NOT NULL CHECK (status IN ('running', 'passed', 'failed')),
  requested_by text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  results      jsonb,                         -- per component: what was checked, figures
  error        text                           -- names the component and why
);

-- The latest verification of a backup, and whether it has a passed one.
CREATE INDEX backup_verifications_backup_idx ON backup_verifications (backup_id, started_at DESC);
