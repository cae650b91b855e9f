-- Retention: a backup whose objects a prune deleted stays in the catalog as 'pruned', with when
-- and why, so its history (who took it, its manifest) outlives its objects. Only 'completed'
-- backups are restorable; a pruned one never is.

-- 0001 declared the status CHECK inline on the column, which PostgreSQL names
-- backups_status_check.
ALTER TABLE backups DROP CONSTRAINT backups_status_check;
ALTER TABLE backups ADD CONSTRAINT backups_status_check
  CHECK (status IN ('queued', 'running', 'completed', 'failed', 'pruned'));

ALTER TABLE backups
  ADD COLUMN pruned_at     timestamptz,
  ADD COLUMN pruned_reason text,
  ADD CONSTRAINT backups_pruned_check
    CHECK ((status = 'pruned') = (pruned_at IS NOT NULL));
