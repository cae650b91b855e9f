/**
 * Where the backup pipeline spends its time: `node bench/pipeline-stages.ts FILE` streams FILE
 * (a raw pg_dump, a tar) through growing prefixes of the real pipeline — read, + zstd, + age,
 * + sha256, + the local store's write and fsync — and prints MB/s of FILE's bytes for each, so
 * the stage that costs the most is the one whose row drops.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createCompressor } from '../src/backup/pipeline.ts';
import { ageEncryptionStage, generateAgeIdentity } from '../src/crypto/age/index.ts';
import { LocalBackupStore } from '../src/storage/local-backup-store.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bench/pipeline-stages.ts FILE\n');
  process.exit(2);
}
const bytes = (await stat(file)).size;
const { recipient } = generateAgeIdentity();

const zstd = () => createCompressor('zstd') as Transform;
const age = () => ageEncryptionStage([recipient]).create();
const sha256 = () => {
  const hash = createHash('sha256');
  return new PassThrough({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
};
const discard = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });

const variants: [string, () => Transform[]][] = [
  ['read', () => []],
  ['read + zstd-3', () => [zstd()]],
  ['read + zstd-3 + age', () => [zstd(), age()]],
  ['read + zstd-3 + age + sha256', () => [zstd(), age(), sha256()]],
  ['read + age (no zstd)', () => [age()]],
  ['read + sha256 (no zstd)', () => [sha256()]],
];

for (const [name, stages] of variants) {
  const started = performance.now();
  await pipeline([createReadStream(file), ...stages(), discard()]);
  report(name, performance.now() - started);
}

const root = await mkdtemp(join(tmpdir(), 'lifeboat-stages-'));
try {
  const store = new LocalBackupStore({ root });
  const started = performance.now();
  const body = new PassThrough();
  const storing = store.put('bk_stages/x.zst.age', body);
  await pipeline([createReadStream(file), zstd(), age(), sha256(), body]);
  await storing;
  report('read + zstd-3 + age + sha256 + local store (fsync)', performance.now() - started);
} finally {
  await rm(root, { recursive: true, force: true });
}

function report(name: string, ms: number): void {
  const rate = bytes / 1e6 / (ms / 1000);
  process.stdout.write(
    `${name.padEnd(52)} ${rate.toFixed(0).padStart(6)} MB/s  ${(ms / 1000).toFixed(2)} s\n`,
  );
}
