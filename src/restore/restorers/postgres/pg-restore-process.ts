import { spawn } from 'node:child_process';
import { childExit } from '../../../backup/sources/child-process-output.ts';
import { pgToolEnvironment } from '../../../core/child-env.ts';
import { RestoreError } from '../../../core/errors.ts';
import type { TableDataProgress } from './table-data-progress.ts';

export interface PgRestoreRun {
  /** The pg_restore binary. */
  readonly pgRestore: string;
  readonly jobs: number;
  readonly file: string;
  /** The database to restore into: its URL without password, and the password apart. */
  readonly safeUrl: string;
  readonly password: string | null;
  /** The database's name, for messages. */
  readonly database: string;
  readonly progress: TableDataProgress;
  readonly onProgress?: (message: string) => void;
  readonly signal: AbortSignal;
  readonly redact: (text: string) => string;
}

/**
 * Runs `pg_restore -j N` into an empty database: `--no-owner --no-acl` (objects belong to the
 * URL's user; the origin's roles rarely exist where a backup is restored), `--exit-on-error`
 * (a restore that skipped a statement is not one to trust), `--verbose` for progress. The
 * password travels in `PGPASSWORD`, never on the command line. Aborting the signal stops it.
 *
 * @throws RestoreError `pg_restore_failed` with pg_restore's errors (passwords masked)
 */
export async function runPgRestore(run: PgRestoreRun): Promise<void> {
  const { signal, progress } = run;
  signal.throwIfAborted();
  const child = spawn(
    run.pgRestore,
    [
      `--dbname=${run.safeUrl}`,
      `--jobs=${run.jobs}`,
      '--no-owner',
      '--no-acl',
      '--exit-on-error',
      '--no-password',
      '--verbose',
      run.file,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: pgToolEnvironment(process.env, run.password, { LC_MESSAGES: 'C' }),
    },
  );
  const errors: string[] = [];
  let tail: string[] = [];
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (/\berror:|\bdetail:|\bcommand was:/i.test(line)) errors.push(line);
      tail = [...tail.slice(-7), line];
      if (progress.line(line)) {
        run.onProgress?.(`restored the data of ${progress.done} of ${progress.total} tables`);
      }
    }
  });
  const stop = () => child.kill('SIGTERM');
  signal.addEventListener('abort', stop, { once: true });
  try {
    const exit = await childExit(child, 'pg_restore');
    signal.throwIfAborted();
    if (exit.code !== 0) {
      const why = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const detail = (errors.length > 0 ? errors.slice(0, 6) : tail).join('\n');
      throw new RestoreError(
        'pg_restore_failed',
        `pg_restore into ${run.database} ${why}: ${run.redact(detail) || 'no output on stderr'}`,
      );
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
