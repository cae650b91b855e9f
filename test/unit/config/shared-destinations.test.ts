import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.ts';
import { checkSharedDestinations } from '../../../src/config/shared-destinations.ts';
import { configIssues } from '../../support/config-issues.ts';

/** Targets under `targets:`, one profile listing the first. */
function config(targets: string): string {
  const first = /^\s+([\w-]+):/m.exec(targets)?.[1] ?? 'x';
  return `targets:\n${targets}\nprofiles:\n  p: { targets: [${first}] }\n`;
}

describe('two target names for one destination', () => {
  it('refuses one database under two environments, naming both and the database', () => {
    const issues = configIssues(
      config(`  app-db: { kind: postgres, url: "postgres://u:pw-alpha@db.example:5432/app", environment: production }
  staging-db: { kind: postgres, url: "\${STAGING_URL}", environment: staging }`),
      { STAGING_URL: 'postgres://other:pw-beta@DB.example/app' },
    );
    expect(issues).toEqual([
      'targets.staging-db.url: resolves to the same postgres db.example:5432/app as "app-db", which is production while this one is staging: a restore into one would write the other without the approval and safety backup its environment asks for; point one of them elsewhere, or give both the same environment',
    ]);
    expect(issues.join('\n')).not.toMatch(/pw-alpha|pw-beta/);
  });

  it('refuses one redis database under two environments', () => {
    const issues = configIssues(
      config(`  cache: { kind: redis, url: "redis://127.0.0.1:6379/0", environment: production }
  scratch-cache: { kind: redis, url: "redis://127.0.0.1/0", environment: development }`),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(
      /^targets\.scratch-cache\.url: resolves to the same redis 127\.0\.0\.1:6379\/0 as "cache"/,
    );
  });

  it('refuses the same directory, and a directory inside another, under another environment', () => {
    const issues = configIssues(
      config(`  uploads: { kind: directory, path: /srv/app/uploads, environment: production }
  same: { kind: directory, path: /srv/app/../app/uploads/, environment: staging }
  inner: { kind: directory, path: /srv/app/uploads/tmp, environment: development }`),
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^targets\.same\.path: resolves to the same directory \/srv\/app\/uploads as "uploads", which is production while this one is staging/,
      ),
      expect.stringMatching(
        /^targets\.inner\.path: \(directory \/srv\/app\/uploads\/tmp\) is inside "(uploads|same)" \(directory \/srv\/app\/uploads\), which is (production|staging) while this one is development/,
      ),
    ]);
  });

  it('refuses a directory containing a production one', () => {
    const issues = configIssues(
      config(`  uploads: { kind: directory, path: /srv/app/uploads, environment: production }
  everything: { kind: directory, path: /srv/app, environment: staging }`),
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^targets\.uploads\.path: \(directory \/srv\/app\/uploads\) is inside "everything" \(directory \/srv\/app\), which is staging while this one is production/,
      ),
    ]);
  });

  it('accepts two names for one destination in the same environment, and neighbours that only share a prefix', () => {
    expect(() =>
      parseConfig(
        config(`  app-db: { kind: postgres, url: "postgres://127.0.0.1/app", environment: production }
  app-db-again: { kind: postgres, url: "postgres://127.0.0.1:5432/app", environment: production }
  other-db: { kind: postgres, url: "postgres://127.0.0.1:5432/app2", environment: staging }
  uploads: { kind: directory, path: /srv/app/uploads, environment: production }
  uploads2: { kind: directory, path: /srv/app/uploads2, environment: staging }`),
        {},
        'test.yaml',
      ),
    ).not.toThrow();
  });

  it('checks 200,000 targets by grouping, never comparing all pairs', () => {
    const targets: Record<string, never> = {};
    const all = targets as unknown as Record<string, unknown>;
    for (let i = 0; i < 100_000; i += 1) {
      all[`db${i}`] = {
        kind: 'postgres',
        url: `postgres://127.0.0.1:5432/db${i}`,
        environment: 'production',
        pgDumpArgs: [],
      };
      all[`dir${i}`] = {
        kind: 'directory',
        path: `/srv/t/${i}`,
        include: [],
        exclude: [],
        environment: 'staging',
      };
    }
    all.clash = {
      kind: 'postgres',
      url: 'postgres://127.0.0.1:5432/db99999',
      environment: 'staging',
      pgDumpArgs: [],
    };
    const issues = checkSharedDestinations({ targets } as never);
    expect(issues.map((i) => i.path.join('.'))).toEqual(['targets.clash.url']);
  });
});
