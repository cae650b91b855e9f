import type { Runbook } from '../../src/runbook/model.ts';
import type {
  RunbookLibrary,
  RunbookRun,
  RunbookRunRepository,
  Runbooks,
  RunTimelineEntry,
} from '../../src/runbook/run-record.ts';

/** Runbooks handed in by the test, built by hand. */
export class InMemoryRunbookLibrary implements RunbookLibrary {
  readonly runbooks = new Map<string, Runbook>();
  add(...runbooks: Runbook[]): void {
    for (const r of runbooks) this.runbooks.set(r.name, r);
  }
  async list(): Promise<Runbook[]> {
    return [...this.runbooks.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
  async load(name: string): Promise<Runbook | undefined> {
    return this.runbooks.get(name);
  }
}

/** Runs in memory, with the catalog's rule: a transition applies only at its expected version. */
export class InMemoryRunbookRuns implements RunbookRunRepository {
  readonly runs = new Map<string, RunbookRun>();
  readonly events = new Map<string, RunTimelineEntry[]>();

  async create(...[run, event]: Parameters<RunbookRunRepository['create']>) {
    const created: RunbookRun = {
      ...run,
      thread: null,
      home: null,
      stepMessage: null,
      version: 0,
      summary: null,
      updatedAt: run.startedAt,
      endedAt: run.status === 'open' ? null : run.startedAt,
    };
    this.runs.set(run.id, created);
    this.events.set(run.id, [{ ...event, seq: 0, at: run.startedAt, actor: run.startedBy }]);
    return created;
  }
  async get(id: string) {
    return this.runs.get(id);
  }
  async listOpen() {
    return [...this.runs.values()].filter((r) => r.status === 'open');
  }
  async timeline(id: string) {
    return this.events.get(id) ?? [];
  }
  async transition(...[id, expected, next, event]: Parameters<RunbookRunRepository['transition']>) {
    const run = this.runs.get(id);
    if (!run || run.version !== expected || run.status !== 'open') return undefined;
    const moved: RunbookRun = {
      ...run,
      ...next,
      version: run.version + 1,
      updatedAt: event.at,
      endedAt: next.status === 'open' ? null : event.at,
    };
    this.runs.set(id, moved);
    this.events.get(id)?.push({ ...event, seq: moved.version });
    return moved;
  }
  async setThread(...[id, thread, home]: Parameters<RunbookRunRepository['setThread']>) {
    const run = this.runs.get(id);
    if (run) this.runs.set(id, { ...run, thread, home });
  }
  async setStepMessage(...[id, step, ref]: Parameters<RunbookRunRepository['setStepMessage']>) {
    const run = this.runs.get(id);
    if (run?.thread) this.runs.set(id, { ...run, stepMessage: { step, ref } });
  }
  async setSummary(id: string, summary: string) {
    const run = this.runs.get(id);
    if (run && run.summary === null && run.status !== 'open')
      this.runs.set(id, { ...run, summary });
  }
  async listDueWaits(now: Date) {
    return [...this.runs.values()].filter(
      (r) =>
        r.status === 'open' &&
        r.state.phase.kind === 'waiting' &&
        Date.parse(r.state.phase.until) <= now.getTime(),
    );
  }
}

/** The runbooks port in memory. */
export interface InMemoryRunbooks extends Runbooks {
  readonly library: InMemoryRunbookLibrary;
  readonly runs: InMemoryRunbookRuns;
}

export function inMemoryRunbooks(): InMemoryRunbooks {
  return { library: new InMemoryRunbookLibrary(), runs: new InMemoryRunbookRuns() };
}
