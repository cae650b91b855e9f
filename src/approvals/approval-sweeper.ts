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

export interface ApprovalSweeper {
  /** Runs one sweep now; resolves with the requests it expired and settled. */
  sweep(): Promise<Sweep>;
  /** Stops sweeping; resolves once a sweep under way has finished. */
  stop(): Promise<void>;
}

/**
 * Keeps approval requests true without waiting for someone to click: expires the ones nobody
 * decided in time, and records the outcome of approved actions whose bot stopped or lost track
 * before recording it (a restore that ended while no bot watched; one never queued at all).
 * Votes check expiry themselves as well: a late approval is refused even between two sweeps.
 * Expiring and finishing are conditional updates, so several bot processes sweeping at once
 * never change the same request twice.
 */
export function startApprovalSweeper(options: ApprovalSweeperOptions): ApprovalSweeper {
  let running: Promise<Sweep> | undefined;
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
  const once = async (): Promise<Sweep> => {
    const expired = await step(() => options.approvals.expireDue());
    const { executions } = options;
    const settled = executions ? await step(() => options.approvals.settle(executions)) : [];
    return { expired, settled };
  };
  // One sweep at a time: a slow catalog never piles sweeps up.
  const sweep = (): Promise<Sweep> => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void sweep(), options.intervalMs ?? 15_000);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
