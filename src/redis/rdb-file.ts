import { execFile } from 'node:child_process';
import { childEnvironment } from '../core/child-env.ts';
import { BackupError } from '../core/errors.ts';

/** What `redis-check-rdb` found in a whole RDB file (every database together). */
export interface RdbFileCheck {
  /** Keys in the file, all databases together. */
  readonly keys: number;
  /** Of those, keys with a TTL. */
  readonly expires: number;
  /** Of those, keys whose TTL had already passed when the file was checked. */
  readonly alreadyExpired: number;
  /** The database indexes the file holds keys for. */
  readonly databases: readonly number[];
  /** The version of the redis that wrote it (`redis-ver`), when recorded. */
  readonly redisVersion: string | null;
}

export interface CheckRdbFileOptions {
  /** The checker. @defaultValue `redis-check-rdb` from the PATH */
  readonly redisCheckRdb?: string;
  readonly signal?: AbortSignal;
}

/**
 * Reads an RDB file to its end with `redis-check-rdb` (redis's own loader, checking every object
 * and the trailing CRC64) without holding the data in memory. A truncated or corrupt file is a
 * `BackupError` 'rdb_corrupt' naming the file and what the checker found.
 */
export function checkRdbFile(
  path: string,
  options: CheckRdbFileOptions = {},
): Promise<RdbFileCheck> {
  const binary = options.redisCheckRdb ?? 'redis-check-rdb';
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      [path],
      {
        maxBuffer: 16 * 1024 * 1024,
        signal: options.signal,
        env: childEnvironment(process.env, { LC_ALL: 'C' }),
      },
      (error, stdout, stderr) => {
        const output = `${stdout}\n${stderr}`;
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(
            new BackupError(
              'tool_missing',
              `${binary} is not installed: checking Redis snapshots needs it (Debian package redis-tools)`,
              { cause: error },
            ),
          );
          return;
        }
        const problem = describeProblem(output);
        if (error || problem || !/RDB looks OK/.test(output)) {
          const last = output
            .split('\n')
            .map((line) => line.trim())
            .filter((line) => line !== '')
            .at(-1);
          const why = problem ?? last ?? `${binary} failed without saying why`;
          reject(new BackupError('rdb_corrupt', `the RDB file ${path} is not valid: ${why}`));
          return;
        }
        resolve(parseCheckOutput(output));
      },
    );
  });
}

/** The figures in `redis-check-rdb`'s output. */
export function parseCheckOutput(output: string): RdbFileCheck {
  const figure = (label: string) =>
    Number(new RegExp(`\\[info\\] (\\d+) ${label}`).exec(output)?.[1] ?? 0);
  const databases = [...output.matchAll(/Selecting DB ID (\d+)/g)].map((match) => Number(match[1]));
  return {
    keys: figure('keys read'),
    expires: figure('expires'),
    alreadyExpired: figure('already expired'),
    databases: [...new Set(databases)],
    redisVersion: /AUX FIELD redis-ver = '([^']*)'/.exec(output)?.[1] ?? null,
  };
}

/** The checker's own explanation: the lines after `--- RDB ERROR DETECTED ---`. */
function describeProblem(output: string): string | null {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.includes('RDB ERROR DETECTED'));
  if (start === -1) {
    const fatal = lines.find((line) => /Cannot check RDB|No such file|fopen|Fatal/i.test(line));
    return fatal?.trim() ?? null;
  }
  return lines
    .slice(start + 1)
    .filter((line) => line.trim() !== '' && !line.startsWith('[info]'))
    .slice(0, 3)
    .map((line) => line.replace(/^\[[^\]]*\]\s*/, '').trim())
    .join('; ');
}
