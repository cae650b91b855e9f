-- Runbook runs (`/runbook start`) and their append-only timelines. A run keeps the runbook it
-- started with (`runbook` holds the parsed runbook, `content_hash` the sha256 of that snapshot), so an
-- edit of the file never changes a run under way. `state` is the run's position (step, ticked
-- items, phase, the attempt of a step's commands and what they produced); `version` grows by one
-- with every transition, and every transition is `UPDATE … WHERE version = $expected`: a double
-- click, two replicas or a restart can never apply one transition twice.

CREATE TABLE runbook_runs (
  id            text PRIMARY KEY CHECK (id ~ '^run_[A-Za-z0-9_-]+$'),
  runbook_name  text NOT NULL,
  runbook       jsonb NOT NULL,                -- the parsed runbook, as it was at the start
  content_hash  text NOT NULL,
  params        jsonb NOT NULL,                -- key → value, defaults filled in
  started_by    text NOT NULL,                 -- 'platform:immutable-id'
  platform      text NOT NULL,
  channel       jsonb NOT NULL,                -- where it was started
  thread        jsonb,                         -- the intro message the thread hangs under, and the
                                               -- channel the run's messages go to, and the
                                               -- message showing the current step
  status        text NOT NULL CHECK (status IN ('open', 'completed', 'aborted')),
  state         jsonb NOT NULL,
  version       integer NOT NULL DEFAULT 0 CHECK (version >= 0),
  wait_until    timestamptz,                   -- a WAIT step continues by itself after this
  summary       text,                          -- the timeline as markdown, once the run ended
  started_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  ended_at      timestamptz,
  CHECK ((status = 'open') = (ended_at IS NULL))
);

-- `/runbook status` and the WAIT sweep read the open runs.
CREATE INDEX runbook_runs_open_idx ON runbook_runs (status, started_at);

-- One row per transition, written in the same transaction as the transition itself.
CREATE TABLE runbook_run_events (
  run_id    text NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
  seq       integer NOT NULL,                   -- the run's version the event produced
  at        timestamptz NOT NULL,
  actor     text NOT NULL,                      -- 'platform:id', or 'system:lifeboat'
  step      integer,                            -- 1-based step number, null for run-wide events
  kind      text NOT NULL,
  detail    text NOT NULL,                      -- for people: what happened, with which result
  PRIMARY KEY (run_id, seq)
);
