import { describe, expect, it } from 'vitest';
import { planRestore } from '../../../src/restore/plan-restore.ts';
import {
  type RestoreFacts,
  restoreProblems,
  seenHere,
  toolsFor,
} from '../../../src/restore/restore-checks.ts';
import { sampleComponent, sampleManifest } from '../../doubles/sample-backups.ts';
import { testConfig } from '../../doubles/test-config.ts';

const config = testConfig({
  targets: {
    'app-db': { kind: 'postgres', url: 'postgres://127.0.0.1:5432/app', environment: 'staging' },
    uploads: { kind: 'directory', path: '/srv/uploads', environment: 'staging' },
  },
  profiles: { full: { targets: ['app-db', 'uploads'] } },
});
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const OTHER = 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj';

const db = {
  ...sampleComponent('app-db', 'postgres', { bytes: 1000 }),
  encryption: { format: 'age' as const, recipients: [RECIPIENT] },
};
const files = sampleComponent('uploads', 'directory', { bytes: 1000 });
const manifest = sampleManifest(
  {
    id: 'bk_20261122T020000Z_full_7q3k',
    profile: 'full',
    note: null,
    requestedBy: 'console:alice',
  },
  [db, files],
  '/backups/bk_20261122T020000Z_full_7q3k',
  new Date('2026-11-22T02:00:00Z'),
);
const plan = planRestore({ manifest, config, selection: {} });

const allWell: RestoreFacts = {
  identities: [OTHER, RECIPIENT],
  tools: { pg_restore: true, tar: true },
  destinations: { 'app-db': null, uploads: null },
  refusals: { 'app-db': null, uploads: null },
  staging: { directory: '/tmp', freeBytes: 10 ** 12 },
};

describe('what would make a planned restore fail', () => {
  it('needs the restore tool of each kind', () => {
    expect(toolsFor(plan)).toEqual(['pg_restore', 'tar']);
  });

  it('finds nothing when an identity opens every encrypted component and all else is there', () => {
    expect(restoreProblems(plan, manifest, allWell)).toEqual([]);
  });

  it('names an encrypted component that no identity here opens, and what to set', () => {
    const [none] = restoreProblems(plan, manifest, { ...allWell, identities: [] });
    expect(none).toMatchObject({ component: 'app-db', check: 'identity' });
    expect(none?.message).toContain(
      `encrypted to ${RECIPIENT}, and no age identity is available here`,
    );
    expect(none?.message).toContain('LIFEBOAT_AGE_IDENTITY');
    const [wrong] = restoreProblems(plan, manifest, { ...allWell, identities: [OTHER] });
    expect(wrong?.message).toContain(`none of the age identities here (for ${OTHER})`);
    const [broken] = restoreProblems(plan, manifest, {
      ...allWell,
      identities: { error: 'LIFEBOAT_AGE_IDENTITY: line 1: not an identity' },
    });
    expect(broken?.message).toContain('cannot be read: LIFEBOAT_AGE_IDENTITY: line 1');
  });

  it('names a missing tool, an unreachable destination and too little staging space', () => {
    const problems = restoreProblems(plan, manifest, {
      ...allWell,
      tools: { pg_restore: false, tar: true },
      destinations: {
        'app-db': 'cannot be reached at postgres://127.0.0.1:5432/app: connection refused',
        uploads: null,
      },
      staging: { directory: '/tmp', freeBytes: 10 },
    });
    expect(problems.map((p) => [p.component, p.check])).toEqual([
      ['app-db', 'tool'],
      ['app-db', 'destination'],
      [null, 'space'],
    ]);
    expect(problems[0]?.message).toContain('`pg_restore` is not installed here');
    expect(problems[1]?.message).toContain('the destination `app-db` cannot be reached');
    expect(problems[2]?.message).toMatch(/staging needs .* in \/tmp, and only 10 B is free there/);
  });

  it('names a destination its restorer would refuse, with the restorer’s reason', () => {
    const [refused] = restoreProblems(plan, manifest, {
      ...allWell,
      refusals: { 'app-db': 'the role app needs the CREATEDB privilege', uploads: null },
    });
    expect(refused).toEqual({
      component: 'app-db',
      check: 'refused',
      message:
        'the restore of `app-db` into `app-db` would be refused: the role app needs the CREATEDB privilege',
    });
  });

  it('says whose facts they are', () => {
    const where = 'on the worker lifeboat-worker@db1:42';
    const problems = restoreProblems(
      plan,
      manifest,
      { ...allWell, identities: [], tools: { pg_restore: false, tar: true } },
      where,
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining(`no age identity is available ${where} to open it`),
      expect.stringContaining(`\`pg_restore\` is not installed ${where} (not on the PATH)`),
    ]);
  });

  it('shows what this process saw of the destinations as such', () => {
    expect(seenHere({ 'app-db': null, cache: 'cannot be reached at redis://x: timeout' })).toEqual([
      '`app-db` answers',
      '`cache` cannot be reached at redis://x: timeout',
    ]);
  });
});
