import { Transform, type TransformCallback } from 'node:stream';
import { type DumpToc, decodeArchiveInt, TocParser, tableDataEntries } from './custom-dump-toc.ts';

/**
 * Counts the rows of every table in an uncompressed (`--compress=0`) custom-format `pg_dump`
 * archive while passing its bytes through unchanged, so a backup learns exactly how many rows
 * of each table its dump holds without scanning the tables a second time.
 *
 * The archive is a header, a table of contents (TOC) and then one data block per TOC entry that
 * has data; a `TABLE DATA` block holds the table's COPY text in length-prefixed chunks, and COPY
 * text escapes newlines inside values, so every raw newline ends one row. Anything this does not
 * understand (another format or archive version, compressed data, INSERT-style data, a
 * truncated or inconsistent stream) makes it give up quietly: `result()` is then `undefined`,
 * and the bytes still pass through untouched.
 */
export class CustomDumpRowCounter extends Transform {
  private readonly parser = new ArchiveParser();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.parser.feed(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.parser.end();
    callback();
  }

  /**
   * Rows per `"schema.table"` (the names as they are, unquoted) once the whole archive went
   * through; `undefined` if unknown. A table excluded from the dump is not in it.
   */
  result(): Map<string, number> | undefined {
    const tables = this.tables();
    return tables && new Map(tables.map((t) => [`${t.schema}.${t.table}`, t.rows]));
  }

  /** The same counts with schema and table apart (names may hold dots), in archive order. */
  tables(): DumpedTableRows[] | undefined {
    return this.parser.result();
  }

  /**
   * The tables whose data the archive holds, from its table of contents, even when their rows
   * could not be counted (`--inserts`, compressed data); `undefined` when the TOC itself could
   * not be read.
   */
  dumpedTables(): { schema: string; table: string }[] | undefined {
    return this.parser.dumpedTables();
  }
}

/** The rows of one table's data in the archive. */
export interface DumpedTableRows {
  readonly schema: string;
  readonly table: string;
  readonly rows: number;
}

const BLK_DATA = 1;
const BLK_BLOBS = 3;
const NEWLINE = 0x0a;

class GiveUp extends Error {}

interface TableData {
  readonly schema: string;
  readonly table: string;
  rows: number;
  /** The last six bytes of its COPY text as a number, the newest in the low byte. */
  tail: number;
  length: number;
  seen: boolean;
}

/** Where the parser is: the header and TOC, or an item of the data blocks. */
const S = {
  header: 0,
  blockType: 1,
  blockId: 2,
  chunkLength: 3,
  chunkBytes: 4,
  blobOid: 5,
  blobChunkLength: 6,
  blobChunkBytes: 7,
  failed: 8,
} as const;
type State = (typeof S)[keyof typeof S];

/** The incremental parser behind `CustomDumpRowCounter`; it never throws out of `feed`. */
class ArchiveParser {
  private state: State = S.header;
  private readonly tocParser = new TocParser();
  private intSize = 4;
  /** Bytes of a fixed-size item split across chunks. */
  private readonly partial = Buffer.alloc(16);
  private partialLength = 0;
  private remaining = 0;
  private current: TableData | undefined;
  private readonly tablesById = new Map<number, TableData>();
  private readonly dataIds = new Set<number>();
  private toc: DumpToc | undefined;
  private ended = false;

  feed(chunk: Buffer): void {
    if (this.state === S.failed) return;
    try {
      if (this.state === S.header) {
        const rest = this.tocParser.feed(chunk);
        if (rest === undefined) return;
        this.toc = this.tocParser.toc();
        this.startData(this.toc);
        this.state = S.blockType;
        this.consume(rest, 0);
      } else {
        this.consume(chunk, 0);
      }
    } catch {
      this.fail();
    }
  }

  end(): void {
    this.ended = true;
    // The archive ends between data blocks, never inside one.
    if (this.state !== S.blockType || this.partialLength !== 0) this.fail();
  }

  result(): DumpedTableRows[] | undefined {
    if (!this.ended || this.state === S.failed) return undefined;
    const counts: DumpedTableRows[] = [];
    for (const table of this.tablesById.values()) {
      if (!table.seen) return undefined;
      const rows = table.rows - terminatorNewlines(table);
      counts.push({ schema: table.schema, table: table.table, rows });
    }
    return counts;
  }

  dumpedTables(): { schema: string; table: string }[] | undefined {
    if (!this.ended || this.toc === undefined) return undefined;
    return tableDataEntries(this.toc).map((e) => ({
      schema: e.namespace ?? '',
      table: e.tag ?? '',
    }));
  }

  private fail(): void {
    this.state = S.failed;
    this.tablesById.clear();
  }

  /** Learns from the TOC which data blocks are tables and how to count them. */
  private startData(toc: DumpToc): void {
    // Compressed data is not COPY text as it streams past.
    if (toc.compressed) throw new GiveUp();
    this.intSize = this.tocParser.intSize;
    for (const entry of toc.entries) {
      if (!entry.hasData) continue;
      this.dataIds.add(entry.dumpId);
      if (entry.desc !== 'TABLE DATA') continue;
      if (entry.tag === null || entry.namespace === null) throw new GiveUp();
      // Only COPY text has one newline per row (not --inserts).
      if (!entry.copyStatement?.startsWith('COPY ')) throw new GiveUp();
      this.tablesById.set(entry.dumpId, {
        schema: entry.namespace,
        table: entry.tag,
        rows: 0,
        tail: 0,
        length: 0,
        seen: false,
      });
    }
  }

  // ---- data blocks: a streaming state machine over each chunk, without copying -----------

  private consume(buffer: Buffer, from: number): void {
    let at = from;
    const end = buffer.length;
    const intBytes = 1 + this.intSize;
    // The first newline at or after some earlier position (the buffer's length if none): each
    // byte is searched once however many data chunks the buffer holds.
    let newline = -1;
    while (at < end) {
      const table = this.current;
      if (this.state === S.chunkLength && table !== undefined && this.partialLength === 0) {
        // The hot path: whole data chunks of a table, one row each as pg_dump writes them.
        const next = this.countWholeChunks(table, buffer, at, newline);
        at = next.at;
        newline = next.newline;
        if (at >= end) break;
      }
      switch (this.state) {
        case S.chunkBytes:
        case S.blobChunkBytes: {
          const take = Math.min(this.remaining, end - at);
          if (table !== undefined && this.state === S.chunkBytes) {
            const stop = at + take;
            if (newline < at) newline = nextNewline(buffer, at);
            let rows = 0;
            while (newline < stop) {
              rows++;
              newline = nextNewline(buffer, newline + 1);
            }
            table.rows += rows;
            table.length += take;
            foldTail(table, buffer, at, stop);
          }
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = this.state === S.chunkBytes ? S.chunkLength : S.blobChunkLength;
          }
          break;
        }
        case S.blockType: {
          if (this.partialLength !== 0) throw new GiveUp();
          const type = buffer[at] as number;
          at += 1;
          if (type !== BLK_DATA && type !== BLK_BLOBS) throw new GiveUp();
          this.remaining = type; // remembered until the block's id is read
          this.state = S.blockId;
          break;
        }
        default: {
          // A fixed-size integer: straight from the buffer, or gathered across chunks.
          let value: number;
          if (this.partialLength === 0 && at + intBytes <= end) {
            value = decodeArchiveInt(buffer, at, this.intSize);
            at += intBytes;
          } else {
            const take = Math.min(intBytes - this.partialLength, end - at);
            buffer.copy(this.partial, this.partialLength, at, at + take);
            this.partialLength += take;
            at += take;
            if (this.partialLength < intBytes) break;
            this.partialLength = 0;
            value = decodeArchiveInt(this.partial, 0, this.intSize);
          }
          this.onInt(value);
        }
      }
    }
  }

  /**
   * Counts the rows of the complete data chunks at `at` of `buffer` with as little work per
   * chunk as it can; stops before anything else (a chunk cut by the buffer's end, the block's
   * end) and returns where, with the newline cache of `consume`.
   */
  private countWholeChunks(
    table: TableData,
    buffer: Buffer,
    from: number,
    cachedNewline: number,
  ): { at: number; newline: number } {
    const end = buffer.length;
    const intSize = this.intSize;
    const intBytes = 1 + intSize;
    let at = from;
    let newline = cachedNewline;
    let rows = 0;
    let length = 0;
    // The last chunk of six bytes or more, whose end is folded into the tail once at the end.
    let lastStart = -1;
    let lastStop = -1;
    while (at + intBytes <= end && buffer[at] === 0) {
      const chunkLength =
        intSize === 4
          ? (buffer[at + 1] as number) +
            (buffer[at + 2] as number) * 0x100 +
            (buffer[at + 3] as number) * 0x10000 +
            (buffer[at + 4] as number) * 0x1000000
          : decodeArchiveInt(buffer, at, intSize);
      const start = at + intBytes;
      const stop = start + chunkLength;
      if (chunkLength === 0 || stop > end) break;
      if (newline < start) newline = nextNewline(buffer, start);
      while (newline < stop) {
        rows++;
        newline = nextNewline(buffer, newline + 1);
      }
      length += chunkLength;
      if (chunkLength >= 6) {
        lastStart = start;
        lastStop = stop;
      } else {
        if (lastStop !== -1) foldTail(table, buffer, lastStart, lastStop);
        lastStop = -1;
        foldTail(table, buffer, start, stop);
      }
      at = stop;
    }
    if (lastStop !== -1) foldTail(table, buffer, lastStart, lastStop);
    table.rows += rows;
    table.length += length;
    return { at, newline };
  }

  private onInt(value: number): void {
    switch (this.state) {
      case S.blockId: {
        if (!this.dataIds.has(value)) throw new GiveUp();
        this.dataIds.delete(value); // each entry's data comes once
        if (this.remaining === BLK_DATA) {
          const table = this.tablesById.get(value);
          if (table !== undefined) table.seen = true;
          this.current = table;
          this.state = S.chunkLength;
        } else {
          this.current = undefined;
          this.state = S.blobOid;
        }
        this.remaining = 0;
        return;
      }
      case S.chunkLength:
        if (value < 0) throw new GiveUp();
        if (value === 0) {
          this.current = undefined;
          this.state = S.blockType;
        } else {
          this.remaining = value;
          this.state = S.chunkBytes;
        }
        return;
      case S.blobOid:
        this.state = value === 0 ? S.blockType : S.blobChunkLength;
        return;
      case S.blobChunkLength:
        if (value < 0) throw new GiveUp();
        if (value === 0) this.state = S.blobOid;
        else {
          this.remaining = value;
          this.state = S.blobChunkBytes;
        }
        return;
      default:
        throw new GiveUp();
    }
  }
}

function nextNewline(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(NEWLINE, from);
  return at === -1 ? buffer.length : at;
}

/** Shifts the last (up to six) bytes of `buffer[start, stop)` into the table's tail. */
function foldTail(table: TableData, buffer: Buffer, start: number, stop: number): void {
  let tail = table.tail;
  for (let i = Math.max(start, stop - 6); i < stop; i++) {
    tail = (tail % 2 ** 40) * 256 + (buffer[i] as number);
  }
  table.tail = tail;
}

/**
 * The newlines of the end-of-data marker at the end of a table's COPY text: pg_dump writes a
 * line `\.` and two empty lines after the rows (some versions the `\.` line alone). A value
 * `\.` is written `\\.`, so a line that is exactly `\.` can only be the marker.
 */
function terminatorNewlines(table: TableData): number {
  const { tail, length } = table;
  // "\\.\n\n\n" at the very start or after a newline
  if (tail % 2 ** 40 === 0x5c2e0a0a0a && (length === 5 || Math.floor(tail / 2 ** 40) === NEWLINE)) {
    return 3;
  }
  // "\\.\n" likewise
  if (
    tail % 2 ** 24 === 0x5c2e0a &&
    (length === 3 || Math.floor(tail / 2 ** 24) % 256 === NEWLINE)
  ) {
    return 1;
  }
  return 0;
}
