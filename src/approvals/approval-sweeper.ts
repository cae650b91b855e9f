import { type PeriodicSweep, startPeriodicSweep } from '../core/periodic-sweep.ts';
import type { ApprovalRequest } from './approval-request.ts';
import type { Approvals } from './approvals-service.ts';
import type { ExecutionLookup } from './settle-executions.ts';

export interface ApprovalSweeperOptions {
  readonly approvals: Pick<Approvals, 'expireDue' | 'settle'>;
  /**
   * Finds what became of approved actions, so that the outcome of one whose bot stopped or lost
   * track of it is still recorded. @defaultValue outcomes are not settled
   */
  readonly executions?: ExecutionLookup;
  /** Called once for every request a sweep expired or settled, e.g. to update its message. */
  readonly onChanged: (request: ApprovalRequest) => Promise<void>;
  readonly onError: (error: unknown) => void;
  /** @defaultValue 15 s */
  readonly intervalMs?: number;
}

/** What one sweep changed. */
export interface Sweep {
  readonly expired: ApprovalRequest[];
  readonly settled: ApprovalRequest[];
}

/** Runs one sweep now (`sweep`), resolving with the requests it expired and settled. */
export type ApprovalSweeper = PeriodicSweep<Sweep>;

/**
 * Keeps approval requests true without waiting for someone to click: expires the ones nobody
 * decided in time, and records the outcome of approved actions whose bot stopped or lost track
 * before recording it (a restore that ended while no bot watched; one never queued at all).
 * Votes check expiry themselves as well: a late approval is refused even between two sweeps.
 * Expiring and finishing are conditional updates, so several bot processes sweeping at once
 * never change the same request twice. One sweep at a time: a slow catalog never piles them up.
 */
export function startApprovalSweeper(options: ApprovalSweeperOptions): ApprovalSweeper {
  const step = async (run: () => Promise<ApprovalRequest[]>): Promise<ApprovalRequest[]> => {
    try {
      const changed = await run();
      for (const request of changed) await options.onChanged(request).catch(options.onError);
      return changed;
    } catch (error) {
      options.onError(error);
      return [];
    }
  };
  return startPeriodicSweep({
    async once(): Promise<Sweep> {
      const expired = await step(() => options.approvals.expireDue());
      const { executions } = options;
      const settled = executions ? await step(() => options.approvals.settle(executions)) : [];
      return { expired, settled };
    },
    intervalMs: options.intervalMs ?? 15_000,
    onError: options.onError,
  });
}
