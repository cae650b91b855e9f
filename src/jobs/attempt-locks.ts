/**
 * The target lock an attempt at a restore or a verification holds for as long as it runs, on a
 * connection of its own: a second attempt waits for it, and a record still `running` whose lock
 * is free was left by a worker that died (see `sweepInterruptedWork`).
 */
export function attemptLockTarget(kind: 'restore' | 'verify', id: string): string {
  return `${kind}:${id}`;
}
