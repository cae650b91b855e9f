-- Where each component of a running restore keeps what puts its destination back (a directory
-- restore's journal, the keys a redis restore is writing, a postgres restore's side database),
-- recorded before the destination is written, and what the restore left there once it knew.
-- A worker's sweep reads it to put back the destinations of a restore whose process was
-- killed, and to say which state each was left in. Keyed by component name.
ALTER TABLE restores ADD COLUMN undo jsonb NOT NULL DEFAULT '{}'::jsonb;
