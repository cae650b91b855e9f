import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';

/** The spec's example config, trimmed to what the command layer reads; `overrides` replace keys. */
export function testConfig(overrides: Record<string, unknown> = {}): LifeboatConfig {
  return configSchema.parse({
    defaultProfile: 'full',
    targets: {
      'app-db': {
        kind: 'postgres',
        url: 'postgres://127.0.0.1:5432/app',
        environment: 'production',
      },
      uploads: { kind: 'directory', path: '/srv/app/uploads', environment: 'production' },
      cache: { kind: 'redis', url: 'redis://127.0.0.1:6379/0', environment: 'production' },
      'staging-db': {
        kind: 'postgres',
        url: 'postgres://127.0.0.1:5432/staging',
        environment: 'staging',
      },
    },
    profiles: {
      full: { targets: ['app-db', 'uploads', 'cache'], schedule: '0 2 * * *' },
      quick: { targets: ['app-db', 'uploads'] },
      db: { targets: ['app-db'], schedule: '0 * * * *' },
    },
    drills: { 'weekly-db': { profile: 'db', schedule: '0 3 * * 1' } },
    ...overrides,
  });
}
