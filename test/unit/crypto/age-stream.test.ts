import { randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LifeboatError } from '../../../src/core/errors.ts';
import { formatHeader } from '../../../src/crypto/age/header.ts';
import {
  type AgeIdentity,
  ageEncryptionStage,
  createAgeDecryptStream,
  createAgeEncryptStream,
  generateAgeIdentity,
  parseAgeIdentities,
  parseAgeIdentity,
  parseAgeRecipient,
} from '../../../src/crypto/age/index.ts';
import { payloadKey, sealChunk } from '../../../src/crypto/age/stream.ts';
import { wrapFileKey } from '../../../src/crypto/age/x25519.ts';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;

// Made by `printf 'Hello from age 1.1.1\n' | age -r RECIPIENT_42` with Debian's age 1.1.1.
const IDENTITY_42 = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX';
const FROM_AGE_CLI =
  'YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSAyTEVZMnlZZEMxYmJ4YnI0dCtkWDBvZXlPa2ozOXQvWlJMbHM2TUxyTVZZCkEvWWo2dERnNEx4OVJjVEpja2hUam9OMG96SDNLYVdvMEhvM01welRObUEKLS0tIHhldDhIeUZXTHZUc0RBeERMSUdQNWZVMk1vWFlCeW9PcWlLemxRUElnbG8K4VLyhcIpXHQceP8btJXmUE75lBTlk5kH2yT1VzjAi5nI5DBHV46bOyN2PVLSLkC86RPcO98=';

const alice = generateAgeIdentity();
const bob = generateAgeIdentity();
const aliceId = parseAgeIdentity(alice.identity);
const bobId = parseAgeIdentity(bob.identity);

/** `data` cut into pieces of `size` bytes (the last one shorter). */
function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function encrypt(data: Buffer, recipients: string[], piece = 8191): Promise<Buffer> {
  const out: Buffer[] = [];
  const encryptor = createAgeEncryptStream(recipients);
  encryptor.on('data', (chunk: Buffer) => out.push(chunk));
  await pipeline(Readable.from(pieces(data, piece)), encryptor);
  return Buffer.concat(out);
}

/** What the decryptor emitted, and the error it failed with, if any. */
async function decrypt(
  data: Buffer,
  identities: readonly AgeIdentity[],
  piece = 10_000,
): Promise<{ output: Buffer; error: LifeboatError | undefined }> {
  const out: Buffer[] = [];
  const decryptor = createAgeDecryptStream(identities);
  decryptor.on('data', (chunk: Buffer) => out.push(chunk));
  let error: LifeboatError | undefined;
  try {
    await pipeline(Readable.from(pieces(data, piece)), decryptor);
  } catch (caught) {
    if (!(caught instanceof LifeboatError)) throw caught;
    error = caught;
  }
  return { output: Buffer.concat(out), error };
}

async function roundTrip(data: Buffer, inPiece?: number, outPiece?: number): Promise<Buffer> {
  const encrypted = await encrypt(data, [alice.recipient], inPiece);
  const { output, error } = await decrypt(encrypted, [aliceId], outPiece);
  expect(error).toBeUndefined();
  return output;
}

/** Where the payload starts: after the header's MAC line and the 16-byte nonce. */
function payloadOffset(file: Buffer): number {
  return file.indexOf('\n---') + file.subarray(file.indexOf('\n---') + 1).indexOf('\n') + 2 + 16;
}

function flipped(file: Buffer, offset: number): Buffer {
  const copy = Buffer.from(file);
  copy[offset] = (copy[offset] as number) ^ 0x01;
  return copy;
}

describe('age streams', () => {
  it('round-trips payloads around the 64 KiB chunk size', async () => {
    for (const size of [0, 1, 65_535, 65_536, 65_537, 3 * 65_536]) {
      const data = randomBytes(size);
      const encrypted = await encrypt(data, [alice.recipient]);
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      expect(encrypted.length - payloadOffset(encrypted), `size ${size}`).toBe(size + 16 * chunks);
      const { output, error } = await decrypt(encrypted, [aliceId]);
      expect(error).toBeUndefined();
      expect(output.equals(data), `size ${size}`).toBe(true);
    }
  });

  it('round-trips random sizes fed in random piece sizes', async () => {
    for (let i = 0; i < 12; i++) {
      const data = randomBytes(randomInt(0, 5 * CHUNK));
      const output = await roundTrip(data, randomInt(1, 3 * CHUNK), randomInt(1, 3 * CHUNK));
      expect(output.equals(data)).toBe(true);
    }
  });

  it('round-trips when every byte arrives on its own, header included', async () => {
    const data = randomBytes(1000);
    expect((await roundTrip(data, 1, 1)).equals(data)).toBe(true);
  });

  it('uses a fresh file key each time: two encryptions of the same bytes differ', async () => {
    const data = Buffer.alloc(100, 1);
    const [one, two] = [
      await encrypt(data, [alice.recipient]),
      await encrypt(data, [alice.recipient]),
    ];
    expect(one.equals(two)).toBe(false);
  });

  it('decrypts a file made by the age command line tool', async () => {
    const { output, error } = await decrypt(Buffer.from(FROM_AGE_CLI, 'base64'), [
      parseAgeIdentity(IDENTITY_42),
    ]);
    expect(error).toBeUndefined();
    expect(output.toString()).toBe('Hello from age 1.1.1\n');
  });

  describe('several recipients (key rotation)', () => {
    it('lets each recipient alone decrypt a file encrypted to both', async () => {
      const data = randomBytes(70_000);
      const encrypted = await encrypt(data, [alice.recipient, bob.recipient]);
      for (const identity of [aliceId, bobId]) {
        const { output, error } = await decrypt(encrypted, [identity]);
        expect(error).toBeUndefined();
        expect(output.equals(data)).toBe(true);
      }
    });

    it('keeps old backups readable with the old key while new ones use the new key', async () => {
      const oldBackup = randomBytes(5000);
      const newBackup = randomBytes(6000);
      const oldFile = await encrypt(oldBackup, [alice.recipient]);
      const newFile = await encrypt(newBackup, [bob.recipient]);
      expect((await decrypt(oldFile, [aliceId])).output.equals(oldBackup)).toBe(true);
      expect((await decrypt(newFile, [aliceId])).error?.code).toBe('age_no_identity');
      // An identity file holding both keys opens both backups.
      const both = parseAgeIdentities(
        `# old key\n${alice.identity}\n\n# new key, since the rotation\n${bob.identity}\n`,
      );
      expect(both.map((identity) => identity.recipient)).toEqual([alice.recipient, bob.recipient]);
      expect((await decrypt(oldFile, both)).output.equals(oldBackup)).toBe(true);
      expect((await decrypt(newFile, both)).output.equals(newBackup)).toBe(true);
    });
  });

  it('fails with age_no_identity and emits nothing for the wrong identity', async () => {
    const encrypted = await encrypt(randomBytes(200_000), [alice.recipient]);
    const wrong = await decrypt(encrypted, [bobId]);
    expect(wrong.error?.code).toBe('age_no_identity');
    expect(wrong.error?.message).toContain(bob.recipient);
    expect(wrong.output.length).toBe(0);
    const none = await decrypt(encrypted, []);
    expect(none.error?.code).toBe('age_no_identity');
    expect(none.error?.message).toMatch(/LIFEBOAT_AGE_IDENTITY/);
  });

  describe('tampering', () => {
    const data = randomBytes(3 * CHUNK + 1000);
    const encrypted = encrypt(data, [alice.recipient]);

    it('detects a flipped byte anywhere in the header and emits nothing', async () => {
      const file = await encrypted;
      const headerEnd = payloadOffset(file) - 16;
      const text = file.subarray(0, headerEnd).toString('latin1');
      const offsets = [
        3, // version line
        text.indexOf('X25519') + 1, // stanza type: no X25519 stanza left
        text.indexOf('X25519') + 8, // ephemeral share
        text.indexOf('\n', text.indexOf('-> ')) + 5, // wrapped file key
        text.indexOf('--- ') + 10, // MAC
      ];
      for (const offset of offsets) {
        const { output, error } = await decrypt(flipped(file, offset), [aliceId]);
        expect(error?.code, `offset ${offset}`).toMatch(/^age_(header_invalid|no_identity)$/);
        expect(output.length).toBe(0);
      }
    });

    it('detects a flipped byte in the payload nonce', async () => {
      const file = await encrypted;
      const { output, error } = await decrypt(flipped(file, payloadOffset(file) - 3), [aliceId]);
      expect(error?.code).toBe('age_corrupt');
      expect(output.length).toBe(0);
    });

    it('detects a flipped byte in the first chunk and emits nothing of it', async () => {
      const file = await encrypted;
      const { output, error } = await decrypt(flipped(file, payloadOffset(file) + 100), [aliceId]);
      expect(error?.code).toBe('age_corrupt');
      expect(error?.message).toMatch(/chunk 1 /);
      expect(output.length).toBe(0);
    });

    it('detects a flipped byte in the last chunk, having emitted only the authenticated chunks', async () => {
      const file = await encrypted;
      const { output, error } = await decrypt(flipped(file, file.length - 20), [aliceId]);
      expect(error?.code).toBe('age_corrupt');
      expect(error?.message).toMatch(/chunk 4 /);
      expect(output.length).toBe(3 * CHUNK);
      expect(output.equals(data.subarray(0, 3 * CHUNK))).toBe(true);
    });

    it('detects a flipped tag byte', async () => {
      const file = await encrypted;
      const { error } = await decrypt(flipped(file, payloadOffset(file) + SEALED - 1), [aliceId]);
      expect(error?.code).toBe('age_corrupt');
    });
  });

  describe('truncation', () => {
    const data = randomBytes(3 * CHUNK + 1000);
    const encrypted = encrypt(data, [alice.recipient]);

    it('fails at every cut, never ending cleanly, and emits only whole authenticated chunks', async () => {
      const file = await encrypted;
      const payload = payloadOffset(file);
      const cuts = [
        0,
        10,
        payload - 40, // inside the header
        payload - 16, // right after the header
        payload - 5, // inside the nonce
        payload, // right after the nonce
        payload + 15, // inside the first tag-sized prefix
        payload + 1000,
        payload + SEALED, // exactly at the first chunk boundary
        payload + 2 * SEALED, // exactly at the second
        payload + 3 * SEALED, // exactly at the third, before the final chunk
        payload + 3 * SEALED + 500,
        file.length - 1,
      ];
      for (const cut of cuts) {
        const { output, error } = await decrypt(file.subarray(0, cut), [aliceId]);
        expect(error?.code, `cut at ${cut}`).toMatch(/^age_(truncated|corrupt)$/);
        expect(output.length % CHUNK, `cut at ${cut}`).toBe(0);
        expect(output.equals(data.subarray(0, output.length))).toBe(true);
      }
    });

    it('names a cut exactly at a chunk boundary as truncation', async () => {
      const file = await encrypted;
      for (const chunks of [0, 1, 2, 3]) {
        const cut = payloadOffset(file) + chunks * SEALED;
        const { output, error } = await decrypt(file.subarray(0, cut), [aliceId]);
        expect(error?.code, `after ${chunks} chunks`).toBe('age_truncated');
        // The last whole chunk is held back until the stream shows whether it is the final one.
        expect(output.length).toBe(Math.max(0, chunks - 1) * CHUNK);
        expect(error?.message).toMatch(
          chunks === 0 ? /before its first payload chunk/ : new RegExp(`after chunk ${chunks},`),
        );
      }
    });

    it('reports an empty stream and a stream cut inside the header as truncated', async () => {
      expect((await decrypt(Buffer.alloc(0), [aliceId])).error?.code).toBe('age_truncated');
      const file = await encrypted;
      expect((await decrypt(file.subarray(0, 50), [aliceId])).error?.message).toMatch(/header/);
    });
  });

  it('rejects data after the final chunk', async () => {
    for (const size of [CHUNK, 1000]) {
      const file = await encrypt(randomBytes(size), [alice.recipient]);
      const { error } = await decrypt(Buffer.concat([file, Buffer.from('x')]), [aliceId]);
      expect(error?.code, `size ${size}`).toBe('age_corrupt');
    }
    const full = await encrypt(randomBytes(CHUNK), [alice.recipient]);
    const { error } = await decrypt(Buffer.concat([full, randomBytes(40)]), [aliceId]);
    expect(error?.message).toMatch(/data after its final chunk/);
  });

  it('rejects an empty final chunk after the first, which age forbids', async () => {
    const fileKey = randomBytes(16);
    const nonce = randomBytes(16);
    const key = payloadKey(fileKey, nonce);
    const header = formatHeader(
      [wrapFileKey(fileKey, parseAgeRecipient(alice.recipient))],
      fileKey,
    );
    const first = randomBytes(CHUNK);
    const build = (last: Buffer) =>
      Buffer.concat([
        header,
        nonce,
        ...sealChunk(key, 0, false, [first]),
        ...sealChunk(key, 1, true, [last]),
      ]);
    // The same construction with a non-empty final chunk is a valid file.
    const valid = await decrypt(build(Buffer.from('end')), [aliceId]);
    expect(valid.error).toBeUndefined();
    expect(valid.output.equals(Buffer.concat([first, Buffer.from('end')]))).toBe(true);

    const { error } = await decrypt(build(Buffer.alloc(0)), [aliceId]);
    expect(error?.code).toBe('age_corrupt');
    expect(error?.message).toMatch(/final chunk \(chunk 2\) is empty/);
  });

  it('refuses input that is not age at once, before reading it all', async () => {
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(300_000)]);
    const { error } = await decrypt(zstd, [aliceId]);
    expect(error?.code).toBe('age_header_invalid');
    expect(error?.message).toMatch(/not an age file/);
  });

  it('shows only the public recipient when an identity is printed or serialised', () => {
    expect(JSON.parse(JSON.stringify(aliceId))).toEqual({ recipient: alice.recipient });
    const secretPart = alice.identity.slice(16, 40);
    expect(inspect(aliceId, { showHidden: true, depth: 5 })).not.toContain(secretPart);
    expect(JSON.stringify(aliceId)).not.toContain(secretPart);
  });

  it('makes generated identities that match their recipients', () => {
    const { identity, recipient } = generateAgeIdentity();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
    expect(recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(parseAgeIdentity(identity).recipient).toBe(recipient);
  });

  describe('ageEncryptionStage', () => {
    it('is the "age" pipeline stage making working encryptors', async () => {
      const stage = ageEncryptionStage([alice.recipient]);
      expect(stage.name).toBe('age');
      const out: Buffer[] = [];
      const encryptor = stage.create();
      encryptor.on('data', (chunk: Buffer) => out.push(chunk));
      await pipeline(Readable.from([Buffer.from('dump')]), encryptor);
      expect((await decrypt(Buffer.concat(out), [aliceId])).output.toString()).toBe('dump');
    });

    it('refuses a malformed recipient or none before any bytes flow', () => {
      expect(() => ageEncryptionStage([alice.recipient, 'age1nope'])).toThrow(
        expect.objectContaining({ code: 'age_recipient_invalid' }),
      );
      expect(() => ageEncryptionStage([])).toThrow(/at least one recipient/);
      expect(() => createAgeEncryptStream([alice.identity])).toThrow(/wrong prefix/);
    });
  });
});
