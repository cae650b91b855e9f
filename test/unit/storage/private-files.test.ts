import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkWritable, makeDirectorySync } from '../../../src/storage/file-system-errors.ts';

describe("the console's log file", () => {
  let base: string;
  let umask: number;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'lifeboat-log-modes-'));
    umask = process.umask(0o022);
  });

  afterEach(async () => {
    process.umask(umask);
    await rm(base, { recursive: true, force: true });
  });

  it('is created 0600 in directories created 0700, whatever the umask', async () => {
    const directory = join(base, 'project', '.lifeboat');
    makeDirectorySync(directory, 'the log directory');
    checkWritable(join(directory, 'lifeboat.log'), 'the log file');
    const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
    expect(await modeOf(join(directory, 'lifeboat.log'))).toBe('600');
    expect(await modeOf(directory)).toBe('700');
    expect(await modeOf(join(base, 'project'))).toBe('700');
  });
});
