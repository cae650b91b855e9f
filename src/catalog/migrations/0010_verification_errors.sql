-- A verification that could not check (the store did not answer, no key opens the backup, no
-- scratch server, a tool missing, its worker died) ends `error`: it says nothing about the
-- backup, unlike `failed`, which says the backup was checked and is bad. Retention's "newest
-- verified" weighs only `passed` and `failed`.
ALTER TABLE backup_verifications DROP CONSTRAINT backup_verifications_status_check;
ALTER TABLE backup_verifications ADD CONSTRAINT backup_verifications_status_check
  CHECK (status IN ('queued', 'running', 'passed', 'failed', 'error'));
