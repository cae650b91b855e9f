/**
 * Builds tar archives byte by byte, so tests can craft the malicious ones no honest tool writes:
 * `..` names, absolute links, entries beneath symlinks, pax overrides, devices.
 */

export interface TarMember {
  readonly name: string;
  /** `0` file, `1` hard link, `2` symlink, `3`/`4` devices, `5` directory, `6` FIFO, `L`, `K`, `x`, `g`. */
  readonly type?: string;
  readonly data?: Buffer | string;
  readonly linkName?: string;
  readonly mode?: number;
  readonly mtime?: number;
  /** The ustar name prefix (bytes 345–500). */
  readonly prefix?: string;
  /** Writes this size in the header instead of the data's. */
  readonly size?: number;
  /** Writes the header with GNU's magic (`ustar  \0`) rather than POSIX ustar's. */
  readonly gnu?: boolean;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function octalField(header: Buffer, offset: number, length: number, value: number): void {
  field(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** One header block and its data blocks. */
export function tarMember(member: TarMember): Buffer {
  const data = Buffer.isBuffer(member.data) ? member.data : Buffer.from(member.data ?? '');
  const header = Buffer.alloc(BLOCK);
  field(header, 0, 100, member.name);
  octalField(header, 100, 8, member.mode ?? 0o644);
  octalField(header, 108, 8, 0);
  octalField(header, 116, 8, 0);
  octalField(header, 124, 12, member.size ?? data.length);
  octalField(header, 136, 12, member.mtime ?? 1_700_000_000);
  header.write(member.type ?? '0', 156, 1, 'latin1');
  field(header, 157, 100, member.linkName ?? '');
  if (member.gnu) header.write('ustar  \0', 257, 8, 'latin1');
  else header.write('ustar\u000000', 257, 8, 'latin1');
  field(header, 265, 32, 'root');
  field(header, 297, 32, 'root');
  if (member.prefix) field(header, 345, 155, member.prefix);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Buffer.alloc(Math.ceil(data.length / BLOCK) * BLOCK);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

/** A pax extended header (`x`) with these records, for the next member. */
export function paxHeader(records: Record<string, string>, type = 'x'): Buffer {
  const text = Object.entries(records)
    .map(([key, value]) => {
      const body = ` ${key}=${value}\n`;
      let length = Buffer.byteLength(body) + 1;
      while (String(length).length + Buffer.byteLength(body) !== length) length++;
      return `${length}${body}`;
    })
    .join('');
  return tarMember({ name: 'PaxHeaders/x', type, data: text });
}

/** A GNU long name (`L`) or long link name (`K`) for the next member. */
export function gnuLongName(name: string, type: 'L' | 'K' = 'L'): Buffer {
  return tarMember({ name: '././@LongLink', type, data: `${name}\0`, gnu: true });
}

/** The members followed by the two zero blocks that end an archive. */
export function tarArchive(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, Buffer.alloc(2 * BLOCK)]);
}
