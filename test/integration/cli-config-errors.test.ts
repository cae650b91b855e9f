import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessResult, runLifeboat } from '../support/lifeboat-process.ts';

/** The last line of stdout as JSON; fails the test when it is not one JSON object. */
function lastJson(result: ProcessResult): Record<string, unknown> {
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`the last stdout line is not JSON: ${JSON.stringify(last)}\n${result.stderr}`);
  }
}

const ALIAS_BOMB = [
  'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...Array.from(
    { length: 8 },
    (_, index) => `a${index + 1}: &a${index + 1} [${Array(10).fill(`*a${index}`).join(',')}]`,
  ),
  '',
].join('\n');

/**
 * A file that is not a usable configuration is a configuration error whatever it holds: exit 2,
 * one JSON object with `--json`, never a crash (exit 1 with a stack).
 */
describe('configuration files that cannot be used, on the command line', () => {
  let dir: string;
  const lifeboat = (config: string) =>
    runLifeboat(['backup', 'list', '--config', config, '--json'], {
      cwd: dir,
      // Nothing past the configuration is reached: no catalog or queue is needed.
      env: { DATABASE_URL: 'postgres://127.0.0.1:1/unused', REDIS_URL: 'redis://127.0.0.1:1' },
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-config-errors-'));
    await writeFile(join(dir, 'bomb.yaml'), ALIAS_BOMB);
    await writeFile(join(dir, 'deep.yaml'), `targets: ${'['.repeat(200_000)}`);
    await writeFile(join(dir, 'cycle.yaml'), 'targets: &a { t: *a }\nprofiles: {}\n');
    await writeFile(join(dir, 'latin1.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    await writeFile(join(dir, 'scalar.yaml'), 'just some text\n');
    await writeFile(join(dir, 'list.yaml'), '- targets\n- profiles\n');
    await mkdir(join(dir, 'a-directory'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['bomb.yaml', 'too many aliases'],
    ['deep.yaml', 'nested more than 64 levels deep'],
    ['cycle.yaml', 'an alias refers to the value it is inside of'],
    ['latin1.yaml', 'is not UTF-8 text (an invalid byte on line 1)'],
    ['scalar.yaml', 'the top level must be a mapping'],
    ['list.yaml', 'the top level must be a mapping'],
    ['a-directory', 'is a directory'],
  ])('%s: exit 2 and a JSON config error saying so', async (file, problem) => {
    const result = await lifeboat(file);
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.code).toBe(2);
    const json = lastJson(result);
    expect(json).toMatchObject({ status: 'invalid', code: 'config_invalid' });
    expect(String(json.error)).toContain(problem);
    expect((json.issues as string[]).join('\n')).toContain(problem);
  });
});
