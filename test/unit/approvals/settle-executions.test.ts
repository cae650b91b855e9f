import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../../src/approvals/approval-request.ts';
import {
  type ExecutionState,
  NEVER_STARTED_AFTER_MS,
  settleExecutions,
  settlementOf,
} from '../../../src/approvals/settle-executions.ts';
import { sampleRequest, T0 } from '../../doubles/sample-approvals.ts';

const approved = sampleRequest({
  status: 'approved',
  decidedAt: T0,
  decidedBy: 'console:bob',
  executionId: 'rs_20261122T120000Z_abc123',
});
const review = sampleRequest({
  kind: 'review',
  createdAt: T0,
  expiresAt: null,
  executionId: 'rs_20261122T120000Z_glass1',
});
const later = (ms: number) => new Date(T0.getTime() + ms);

describe('settlementOf', () => {
  it('records the execution’s own outcome once it ended', () => {
    const ended: ExecutionState = {
      state: 'ended',
      status: 'executed',
      outcome: 'Restore rs_… completed in 9.0 s; every check matches the backup.',
    };
    expect(settlementOf(approved, ended, later(1000))).toEqual({
      status: 'executed',
      outcome: 'Restore rs_… completed in 9.0 s; every check matches the backup.',
    });
    expect(
      settlementOf(approved, { state: 'ended', status: 'failed', outcome: 'boom' }, later(1000)),
    ).toEqual({ status: 'failed', outcome: 'boom' });
  });

  it('leaves a running execution, and one with nothing to look at, as they are', () => {
    const hours = later(48 * 3_600_000);
    expect(settlementOf(approved, { state: 'running' }, hours)).toBeNull();
    expect(settlementOf(approved, { state: 'untracked' }, hours)).toBeNull();
  });

  it('waits before calling an unrecorded execution never started', () => {
    expect(
      settlementOf(approved, { state: 'missing' }, later(NEVER_STARTED_AFTER_MS - 1)),
    ).toBeNull();
  });

  it('closes an approval never started as failed, saying nothing ran and how to ask again', () => {
    const settled = settlementOf(approved, { state: 'missing' }, later(NEVER_STARTED_AFTER_MS));
    expect(settled?.status).toBe('failed');
    expect(settled?.outcome).toBe(
      `Approved at 2026-11-22 12:00:00 UTC, but the bot stopped before starting it: restore rs_20261122T120000Z_abc123 was never queued, so nothing was restored (checked 5 min later). Ask again (${approved.command}) if it is still needed.`,
    );
  });

  it('counts a review’s wait from the broken glass, and names a command that never ran', () => {
    const prune = sampleRequest({
      ...review,
      action: 'backup.prune',
      command: '/backup prune',
      payload: { type: 'command', text: '/backup prune' },
    });
    expect(settlementOf(prune, { state: 'missing' }, later(4 * 60_000))).toBeNull();
    expect(settlementOf(prune, { state: 'missing' }, later(6 * 60_000))?.outcome).toMatch(
      /^Glass broken at 2026-11-22 12:00:00 UTC, but the bot stopped before starting it: it never ran \(checked 6 min later\)/,
    );
  });

  it('never settles an approval that has no decision time', () => {
    const odd: ApprovalRequest = { ...approved, decidedAt: null };
    expect(settlementOf(odd, { state: 'missing' }, later(3_600_000))).toBeNull();
  });
});

describe('settleExecutions', () => {
  it('finishes exactly the requests that have a settlement, in order', async () => {
    const ids = ['apr_a', 'apr_b', 'apr_c', 'apr_d'];
    const states: Record<string, ExecutionState> = {
      apr_a: { state: 'running' },
      apr_b: { state: 'ended', status: 'failed', outcome: 'Restore rs_b failed: disk full' },
      apr_c: { state: 'missing' },
      apr_d: { state: 'ended', status: 'executed', outcome: 'Restore rs_d completed' },
    };
    const finished: string[] = [];
    const settled = await settleExecutions({
      unfinished: async () => ids.map((id) => ({ ...approved, id })),
      lookup: async (request) => states[request.id] ?? { state: 'untracked' },
      finish: async (request, status, outcome) => {
        finished.push(`${request.id} ${status}: ${outcome}`);
        return { ...request, status, outcome };
      },
      now: later(60_000),
    });
    expect(finished).toEqual([
      'apr_b failed: Restore rs_b failed: disk full',
      'apr_d executed: Restore rs_d completed',
    ]);
    expect(settled.map((r) => [r.id, r.status])).toEqual([
      ['apr_b', 'failed'],
      ['apr_d', 'executed'],
    ]);
  });
});
