import { open } from 'node:fs/promises';

/**
 * The header and table of contents (TOC) of a custom-format `pg_dump` archive, read by their
 * binary layout (pg_backup_archiver.c `WriteHead`/`WriteToc`, archive versions 1.12–1.16).
 *
 * Names come back exactly as the catalog holds them, which `pg_restore --list` cannot give: it
 * prints names unquoted with newlines turned into spaces, so `a b` and `a⏎b` read alike there.
 * Every table whose data the archive holds is a `TABLE DATA` entry with its schema and name.
 */
export interface DumpToc {
  /** `1.14`. */
  readonly archiveVersion: string;
  /** Whether the data blocks are compressed (the TOC never is). */
  readonly compressed: boolean;
  /** The database pg_dump connected to, as it named it. */
  readonly databaseName: string;
  /** The dump's client encoding (`UTF8`), from its ENCODING entry; null without one. */
  readonly encoding: string | null;
  readonly entries: readonly DumpTocEntry[];
}

/** One entry of the TOC. */
export interface DumpTocEntry {
  readonly dumpId: number;
  /** Whether a data block belongs to it (table data, large objects, sequence values are SQL). */
  readonly hasData: boolean;
  /** `TABLE`, `TABLE DATA`, `DATABASE PROPERTIES`, … */
  readonly desc: string;
  /** The object's name (for `COMMENT`: `DATABASE shop`, `TABLE t`). */
  readonly tag: string | null;
  /** Its schema; null for objects outside schemas. */
  readonly namespace: string | null;
  /** The start of the statement that loads its data (`COPY …`); null when none. */
  readonly copyStatement: string | null;
  /**
   * The SQL that creates it, kept whole only for the entries about the database itself
   * (`DATABASE`, `DATABASE PROPERTIES`, a `COMMENT` or `SECURITY LABEL` on the database) and
   * `ENCODING`; null for every other entry (their definitions can be large, and nothing here
   * needs them).
   */
  readonly definition: string | null;
}

/** The archive is not one this reader understands; the message says what it found. */
export class UnreadableDumpError extends Error {}

/** Archive versions as pg_backup_archiver.h computes them. */
export const archiveVersion = (major: number, minor: number) => (major * 256 + minor) * 256;
const K_VERS_1_12 = archiveVersion(1, 12);
const K_VERS_1_14 = archiveVersion(1, 14);
const K_VERS_1_15 = archiveVersion(1, 15);
const K_VERS_1_16 = archiveVersion(1, 16);
const K_VERS_MAX = archiveVersion(1, 16) + 255;
/** Strings of other entries kept at most (names are at most 63 bytes; the rest is skipped). */
const MAX_KEPT_STRING = 1024;

/** The input ended before a complete item: wait for more bytes. */
class NeedMore {}
const NEED_MORE = new NeedMore();

/** Node's decoder for a PostgreSQL encoding's names; others are read as UTF-8. */
const DECODINGS: Readonly<Record<string, BufferEncoding>> = {
  UTF8: 'utf8',
  SQL_ASCII: 'utf8',
  LATIN1: 'latin1',
};

/**
 * Parses a custom-format archive's header and TOC from bytes fed in any chunks, keeping only
 * the bytes of the entry being read. {@link feed} returns the bytes after the TOC once it is
 * complete (where the data blocks start).
 */
export class TocParser {
  private pending: Buffer = Buffer.alloc(0);
  private pendingAt = 0;
  private headerDone = false;
  private tocLeft = -1;
  private version = 0;
  private compression = false;
  private database = '';
  private decoding: BufferEncoding = 'utf8';
  private encodingName: string | null = null;
  private readonly parsed: DumpTocEntry[] = [];
  private complete = false;
  /** Bytes in one archive integer: its sign byte is read apart. */
  intSize = 4;
  /** Bytes in one data offset. */
  offSize = 8;

  /**
   * Parses what it can of `chunk`; returns the bytes after the TOC once it is complete, else
   * `undefined` (feed more).
   * @throws UnreadableDumpError when the bytes are not an archive this reads
   */
  feed(chunk: Buffer): Buffer | undefined {
    if (this.complete) return chunk;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      if (!this.headerDone) {
        const afterHeader = this.readHeader();
        this.tocLeft = this.readInt(afterHeader);
        if (this.tocLeft < 0) throw new UnreadableDumpError('a negative TOC length');
        this.pendingAt = afterHeader + 1 + this.intSize;
        this.headerDone = true;
      }
      while (this.tocLeft > 0) {
        this.pendingAt = this.readEntry(this.pendingAt);
        this.tocLeft--;
      }
    } catch (error) {
      if (error !== NEED_MORE) throw error;
      // Keep only the unparsed bytes.
      if (this.headerDone && this.pendingAt > 0) {
        this.pending = this.pending.subarray(this.pendingAt);
        this.pendingAt = 0;
      }
      return undefined;
    }
    this.complete = true;
    const rest = this.pending.subarray(this.pendingAt);
    this.pending = Buffer.alloc(0);
    return rest;
  }

  /** The TOC once {@link feed} returned the bytes after it. */
  toc(): DumpToc {
    if (!this.complete) throw new UnreadableDumpError('the archive ends inside its TOC');
    const major = Math.floor(this.version / 65536);
    const minor = Math.floor(this.version / 256) % 256;
    return {
      archiveVersion: `${major}.${minor}`,
      compressed: this.compression,
      databaseName: this.database,
      encoding: this.encodingName,
      entries: this.parsed,
    };
  }

  private readHeader(): number {
    const p = this.pending;
    if (p.length < 5) throw NEED_MORE;
    if (p.toString('latin1', 0, 5) !== 'PGDMP') {
      throw new UnreadableDumpError('not a pg_dump archive (no PGDMP header)');
    }
    if (p.length < 11) throw NEED_MORE;
    this.version = archiveVersion(p[5] ?? 0, p[6] ?? 0) + (p[7] ?? 0);
    this.intSize = p[8] ?? 0;
    this.offSize = p[9] ?? 0;
    const format = p[10];
    if (this.version < K_VERS_1_12 || this.version > K_VERS_MAX) {
      throw new UnreadableDumpError(
        `archive version ${p[5]}.${p[6]}, and this reads versions 1.12 to 1.16 (pg_dump 11 to 17)`,
      );
    }
    if (this.intSize < 1 || this.intSize > 6 || this.offSize < 1 || this.offSize > 8) {
      throw new UnreadableDumpError('integer sizes no pg_dump writes');
    }
    if (format !== 1) throw new UnreadableDumpError('not the custom format (-Fc)');
    let next = 11;
    if (this.version >= K_VERS_1_15) {
      this.compression = this.byteAt(next) !== 0;
      next += 1;
    } else {
      this.compression = this.readInt(next) !== 0;
      next += 1 + this.intSize;
    }
    next += 7 * (1 + this.intSize); // creation time
    const database = this.readString(next, Number.POSITIVE_INFINITY);
    this.database = database.text ?? '';
    next = database.next;
    next = this.skipString(next); // server version
    next = this.skipString(next); // pg_dump version
    return next;
  }

  private readEntry(at: number): number {
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
    const keep = keepsDefinition(desc.text, tag.text) ? Number.POSITIVE_INFINITY : 0;
    const definition = this.readString(next, keep);
    next = definition.next;
    next = this.skipString(next); // dropStmt
    const copyStatement = this.readString(next);
    next = copyStatement.next;
    const namespace = this.readString(next);
    next = namespace.next;
    next = this.skipString(next); // tablespace
    if (this.version >= K_VERS_1_14) next = this.skipString(next); // tableam
    if (this.version >= K_VERS_1_16) next += 1 + this.intSize; // relkind
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
    if (flag < 1 || flag > 3) throw new UnreadableDumpError('a TOC entry without a data state');
    if (dumpId <= 0) throw new UnreadableDumpError('a TOC entry without a dump id');
    if (desc.text === null) throw new UnreadableDumpError('a TOC entry without a kind');

    if (desc.text === 'ENCODING' && definition.text !== null) {
      const name = /client_encoding = '([^']+)'/.exec(definition.text)?.[1] ?? null;
      this.encodingName = name;
      this.decoding = (name && DECODINGS[name.toUpperCase()]) || 'utf8';
    }
    this.parsed.push({
      dumpId,
      hasData: hadDumper !== 0,
      desc: desc.text,
      tag: tag.text,
      namespace: namespace.text,
      copyStatement: copyStatement.text,
      definition: keep > 0 ? definition.text : null,
    });
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
    return decodeArchiveInt(this.pending, at, this.intSize);
  }

  private skipString(at: number): number {
    const length = this.readInt(at);
    const next = at + 1 + this.intSize + Math.max(length, 0);
    if (next > this.pending.length) throw NEED_MORE;
    return next;
  }

  /** A string of at most `kept` bytes; one cut short ends in U+0000, matching no name. */
  private readString(at: number, kept = MAX_KEPT_STRING): { text: string | null; next: number } {
    const length = this.readInt(at);
    const start = at + 1 + this.intSize;
    if (length < 0) return { text: null, next: start };
    const next = start + length;
    if (next > this.pending.length) throw NEED_MORE;
    const take = Math.min(length, kept);
    const text = this.pending.toString(this.decoding, start, start + take);
    return { text: take === length ? text : `${text}\u0000`, next };
  }
}

function keepsDefinition(desc: string | null, tag: string | null): boolean {
  switch (desc) {
    case 'ENCODING':
    case 'DATABASE':
    case 'DATABASE PROPERTIES':
      return true;
    case 'COMMENT':
    case 'SECURITY LABEL':
      return tag?.startsWith('DATABASE ') ?? false;
    default:
      return false;
  }
}

/**
 * A sign byte then `size` bytes, least significant first (pg_backup_archiver.c WriteInt).
 * @throws UnreadableDumpError on a sign byte that is neither 0 nor 1
 */
export function decodeArchiveInt(buffer: Buffer, at: number, size: number): number {
  let value = 0;
  let factor = 1;
  for (let i = 1; i <= size; i++) {
    value += (buffer[at + i] as number) * factor;
    factor *= 256;
  }
  const sign = buffer[at];
  if (sign !== 0 && sign !== 1) throw new UnreadableDumpError('an integer with a bad sign byte');
  return sign === 1 ? -value : value;
}

/**
 * Reads the TOC of the archive in `path`, reading no further than its end.
 * @throws UnreadableDumpError when the file is not a custom-format archive this reads
 */
export async function readDumpToc(path: string): Promise<DumpToc> {
  const file = await open(path, 'r');
  try {
    const parser = new TocParser();
    const buffer = Buffer.alloc(256 * 1024);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return parser.toc();
      // A copy: the parser may keep the bytes while `buffer` is read into again.
      if (parser.feed(Buffer.from(buffer.subarray(0, bytesRead))) !== undefined) {
        return parser.toc();
      }
    }
  } finally {
    await file.close();
  }
}

/** The tables whose rows the archive holds: its `TABLE DATA` entries with data. */
export function tableDataEntries(toc: DumpToc): DumpTocEntry[] {
  return toc.entries.filter((e) => e.desc === 'TABLE DATA' && e.hasData);
}
