import type { ManifestComponent } from '../backup/manifest.ts';
import type { Queryable } from './database.ts';

/** Makes a backup's component rows those of the manifest: old rows go, one row per component. */
export async function replaceComponents(
  tx: Queryable,
  backupId: string,
  components: readonly ManifestComponent[],
): Promise<void> {
  await tx.query('DELETE FROM backup_components WHERE backup_id = $1', [backupId]);
  for (const c of components) {
    await tx.query(
      `INSERT INTO backup_components (backup_id, name, kind, object, bytes, raw_bytes, sha256,
         compression, encrypted, duration_ms, source, tools)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb)`,
      [
        backupId,
        c.name,
        c.kind,
        c.object,
        c.bytes,
        c.rawBytes,
        c.sha256,
        c.compression,
        c.encryption !== null,
        c.durationMs,
        JSON.stringify(c.source),
        JSON.stringify(c.tools),
      ],
    );
  }
}
