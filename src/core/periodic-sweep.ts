/** A sweep that runs now and then by itself, and on demand. */
export interface PeriodicSweep<T> {
  /** Runs one sweep now, or joins the one under way; resolves with what it did. */
  sweep(): Promise<T>;
  /** Stops sweeping; resolves once a sweep under way has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `once` every `intervalMs`, one sweep at a time (a slow sweep never piles sweeps up), on a
 * timer that does not keep the process alive. `once` handles its own errors: a sweep that
 * rejects is passed to `onError` and the next one runs as usual.
 */
export function startPeriodicSweep<T>(options: {
  readonly once: () => Promise<T>;
  readonly intervalMs: number;
  readonly onError: (error: unknown) => void;
}): PeriodicSweep<T> {
  let running: Promise<T> | undefined;
  const sweep = (): Promise<T> => {
    running ??= options.once().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    sweep().catch(options.onError);
  }, options.intervalMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
