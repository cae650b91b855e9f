import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Manifest, ManifestComponent } from '../backup/manifest.ts';
import type { LifeboatConfig, TargetConfig } from '../config/schema.ts';
import { messageOf } from '../core/errors.ts';
import { errorCode, networkReason } from '../core/network-errors.ts';
import { redactUrl } from '../core/redact.ts';
import { loadAgeIdentities } from '../crypto/age-identities.ts';
import { withDefaultUser } from '../postgres/connection-url.ts';
import { oneShotRedisOptions, parseRedisUrl } from '../redis/redis-url.ts';
import { diagnoseDirectory, explainFileSystemError } from '../storage/file-system-errors.ts';
import type { ComponentRestorer } from './component-restorer.ts';
import { lookAtDirectoryDestination } from './directory-destination-facts.ts';
import type { PlannedComponent, RestorePlan } from './plan-restore.ts';
import { type RestoreFacts, toolFor, toolsFor } from './restore-checks.ts';
import { restorerFor as productionRestorer } from './restorers/index.ts';

export interface RestoreFactsOptions {
  readonly config: Pick<LifeboatConfig, 'targets'>;
  /** The backup's manifest: what each restorer's own checks look at (the pg_dump version). */
  readonly manifest: Manifest;
  /** Where the age identities come from (LIFEBOAT_AGE_IDENTITY…), as the restore job reads them. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where tools are looked for, as the restore spawns them. @defaultValue this process's PATH */
  readonly path?: string;
  /** Where restores stage components. @defaultValue the system's temporary directory */
  readonly stagingDirectory?: string;
  /** How long each destination may take to answer. @defaultValue 3000 ms */
  readonly timeoutMs?: number;
  /** The catalog's URL: restorers refuse to replace the catalog's database. @defaultValue none */
  readonly catalogUrl?: string;
  /** @defaultValue the production restorers */
  readonly restorerFor?: (kind: ManifestComponent['kind']) => ComponentRestorer;
}

/** SQLSTATE 3D000: the database does not exist yet, which a restore creates. */
const INVALID_CATALOG_NAME = '3D000';

/**
 * Finds out, in this process, what a restore of `plan` needs: the age identities available,
 * the tools on the PATH, whether each destination answers (or, for a directory, can be
 * written), whether each component's restorer would refuse its destination (its `preflight`:
 * privileges, the catalog's database), and the space free where components are staged. Reads
 * and connects; changes nothing. Only the process that will run the restore should ask: a
 * worker, or the CLI and the console when they run their own.
 */
export async function gatherRestoreFacts(
  plan: RestorePlan,
  options: RestoreFactsOptions,
): Promise<RestoreFacts> {
  const stagingDirectory = options.stagingDirectory ?? tmpdir();
  const [tools, reached, directories, freeBytes] = await Promise.all([
    Promise.all(
      toolsFor(plan).map(
        async (tool) => [tool, await onPath(tool, options.path ?? process.env.PATH ?? '')] as const,
      ),
    ).then((found) => Object.fromEntries(found)),
    reachDestinations(plan, { ...options, kinds: ['postgres', 'redis'] }),
    lookAtDirectories(plan, options.config, stagingDirectory),
    statfs(stagingDirectory).then(
      (info) => info.bavail * info.bsize,
      () => null,
    ),
  ]);
  const destinations = {
    ...reached,
    ...Object.fromEntries(Object.entries(directories).map(([name, look]) => [name, look.problem])),
  };
  // Only where the tool is there and the destination answers: otherwise the problem is named
  // already, and the restorer's check would only say it again.
  const askable = plan.components.filter(
    (c) => tools[toolFor(c.kind)] !== false && destinations[c.destination] === null,
  );
  const refusals = await Promise.all(
    askable.map(async (planned) => [planned.component, await refusal(planned, options)] as const),
  );
  return {
    identities: identityRecipients(options.env),
    tools,
    destinations,
    refusals: Object.fromEntries(refusals),
    staging: { directory: stagingDirectory, freeBytes },
    directories: Object.fromEntries(
      Object.entries(directories).map(([name, look]) => [name, look.facts]),
    ),
  };
}

/** Each directory destination of the plan, looked at (see `lookAtDirectoryDestination`). */
async function lookAtDirectories(
  plan: RestorePlan,
  config: Pick<LifeboatConfig, 'targets'>,
  stagingDirectory: string,
): Promise<Record<string, Awaited<ReturnType<typeof lookAtDirectoryDestination>>>> {
  const names = [...new Set(plan.components.map((c) => c.destination))];
  const looked = await Promise.all(
    names.flatMap((name) => {
      const target = config.targets[name];
      if (target?.kind !== 'directory') return [];
      return [
        lookAtDirectoryDestination(target.path, stagingDirectory).then(
          (look) => [name, look] as const,
        ),
      ];
    }),
  );
  return Object.fromEntries(looked);
}

/**
 * Whether each destination of the plan answers (or, for a directory, can be written) from
 * this process: the destination's name, with why not, or null when it does.
 */
export async function reachDestinations(
  plan: RestorePlan,
  options: Pick<RestoreFactsOptions, 'config' | 'timeoutMs'> & {
    /** Only destinations of these kinds. @defaultValue every kind */
    readonly kinds?: readonly TargetConfig['kind'][];
  },
): Promise<Record<string, string | null>> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const { targets } = options.config;
  const names = [...new Set(plan.components.map((c) => c.destination))].filter((name) => {
    const kind = targets[name]?.kind;
    return !options.kinds || (kind !== undefined && options.kinds.includes(kind));
  });
  const reached = await Promise.all(
    names.map(async (name) => {
      const target = targets[name];
      return [name, target ? await destinationProblem(target, timeoutMs) : null] as const;
    }),
  );
  return Object.fromEntries(reached);
}

/** Why the component's restorer would refuse its destination now, or null when it would not. */
async function refusal(
  planned: PlannedComponent,
  options: RestoreFactsOptions,
): Promise<string | null> {
  const component = options.manifest.components.find((c) => c.name === planned.component);
  const target = options.config.targets[planned.destination];
  if (!component || !target) return null;
  const restorer =
    options.restorerFor?.(component.kind) ??
    productionRestorer(
      component.kind,
      options.catalogUrl === undefined ? {} : { catalogUrl: options.catalogUrl },
    );
  try {
    await restorer.preflight?.(component, { name: planned.destination, config: target });
    return null;
  } catch (error) {
    return messageOf(error);
  }
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
    // The server answered, and refused who Lifeboat is: no reachability problem, a login one.
    const refused = [error, last]
      .map(messageOf)
      .find((m) => /^(NOAUTH|WRONGPASS|NOPERM)\b/.test(m));
    if (refused) {
      return `answers at ${parsed.safeUrl} but refuses Lifeboat: ${refused} (set the user and password in the target's url)`;
    }
    return `cannot be reached at ${parsed.safeUrl}: ${networkReason(last ?? error, timeoutMs)}`;
  } finally {
    redis.disconnect();
  }
}
