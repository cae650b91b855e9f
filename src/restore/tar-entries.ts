import { createReadStream } from 'node:fs';
import { RestoreError } from '../core/errors.ts';

/** What a tar entry is, by its header's type flag. */
export type TarEntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'directory'
  | 'character-device'
  | 'block-device'
  | 'fifo'
  | 'unsupported';

/** One member of a tar archive, with every name a reader could take for it. */
export interface TarEntry {
  /** The name GNU tar extracts it under: pax `path`, else a GNU long name, else the header's. */
  readonly path: string;
  /**
   * Every name the archive gives this entry (header, ustar prefix + name, GNU long name, pax
   * `path`), `path` first: a safety check that passes all of them cannot be fooled by which one
   * a reader picks.
   */
  readonly names: readonly string[];
  readonly type: TarEntryType;
  /** The raw type flag, for messages about unsupported entries. */
  readonly typeFlag: string;
  /** The link target of a symlink or hard link (pax `linkpath`, GNU long link, header). */
  readonly linkTarget: string | null;
  /** Every link target the archive gives the entry, as with `names`; `linkTarget` first. */
  readonly linkTargets: readonly string[];
  readonly size: number;
  readonly mode: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Pax keywords this reader does not act on but that may change extraction (GNU.sparse.*). */
  readonly paxKeys: readonly string[];
}

const BLOCK = 512;
/** Long names and pax headers larger than this are refused: no real archive needs them. */
const MAX_META_BYTES = 1024 * 1024;

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};

/**
 * Reads the entries of the tar file at `path` from their headers, without extracting anything:
 * ustar (with its name prefix), GNU long names and long link names (`L`, `K`), and pax extended
 * (`x`) and global (`g`) headers. Data blocks are skipped, never held in memory.
 *
 * @throws RestoreError `tar_invalid` when a header's checksum is wrong, the file ends inside an
 * entry, or the metadata is malformed.
 */
export async function* readTarEntries(path: string): AsyncGenerator<TarEntry> {
  const reader = new BlockReader(createReadStream(path, { highWaterMark: 256 * 1024 }));
  try {
    yield* parseTar(reader);
  } finally {
    await reader.close();
  }
}

/** Pulls exact byte counts out of a stream, a chunk at a time. */
class BlockReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly stream: NodeJS.ReadableStream & { destroy(): void };
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private ended = false;
  /** Bytes consumed so far, for messages. */
  offset = 0;

  constructor(stream: NodeJS.ReadableStream & { destroy(): void }) {
    this.stream = stream;
    this.iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Exactly `bytes` bytes, or fewer only at the end of the file. */
  async read(bytes: number): Promise<Buffer> {
    while (this.bufferedBytes < bytes && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else {
        this.buffered.push(next.value);
        this.bufferedBytes += next.value.length;
      }
    }
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const data = all ?? Buffer.alloc(0);
    const out = data.subarray(0, bytes);
    const rest = data.subarray(out.length);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    this.offset += out.length;
    return out;
  }

  /** Skips `bytes` bytes; false when the file ended first. */
  async skip(bytes: number): Promise<boolean> {
    let left = bytes;
    while (left > 0) {
      const chunk = await this.read(Math.min(left, 1024 * 1024));
      if (chunk.length === 0) return false;
      left -= chunk.length;
    }
    return true;
  }

  async close(): Promise<void> {
    this.stream.destroy();
  }
}

interface PendingMeta {
  longName?: string;
  longLink?: string;
  pax: Map<string, string>;
}

async function* parseTar(reader: BlockReader): AsyncGenerator<TarEntry> {
  const global = new Map<string, string>();
  let pending: PendingMeta = { pax: new Map() };
  for (;;) {
    const at = reader.offset;
    const header = await reader.read(BLOCK);
    if (header.length === 0) {
      // GNU tar reads an archive without its end-of-archive blocks to the end, with a warning.
      if (pending.longName !== undefined || pending.longLink !== undefined || pending.pax.size) {
        throw invalid(at, 'the archive ends after a long-name or pax header, without its entry');
      }
      return;
    }
    if (header.length < BLOCK) throw invalid(at, 'the archive ends inside a header');
    if (header.every((byte) => byte === 0)) return;
    verifyChecksum(header, at);

    const typeFlag = String.fromCharCode(header[156] ?? 0);
    const size = headerSize(header, at);
    const dataBlocks = Math.ceil(size / BLOCK) * BLOCK;

    if (typeFlag === 'L' || typeFlag === 'K' || typeFlag === 'x' || typeFlag === 'g') {
      if (size > MAX_META_BYTES) {
        throw invalid(at, `a ${metaName(typeFlag)} of ${size} bytes is larger than any real one`);
      }
      const data = await reader.read(dataBlocks);
      if (data.length < dataBlocks) throw invalid(at, 'the archive ends inside a header');
      const content = data.subarray(0, size);
      if (typeFlag === 'L') pending.longName = cString(content);
      else if (typeFlag === 'K') pending.longLink = cString(content);
      else {
        const records = parsePax(content, at);
        const into = typeFlag === 'x' ? pending.pax : global;
        for (const [key, value] of records) into.set(key, value);
      }
      continue;
    }

    const magic = header.subarray(257, 263).toString('latin1');
    const isUstar = magic === 'ustar\0';
    const headerName = cString(header.subarray(0, 100));
    const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
    const ustarName = prefix ? `${prefix}/${headerName}` : headerName;
    const headerLink = cString(header.subarray(157, 257));

    const pax = new Map([...global, ...pending.pax]);
    const path = pax.get('path') ?? pending.longName ?? ustarName;
    const linkTarget = pax.get('linkpath') ?? pending.longLink ?? headerLink;
    const names = unique([path, headerName, ustarName, pending.longName, pax.get('path')]);
    const linkTargets = unique([linkTarget, headerLink, pending.longLink, pax.get('linkpath')]);
    const type = TYPES[typeFlag] ?? 'unsupported';
    const isLink = type === 'symlink' || type === 'hardlink';
    const paxSize = pax.get('size');
    const entrySize = paxSize === undefined ? size : Number(paxSize);
    if (!Number.isSafeInteger(entrySize) || entrySize < 0) {
      throw invalid(at, `entry ${path} has an invalid pax size "${paxSize}"`);
    }
    // Readers disagree on whether a link's or directory's size field is followed by data; GNU
    // tar never writes one, so an archive that does could hide an entry from this reader.
    if (entrySize > 0 && type !== 'file' && type !== 'unsupported') {
      throw invalid(
        at,
        `entry ${path} is a ${type} with ${entrySize} bytes of data, which no tar writes`,
      );
    }
    const paxMtime = pax.get('mtime');
    const entry: TarEntry = {
      path,
      names,
      type,
      typeFlag,
      linkTarget: isLink ? linkTarget : null,
      linkTargets: isLink ? linkTargets : [],
      size: entrySize,
      mode: octal(header.subarray(100, 108)) ?? 0,
      mtime:
        paxMtime !== undefined
          ? Math.floor(Number(paxMtime))
          : (octal(header.subarray(136, 148)) ?? 0),
      paxKeys: [...pax.keys()],
    };
    pending = { pax: new Map() };
    yield entry;

    const carriesData = type === 'file' || type === 'unsupported';
    const skip = carriesData ? Math.ceil(entrySize / BLOCK) * BLOCK : 0;
    if (skip > 0 && !(await reader.skip(skip))) {
      throw invalid(at, `the archive ends inside the data of ${path}`);
    }
  }
}

function metaName(typeFlag: string): string {
  if (typeFlag === 'L') return 'GNU long name';
  if (typeFlag === 'K') return 'GNU long link name';
  return 'pax header';
}

function unique(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
}

/** The bytes up to the first NUL, as UTF-8. */
function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

function octal(field: Buffer): number | undefined {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

/** The size field: octal, or GNU's base-256 for sizes past 8 GiB. */
function headerSize(header: Buffer, at: number): number {
  const field = header.subarray(124, 136);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = 0n;
    for (let i = 1; i < field.length; i++) value = (value << 8n) | BigInt(field[i] ?? 0);
    if ((field[0] ?? 0) & 0x40 || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalid(at, 'an entry has a size no file can have');
    }
    return Number(value);
  }
  const size = octal(field);
  if (size === undefined) throw invalid(at, 'an entry has a malformed size field');
  return size;
}

function verifyChecksum(header: Buffer, at: number): void {
  const stored = octal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (stored !== sum) {
    throw invalid(at, 'a header checksum is wrong: this is not a tar archive, or it is damaged');
  }
}

/** `"%d %s=%s\n"` records, as POSIX defines them. */
function parsePax(content: Buffer, at: number): Map<string, string> {
  const records = new Map<string, string>();
  let position = 0;
  while (position < content.length) {
    if (content[position] === 0) break;
    const space = content.indexOf(0x20, position);
    const length = Number(content.subarray(position, space).toString('latin1'));
    if (space === -1 || !Number.isInteger(length) || length <= 0) {
      throw invalid(at, 'a pax header record is malformed');
    }
    const record = content.subarray(space + 1, position + length);
    if (position + length > content.length || record[record.length - 1] !== 0x0a) {
      throw invalid(at, 'a pax header record is malformed');
    }
    const text = record.subarray(0, record.length - 1).toString('utf8');
    const eq = text.indexOf('=');
    if (eq <= 0) throw invalid(at, 'a pax header record is malformed');
    records.set(text.slice(0, eq), text.slice(eq + 1));
    position += length;
  }
  return records;
}

function invalid(offset: number, why: string): RestoreError {
  return new RestoreError('tar_invalid', `${why} (at byte ${offset})`);
}
