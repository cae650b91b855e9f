import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
