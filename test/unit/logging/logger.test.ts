import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';

async function logLines(
  secrets: readonly string[],
  write: (logger: ReturnType<typeof createLogger>) => void,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-log-'));
  dirs.push(dir);
  const file = join(dir, 'log.jsonl');
  const logger = createLogger({ secrets, destination: file });
  write(logger);
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  // The file destination opens asynchronously: wait until the line has landed.
  return vi.waitFor(async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (!text.endsWith('\n')) throw new Error('the log line has not been written yet');
    return text;
  });
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the logger', () => {
  it('removes the password of any URL in a line, however short the password', async () => {
    const text = await logLines([], (log) =>
      log.error('pg_dump failed for postgres://app:pw@db.internal:5432/app: timeout'),
    );
    expect(text).not.toContain(':pw@');
    expect(text).toContain('postgres://app@db.internal:5432/app');
  });

  it('removes known secrets wherever they appear, also inside error objects', async () => {
    const secret = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQ';
    const text = await logLines([secret], (log) =>
      log.error({ err: new Error(`bad identity ${secret}`) }, `could not decrypt with ${secret}`),
    );
    expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('keeps ordinary words that merely equal a short URL password', async () => {
    const text = await logLines([], (log) =>
      log.info({ target: 'demo-db' }, 'postgres backup of postgres://postgres:postgres@h/db done'),
    );
    expect(text).toContain('postgres backup of postgres://postgres@h/db done');
  });

  it('keeps who did something in the line', async () => {
    const text = await logLines([], (log) => log.info({ identity: 'console:alice' }, 'ran'));
    expect(JSON.parse(text.trim()).identity).toBe('console:alice');
  });
});
