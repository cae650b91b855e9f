import { createCipheriv } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A generated tree of files to back up, like an uploads or data directory. */
export interface BenchTree {
  readonly path: string;
  readonly files: number;
  /** Sum of the files' sizes: the raw bytes the throughput is counted in. */
  readonly bytes: number;
}

const FILES_PER_DIRECTORY = 100;
const WORDS =
  'order customer invoice shipped pending paid refund warehouse parcel account session error info debug user product cart total tax'.split(
    ' ',
  );

/**
 * About `bytes` in files of 2 KB to 1 MB (log-uniform, so many small files and a few large
 * ones), 100 per directory: half of them log-like text that compresses well, a quarter random
 * bytes (photos, archives: incompressible), a quarter a mix of both. The same `bytes` always
 * gives the same tree, so runs compare; it is reused when `<path>.complete` exists.
 */
export async function ensureTree(path: string, bytes: number, fresh: boolean): Promise<BenchTree> {
  const marker = `${path}.complete`;
  if (!fresh && (await exists(marker))) return plan(path, bytes);
  await rm(path, { recursive: true, force: true });
  await rm(marker, { force: true });
  const tree = plan(path, bytes);
  const random = seeded(bytes);
  const noise = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  for (const [index, file] of tree.list.entries()) {
    if (index % FILES_PER_DIRECTORY === 0)
      await mkdir(join(path, file.directory), { recursive: true });
    const kind = index % 4;
    const data =
      kind === 0 || kind === 1
        ? text(file.size, random)
        : kind === 2
          ? noise.update(Buffer.alloc(file.size))
          : Buffer.concat([
              text(file.size >> 1, random),
              noise.update(Buffer.alloc(file.size - (file.size >> 1))),
            ]);
    await writeFile(join(path, file.directory, file.name), data);
  }
  await writeFile(marker, `${tree.files} files, ${tree.bytes} bytes\n`);
  return { path, files: tree.files, bytes: tree.bytes };
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await rm(`${path}.complete`, { force: true });
}

interface PlannedFile {
  readonly directory: string;
  readonly name: string;
  readonly size: number;
}

/** The file list for `bytes`: deterministic, so a kept tree is known without walking it. */
function plan(path: string, bytes: number): BenchTree & { list: PlannedFile[] } {
  const random = seeded(bytes + 1);
  const list: PlannedFile[] = [];
  let total = 0;
  while (total < bytes) {
    const size = Math.min(Math.round(2048 * 512 ** random()), bytes - total);
    const index = list.length;
    const directory = `d${String(Math.floor(index / FILES_PER_DIRECTORY)).padStart(4, '0')}`;
    list.push({ directory, name: `f${String(index).padStart(6, '0')}.dat`, size });
    total += size;
  }
  return { path, files: list.length, bytes: total, list };
}

/** Log-like lines: timestamps, words and numbers, compressible about 4:1 like real logs. */
function text(size: number, random: () => number): Buffer {
  const lines: string[] = [];
  let length = 0;
  while (length < size) {
    const words = Array.from(
      { length: 4 + Math.floor(random() * 6) },
      () => WORDS[Math.floor(random() * WORDS.length)],
    );
    const line = `2025-01-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}T${Math.floor(random() * 86_400_000)} ${words.join(' ')} id=${Math.floor(random() * 1e9)}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1').subarray(0, size);
}

/** mulberry32: a small seeded generator, so the tree is the same on every machine. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
