import { type Measurement, summarize } from './measure.ts';

/** The figures the bench collects: one row per measured run, one result per size. */

export type RowId =
  | 'pg_dump_ceiling'
  | 'pg_dump_gzip'
  | 'lifeboat_local'
  | 'lifeboat_s3'
  | 'restore_pg_restore'
  | 'restore_lifeboat'
  | 'directory_tar_zstd'
  | 'directory_lifeboat';

export interface BenchRow {
  readonly id: RowId;
  /** What ran, as a reader would type it. */
  readonly label: string;
  /** The raw source bytes the throughput is counted in (the same for every row of a group). */
  readonly rawBytes: number;
  readonly wallSeconds: number;
  /** `rawBytes / wallSeconds`, in MB/s (10^6 bytes). */
  readonly mbPerSecond: number;
  /** Bytes written: the backup's size; for restores and the ceiling, the raw bytes read. */
  readonly outputBytes: number;
  /** Sum of VmHWM over the run's process tree. */
  readonly peakRssBytes: number;
  /** Largest sum of current RSS over the tree in one sample. */
  readonly peakConcurrentRssBytes: number;
  /** CPU seconds (user + system) of the run's processes, not the database server's. */
  readonly cpuSeconds: number | null;
  /** Wall seconds of every repeat; the row shows their median. */
  readonly repeats: readonly number[];
}

export interface SizeResult {
  /** The size asked for (`--size`). */
  readonly requestedBytes: number;
  readonly database: string;
  readonly scale: number;
  /** pg_database_size of the source: heap, indexes, catalogs. */
  readonly databaseBytes: number;
  /** Size of `pg_dump -Fc -Z0`: the raw bytes of the postgres rows. */
  readonly dumpBytes: number;
  readonly directoryFiles: number;
  readonly directoryBytes: number;
  readonly rows: readonly BenchRow[];
}

/** A row from the repeats of one run: median wall time, largest memory (see `summarize`). */
export function row(
  id: RowId,
  label: string,
  rawBytes: number,
  outputBytes: number,
  runs: readonly Measurement[],
): BenchRow {
  const measured = summarize(runs);
  return {
    id,
    label,
    rawBytes,
    wallSeconds: measured.wallSeconds,
    mbPerSecond: rawBytes / 1e6 / measured.wallSeconds,
    outputBytes,
    peakRssBytes: measured.peakRssBytes,
    peakConcurrentRssBytes: measured.peakConcurrentRssBytes,
    cpuSeconds: measured.cpuSeconds,
    repeats: runs.map((r) => Number(r.wallSeconds.toFixed(2))),
  };
}
