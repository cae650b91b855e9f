import type { Manifest } from '../backup/manifest.ts';
import type { LifeboatConfig, TargetConfig } from '../config/schema.ts';
import { messageOf } from '../core/errors.ts';
import { newRestoreCheckId } from '../core/ids.ts';
import type { RestorePlan } from '../restore/plan-restore.ts';
import {
  type RestoreCheckReport,
  type RestoreFacts,
  restoreCheckedLines,
  restoreProblems,
  seenHere,
} from '../restore/restore-checks.ts';
import { reachDestinations } from '../restore/restore-facts.ts';
import { type RestoreCheckJob, restoreCheckResultSchema } from './job-payloads.ts';
import type { JobQueue } from './queue.ts';

/** How long a planner waits for a worker to answer a restore check. */
export const RESTORE_CHECK_WAIT_MS = 10_000;

/** How long a planner waits for Redis to say how many workers serve the queue. */
const WORKER_COUNT_WAIT_MS = 3_000;

/**
 * Destinations a process that does not restore can usefully look at itself: servers on the
 * network. A directory target's path is on the machine that restores, so this one's says
 * nothing about it.
 */
const NETWORK_KINDS: readonly TargetConfig['kind'][] = ['postgres', 'redis'];

export interface RestoreChecksDeps {
  readonly queue: Pick<JobQueue, 'workerCount' | 'ask'>;
  readonly config: Pick<LifeboatConfig, 'targets'>;
  /**
   * Gathers the facts in this process. Only for processes that run the jobs they queue when no
   * worker serves the queue (the CLI and the console, see `ensureWorker`): a restore they plan
   * while no worker runs would run in them. @defaultValue none: a process that does not restore
   * (a bot) never stands in for a worker, whose identities, tools and disk are not its own
   */
  readonly gatherHere?: (plan: RestorePlan, manifest: Manifest) => Promise<RestoreFacts>;
  /** @defaultValue `reachDestinations` */
  readonly reach?: typeof reachDestinations;
  /** @defaultValue {@link RESTORE_CHECK_WAIT_MS} */
  readonly waitMs?: number;
  /** @defaultValue `() => new Date()` */
  readonly now?: () => Date;
}

/**
 * Checks a planned restore where restores run: puts a `restore-check` job to the workers and
 * waits a bounded time for the facts one of them gathers (its identities, tools, staging space,
 * view of the destinations, and what its restorers would refuse). When no worker can be asked —
 * Redis is down, none serves the queue, none answers in time — the report says so and what
 * this process saw of the destinations itself; nothing is refused on facts from the wrong
 * place, since the worker checks again before it changes anything.
 */
export function createRestoreChecks(
  deps: RestoreChecksDeps,
): (plan: RestorePlan, manifest: Manifest, requestedBy: string) => Promise<RestoreCheckReport> {
  const waitMs = deps.waitMs ?? RESTORE_CHECK_WAIT_MS;
  const reach = deps.reach ?? reachDestinations;
  const now = deps.now ?? (() => new Date());
  const unchecked = async (plan: RestorePlan, why: string): Promise<RestoreCheckReport> => ({
    ran: false,
    why,
    seenHere: seenHere(await reach(plan, { config: deps.config, kinds: NETWORK_KINDS })),
  });

  return async (plan, manifest, requestedBy) => {
    let workers: number;
    try {
      workers = await deps.queue.workerCount(WORKER_COUNT_WAIT_MS);
    } catch (error) {
      return unchecked(plan, `${firstLine(error)}, so no worker could be asked`);
    }
    if (workers === 0) {
      if (!deps.gatherHere) return unchecked(plan, 'no worker serves the queue');
      const facts = await deps.gatherHere(plan, manifest);
      return {
        ran: true,
        where: 'here',
        problems: restoreProblems(plan, manifest, facts),
        checked: restoreCheckedLines(plan, facts),
      };
    }
    const job: RestoreCheckJob = {
      kind: 'restore-check',
      checkId: newRestoreCheckId(now()),
      backupId: plan.backupId,
      components: plan.components.map(({ component, destination }) => ({
        component,
        destination,
      })),
      requestedBy,
    };
    let answer: Awaited<ReturnType<JobQueue['ask']>>;
    try {
      answer = await deps.queue.ask(job, job.checkId, waitMs);
    } catch (error) {
      return unchecked(plan, `${firstLine(error)}, so no worker could be asked`);
    }
    switch (answer.status) {
      case 'unanswered':
        return unchecked(plan, `no worker answered within ${Math.round(waitMs / 1000)} s`);
      case 'failed':
        return unchecked(plan, `the check failed on the worker that took it: ${answer.reason}`);
      case 'completed': {
        const parsed = restoreCheckResultSchema.safeParse(answer.value);
        if (!parsed.success) {
          return unchecked(
            plan,
            'the worker that took the check answered with something else (another version of Lifeboat?)',
          );
        }
        const where = `on the worker ${parsed.data.worker}`;
        return {
          ran: true,
          where,
          problems: restoreProblems(plan, manifest, parsed.data.facts, where),
          checked: restoreCheckedLines(plan, parsed.data.facts),
        };
      }
    }
  };
}

/** An error's first line, without its closing full stop: a clause of a sentence. */
function firstLine(error: unknown): string {
  return (messageOf(error).split('\n')[0] ?? '').replace(/\.$/, '');
}
