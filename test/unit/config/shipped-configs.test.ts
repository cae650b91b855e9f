import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../../src/config/load-config.ts';
import { resolveProfile } from '../../../src/config/profiles.ts';
import { configSchema } from '../../../src/config/schema.ts';

const ROOT = join(import.meta.dirname, '../../..');
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const EXAMPLE_ENV = {
  APP_DATABASE_URL: 'postgres://app:app-secret-passphrase@db.internal:5432/app',
  STAGING_DATABASE_URL: 'postgres://app@staging.internal:5432/app',
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  LIFEBOAT_AGE_RECIPIENT: RECIPIENT,
};

/**
 * Every key path the schema allows: `storage.s3.bucket`, `targets.*.url`, `policies[].expires`.
 * Records become `*`, list items `[]`; the target kinds' keys all sit under `targets.*`.
 */
function schemaKeyPaths(schema: z.ZodType, prefix: string): string[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) {
    return schemaKeyPaths(schema.unwrap() as z.ZodType, prefix);
  }
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape).flatMap(([key, value]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      return [path, ...schemaKeyPaths(value as z.ZodType, path)];
    });
  }
  if (schema instanceof z.ZodRecord)
    return schemaKeyPaths(schema.valueType as z.ZodType, `${prefix}.*`);
  if (schema instanceof z.ZodArray)
    return schemaKeyPaths(schema.element as z.ZodType, `${prefix}[]`);
  if (schema instanceof z.ZodDiscriminatedUnion) {
    return [
      ...new Set(schema.options.flatMap((option) => schemaKeyPaths(option as z.ZodType, prefix))),
    ];
  }
  return [];
}

/** Whether some value in `data` sits at `path` (with `*` and `[]` matching any entry). */
function hasKeyPath(data: unknown, path: string): boolean {
  const [head, ...rest] = path.split(/\.|(?=\[\])/);
  if (head === undefined) return true;
  const next = rest.join('.');
  if (head === '[]') return Array.isArray(data) && data.some((item) => hasKeyPath(item, next));
  if (data === null || typeof data !== 'object') return false;
  const entries = data as Record<string, unknown>;
  if (head === '*') return Object.values(entries).some((value) => hasKeyPath(value, next));
  return head in entries && (next === '' || hasKeyPath(entries[head], next));
}

describe('lifeboat.example.yaml', () => {
  it('loads when its environment variables are set', () => {
    const { config, secrets } = loadConfig({
      path: join(ROOT, 'lifeboat.example.yaml'),
      env: EXAMPLE_ENV,
    });
    expect(Object.keys(config.targets)).toEqual(['app-db', 'uploads', 'cache', 'staging-db']);
    expect(Object.keys(config.profiles)).toEqual(expect.arrayContaining(['full', 'quick', 'db']));
    expect(config.storage.s3?.endpoint).toBe('http://127.0.0.1:9000');
    expect(config.storage.replicas).toEqual(['s3']);
    expect(config.encryption?.recipients).toEqual([RECIPIENT]);
    expect(secrets).toContain('app-secret-passphrase');
  });

  it('names each variable it needs when they are not set', () => {
    expect(() => loadConfig({ path: join(ROOT, 'lifeboat.example.yaml'), env: {} })).toThrow(
      'targets.app-db.url: environment variable APP_DATABASE_URL is not set',
    );
  });

  it('uses every key the schema knows', () => {
    const example: unknown = parseDocument(
      readFileSync(join(ROOT, 'lifeboat.example.yaml'), 'utf8'),
    ).toJS();
    const missing = schemaKeyPaths(configSchema, '').filter((path) => !hasKeyPath(example, path));
    expect(missing).toEqual([]);
  });
});

describe('the shipped lifeboat.yaml', () => {
  it('loads with no environment set, backing up the demo targets', () => {
    const { config, secrets } = loadConfig({ path: join(ROOT, 'lifeboat.yaml'), env: {} });
    expect(config.defaultProfile).toBe('full');
    expect(config.targets['demo-db']).toMatchObject({
      kind: 'postgres',
      url: 'postgres://127.0.0.1:5432/lifeboat_demo',
      // Production, so a newcomer meets the two-person rule when restoring it.
      environment: 'production',
    });
    expect(config.targets['demo-files']).toMatchObject({
      kind: 'directory',
      path: join(ROOT, '.lifeboat/demo-files'),
      exclude: ['*.tmp'],
      environment: 'development',
    });
    expect(config.storage.local.path).toBe(join(ROOT, '.lifeboat/backups'));
    expect(config.compression).toBe('zstd');
    expect(config.profiles).toEqual({
      full: { targets: ['demo-db', 'demo-files'], retention: { keepLast: 10 } },
      db: { targets: ['demo-db'] },
      files: { targets: ['demo-files'] },
    });
    expect(config.demo?.targets).toEqual(['demo-db', 'demo-files']);
    expect(resolveProfile(config, undefined)).toBe('full');
    expect(secrets).toEqual([]);
  });

  it('takes the demo database from DEMO_DATABASE_URL when it is set', () => {
    const url = 'postgres://postgres:postgres@127.0.0.1:5432/lifeboat_demo';
    const { config, secrets } = loadConfig({
      path: join(ROOT, 'lifeboat.yaml'),
      env: { DEMO_DATABASE_URL: url },
    });
    expect(config.targets['demo-db']).toMatchObject({ url });
    // Too short to hide as a word everywhere; log lines redact it inside URLs by pattern.
    expect(secrets).toEqual([]);
  });
});

describe('console impersonation in the shipped configurations', () => {
  it('is off in the production example and on in the demo, where the two-person rule is tried alone', () => {
    const example = loadConfig({ path: join(ROOT, 'lifeboat.example.yaml'), env: EXAMPLE_ENV });
    expect(example.config.console).toEqual({ impersonation: false, files: './.lifeboat/files' });
    const demo = loadConfig({ path: join(ROOT, 'lifeboat.yaml'), env: {} });
    expect(demo.config.console).toEqual({ impersonation: true, files: './.lifeboat/files' });
  });
});
