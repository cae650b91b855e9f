import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The largest configuration file read: far beyond any real one (200,000 targets fit). */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

const MIB = 1024 * 1024;

export type ConfigFileText =
  | { readonly ok: true; readonly text: string }
  /**
   * `problem` names the file and what is wrong with it; `missing` when there is no such file;
   * `cause` is the system error, if any.
   */
  | {
      readonly ok: false;
      readonly problem: string;
      readonly missing?: boolean;
      readonly cause?: unknown;
    };

/**
 * The text of the configuration file at `path`: a regular file (or a pipe) of at most
 * `MAX_CONFIG_BYTES`, in UTF-8. A directory, a larger file or an endless device, and bytes that
 * are not UTF-8 are problems named here, never read in whole or decoded into replacement
 * characters. A file that cannot be opened is a problem with the system's reason and its `code`.
 */
export function readConfigFile(path: string): ConfigFileText {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, problem: `${path}: ${(error as Error).message}`, missing, cause: error };
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) {
      return {
        ok: false,
        problem: `${path} is a directory; the configuration is a YAML file such as lifeboat.yaml`,
      };
    }
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) {
      return {
        ok: false,
        problem: `${path} is ${(stat.size / MIB).toFixed(1)} MiB, more than a configuration file may be (${MAX_CONFIG_BYTES / MIB} MiB)`,
      };
    }
    const bytes = readAtMost(fd, MAX_CONFIG_BYTES + 1);
    if (bytes.length > MAX_CONFIG_BYTES) {
      return {
        ok: false,
        problem: `${path} holds more than a configuration file may (${MAX_CONFIG_BYTES / MIB} MiB)`,
      };
    }
    if (!isUtf8(bytes)) {
      return {
        ok: false,
        problem: `${path} is not UTF-8 text (an invalid byte on line ${firstInvalidLine(bytes)}); save it as UTF-8`,
      };
    }
    return { ok: true, text: bytes.toString('utf8') };
  } catch (error) {
    return { ok: false, problem: `${path}: ${(error as Error).message}`, cause: error };
  } finally {
    closeSync(fd);
  }
}

/** Up to `limit` bytes from `fd`, fewer when it ends first. */
function readAtMost(fd: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, limit - total));
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) break;
    chunks.push(chunk.subarray(0, read));
    total += read;
  }
  return Buffer.concat(chunks, total);
}

/** The 1-based line of the first byte that is not UTF-8 (a newline byte is never part of a character). */
function firstInvalidLine(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  while (start <= bytes.length) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline < 0 ? bytes.length : newline;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    if (newline < 0) break;
    line += 1;
    start = newline + 1;
  }
  return line;
}
