import type { TargetConfig } from '../../../config/schema.ts';
import { messageOf } from '../../../core/errors.ts';
import { parseDestination } from './destination.ts';
import { RestoreServer } from './restore-server.ts';

/** What a sweep of one server did. */
export interface LeftoverSweep {
  /** `host:port` of the server. */
  readonly server: string;
  /** Databases dropped: left by restores that did not finish. */
  readonly dropped: readonly string[];
  /** Why the server could not be swept; null when it was. */
  readonly error: string | null;
}

/**
 * Drops, on the server of every configured postgres target (each server once per user), the
 * databases left by restores that died before they finished (see `replacement-names.ts`), so
 * a killed worker's partial copy does not wait for the next restore to that server. A server
 * that cannot be reached is reported, never thrown: the worker starts anyway.
 */
export async function sweepRestoreLeftovers(
  targets: Readonly<Record<string, TargetConfig>>,
): Promise<LeftoverSweep[]> {
  const seen = new Set<string>();
  const sweeps: LeftoverSweep[] = [];
  for (const [name, config] of Object.entries(targets)) {
    if (config.kind !== 'postgres') continue;
    let destination: ReturnType<typeof parseDestination>;
    try {
      destination = parseDestination({ name, config });
    } catch {
      continue;
    }
    const key = `${destination.user}@${destination.server}`;
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const server = await RestoreServer.open(destination, null);
      try {
        sweeps.push({ server: destination.server, dropped: await server.sweep(), error: null });
      } finally {
        await server.close();
      }
    } catch (error) {
      sweeps.push({ server: destination.server, dropped: [], error: messageOf(error) });
    }
  }
  return sweeps;
}
