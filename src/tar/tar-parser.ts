import { LifeboatError } from '../core/errors.ts';
import { decodeFileName } from '../core/file-names.ts';

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

/**
 * One member of a tar archive, with every name a reader could take for it. Names are strings
 * that map back to their exact bytes (see `decodeFileName`), whatever their encoding.
 */
export interface TarEntry {
  /**
   * The name GNU tar extracts it under: a sparse file's real name, pax `path`, a GNU long
   * name, or the header's.
   */
  readonly path: string;
  /**
   * Every name the archive gives this entry (header, ustar prefix + name, GNU long name, pax
   * `path`, sparse name), `path` first: a safety check that passes all of them cannot be fooled
   * by which one a reader picks.
   */
  readonly names: readonly string[];
  readonly type: TarEntryType;
  /** The raw type flag, for messages about unsupported entries. */
  readonly typeFlag: string;
  /** The link target of a symlink or hard link (pax `linkpath`, GNU long link, header). */
  readonly linkTarget: string | null;
  /** Every link target the archive gives the entry, as with `names`; `linkTarget` first. */
  readonly linkTargets: readonly string[];
  /** The file's size once extracted (a sparse file's real size, holes included). */
  readonly size: number;
  /** A sparse file in GNU's pax format 1.0, the one `tar --sparse --format=posix` writes. */
  readonly sparse: boolean;
  readonly mode: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Pax keywords of the entry, global ones included (`GNU.sparse.major`, `mtime`). */
  readonly paxKeys: readonly string[];
}

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
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

interface PendingMeta {
  longName?: string;
  longLink?: string;
  pax: Map<string, string>;
}

/**
 * Reads tar headers from bytes pushed to it in chunks of any size, as they stream past: ustar
 * (with its name prefix), GNU long names and long link names (`L`, `K`), pax extended (`x`) and
 * global (`g`) headers, and GNU's pax sparse format 1.0. Data is skipped, never held: memory
 * stays that of one header, or of one long name or pax header (at most 1 MiB).
 *
 * One parser serves every reader of Lifeboat's archives: the backup counts what it archives
 * from tar's output, level 2 checks the stream it decrypted, and a restore checks the staged
 * file before anything is extracted.
 */
export class TarParser {
  /** Bytes consumed so far. */
  private offset = 0;
  private readonly global = new Map<string, string>();
  private pending: PendingMeta = { pax: new Map() };
  /** The header or metadata being collected, and how many bytes it needs. */
  private collected: Buffer[] = [];
  private collectedBytes = 0;
  private wanted = BLOCK;
  /** The header of the metadata being collected, when it is metadata. */
  private meta: { typeFlag: string; size: number; at: number } | null = null;
  /** Data bytes of the current entry still to skip, and whose they are. */
  private skipping = 0;
  private skippingPath = '';
  private skippingAt = 0;
  private ended = false;

  /** True once the end-of-archive block was read; later bytes are padding and ignored. */
  get done(): boolean {
    return this.ended;
  }

  /**
   * Reads `chunk` and returns the entries whose headers it completed, in archive order.
   *
   * @throws LifeboatError `tar_invalid` when a header's checksum is wrong or the metadata is malformed.
   */
  push(chunk: Uint8Array): TarEntry[] {
    const out: TarEntry[] = [];
    let position = 0;
    while (position < chunk.length && !this.ended) {
      if (this.skipping > 0) {
        const taken = Math.min(this.skipping, chunk.length - position);
        this.skipping -= taken;
        position += taken;
        this.offset += taken;
        continue;
      }
      const taken = Math.min(this.wanted - this.collectedBytes, chunk.length - position);
      const piece = chunk.subarray(position, position + taken);
      position += taken;
      this.offset += taken;
      let block: Buffer;
      if (this.collectedBytes === 0 && taken === this.wanted) {
        // Whole in this chunk: read in place, as nothing read from it is kept.
        block = Buffer.from(piece.buffer, piece.byteOffset, piece.length);
      } else {
        // Split across chunks: the pieces are copied, as the caller may reuse its buffers.
        this.collected.push(Buffer.from(piece));
        this.collectedBytes += taken;
        if (this.collectedBytes < this.wanted) continue;
        block = Buffer.concat(this.collected, this.collectedBytes);
        this.collected = [];
        this.collectedBytes = 0;
      }
      if (this.meta) this.readMeta(block);
      else {
        const entry = this.readHeader(block, this.offset - BLOCK);
        if (entry) out.push(entry);
      }
    }
    return out;
  }

  /**
   * Says the input is over.
   *
   * @throws LifeboatError `tar_invalid` when it ended inside a header, an entry's data, or after metadata
   * without its entry. An archive without its end-of-archive blocks is accepted, as GNU tar
   * reads one (with a warning).
   */
  end(): void {
    if (this.ended) return;
    if (this.skipping > 0) {
      throw invalid(this.skippingAt, `the archive ends inside the data of ${this.skippingPath}`);
    }
    if (this.collectedBytes > 0 || this.meta) {
      throw invalid(this.offset - this.collectedBytes, 'the archive ends inside a header');
    }
    const { longName, longLink, pax } = this.pending;
    if (longName !== undefined || longLink !== undefined || pax.size > 0) {
      throw invalid(
        this.offset,
        'the archive ends after a long-name or pax header, without its entry',
      );
    }
  }

  private readMeta(data: Buffer): void {
    const { typeFlag, size, at } = this.meta as NonNullable<typeof this.meta>;
    this.meta = null;
    this.wanted = BLOCK;
    const content = data.subarray(0, size);
    if (typeFlag === 'L') this.pending.longName = cString(content);
    else if (typeFlag === 'K') this.pending.longLink = cString(content);
    else {
      const into = typeFlag === 'x' ? this.pending.pax : this.global;
      for (const [key, value] of parsePax(content, at)) into.set(key, value);
    }
  }

  private readHeader(header: Buffer, at: number): TarEntry | null {
    if (header.equals(ZERO_BLOCK)) {
      this.ended = true;
      return null;
    }
    verifyChecksum(header, at);
    const typeFlag = String.fromCharCode(header[156] ?? 0);
    const size = headerSize(header, at);
    const dataBlocks = Math.ceil(size / BLOCK) * BLOCK;

    if (typeFlag === 'L' || typeFlag === 'K' || typeFlag === 'x' || typeFlag === 'g') {
      if (size > MAX_META_BYTES) {
        throw invalid(at, `a ${metaName(typeFlag)} of ${size} bytes is larger than any real one`);
      }
      this.meta = { typeFlag, size, at };
      if (dataBlocks > 0) this.wanted = dataBlocks;
      else this.readMeta(Buffer.alloc(0));
      return null;
    }

    const magic = header.subarray(257, 263).toString('latin1');
    const isUstar = magic === 'ustar\0';
    const headerName = cString(header.subarray(0, 100));
    const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
    const ustarName = prefix ? `${prefix}/${headerName}` : headerName;
    const headerLink = cString(header.subarray(157, 257));

    const pax = new Map([...this.global, ...this.pending.pax]);
    const sparse = isSparse1(pax);
    const sparseName = sparse ? pax.get('GNU.sparse.name') : undefined;
    const path = sparseName ?? pax.get('path') ?? this.pending.longName ?? ustarName;
    const linkTarget = pax.get('linkpath') ?? this.pending.longLink ?? headerLink;
    const names = unique([
      path,
      headerName,
      ustarName,
      this.pending.longName,
      pax.get('path'),
      pax.get('GNU.sparse.name'),
    ]);
    const linkTargets = unique([
      linkTarget,
      headerLink,
      this.pending.longLink,
      pax.get('linkpath'),
    ]);
    const type = TYPES[typeFlag] ?? 'unsupported';
    const isLink = type === 'symlink' || type === 'hardlink';
    const storedSize = paxNumber(pax, 'size', size, path, at);
    // Readers disagree on whether a link's or directory's size field is followed by data; GNU
    // tar never writes one, so an archive that does could hide an entry from this reader.
    if (storedSize > 0 && type !== 'file' && type !== 'unsupported') {
      throw invalid(
        at,
        `entry ${path} is a ${type} with ${storedSize} bytes of data, which no tar writes`,
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
      size: sparse ? paxNumber(pax, 'GNU.sparse.realsize', 0, path, at) : storedSize,
      sparse,
      mode: octal(header.subarray(100, 108)) ?? 0,
      mtime:
        paxMtime !== undefined
          ? Math.floor(Number(paxMtime))
          : (octal(header.subarray(136, 148)) ?? 0),
      paxKeys: [...pax.keys()],
    };
    this.pending = { pax: new Map() };
    const carriesData = type === 'file' || type === 'unsupported';
    this.skipping = carriesData ? Math.ceil(storedSize / BLOCK) * BLOCK : 0;
    this.skippingPath = path;
    this.skippingAt = at;
    return entry;
  }
}

/** GNU's sparse format 1.0: the map is at the start of the data, the real name in the pax header. */
function isSparse1(pax: ReadonlyMap<string, string>): boolean {
  return (
    pax.get('GNU.sparse.major') === '1' &&
    pax.get('GNU.sparse.minor') === '0' &&
    pax.has('GNU.sparse.name') &&
    pax.has('GNU.sparse.realsize')
  );
}

function paxNumber(
  pax: ReadonlyMap<string, string>,
  key: string,
  fallback: number,
  path: string,
  at: number,
): number {
  const text = pax.get(key);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw invalid(at, `entry ${path} has an invalid pax ${key} "${text}"`);
  }
  return value;
}

function metaName(typeFlag: string): string {
  if (typeFlag === 'L') return 'GNU long name';
  if (typeFlag === 'K') return 'GNU long link name';
  return 'pax header';
}

function unique(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
}

/** The bytes up to the first NUL, as a name (see `decodeFileName`). */
function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return decodeFileName(bytes.subarray(0, end === -1 ? bytes.length : end));
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

/**
 * `"%d %s=%s\n"` records, as POSIX defines them. Values are read as names are (byte-exact),
 * which is UTF-8 for every value that is valid UTF-8 and keeps the bytes of those that are not
 * (GNU tar writes a name's bytes as they are when they are not in the locale's charset).
 */
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
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw invalid(at, 'a pax header record is malformed');
    const key = record.subarray(0, eq).toString('utf8');
    records.set(key, decodeFileName(record.subarray(eq + 1, record.length - 1)));
    position += length;
  }
  return records;
}

/** `tar_invalid`: the bytes are not a well-formed tar archive. */
function invalid(offset: number, why: string): LifeboatError {
  return new LifeboatError('tar_invalid', `${why} (at byte ${offset})`);
}
