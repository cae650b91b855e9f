/** One progress report for one component of a running backup. */
export interface ComponentProgress {
  readonly component: string;
  readonly phase: 'waiting' | 'running' | 'done' | 'failed';
  /** Bytes read from the source so far. */
  readonly rawBytes: number;
  /** Bytes written to the store so far. */
  readonly storedBytes: number;
  /** Expected raw bytes, when the source can tell (a database's size, a tree's size). */
  readonly expectedBytes: number | null;
  /** Raw bytes per second since the component started. */
  readonly bytesPerSecond: number;
  readonly message?: string;
}

export type ProgressListener = (progress: ComponentProgress) => void;

/** A component that has not started yet: nothing read, nothing stored, no estimate. */
export function waitingProgress(component: string): ComponentProgress {
  return {
    component,
    phase: 'waiting',
    rawBytes: 0,
    storedBytes: 0,
    expectedBytes: null,
    bytesPerSecond: 0,
  };
}
