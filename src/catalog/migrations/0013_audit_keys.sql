-- A keyed audit chain: each entry records how it was chained — 'sha256' (no key, as every entry
-- before this migration) or 'hmac-sha256' under the audit key whose id (a short hash of the key,
-- never the key) is key_id. The key lives outside the catalog (LIFEBOAT_AUDIT_KEY), so whoever
-- can write this table cannot recompute a keyed chain. Existing rows are 'sha256' and keep
-- verifying as before; a key can be introduced on an existing log, and rotated.

ALTER TABLE audit_log
  ADD COLUMN scheme text NOT NULL DEFAULT 'sha256' CHECK (scheme IN ('sha256', 'hmac-sha256')),
  ADD COLUMN key_id text CHECK (key_id ~ '^[0-9a-f]{16}$'),
  ADD CONSTRAINT audit_log_key_id_with_scheme CHECK ((scheme = 'sha256') = (key_id IS NULL));
