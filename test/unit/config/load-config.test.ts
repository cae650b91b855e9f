import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/load-config.ts';
import { ConfigError } from '../../../src/core/errors.ts';

const CONFIG = `
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: data/files }
  logs: { kind: directory, path: /var/log/app }
  db: { kind: postgres, url: "postgres://127.0.0.1/app" }
profiles:
  full: { targets: [files, logs, db] }
runbooks: { path: ../runbooks }
`;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(relative: string, text: string): string {
  const path = join(dir, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('reads lifeboat.yaml in the working directory by default', () => {
    const path = write('lifeboat.yaml', CONFIG);
    const loaded = loadConfig({ cwd: dir, env: {} });
    expect(loaded.path).toBe(path);
    expect(Object.keys(loaded.config.profiles)).toEqual(['full']);
  });

  it('reads the file named by LIFEBOAT_CONFIG, relative to the working directory', () => {
    write('lifeboat.yaml', 'not: valid\n');
    const path = write('etc/custom.yaml', CONFIG);
    const loaded = loadConfig({ cwd: dir, env: { LIFEBOAT_CONFIG: 'etc/custom.yaml' } });
    expect(loaded.path).toBe(path);
  });

  it('prefers the path option over LIFEBOAT_CONFIG', () => {
    const path = write('chosen.yaml', CONFIG);
    const loaded = loadConfig({
      cwd: dir,
      path: 'chosen.yaml',
      env: { LIFEBOAT_CONFIG: join(dir, 'missing.yaml') },
    });
    expect(loaded.path).toBe(path);
  });

  it('says where it looked and points at the example when the file is missing', () => {
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(
      `No configuration file at ${join(dir, 'lifeboat.yaml')}`,
    );
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(
      'lifeboat.example.yaml documents every key',
    );
  });

  it('names LIFEBOAT_CONFIG as the reason when the file it names is missing', () => {
    expect(() => loadConfig({ cwd: dir, env: { LIFEBOAT_CONFIG: 'nope.yaml' } })).toThrow(
      `No configuration file at ${join(dir, 'nope.yaml')} (LIFEBOAT_CONFIG)`,
    );
  });

  it('resolves relative paths in the file against the file’s directory', () => {
    write('etc/lifeboat.yaml', CONFIG);
    const { config } = loadConfig({ cwd: dir, path: 'etc/lifeboat.yaml', env: {} });
    expect(config.storage.local.path).toBe(join(dir, 'etc/backups'));
    expect(config.targets.files).toMatchObject({ path: join(dir, 'etc/data/files') });
    expect(config.targets.logs).toMatchObject({ path: '/var/log/app' });
    expect(config.runbooks.path).toBe(join(dir, 'runbooks'));
  });

  it('reports problems under the file’s path', () => {
    const path = write('lifeboat.yaml', 'targets: {}\n');
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(`The configuration in ${path} has`);
  });
});

describe('parseConfig without a base directory', () => {
  it('keeps relative paths as written', () => {
    const { config } = parseConfig(CONFIG, {}, 'inline');
    expect(config.storage.local.path).toBe('./backups');
    expect(config.targets.files).toMatchObject({ path: 'data/files' });
  });
});

/** The issues of the ConfigError `read` throws; fails when it throws anything else or nothing. */
function configErrorOf(read: () => unknown): readonly string[] {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Ten anchors, each a list of ten aliases of the one before: 10^7 strings once expanded. */
const ALIAS_BOMB = [
  'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...Array.from({ length: 6 }, (_, index) => {
    const previous = `*a${index}`;
    return `a${index + 1}: &a${index + 1} [${Array(10).fill(previous).join(',')}]`;
  }),
  'targets: { t: { kind: directory, path: /srv, include: *a6 } }',
  'profiles: { p: { targets: [t] } }',
  '',
].join('\n');

describe('files that are not a configuration', () => {
  it('refuses an alias bomb as a configuration error naming the limit', () => {
    expect(configErrorOf(() => parseConfig(ALIAS_BOMB, {}, 'bomb.yaml'))).toEqual([
      'too many aliases: the *references in this file would expand to more than 100 copies (the limit of the YAML reader, maxAliasCount); write the values out instead',
    ]);
  });

  it('still reads a file that uses a few aliases', () => {
    const text = `targets:
  a: { kind: directory, path: /srv/a, exclude: &exclude ["*.tmp", "*.log"] }
  b: { kind: directory, path: /srv/b, exclude: *exclude }
profiles: { p: { targets: [a, b] } }
`;
    expect(parseConfig(text, {}, 'aliases.yaml').config.targets.b).toMatchObject({
      exclude: ['*.tmp', '*.log'],
    });
  });

  it('refuses an alias inside its own anchor, which would make a value contain itself', () => {
    for (const text of [
      'targets: &a [*a]\nprofiles: {}\n',
      'targets: { t: &t { kind: directory, path: /srv, include: [*t] } }\nprofiles: {}\n',
    ]) {
      const [issue, ...rest] = configErrorOf(() => parseConfig(text, {}, 'cycle.yaml'));
      expect(rest).toEqual([]);
      expect(issue).toMatch(
        /^line 1, column \d+: an alias refers to the value it is inside of \(\*name within &name\), so the value would contain itself$/,
      );
    }
  });

  it('refuses nesting deeper than 64 levels, quickly and by line', () => {
    for (const text of [
      `targets: ${'['.repeat(1_000_000)}`,
      `targets: ${'{a: '.repeat(100_000)}`,
      `targets:\n${Array.from({ length: 100 }, (_, depth) => `${' '.repeat(depth + 1)}k${depth}:`).join('\n')}\n`,
      `targets:\n  ${'- '.repeat(100_000)}x\n`,
    ]) {
      const issues = configErrorOf(() => parseConfig(text, {}, 'deep.yaml'));
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(
        /^line \d+, column \d+: nested more than 64 levels deep; a configuration needs a few$/,
      );
    }
  });

  it('refuses a __proto__ key anywhere instead of dropping it', () => {
    for (const text of [
      'targets:\n  __proto__: { kind: directory, path: /x }\nprofiles:\n  p: { targets: [x] }\n',
      `${CONFIG}roles: { __proto__: ["console:bob"] }\n`,
    ]) {
      const issues = configErrorOf(() => parseConfig(text, {}, 't'));
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(/^line \d+, column \d+: the key "__proto__" cannot be used/);
    }
  });

  it('refuses a file of several YAML documents', () => {
    const text = `${CONFIG}---\ntargets: {}\n`;
    expect(configErrorOf(() => parseConfig(text, {}, 't'))).toEqual([
      'line 10, column 1: the file holds more than one YAML document (a line "---" starts another); a configuration is one',
    ]);
  });

  it('refuses a top level that is a single value or a list', () => {
    expect(configErrorOf(() => parseConfig('hello\n', {}, 't'))).toEqual([
      'the top level must be a mapping of keys such as targets and profiles, not a single value',
    ]);
    expect(configErrorOf(() => parseConfig('- targets\n', {}, 't'))).toEqual([
      'the top level must be a mapping of keys such as targets and profiles, not a list',
    ]);
  });

  it('refuses a file that is not UTF-8, naming the line', () => {
    const path = join(dir, 'latin1.yaml');
    writeFileSync(
      path,
      Buffer.concat([Buffer.from('targets:\n  caf'), Buffer.from([0xe9]), Buffer.from(': x\n')]),
    );
    expect(configErrorOf(() => loadConfig({ path, env: {} }))).toEqual([
      `${path} is not UTF-8 text (an invalid byte on line 2); save it as UTF-8`,
    ]);
  });

  it('refuses a directory, saying it needs a file', () => {
    expect(configErrorOf(() => loadConfig({ path: dir, env: {} }))).toEqual([
      `${dir} is a directory; the configuration is a YAML file such as lifeboat.yaml`,
    ]);
  });

  it('refuses a file larger than 64 MiB without reading it all', () => {
    const path = join(dir, 'huge.yaml');
    writeFileSync(path, '');
    truncateSync(path, 64 * 1024 * 1024 + 1);
    expect(configErrorOf(() => loadConfig({ path, env: {} }))).toEqual([
      `${path} is 64.0 MiB, more than a configuration file may be (64 MiB)`,
    ]);
  });

  it('refuses an endless device by what it read, without reading it all', () => {
    expect(configErrorOf(() => loadConfig({ path: '/dev/zero', env: {} }))).toEqual([
      '/dev/zero holds more than a configuration file may (64 MiB)',
    ]);
  });
});
