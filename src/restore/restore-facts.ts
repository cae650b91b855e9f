import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { LifeboatConfig, TargetConfig } from '../config/schema.ts';
import { messageOf } from '../core/errors.ts';
import { errorCode, networkReason } from '../core/network-errors.ts';
import { redactUrl } from '../core/redact.ts';
import { loadAgeIdentities } from '../crypto/age-identities.ts';
import { withDefaultUser } from '../postgres/connection-url.ts';
import { oneShotRedisOptions, parseRedisUrl } from '../redis/redis-url.ts';
import { diagnoseDirectory, explainFileSystemError } from '../storage/file-system-errors.ts';
import type { RestorePlan } from './plan-restore.ts';
import { type RestoreFacts, toolsFor } from './restore-checks.ts';

export interface RestoreFactsOptions {
  readonly config: Pick<LifeboatConfig, 'targets'>;
  /** Where the age identities come from (LIFEBOAT_AGE_IDENTITY…), as the restore job reads them. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where tools are looked for, as the restore spawns them. @defaultValue this process's PATH */
  readonly path?: string;
  /** Where restores stage components. @defaultValue the system's temporary directory */
  readonly stagingDirectory?: string;
  /** How long each destination may take to answer. @defaultValue 3000 ms */
  readonly timeoutMs?: number;
}

/** SQLSTATE 3D000: the database does not exist yet, which a restore creates. */
const INVALID_CATALOG_NAME = '3D000';

/**
 * Finds out, on this side, what a restore of `plan` needs: the age identities available, the
 * tools on the PATH, whether each destination answers (or, for a directory, can be written),
 * and the space free where components are staged. Reads and connects; changes nothing.
 */
export async function gatherRestoreFacts(
  plan: RestorePlan,
  options: RestoreFactsOptions,
): Promise<RestoreFacts> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const stagingDirectory = options.stagingDirectory ?? tmpdir();
  const destinations = [...new Set(plan.components.map((c) => c.destination))];
  const [tools, reached, freeBytes] = await Promise.all([
    Promise.all(
      toolsFor(plan).map(
        async (tool) => [tool, await onPath(tool, options.path ?? process.env.PATH ?? '')] as const,
      ),
    ),
    Promise.all(
      destinations.map(async (name) => {
        const target = options.config.targets[name];
        return [name, target ? await destinationProblem(target, timeoutMs) : null] as const;
      }),
    ),
    statfs(stagingDirectory).then(
      (info) => info.bavail * info.bsize,
      () => null,
    ),
  ]);
  return {
    identities: identityRecipients(options.env),
    tools: Object.fromEntries(tools),
    destinations: Object.fromEntries(reached),
    staging: { directory: stagingDirectory, freeBytes },
  };
}

function identityRecipients(
  env: Readonly<Record<string, string | undefined>>,
): RestoreFacts['identities'] {
  try {
    return loadAgeIdentities(env).map((identity) => identity.recipient);
  } catch (error) {
    return { error: messageOf(error) };
  }
}

/** True when an executable named `tool` is in a directory of the PATH. */
async function onPath(tool: string, path: string): Promise<boolean> {
  for (const directory of path.split(delimiter).filter(Boolean)) {
    try {
      await access(join(directory, tool), constants.X_OK);
      return true;
    } catch {
      // Not here; the next directory of the PATH.
    }
  }
  return false;
}

/** Why the destination cannot be restored into, or null when it answers (or can be written). */
async function destinationProblem(target: TargetConfig, timeoutMs: number): Promise<string | null> {
  switch (target.kind) {
    case 'postgres':
      return postgresProblem(target.url, timeoutMs);
    case 'redis':
      return redisProblem(target.url, timeoutMs);
    case 'directory': {
      const cause = await diagnoseDirectory(target.path, undefined);
      if (!cause) return null;
      const explained = explainFileSystemError(undefined, `its path ${target.path}`, cause);
      return `cannot be written: ${explained.message}`;
    }
  }
}

async function postgresProblem(url: string, timeoutMs: number): Promise<string | null> {
  const client = new pg.Client({
    connectionString: withDefaultUser(url),
    connectionTimeoutMillis: timeoutMs,
    application_name: 'lifeboat restore check',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return null;
  } catch (error) {
    if (errorCode(error) === INVALID_CATALOG_NAME) return null;
    return `cannot be reached at ${redactUrl(url)}: ${networkReason(error, timeoutMs)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisProblem(url: string, timeoutMs: number): Promise<string | null> {
  let parsed: ReturnType<typeof parseRedisUrl>;
  try {
    parsed = parseRedisUrl(url);
  } catch (error) {
    return `has an invalid url: ${messageOf(error)}`;
  }
  const redis = new Redis({
    ...oneShotRedisOptions(parsed, 'lifeboat-restore-check'),
    connectTimeout: timeoutMs,
  });
  let last: unknown;
  redis.on('error', (error) => {
    last = error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `cannot be reached at ${parsed.safeUrl}: ${networkReason(last ?? error, timeoutMs)}`;
  } finally {
    redis.disconnect();
  }
}
