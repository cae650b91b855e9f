import { formatSpan, formatTimestamp } from '../core/format.ts';
import type { ApprovalRequest } from './approval-request.ts';

/** What became of an approved request's execution, as the part that runs it records it. */
export type ExecutionState =
  /** Queued or running: its outcome will come. */
  | { readonly state: 'running' }
  /** It ended; `outcome` is the line for people (`Restore rs_… completed in 4.2 s; …`). */
  | { readonly state: 'ended'; readonly status: 'executed' | 'failed'; readonly outcome: string }
  /** Nothing was ever recorded under the execution id: it never started. */
  | { readonly state: 'missing' }
  /** The action leaves no record to look at (a command run again in the bot process). */
  | { readonly state: 'untracked' };

/** Finds what became of a request's execution (`request.executionId`). */
export type ExecutionLookup = (request: ApprovalRequest) => Promise<ExecutionState>;

/**
 * How long an approved action may go without any record of its execution before it counts as
 * never started. The bot records a restore within milliseconds of the approval; only a bot that
 * stopped in between leaves one unrecorded for this long.
 */
export const NEVER_STARTED_AFTER_MS = 5 * 60_000;

/** How an unfinished request should be closed, or null to leave it as it is. */
export interface Settlement {
  readonly status: 'executed' | 'failed';
  readonly outcome: string;
}

/**
 * Decides what to record for a request whose action was let run but whose outcome is missing
 * (the bot that ran it stopped, or lost track of it): the execution's own outcome once it ended;
 * a failure when nothing was recorded long after the approval; otherwise nothing yet.
 *
 * A request approved but never started is closed as failed, not started late: a production
 * restore must not begin minutes or hours after the people who approved it stopped watching.
 */
export function settlementOf(
  request: ApprovalRequest,
  execution: ExecutionState,
  now: Date,
  neverStartedAfterMs: number = NEVER_STARTED_AFTER_MS,
): Settlement | null {
  if (execution.state === 'ended') {
    return { status: execution.status, outcome: execution.outcome };
  }
  if (execution.state !== 'missing') return null;
  // An approval is let run when it is decided; a review when the glass is broken.
  const letRunAt = request.kind === 'approval' ? request.decidedAt : request.createdAt;
  if (!letRunAt || now.getTime() - letRunAt.getTime() < neverStartedAfterMs) return null;
  const what =
    request.payload.type === 'restore'
      ? `restore ${request.executionId} was never queued, so nothing was restored`
      : 'it never ran';
  const when = request.kind === 'approval' ? 'Approved' : 'Glass broken';
  return {
    status: 'failed',
    outcome: `${when} at ${formatTimestamp(letRunAt)}, but the bot stopped before starting it: ${what} (checked ${formatSpan(now.getTime() - letRunAt.getTime())} later). Ask again (${request.command}) if it is still needed.`,
  };
}

export interface SettleExecutionsOptions {
  readonly unfinished: () => Promise<ApprovalRequest[]>;
  readonly lookup: ExecutionLookup;
  /** Records the outcome (once: a request another process settled first is left as it is). */
  readonly finish: (
    request: ApprovalRequest,
    status: 'executed' | 'failed',
    outcome: string,
  ) => Promise<ApprovalRequest>;
  readonly now: Date;
  readonly neverStartedAfterMs?: number;
}

/** Records the outcome of every unfinished request that has one now; returns them as recorded. */
export async function settleExecutions(
  options: SettleExecutionsOptions,
): Promise<ApprovalRequest[]> {
  const settled: ApprovalRequest[] = [];
  for (const request of await options.unfinished()) {
    const settlement = settlementOf(
      request,
      await options.lookup(request),
      options.now,
      options.neverStartedAfterMs,
    );
    if (!settlement) continue;
    settled.push(await options.finish(request, settlement.status, settlement.outcome));
  }
  return settled;
}
