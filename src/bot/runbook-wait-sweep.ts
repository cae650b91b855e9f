import type { Services } from '../app/services.ts';
import type { ChatAdapter } from '../chat/chat-adapter.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { type PeriodicSweep, startPeriodicSweep } from '../core/periodic-sweep.ts';
import type { RunbookRun } from '../runbook/run-record.ts';
import { continueDueWaits, type FlowContext } from './runbook-flow.ts';

export interface RunbookWaitSweepOptions {
  readonly services: Services;
  readonly config: LifeboatConfig;
  /** The platforms this bot serves: a run continues where it was started. */
  readonly adapters: readonly ChatAdapter[];
  readonly onError: (error: unknown) => void;
  /** @defaultValue 15 s */
  readonly intervalMs?: number;
  /** @defaultValue the system clock */
  readonly now?: () => Date;
}

/**
 * Continues runbook runs whose `> [!WAIT]` is over, posting the next step in the run's thread.
 * The wait's end is in the catalog, so a bot started after a restart continues it; moving a run
 * is conditional, so several bots sweeping move it once. Runs started on a platform this bot
 * does not serve are left to a bot that does (or to the next command on the run).
 */
export function startRunbookWaitSweep(options: RunbookWaitSweepOptions): PeriodicSweep<string[]> {
  const now = options.now ?? (() => new Date());
  const contextFor = (run: RunbookRun) => {
    const adapter = options.adapters.find((a) => a.platform === run.platform);
    if (!adapter) return undefined;
    const context: FlowContext = {
      services: options.services,
      config: options.config,
      identity: { platform: adapter.platform, id: 'lifeboat' },
      now,
      reply: {
        post: (message) => adapter.post((run.home ?? run.channel) as { channel: string }, message),
        update: (ref, message) => adapter.update(ref, message),
        // Nobody asked: there is no one to answer privately.
        postPrivately: async () => undefined,
        postTo: (to, message) => adapter.post(to, message),
      },
    };
    return context;
  };
  const sweep = startPeriodicSweep({
    once: () => continueDueWaits(contextFor, now(), options.services.runbooks.runs),
    intervalMs: options.intervalMs ?? 15_000,
    onError: options.onError,
  });
  // At once, too: a wait that ended while no bot ran continues when one starts.
  sweep.sweep().catch(options.onError);
  return sweep;
}
