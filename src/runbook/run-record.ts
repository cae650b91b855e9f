import type { ChannelRef, MessageRef } from '../chat/chat-adapter.ts';
import type { Runbook } from './model.ts';
import type { RunEvent, RunState, RunStatus } from './run-state.ts';

/** A runbook run as the catalog keeps it (`run_…`). */
export interface RunbookRun {
  /** `run_20261207T120000Z_7q3k9x`. */
  readonly id: string;
  readonly runbookName: string;
  /** The runbook as parsed when the run started: an edit of the file never changes a run. */
  readonly runbook: Runbook;
  /** sha256 of the parsed runbook (as JSON) the run started with: which version ran. */
  readonly contentHash: string;
  /** Every parameter's value, defaults filled in. */
  readonly params: Readonly<Record<string, string>>;
  readonly startedBy: string;
  readonly platform: string;
  /** Where it was started. */
  readonly channel: ChannelRef;
  /** The intro message the run's thread hangs under, once posted. */
  readonly thread: MessageRef | null;
  /** The run's own channel: its thread, or where it was started when threads are not available. */
  readonly home: ChannelRef | null;
  /** The message showing the current step (0-based `step`), updated as people act on it. */
  readonly stepMessage: { readonly step: number; readonly ref: MessageRef } | null;
  readonly status: RunStatus;
  readonly state: RunState;
  /** Grows by one with every transition. */
  readonly version: number;
  /** The timeline as markdown, kept once the run ended. */
  readonly summary: string | null;
  readonly startedAt: Date;
  readonly updatedAt: Date;
  readonly endedAt: Date | null;
}

/** One entry of a run's timeline. */
export interface RunTimelineEntry extends RunEvent {
  /** The run's version this event produced. */
  readonly seq: number;
  readonly at: Date;
  /** `platform:id` of who did it, or `system:lifeboat`. */
  readonly actor: string;
}

export type NewRunbookRun = Omit<
  RunbookRun,
  'thread' | 'home' | 'stepMessage' | 'version' | 'summary' | 'updatedAt' | 'endedAt'
>;

/**
 * The catalog's runs. Every transition is conditional on the version it was decided on, and
 * writes its timeline entry in the same transaction.
 */
export interface RunbookRunRepository {
  /** Records the run at version 0 with its first timeline entry. */
  create(run: NewRunbookRun, event: RunEvent): Promise<RunbookRun>;
  get(id: string): Promise<RunbookRun | undefined>;
  /** Open runs, oldest first. */
  listOpen(): Promise<RunbookRun[]>;
  timeline(id: string): Promise<RunTimelineEntry[]>;
  /**
   * Moves the run to `next` if it is still at `expectedVersion`; returns the run as moved, or
   * undefined when another transition came first (nothing is written then).
   */
  transition(
    id: string,
    expectedVersion: number,
    next: { readonly status: RunStatus; readonly state: RunState },
    event: RunEvent & { readonly actor: string; readonly at: Date },
  ): Promise<RunbookRun | undefined>;
  /** Remembers the run's thread and where its messages go. */
  setThread(id: string, thread: MessageRef, home: ChannelRef): Promise<void>;
  /** Remembers the message that shows step `step` (0-based). */
  setStepMessage(id: string, step: number, ref: MessageRef): Promise<void>;
  /** Keeps the summary of an ended run (once: a second call changes nothing). */
  setSummary(id: string, summary: string): Promise<void>;
  /** Open runs whose WAIT is over at `now`. */
  listDueWaits(now: Date): Promise<RunbookRun[]>;
}

/** The runbooks that can be started (`runbooks.path`), as the parser reads them. */
export interface RunbookLibrary {
  /** Every runbook, sorted by name. */
  list(): Promise<Runbook[]>;
  /** The runbook `name`, or undefined when there is none. */
  load(name: string): Promise<Runbook | undefined>;
}

/** What the runbook commands use: the runbooks, and the runs in the catalog. */
export interface Runbooks {
  readonly library: RunbookLibrary;
  readonly runs: RunbookRunRepository;
}
