import type { BenchRow, RowId, SizeResult } from './results.ts';

/** One of the targets, judged on the measured figures. */
export interface TargetVerdict {
  readonly name: string;
  /** The figure as printed: `0.97× (≥ 0.9×)`. */
  readonly measured: string;
  readonly pass: boolean;
}

/** Lifeboat's speed and size against a reference run. */
export interface Ratio {
  readonly name: string;
  readonly speed: number;
  /** Lifeboat's output bytes over the reference's; null where sizes do not compare. */
  readonly size: number | null;
}

/** Memory may grow this much while the data grows several times and still count as flat. */
const FLAT_RSS_GROWTH = 1.25;

export function ratios(result: SizeResult): Ratio[] {
  const out: Ratio[] = [];
  const add = (name: string, a: RowId, b: RowId, compareSize: boolean) => {
    const x = find(result, a);
    const y = find(result, b);
    if (!x || !y) return;
    out.push({
      name,
      speed: x.mbPerSecond / y.mbPerSecond,
      size: compareSize ? x.outputBytes / y.outputBytes : null,
    });
  };
  add('Lifeboat local / ceiling', 'lifeboat_local', 'pg_dump_ceiling', false);
  add('Lifeboat local / plain pg_dump', 'lifeboat_local', 'pg_dump_gzip', true);
  add('Lifeboat S3 / ceiling', 'lifeboat_s3', 'pg_dump_ceiling', false);
  add('Lifeboat S3 / plain pg_dump', 'lifeboat_s3', 'pg_dump_gzip', true);
  add('Lifeboat restore / Lifeboat backup', 'restore_lifeboat', 'lifeboat_local', false);
  add('Lifeboat restore / pg_restore', 'restore_lifeboat', 'restore_pg_restore', false);
  add('Lifeboat directory / tar | zstd', 'directory_lifeboat', 'directory_tar_zstd', true);
  return out;
}

/** The targets of the issue, for one size. */
export function verdicts(result: SizeResult): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  const local = find(result, 'lifeboat_local');
  const ceiling = find(result, 'pg_dump_ceiling');
  const plain = find(result, 'pg_dump_gzip');
  const restore = find(result, 'restore_lifeboat');
  if (local && ceiling) {
    const r = local.mbPerSecond / ceiling.mbPerSecond;
    out.push({
      name: 'backup ≥ 0.9× the ceiling',
      measured: `${times(r)} (≥ 0.90×)`,
      pass: r >= 0.9,
    });
  }
  if (local && plain) {
    const speed = local.mbPerSecond / plain.mbPerSecond;
    const size = local.outputBytes / plain.outputBytes;
    out.push({
      name: 'backup ≥ 1.5× plain pg_dump at ≤ its size',
      measured: `${times(speed)} faster, ${times(size)} the size`,
      pass: speed >= 1.5 && size <= 1,
    });
  }
  if (local && restore) {
    const r = restore.mbPerSecond / local.mbPerSecond;
    out.push({
      name: 'restore ≥ 0.5× backup speed',
      measured: `${times(r)} (≥ 0.50×)`,
      pass: r >= 0.5,
    });
  }
  return out;
}

/** Peak RSS of each Lifeboat run at the smallest and the largest size: flat or not. */
export function rssVerdicts(results: readonly SizeResult[]): TargetVerdict[] {
  if (results.length < 2) return [];
  const sorted = [...results].sort((a, b) => a.requestedBytes - b.requestedBytes);
  const small = sorted[0] as SizeResult;
  const large = sorted[sorted.length - 1] as SizeResult;
  const ids: RowId[] = ['lifeboat_local', 'lifeboat_s3', 'restore_lifeboat', 'directory_lifeboat'];
  const out: TargetVerdict[] = [];
  for (const id of ids) {
    const a = find(small, id);
    const b = find(large, id);
    if (!a || !b) continue;
    const growth = b.peakRssBytes / a.peakRssBytes;
    out.push({
      name: `peak RSS flat: ${id}`,
      measured: `${mib(a.peakRssBytes)} → ${mib(b.peakRssBytes)} (${times(growth)}) for ${times(large.dumpBytes / small.dumpBytes)} the data`,
      pass: growth <= FLAT_RSS_GROWTH,
    });
  }
  return out;
}

function find(result: SizeResult, id: RowId): BenchRow | undefined {
  return result.rows.find((r) => r.id === id);
}

function times(x: number): string {
  return `${x.toFixed(2)}×`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}
