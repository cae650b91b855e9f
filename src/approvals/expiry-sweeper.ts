import type { ApprovalRequest } from './approval-request.ts';
import type { Approvals } from './approvals-service.ts';

export interface ExpirySweeperOptions {
  readonly approvals: Pick<Approvals, 'expireDue'>;
  /** Called once for every request this sweep expired, e.g. to update its message. */
  readonly onExpired: (request: ApprovalRequest) => Promise<void>;
  readonly onError: (error: unknown) => void;
  /** @defaultValue 15 s */
  readonly intervalMs?: number;
}

export interface ExpirySweeper {
  /** Runs one sweep now; resolves with the requests it expired. */
  sweep(): Promise<ApprovalRequest[]>;
  /** Stops sweeping; resolves once a sweep under way has finished. */
  stop(): Promise<void>;
}

/**
 * Expires approval requests nobody decided in time, so their messages say so without waiting for
 * someone to click. Votes check expiry themselves as well: a late approval is refused even
 * between two sweeps. Expiring is one conditional UPDATE, so several bot processes sweeping at
 * once each get different requests, never the same one twice.
 */
export function startExpirySweeper(options: ExpirySweeperOptions): ExpirySweeper {
  let running: Promise<ApprovalRequest[]> | undefined;
  const once = async (): Promise<ApprovalRequest[]> => {
    try {
      const expired = await options.approvals.expireDue();
      for (const request of expired) await options.onExpired(request).catch(options.onError);
      return expired;
    } catch (error) {
      options.onError(error);
      return [];
    }
  };
  // One sweep at a time: a slow catalog never piles sweeps up.
  const sweep = (): Promise<ApprovalRequest[]> => {
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
