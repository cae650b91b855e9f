-- Restores: what was asked for (the plan), how it went per component (the checks), who asked.
-- `refused` keeps restores this version would not run (a destination that needs approval), so
-- every request is on record. No foreign key to backups: the history of a restore outlives the
-- backup it came from.

CREATE TABLE restores (
  id            text PRIMARY KEY,              -- 'rs_…'
  backup_id     text NOT NULL,
  profile       text NOT NULL,
  requested_by  text NOT NULL,
  status        text NOT NULL
                CHECK (status IN ('queued', 'running', 'completed', 'failed', 'refused')),
  plan          jsonb NOT NULL,                -- components → destinations, as planned
  results       jsonb,                         -- per component: status, checks, tools, error
  error         text,                          -- why it failed or was refused
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);

CREATE INDEX restores_created_idx ON restores (created_at DESC, id DESC);
CREATE INDEX restores_backup_idx ON restores (backup_id, created_at DESC);
