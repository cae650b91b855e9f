import { Transform, type TransformCallback } from 'node:stream';

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
/** Archive versions as pg_backup_archiver.h computes them. */
const version = (major: number, minor: number) => (major * 256 + minor) * 256;
const K_VERS_1_12 = version(1, 12);
const K_VERS_1_14 = version(1, 14);
const K_VERS_1_15 = version(1, 15);
const K_VERS_1_16 = version(1, 16);
const K_VERS_MAX = version(1, 16) + 255;
/** The TOC entry strings kept at most (names are at most 63 bytes; the rest is skipped). */
const MAX_KEPT_STRING = 1024;

/** The input ended before a complete item: wait for more bytes. */
class NeedMore {}
const NEED_MORE = new NeedMore();

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
  /** Header + TOC bytes not yet parsed (the TOC is parsed entry by entry). */
  private pending: Buffer = Buffer.alloc(0);
  private pendingAt = 0;
  private headerDone = false;
  private tocLeft = -1;
  private archiveVersion = 0;
  private intSize = 4;
  private offSize = 8;
  /** Bytes of a fixed-size item split across chunks. */
  private readonly partial = Buffer.alloc(16);
  private partialLength = 0;
  private remaining = 0;
  private current: TableData | undefined;
  private readonly tablesById = new Map<number, TableData>();
  private readonly dataIds = new Set<number>();
  private ended = false;

  feed(chunk: Buffer): void {
    if (this.state === S.failed) return;
    try {
      if (this.state === S.header) {
        this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
        const rest = this.parseToc();
        if (rest === undefined) return;
        this.pending = Buffer.alloc(0);
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

  private fail(): void {
    this.state = S.failed;
    this.pending = Buffer.alloc(0);
    this.tablesById.clear();
  }

  // ---- header and TOC: parsed from `pending`, one complete item at a time -----------------

  /** Parses what it can; the bytes after the TOC once it is complete, else `undefined`. */
  private parseToc(): Buffer | undefined {
    try {
      if (!this.headerDone) {
        const afterHeader = this.readHeader(0);
        this.tocLeft = this.readInt(afterHeader);
        if (this.tocLeft < 0) throw new GiveUp();
        this.pendingAt = afterHeader + 1 + this.intSize;
        this.headerDone = true;
      }
      while (this.tocLeft > 0) {
        this.pendingAt = this.readTocEntry(this.pendingAt);
        this.tocLeft--;
      }
    } catch (error) {
      if (error === NEED_MORE) {
        // Keep only the unparsed bytes.
        if (this.headerDone && this.pendingAt > 0) {
          this.pending = this.pending.subarray(this.pendingAt);
          this.pendingAt = 0;
        }
        return undefined;
      }
      throw error;
    }
    return this.pending.subarray(this.pendingAt);
  }

  private readHeader(at: number): number {
    const p = this.pending;
    if (p.length < 5) throw NEED_MORE;
    if (p.toString('latin1', 0, 5) !== 'PGDMP') throw new GiveUp();
    if (p.length < 11) throw NEED_MORE;
    this.archiveVersion = version(p[5] ?? 0, p[6] ?? 0) + (p[7] ?? 0);
    this.intSize = p[8] ?? 0;
    this.offSize = p[9] ?? 0;
    const format = p[10];
    if (this.archiveVersion < K_VERS_1_12 || this.archiveVersion > K_VERS_MAX) throw new GiveUp();
    if (this.intSize < 1 || this.intSize > 6 || this.offSize < 1 || this.offSize > 8) {
      throw new GiveUp();
    }
    if (format !== 1) throw new GiveUp(); // archCustom
    let next = at + 11;
    if (this.archiveVersion >= K_VERS_1_15) {
      if (p.length < next + 1) throw NEED_MORE;
      if (p[next] !== 0) throw new GiveUp(); // a compression algorithm other than none
      next += 1;
    } else {
      if (this.readInt(next) !== 0) throw new GiveUp(); // a compression level other than 0
      next += 1 + this.intSize;
    }
    next += 7 * (1 + this.intSize); // creation time
    next = this.skipString(next); // database name
    next = this.skipString(next); // server version
    next = this.skipString(next); // pg_dump version
    return next;
  }

  private readTocEntry(at: number): number {
    let next = at;
    const dumpId = this.readInt(next);
    next += 1 + this.intSize;
    const hadDumper = this.readInt(next);
    next += 1 + this.intSize;
    next = this.skipString(next); // tableoid
    next = this.skipString(next); // oid
    const tag = this.readString(next);
    next = tag.next;
    const desc = this.readString(next);
    next = desc.next;
    next += 1 + this.intSize; // section
    next = this.skipString(next); // defn
    next = this.skipString(next); // dropStmt
    const copyStmt = this.readString(next);
    next = copyStmt.next;
    const namespace = this.readString(next);
    next = namespace.next;
    next = this.skipString(next); // tablespace
    if (this.archiveVersion >= K_VERS_1_14) next = this.skipString(next); // tableam
    if (this.archiveVersion >= K_VERS_1_16) next += 1 + this.intSize; // relkind
    next = this.skipString(next); // owner
    next = this.skipString(next); // "false": WITH OIDS
    for (;;) {
      // dependencies, ended by a NULL string
      const length = this.readInt(next);
      next += 1 + this.intSize;
      if (length < 0) break;
      next += length;
    }
    const flag = this.byteAt(next); // data offset: flag byte + offSize bytes
    next += 1 + this.offSize;
    if (next > this.pending.length) throw NEED_MORE;
    if (flag < 1 || flag > 3) throw new GiveUp();
    if (dumpId <= 0) throw new GiveUp();

    if (hadDumper !== 0) this.dataIds.add(dumpId);
    if (desc.text === 'TABLE DATA' && hadDumper !== 0) {
      if (tag.text === null || namespace.text === null) throw new GiveUp();
      // Only COPY text has one newline per row (not --inserts).
      if (copyStmt.text === null || !copyStmt.text.startsWith('COPY ')) throw new GiveUp();
      this.tablesById.set(dumpId, {
        schema: namespace.text,
        table: tag.text,
        rows: 0,
        tail: 0,
        length: 0,
        seen: false,
      });
    }
    return next;
  }

  private byteAt(at: number): number {
    const byte = this.pending[at];
    if (byte === undefined) throw NEED_MORE;
    return byte;
  }

  /** An archive integer at `at` in `pending`: a sign byte, then `intSize` bytes little-endian. */
  private readInt(at: number): number {
    if (at + 1 + this.intSize > this.pending.length) throw NEED_MORE;
    return decodeInt(this.pending, at, this.intSize);
  }

  private skipString(at: number): number {
    const length = this.readInt(at);
    const next = at + 1 + this.intSize + Math.max(length, 0);
    if (next > this.pending.length) throw NEED_MORE;
    return next;
  }

  private readString(at: number): { text: string | null; next: number } {
    const length = this.readInt(at);
    const start = at + 1 + this.intSize;
    if (length < 0) return { text: null, next: start };
    const next = start + length;
    if (next > this.pending.length) throw NEED_MORE;
    const kept = Math.min(length, MAX_KEPT_STRING);
    // A string cut short never matches the descs and statements looked at, and names fit.
    const text = this.pending.toString('utf8', start, start + kept);
    return { text: kept === length ? text : `${text}\u0000`, next };
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
            value = decodeInt(buffer, at, this.intSize);
            at += intBytes;
          } else {
            const take = Math.min(intBytes - this.partialLength, end - at);
            buffer.copy(this.partial, this.partialLength, at, at + take);
            this.partialLength += take;
            at += take;
            if (this.partialLength < intBytes) break;
            this.partialLength = 0;
            value = decodeInt(this.partial, 0, this.intSize);
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
          : decodeInt(buffer, at, intSize);
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

/** A sign byte then `size` bytes, least significant first (pg_backup_archiver.c WriteInt). */
function decodeInt(buffer: Buffer, at: number, size: number): number {
  let value = 0;
  let factor = 1;
  for (let i = 1; i <= size; i++) {
    value += (buffer[at + i] as number) * factor;
    factor *= 256;
  }
  const sign = buffer[at];
  if (sign !== 0 && sign !== 1) throw new GiveUp();
  return sign === 1 ? -value : value;
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
