-- Backups, their components, jobs, and who holds which target lock.

CREATE TABLE backups (
  id            text PRIMARY KEY,
  profile       text NOT NULL,
  status        text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  note          text,
  requested_by  text NOT NULL,
  targets       text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  bytes         bigint CHECK (bytes >= 0),
  error         text,
  location      text,
  manifest      jsonb,
  job_id        text,
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  CHECK (status <> 'completed' OR manifest IS NOT NULL)
);

-- `/backup list [profile]` and the latest backup of a profile: newest first.
CREATE INDEX backups_profile_created_idx ON backups (profile, created_at DESC, id DESC);
CREATE INDEX backups_created_idx ON backups (created_at DESC, id DESC);
CREATE INDEX backups_profile_completed_idx ON backups (profile, created_at DESC, id DESC)
  WHERE status = 'completed';

CREATE TABLE backup_components (
  backup_id    text NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
  name         text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('postgres', 'directory', 'redis')),
  object       text NOT NULL,
  bytes        bigint NOT NULL CHECK (bytes >= 0),
  raw_bytes    bigint NOT NULL CHECK (raw_bytes >= 0),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  compression  text NOT NULL,
  encrypted    boolean NOT NULL,
  duration_ms  double precision NOT NULL,
  source       jsonb NOT NULL,
  tools        jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (backup_id, name)
);

CREATE TABLE jobs (
  id            text PRIMARY KEY,
  kind          text NOT NULL,
  status        text NOT NULL CHECK (status IN ('queued', 'active', 'completed', 'failed')),
  payload       jsonb NOT NULL,
  requested_by  text NOT NULL,
  backup_id     text REFERENCES backups (id) ON DELETE SET NULL,
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  result        jsonb,
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);

CREATE INDEX jobs_backup_idx ON jobs (backup_id) WHERE backup_id IS NOT NULL;
CREATE INDEX jobs_created_idx ON jobs (created_at DESC);

-- Who holds a target's advisory lock, so a waiting job can say whom it waits for. A row is only
-- believed while its `pid` still holds the lock (pg_locks): rows left by a dead session are
-- ignored and overwritten by the next holder.
CREATE TABLE target_lock_holders (
  lock_key     bigint PRIMARY KEY,
  target       text NOT NULL,
  holder       text NOT NULL,
  pid          integer NOT NULL,
  acquired_at  timestamptz NOT NULL DEFAULT now()
);
