-- Authorised restores: what allowed a restore into a destination that needs approval (the
-- approval request and who approved it, or break glass with who and why), and the safety backup
-- taken of production destinations before they were overwritten. Both stay on the restore for
-- good, so the history says why a production database was replaced and where its old contents are.
-- The column is `authorized_by` because `authorization` is a reserved word in SQL.

ALTER TABLE restores
  ADD COLUMN authorized_by     jsonb
             CHECK (authorized_by IS NULL OR authorized_by->>'kind' IN ('approval', 'break-glass')),
  ADD COLUMN safety_backup_id  text;                 -- 'bk_…' (profile 'safety'); no foreign key,
                                                     -- like backup_id: history outlives backups
