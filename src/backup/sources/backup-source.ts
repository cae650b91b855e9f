import type { Readable } from 'node:stream';
import type { ComponentSource, ComponentWarning } from '../manifest.ts';

/** What a finished source reports for the manifest. */
export interface SourceResult {
  readonly source: ComponentSource;
  /** The client tools that produced the stream and their versions: `{ pg_dump: '15.20' }`. */
  readonly tools: Record<string, string>;
  /**
   * What the backup has to say beyond its figures: what it left out (`incomplete`) and what
   * the tool warned about (`notice`). Never swallowed: it goes into the manifest and in front
   * of whoever asked for the backup.
   */
  readonly warnings: readonly ComponentWarning[];
}

/** A source that has started producing its stream. */
export interface OpenedSource {
  /**
   * The raw backup bytes. It ends only after the source has fully succeeded (the tool exited
   * cleanly, row counts were taken); any failure errors the stream instead, so a consumer never
   * stores a truncated dump as if it were complete.
   */
  readonly stream: Readable;
  /** The raw bytes expected, when the source can estimate them; progress only. */
  readonly expectedBytes: number | null;
  /**
   * Settles once the source has released everything (child process exited, transaction ended):
   * resolves with the manifest metadata or rejects with a `BackupError`. Settles after an abort
   * too, so a caller can wait for the cleanup.
   */
  readonly finished: Promise<SourceResult>;
}

/**
 * One kind of backup source (postgres, directory, redis). Adding a kind means one file that
 * implements this and one line in `createSource`.
 */
export interface BackupSource {
  readonly kind: ComponentSource['kind'];
  /** The object's file-name suffix before any compression extension: `dump`, `tar`, `rdb`. */
  readonly objectSuffix: string;
  /** Starts the backup; aborting `signal` stops the tool and ends the source's transaction. */
  open(signal: AbortSignal): Promise<OpenedSource>;
}
