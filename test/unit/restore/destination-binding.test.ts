import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIdentity, destinationIdentity } from '../../../src/config/destination-identity.ts';
import type { TargetConfig } from '../../../src/config/schema.ts';
import {
  bindDestinations,
  changedDestinations,
  changedDestinationsRefusal,
  realDestinationIdentity,
} from '../../../src/restore/destination-binding.ts';
import { samplePlan } from '../../doubles/sample-approvals.ts';

const pg = (url: string): TargetConfig => ({
  kind: 'postgres',
  url,
  environment: 'production',
  pgDumpArgs: [],
});

describe('destinationIdentity', () => {
  it('keeps host, port and database of a postgres URL, never its password', () => {
    const identity = destinationIdentity(
      pg('postgres://app:s3cret@DB.example:6543/shop?sslmode=require'),
    );
    expect(identity).toEqual({
      kind: 'postgres',
      host: 'db.example',
      port: 6543,
      database: 'shop',
    });
    expect(JSON.stringify(identity)).not.toContain('s3cret');
  });

  it('fills in the default port, and the user as the database libpq would pick', () => {
    expect(destinationIdentity(pg('postgres://carol@10.0.0.5'))).toEqual({
      kind: 'postgres',
      host: '10.0.0.5',
      port: 5432,
      database: 'carol',
    });
  });

  it('keeps host, port and db of a redis URL', () => {
    expect(
      describeIdentity(
        destinationIdentity({
          kind: 'redis',
          url: 'redis://:pw@cache:6380/3',
          environment: 'staging',
        }),
      ),
    ).toBe('redis cache:6380/3');
  });

  it('makes a directory path absolute and normal', () => {
    const identity = destinationIdentity({
      kind: 'directory',
      path: '/srv/app/../app/uploads/',
      include: [],
      exclude: [],
      environment: 'production',
    });
    expect(identity).toEqual({ kind: 'directory', path: '/srv/app/uploads' });
  });
});

describe('binding a plan to what its destinations resolve to', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-binding-'));
    await mkdir(join(root, 'real', 'uploads'), { recursive: true });
    await symlink(join(root, 'real'), join(root, 'link'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const dir = (path: string): TargetConfig => ({
    kind: 'directory',
    path,
    include: [],
    exclude: [],
    environment: 'production',
  });

  it('follows symlinks to the real path, and keeps the part that does not exist yet', async () => {
    expect(await realDestinationIdentity(dir(join(root, 'link', 'uploads')))).toEqual({
      kind: 'directory',
      path: join(root, 'real', 'uploads'),
    });
    expect(await realDestinationIdentity(dir(join(root, 'link', 'new', 'deeper')))).toEqual({
      kind: 'directory',
      path: join(root, 'real', 'new', 'deeper'),
    });
  });

  it('finds nothing changed when the URL resolves to the same database', async () => {
    const targets = { 'app-db': pg('postgres://u:one@127.0.0.1:5432/app') };
    const plan = await bindDestinations(samplePlan, { targets });
    expect(plan.components[0]?.resolved).toEqual({
      kind: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      database: 'app',
    });
    // Another password (rotated) is not another destination.
    const rotated = { 'app-db': pg('postgres://u:two@127.0.0.1:5432/app') };
    expect(await changedDestinations(plan, { targets: rotated })).toEqual([]);
  });

  it('names a destination that resolves to another database now', async () => {
    const plan = await bindDestinations(samplePlan, {
      targets: { 'app-db': pg('postgres://127.0.0.1:5432/app') },
    });
    const changed = await changedDestinations(plan, {
      targets: { 'app-db': pg('postgres://127.0.0.1:5432/other') },
    });
    expect(changed).toEqual([
      {
        component: 'app-db',
        destination: 'app-db',
        planned: 'postgres 127.0.0.1:5432/app',
        now: 'postgres 127.0.0.1:5432/other',
      },
    ]);
    expect(changedDestinationsRefusal(changed)).toContain(
      'app-db was postgres 127.0.0.1:5432/app when the restore was asked for and is now postgres 127.0.0.1:5432/other',
    );
  });

  it('has nothing to compare in a plan recorded before destinations were bound', async () => {
    expect(
      await changedDestinations(samplePlan, {
        targets: { 'app-db': pg('postgres://127.0.0.1:5432/other') },
      }),
    ).toEqual([]);
  });
});
