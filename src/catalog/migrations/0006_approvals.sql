-- Approval requests (the two-person rule) and the votes cast on them. The request keeps the full
-- action server-side (`payload`): buttons carry only its id, and what runs on approval is exactly
-- what was asked for. Every state change happens in a transaction holding the request's row
-- lock, so the rules hold across bot processes; `execution_id` is set once, by the vote that
-- completes the approval, and UNIQUE so that no two requests can ever run the same thing.
-- A 'review' is the second look a break-glass action gets after it ran: created with its
-- execution id, it stays 'pending' (never expires) until someone acknowledges it.

CREATE TABLE approval_requests (
  id            text PRIMARY KEY,              -- 'apr_…'
  kind          text NOT NULL CHECK (kind IN ('approval', 'review')),
  action        text NOT NULL,                 -- the policy action: 'restore', 'backup.prune', …
  command       text NOT NULL,                 -- as the requester typed it, for people
  payload       jsonb NOT NULL,                -- what runs: a restore plan, or a command's text
  environments  text[] NOT NULL,
  status        text NOT NULL CHECK (status IN
                  ('pending', 'approved', 'rejected', 'expired', 'executed', 'failed', 'acknowledged')),
  requested_by  text NOT NULL,                 -- 'platform:immutable-id'
  platform      text NOT NULL,
  channel       jsonb NOT NULL,                -- where the request was made
  message       jsonb,                         -- the request message, once posted
  requirement   jsonb NOT NULL,                -- approvals, approver roles, expiry, deciding policy
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz,                   -- null for reviews
  decided_at    timestamptz,                   -- when it left 'pending'
  decided_by    text,                          -- the last approver, the rejecter, the acknowledger
  reason        text,                          -- the rejection's reason; a review's break-glass reason
  execution_id  text UNIQUE,                   -- 'rs_…', set once
  executed_at   timestamptz,
  outcome       text,                          -- how the execution ended, for people
  review_of     text,
  CHECK (kind = 'review' OR expires_at IS NOT NULL),
  CHECK (status NOT IN ('approved', 'executed', 'failed') OR execution_id IS NOT NULL),
  CHECK ((status = 'pending') = (decided_at IS NULL)),
  CHECK (kind = 'approval' OR status IN ('pending', 'acknowledged')),
  CHECK (kind = 'review' OR status <> 'acknowledged')
);

-- `/approvals` and the expiry sweep read pending requests oldest first.
CREATE INDEX approval_requests_status_idx ON approval_requests (status, created_at);
CREATE INDEX approval_requests_created_idx ON approval_requests (created_at DESC, id DESC);

-- One row per person per request: the primary key is what makes "an approver counts once" hold
-- even if two votes by the same identity race past the row lock. `seq` keeps the order votes
-- were cast in when two share a timestamp.
CREATE TABLE approval_votes (
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  request_id  text NOT NULL REFERENCES approval_requests (id) ON DELETE CASCADE,
  identity    text NOT NULL,
  decision    text NOT NULL CHECK (decision IN ('approve', 'reject')),
  reason      text,
  at          timestamptz NOT NULL,
  PRIMARY KEY (request_id, identity)
);
