-- Shared claims: readers of a backup (a restore staging it, a verification, a copy to a replica)
-- hold a shared advisory lock on it, and prune deletes only a backup it can lock exclusively.
-- Several sessions now hold one lock key at once, so a holder row is one per key and session.

ALTER TABLE target_lock_holders DROP CONSTRAINT target_lock_holders_pkey;
ALTER TABLE target_lock_holders ADD PRIMARY KEY (lock_key, pid);

-- Verifications are `queued` until a worker starts one (under its attempt lock, `verify:<id>`),
-- so that a `running` verification whose lock is free (its worker died) can be told apart,
-- and failed as such, from one that still waits for a worker.
ALTER TABLE backup_verifications DROP CONSTRAINT backup_verifications_status_check;
ALTER TABLE backup_verifications ADD CONSTRAINT backup_verifications_status_check
  CHECK (status IN ('queued', 'running', 'passed', 'failed'));
