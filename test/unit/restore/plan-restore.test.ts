import { describe, expect, it } from 'vitest';
import { approvalRefusal, planRestore } from '../../../src/restore/plan-restore.ts';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { testConfig } from '../../doubles/test-config.ts';

const config = testConfig({
  targets: {
    'app-db': { kind: 'postgres', url: 'postgres://127.0.0.1:5432/app', environment: 'production' },
    uploads: { kind: 'directory', path: '/srv/app/uploads', environment: 'production' },
    cache: { kind: 'redis', url: 'redis://127.0.0.1:6379/0', environment: 'production' },
    'staging-db': {
      kind: 'postgres',
      url: 'postgres://127.0.0.1:5432/staging',
      environment: 'staging',
    },
    'scratch-files': { kind: 'directory', path: '/tmp/scratch', environment: 'scratch' },
    'dev-cache': { kind: 'redis', url: 'redis://127.0.0.1:6379/5', environment: 'development' },
  },
});
const backup = completedBackup(config, {
  profile: 'full',
  createdAt: new Date('2026-11-22T02:00:00Z'),
});
const manifest = backup.manifest ?? (undefined as never);

describe('planning a restore', () => {
  const plans: {
    case: string;
    components?: string[];
    into?: Record<string, string>;
    expected: [component: string, destination: string, environment: string, approval: boolean][];
  }[] = [
    {
      case: 'every component back into its origin by default',
      expected: [
        ['app-db', 'app-db', 'production', true],
        ['uploads', 'uploads', 'production', true],
        ['cache', 'cache', 'production', true],
      ],
    },
    {
      case: 'only the components asked for, in the order asked',
      components: ['uploads', 'app-db'],
      expected: [
        ['uploads', 'uploads', 'production', true],
        ['app-db', 'app-db', 'production', true],
      ],
    },
    {
      case: 'a component sent into another target of its kind with --into',
      components: ['app-db'],
      into: { 'app-db': 'staging-db' },
      expected: [['app-db', 'staging-db', 'staging', false]],
    },
    {
      case: 'every component redirected, none needing approval',
      into: { 'app-db': 'staging-db', uploads: 'scratch-files', cache: 'dev-cache' },
      expected: [
        ['app-db', 'staging-db', 'staging', false],
        ['uploads', 'scratch-files', 'scratch', false],
        ['cache', 'dev-cache', 'development', false],
      ],
    },
    {
      case: 'a component named twice in --components once',
      components: ['cache', 'cache'],
      into: { cache: 'dev-cache' },
      expected: [['cache', 'dev-cache', 'development', false]],
    },
  ];

  it.each(plans)('plans $case', ({ components, into, expected }) => {
    const plan = planRestore({
      manifest,
      config,
      selection: { ...(components ? { components } : {}), ...(into ? { into } : {}) },
      describe: (component, destination) => [`${component.name} → ${destination.name}`],
    });
    expect(
      plan.components.map((c) => [c.component, c.destination, c.environment, c.needsApproval]),
    ).toEqual(expected);
    expect(plan.needsApproval).toBe(expected.some(([, , , approval]) => approval));
    expect(plan.backupId).toBe(backup.id);
    expect(plan.profile).toBe('full');
    for (const c of plan.components) {
      expect(c.actions).toEqual([`${c.component} → ${c.destination}`]);
      expect(c.redirected).toBe(c.component !== c.destination);
      expect(c.bytes).toBe(manifest.components.find((m) => m.name === c.component)?.bytes);
    }
  });

  const mistakes: {
    case: string;
    components?: string[];
    into?: Record<string, string>;
    code: string;
    message: RegExp;
  }[] = [
    {
      case: 'a component the backup does not hold',
      components: ['app-bd'],
      code: 'restore_unknown_component',
      message:
        /has no component "app-bd"; did you mean "app-db"\? its components: app-db, uploads, cache/,
    },
    {
      case: '--into for a component the backup does not hold',
      into: { sessions: 'staging-db' },
      code: 'restore_unknown_component',
      message: /has no component "sessions"; .*its components: app-db, uploads, cache/,
    },
    {
      case: '--into an unknown target',
      into: { 'app-db': 'stagingdb' },
      code: 'unknown_target',
      message:
        /unknown target "stagingdb" in --into app-db=stagingdb; did you mean "staging-db"\? postgres targets: app-db, staging-db/,
    },
    {
      case: '--into a target of another kind',
      into: { 'app-db': 'scratch-files' },
      code: 'restore_kind_mismatch',
      message:
        /app-db is a postgres backup and scratch-files \(--into app-db=scratch-files\) is a directory target; postgres targets: app-db, staging-db/,
    },
    {
      case: '--into for a component --components leaves out',
      components: ['uploads'],
      into: { 'app-db': 'staging-db' },
      code: 'restore_into_not_selected',
      message:
        /--into app-db=staging-db names a component that --components leaves out; components chosen: uploads/,
    },
  ];

  it.each(mistakes)(
    'refuses $case, saying what is valid',
    ({ components, into, code, message }) => {
      const plan = () =>
        planRestore({
          manifest,
          config,
          selection: { ...(components ? { components } : {}), ...(into ? { into } : {}) },
        });
      expect(plan).toThrow(
        expect.objectContaining({ code, message: expect.stringMatching(message) }),
      );
    },
  );

  it('refuses two components restored into one target', () => {
    const twoDatabases = testConfig({
      targets: {
        ...config.targets,
        'reports-db': { kind: 'postgres', url: 'postgres://127.0.0.1:5432/r' },
      },
      profiles: { both: { targets: ['app-db', 'reports-db'] } },
      defaultProfile: 'both',
    });
    const both = completedBackup(twoDatabases, { profile: 'both', createdAt: new Date() });
    expect(() =>
      planRestore({
        manifest: both.manifest ?? (undefined as never),
        config: twoDatabases,
        selection: { into: { 'app-db': 'staging-db', 'reports-db': 'staging-db' } },
      }),
    ).toThrow(/app-db and reports-db would both be restored into staging-db/);
  });

  it('refuses an origin that is no longer configured, pointing to --into', () => {
    const { cache: _removed, ...targets } = config.targets;
    const without = { ...config, targets };
    expect(() => planRestore({ manifest, config: without, selection: {} })).toThrow(
      /cache has no configured target of that name any more; restore it elsewhere with --into cache=TARGET; redis targets: dev-cache/,
    );
  });

  it('needs approval where a restore policy covers the environment, not only in production', () => {
    const strict = {
      ...config,
      policies: [
        {
          action: 'restore',
          environment: 'staging' as const,
          approvals: 1,
          approvers: [],
          expires: '30m',
        },
      ],
    };
    const plan = planRestore({
      manifest,
      config: strict,
      selection: { components: ['app-db'], into: { 'app-db': 'staging-db' } },
    });
    expect(plan.needsApproval).toBe(true);
  });
});

describe('refusing a restore that needs approval', () => {
  it('names the production destinations and a target to restore into instead', () => {
    const plan = planRestore({ manifest, config, selection: { components: ['app-db'] } });
    expect(approvalRefusal(plan, config)).toBe(
      "Restoring into app-db (production) needs a second person's approval: `/restore` posts an approval request for it, or restore into a target that needs none with --into app-db=staging-db.",
    );
  });

  it('says only how to ask when no target of the kind goes without approval', () => {
    const onlyProduction = testConfig();
    const plan = planRestore({
      manifest,
      config: onlyProduction,
      selection: { components: ['uploads'] },
    });
    expect(approvalRefusal(plan, onlyProduction)).toBe(
      "Restoring into uploads (production) needs a second person's approval: `/restore` posts an approval request for it.",
    );
  });

  it('lets a plan without production destinations through', () => {
    const plan = planRestore({
      manifest,
      config,
      selection: { components: ['app-db'], into: { 'app-db': 'staging-db' } },
    });
    expect(approvalRefusal(plan, config)).toBeNull();
  });
});
