import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoteResult } from '../../src/approvals/approval-request.ts';
import { createApprovalRepository } from '../../src/catalog/approval-repository.ts';
import { poolDatabase } from '../../src/catalog/database.ts';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import { describeApprovalRepositoryContract } from '../contract/approval-repository.contract.ts';
import {
  ROLES,
  sampleNewRequest,
  sampleNewReview,
  sampleRequirement,
  T0,
} from '../doubles/sample-approvals.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';

const database = uniqueName('lb_approvals');
let catalog: Catalog;

beforeAll(async () => {
  catalog = await openCatalog(databaseUrl(database), { poolSize: 12 });
  await catalog.migrate();
});

afterAll(async () => {
  await catalog?.close();
  await dropDatabase(database);
});

describeApprovalRepositoryContract('PostgreSQL catalog', async () => {
  await sql('TRUNCATE approval_requests CASCADE', database);
  return { repository: catalog.approvals, cleanup: async () => undefined };
});

const DURING = new Date(T0.getTime() + 60_000);
const MANY_ROLES = { dba: Array.from({ length: 10 }, (_, i) => `console:dba${i}`) };

describe('approval requests in the PostgreSQL catalog', () => {
  it('gives one approval to ten approvers racing from two bot processes', async () => {
    const pools = [1, 2].map(
      (n) =>
        new pg.Pool({
          connectionString: withDefaultUser(databaseUrl(database)),
          application_name: `lifeboat bot ${n}`,
          max: 5,
        }),
    );
    try {
      const [one, two] = pools.map((pool) => createApprovalRepository(poolDatabase(pool)));
      if (!one || !two) throw new Error('two repositories expected');
      for (const approvals of [1, 2]) {
        const created = await one.create(
          sampleNewRequest({ requirement: sampleRequirement({ approvals }) }),
        );
        const issued: string[] = [];
        const results: VoteResult[] = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? one : two).vote(
              created.id,
              { identity: `console:dba${i}`, decision: 'approve' },
              {
                now: DURING,
                roles: MANY_ROLES,
                newExecutionId: () => {
                  const id = `rs_20261122T120100Z_p${approvals}${issued.length}`;
                  issued.push(id);
                  return id;
                },
              },
            ),
          ),
        );
        expect(results.filter((r) => r.outcome === 'approved')).toHaveLength(1);
        expect(results.filter((r) => r.outcome === 'counted')).toHaveLength(approvals - 1);
        expect(issued).toHaveLength(1);
        const [row] = await sql<{ status: string; execution_id: string; votes: string }>(
          `SELECT status, execution_id,
                  (SELECT count(*) FROM approval_votes WHERE request_id = r.id) AS votes
             FROM approval_requests r WHERE id = $1`,
          database,
          [created.id],
        );
        expect(row).toEqual({
          status: 'approved',
          execution_id: issued[0],
          votes: String(approvals),
        });
      }
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses a second request with the execution id of another', async () => {
    const first = await catalog.approvals.create(sampleNewReview({ executionId: 'rs_dup_000001' }));
    expect(first.executionId).toBe('rs_dup_000001');
    await expect(
      catalog.approvals.create(sampleNewReview({ executionId: 'rs_dup_000001' })),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('rolls a vote back whole when the execution id cannot be recorded', async () => {
    await catalog.approvals.create(sampleNewReview({ executionId: 'rs_taken_000001' }));
    const created = await catalog.approvals.create(sampleNewRequest());
    await expect(
      catalog.approvals.vote(
        created.id,
        { identity: 'console:bob', decision: 'approve' },
        { now: DURING, roles: ROLES, newExecutionId: () => 'rs_taken_000001' },
      ),
    ).rejects.toMatchObject({ code: '23505' });
    const stored = await catalog.approvals.get(created.id);
    expect(stored).toMatchObject({ status: 'pending', votes: [], executionId: null });
  });

  it('stores the payload, environments and requirement as readable columns', async () => {
    const created = await catalog.approvals.create(
      sampleNewRequest({ environments: ['production', 'staging'] }),
    );
    const [row] = await sql<{ environments: string[]; plan_backup: string; approvals: number }>(
      `SELECT environments, payload->'plan'->>'backupId' AS plan_backup,
              (requirement->'clauses'->0->>'approvals')::int AS approvals
         FROM approval_requests WHERE id = $1`,
      database,
      [created.id],
    );
    expect(row).toEqual({
      environments: ['production', 'staging'],
      plan_backup: 'bk_20261122T020000Z_full_a1b2c3',
      approvals: 1,
    });
  });

  it('loads and judges a request stored before clauses existed (one rule, old shape)', async () => {
    const created = await catalog.approvals.create(sampleNewRequest());
    await sql(
      `UPDATE approval_requests
          SET requirement = '{"approvals": 1, "approverRoles": ["dba"], "expiresInMs": 1800000, "policy": "policies[0]"}'::jsonb
        WHERE id = $1`,
      database,
      [created.id],
    );
    const loaded = await catalog.approvals.get(created.id);
    expect(loaded?.requirement).toEqual({
      clauses: [
        {
          environments: ['production'],
          approvals: 1,
          approverRoles: ['dba'],
          policy: 'policies[0]',
        },
      ],
      expiresInMs: 1_800_000,
    });
    const context = {
      now: DURING,
      roles: ROLES,
      newExecutionId: () => `rs_old_${created.id.slice(-6)}`,
    };
    const oncall = await catalog.approvals.vote(
      created.id,
      { identity: 'console:dave', decision: 'approve' },
      context,
    );
    expect(oncall).toMatchObject({ outcome: 'refused', code: 'not_an_approver' });
    const dba = await catalog.approvals.vote(
      created.id,
      { identity: 'console:bob', decision: 'approve' },
      context,
    );
    expect(dba.outcome).toBe('approved');
  });

  it('refuses a status the table does not know', async () => {
    const created = await catalog.approvals.create(sampleNewRequest());
    await expect(
      sql(`UPDATE approval_requests SET status = 'maybe' WHERE id = $1`, database, [created.id]),
    ).rejects.toThrow(/check constraint/);
  });
});
