import type { ComponentProgress } from '../../backup/progress.ts';
import type { Block } from '../../chat/message.ts';
import { printable } from '../../core/format.ts';

/** How far a component is, for its progress bar; null when its size is not known. */
export function progressFraction(p: ComponentProgress): number | null {
  if (p.phase === 'done') return 1;
  if (p.expectedBytes === null || p.expectedBytes <= 0) return null;
  return Math.min(1, p.rawBytes / p.expectedBytes);
}

/**
 * One progress block per component, in the given order, then any component only the progress
 * names; a component with no report yet is waiting. `detail` words a report for its job.
 */
export function componentProgressBlocks(
  components: readonly string[],
  progress: readonly ComponentProgress[],
  detail: (p: ComponentProgress) => string,
): Block[] {
  const byName = new Map(progress.map((p) => [p.component, p]));
  const names = [...new Set([...components, ...progress.map((p) => p.component)])];
  return names.map((component) => {
    const p = byName.get(component);
    const label = printable(component);
    if (!p) return { type: 'progress', label, fraction: null, detail: 'waiting' };
    return { type: 'progress', label, fraction: progressFraction(p), detail: printable(detail(p)) };
  });
}
