import { z } from 'zod';
import { isBackupId } from '../core/ids.ts';
import { objectNameProblem } from '../storage/object-key.ts';

export const MANIFEST_FORMAT = 'lifeboat.manifest/v1';
export const MANIFEST_OBJECT = 'manifest.json';

const tableRowCount = z.object({
  schema: z.string(),
  table: z.string(),
  rows: z.number().int().nonnegative(),
});

const postgresSource = z.object({
  kind: z.literal('postgres'),
  /** The URL with any password removed. */
  url: z.string(),
  database: z.string(),
  serverVersion: z.string(),
  format: z.literal('custom'),
  snapshot: z.string(),
  tables: z.array(tableRowCount),
});

const directorySource = z.object({
  kind: z.literal('directory'),
  path: z.string(),
  include: z.array(z.string()),
  exclude: z.array(z.string()),
  /**
   * How the figures were counted: `archive` from tar's output as it was stored, so they are
   * exactly what a restore extracts (see `TreeFigures`); `walk` (manifests before 0.4, which
   * lack the key) from a walk of the tree before tar ran (see `compareTreeFigures`).
   */
  counts: z.enum(['archive', 'walk']).default('walk'),
  /** Entries that are not directories: files, symlinks, hard links, FIFOs. */
  files: z.number().int().nonnegative(),
  /** Directories, the tree's root excepted. */
  directories: z.number().int().nonnegative(),
  /** The sizes of the regular files; a hard link adds nothing (with `counts: 'walk'`: its target's size). */
  bytes: z.number().int().nonnegative(),
  /**
   * Entries carrying extended attributes (ACLs aside), the root included; absent in manifests
   * written before Lifeboat archived them.
   */
  xattrs: z.number().int().nonnegative().optional(),
  /** Entries carrying a POSIX ACL (access or default); absent as `xattrs` is. */
  acls: z.number().int().nonnegative().optional(),
  /**
   * Of `xattrs`, entries carrying one only root can set back (a file capability in
   * `security.capability`, `trusted.*`); absent as `xattrs` is.
   */
  privilegedXattrs: z.number().int().nonnegative().optional(),
  /**
   * Manifests before 0.4 only: files that changed or vanished while tar read them. Newer
   * manifests keep every warning on the component (`warnings`).
   */
  warnings: z.array(z.string()).optional(),
});

const redisSource = z.object({
  kind: z.literal('redis'),
  /** The URL with any password removed. */
  url: z.string(),
  /** The database index the target's URL names; the RDB holds every database. */
  db: z.number().int().nonnegative(),
  serverVersion: z.string(),
  /** Keys of `db` in the snapshot, counted by loading it (see `RedisSource`). */
  keys: z.number().int().nonnegative(),
  /** Of those, keys with a TTL. */
  expires: z.number().int().nonnegative(),
});

export const componentSourceSchema = z.discriminatedUnion('kind', [
  postgresSource,
  directorySource,
  redisSource,
]);

/**
 * A name read from storage that becomes part of a key or a path (a component's, an object's):
 * one safe segment, so that a crafted or damaged manifest cannot point outside its backup.
 */
const storedName = z.string().superRefine((name, ctx) => {
  const problem = objectNameProblem(name);
  if (problem)
    ctx.addIssue({ code: 'custom', message: `"${name}" is not a safe name: ${problem}` });
});

/**
 * Something a backup has to say about a component beyond its figures:
 * - `incomplete`: something the target held is not in this backup, or not whole (a file
 *   deleted or changed while it was read, a socket or device left out). The backup completed
 *   and restores what it holds, and it says so loudly: in its message, `--json` and the CLI's
 *   exit status (4);
 * - `notice`: a tool said something worth reading (a pg_dump warning); everything is in.
 */
export const componentWarningSchema = z.object({
  kind: z.enum(['incomplete', 'notice']),
  message: z.string(),
});

export const manifestComponentSchema = z.object({
  /** The target's name in the config: `app-db`. */
  name: storedName,
  kind: z.enum(['postgres', 'directory', 'redis']),
  /** The object's key relative to the backup: `app-db.dump.zst`. */
  object: storedName.refine((object) => object !== MANIFEST_OBJECT, {
    message: `a component's object cannot be the manifest (${MANIFEST_OBJECT})`,
  }),
  /** Bytes stored (after compression and encryption). */
  bytes: z.number().int().nonnegative(),
  /** sha256 of the stored bytes, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Bytes the source produced, before compression. */
  rawBytes: z.number().int().nonnegative(),
  compression: z.enum(['zstd', 'gzip', 'none']),
  encryption: z.object({ format: z.literal('age'), recipients: z.array(z.string()) }).nullable(),
  /** The client tools that produced it and their versions (`pg_dump`: `15.20`). */
  tools: z.record(z.string(), z.string()),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().nonnegative(),
  source: componentSourceSchema,
  /**
   * See {@link componentWarningSchema}; every backup since 0.4 writes it (empty when there is
   * nothing to say), manifests before lack it. Read it with `warningsOf`.
   */
  warnings: z.array(componentWarningSchema).optional(),
});

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    id: z.string().refine(isBackupId, 'a backup id looks like bk_20261122T020000Z_full_7q3k'),
    profile: z.string(),
    note: z.string().nullable(),
    requestedBy: z.string(),
    lifeboatVersion: z.string(),
    startedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number().nonnegative(),
    /** Where the objects live: the primary store first. */
    storage: z.array(z.object({ store: z.string(), location: z.string() })),
    components: z.array(manifestComponentSchema).min(1),
  })
  .superRefine((manifest, ctx) => {
    // Two components under one name or one object would overwrite each other's data.
    for (const field of ['name', 'object'] as const) {
      const seen = new Set<string>();
      manifest.components.forEach((component, index) => {
        const value = component[field];
        if (seen.has(value)) {
          ctx.addIssue({
            code: 'custom',
            path: ['components', index, field],
            message: `${field} "${value}" appears twice`,
          });
        }
        seen.add(value);
      });
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestComponent = z.infer<typeof manifestComponentSchema>;
export type ComponentSource = z.infer<typeof componentSourceSchema>;
export type TableRowCount = z.infer<typeof tableRowCount>;
export type ComponentWarning = z.infer<typeof componentWarningSchema>;
