/**
 * Throughput of the age streams on this machine: `npx node bench/age-throughput.ts [MiB]`.
 * Encrypts MiB (default 1024) of random-looking bytes fed in 256 KiB pieces (zstd's output
 * size in the backup pipeline), then decrypts the result, and prints MB/s for each.
 */
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createAgeDecryptStream,
  createAgeEncryptStream,
  generateAgeIdentity,
  parseAgeIdentity,
} from '../src/crypto/age/index.ts';

const mebibytes = Number(process.argv[2] ?? 1024);
const PIECE = 256 * 1024;
const pieces = (mebibytes * 1024 * 1024) / PIECE;
const block = randomBytes(PIECE * 4);

function* plaintext(): Generator<Buffer> {
  for (let i = 0; i < pieces; i++) {
    const offset = (i % 4) * PIECE;
    yield block.subarray(offset, offset + PIECE);
  }
}

const { identity, recipient } = generateAgeIdentity();
const encrypted: Buffer[] = [];
let encryptedBytes = 0;
let plainBytes = 0;

// Timed with a sink that only counts: keeping 1 GiB alive would time the garbage collector.
const encryptStart = performance.now();
await pipeline(
  Readable.from(plaintext()),
  createAgeEncryptStream([recipient]),
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      encryptedBytes += chunk.length;
      callback();
    },
  }),
);
const encryptSeconds = (performance.now() - encryptStart) / 1000;

await pipeline(
  Readable.from(plaintext()),
  createAgeEncryptStream([recipient]),
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      encrypted.push(chunk);
      callback();
    },
  }),
);

const decryptStart = performance.now();
await pipeline(
  Readable.from(encrypted),
  createAgeDecryptStream([parseAgeIdentity(identity)]),
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      plainBytes += chunk.length;
      callback();
    },
  }),
);
const decryptSeconds = (performance.now() - decryptStart) / 1000;

const total = pieces * PIECE;
if (plainBytes !== total) throw new Error(`decrypted ${plainBytes} bytes of ${total}`);
if (encryptedBytes <= total) throw new Error(`encrypted to only ${encryptedBytes} bytes`);
const rate = (seconds: number) => `${(total / 1e6 / seconds).toFixed(0)} MB/s`;
console.log(`age encrypt: ${rate(encryptSeconds)} (${encryptSeconds.toFixed(2)} s)`);
console.log(`age decrypt: ${rate(decryptSeconds)} (${decryptSeconds.toFixed(2)} s)`);
