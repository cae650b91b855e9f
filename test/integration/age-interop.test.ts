import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/run-backup.ts';
import {
  type AgeIdentity,
  createAgeDecryptStream,
  createAgeEncryptStream,
  generateAgeIdentity,
  parseAgeIdentities,
} from '../../src/crypto/age/index.ts';
import { loadAgeIdentities } from '../../src/crypto/age-identities.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { keysOf, rejection } from '../support/backup-outcomes.ts';

/** Lifeboat's age against Debian's `age` and `age-keygen`, both ways. */

const run = promisify(execFile);
const CHUNK = 64 * 1024;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17, 1_000_000];

async function lifeboatEncrypt(data: Buffer, recipients: string[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const encryptor = createAgeEncryptStream(recipients);
  encryptor.on('data', (chunk: Buffer) => out.push(chunk));
  await pipeline(Readable.from(data.length ? [data] : []), encryptor);
  return Buffer.concat(out);
}

async function lifeboatDecrypt(data: Buffer, identities: readonly AgeIdentity[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const decryptor = createAgeDecryptStream(identities);
  decryptor.on('data', (chunk: Buffer) => out.push(chunk));
  await pipeline(Readable.from([data]), decryptor);
  return Buffer.concat(out);
}

describe('age interoperability', () => {
  let work: string;
  let keygenFile: string;
  let keygenRecipient: string;
  const lifeboat = generateAgeIdentity();
  let lifeboatKeyFile: string;
  let fileNumber = 0;
  const file = () => join(work, `f${++fileNumber}`);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-age-'));
    keygenFile = join(work, 'keygen.txt');
    await run('age-keygen', ['-o', keygenFile]);
    keygenRecipient = (await run('age-keygen', ['-y', keygenFile])).stdout.trim();
    lifeboatKeyFile = join(work, 'lifeboat-key.txt');
    await writeFile(lifeboatKeyFile, `# made by Lifeboat\n${lifeboat.identity}\n`);
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('parses keys from age-keygen to the recipient age-keygen -y prints', async () => {
    const identities = loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY_FILE: keygenFile });
    expect(identities.map((identity) => identity.recipient)).toEqual([keygenRecipient]);
    expect(keygenRecipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
  });

  it('makes identities that age-keygen -y maps to the same recipient', async () => {
    const derived = (await run('age-keygen', ['-y', lifeboatKeyFile])).stdout.trim();
    expect(derived).toBe(lifeboat.recipient);
  });

  it('writes files that age -d decrypts byte for byte, empty and multi-chunk', async () => {
    for (const size of SIZES) {
      const data = randomBytes(size);
      const encrypted = file();
      await writeFile(
        encrypted,
        await lifeboatEncrypt(data, [keygenRecipient, lifeboat.recipient]),
      );
      for (const key of [keygenFile, lifeboatKeyFile]) {
        // To stdout: age creates an -o file only when it has bytes to write.
        const { stdout } = await run('age', ['-d', '-i', key, encrypted], {
          encoding: 'buffer',
          maxBuffer: 4 * size + 1024,
        });
        expect(stdout.equals(data), `size ${size}`).toBe(true);
      }
    }
  });

  it('reads files that age -r writes, to one recipient or several', async () => {
    const identities = parseAgeIdentities(await readFile(keygenFile, 'utf8'));
    for (const size of SIZES) {
      const plain = file();
      const data = randomBytes(size);
      await writeFile(plain, data);
      const encrypted = file();
      await run('age', ['-r', lifeboat.recipient, '-r', keygenRecipient, '-o', encrypted, plain]);
      expect((await lifeboatDecrypt(await readFile(encrypted), identities)).equals(data)).toBe(
        true,
      );
    }
  });

  it('reads files that age encrypts with -i (the identity file as recipient)', async () => {
    const plain = file();
    await writeFile(plain, 'from an identity file\n');
    const encrypted = file();
    await run('age', ['-e', '-i', lifeboatKeyFile, '-o', encrypted, plain]);
    const identities = parseAgeIdentities(await readFile(lifeboatKeyFile, 'utf8'));
    expect((await lifeboatDecrypt(await readFile(encrypted), identities)).toString()).toBe(
      'from an identity file\n',
    );
  });

  it('agrees with age that a damaged file is refused', async () => {
    const data = randomBytes(3 * CHUNK);
    const encrypted = await lifeboatEncrypt(data, [lifeboat.recipient]);
    const damaged = Buffer.from(encrypted);
    damaged[damaged.length - 100] = (damaged[damaged.length - 100] as number) ^ 1;
    const path = file();
    await writeFile(path, damaged);
    await expect(run('age', ['-d', '-i', lifeboatKeyFile, '-o', file(), path])).rejects.toThrow();
    await expect(
      lifeboatDecrypt(damaged, parseAgeIdentities(lifeboat.identity)),
    ).rejects.toMatchObject({ code: 'age_corrupt' });
  });

  describe('encrypted backups', () => {
    let tree: string;
    let store: LocalBackupStore;

    beforeAll(async () => {
      tree = join(work, 'uploads');
      await mkdir(join(tree, 'docs'), { recursive: true });
      await writeFile(join(tree, 'a.txt'), 'alpha\n');
      await writeFile(join(tree, 'docs/guide.md'), '# Guide\n');
      await writeFile(join(tree, 'docs/big.bin'), randomBytes(500_000));
      store = new LocalBackupStore({ root: join(work, 'store') });
    });

    const backup = (id: string, recipients: string[]) =>
      runBackup({
        id,
        profile: 'files',
        note: null,
        requestedBy: 'console:alice',
        targets: [
          {
            name: 'uploads',
            config: {
              kind: 'directory',
              path: tree,
              include: [],
              exclude: [],
              environment: 'production',
            },
          },
        ],
        compression: 'zstd',
        encryption: { recipients },
        store,
      });

    it('stores each component as .age that age -d | zstd -d | tar -t lists', async () => {
      const id = 'bk_20261122T020000Z_files_0001';
      const manifest = await backup(id, [keygenRecipient, lifeboat.recipient]);
      const component = manifest.components[0];
      expect(component?.object).toBe('uploads.tar.zst.age');
      expect(component?.encryption).toEqual({
        format: 'age',
        recipients: [keygenRecipient, lifeboat.recipient],
      });

      const stored = store.describe(`${id}/uploads.tar.zst.age`);
      const bytes = await readFile(stored);
      expect(bytes.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
      expect(bytes.length).toBe(component?.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(component?.sha256);

      const { stdout } = await run('sh', [
        '-c',
        'age -d -i "$1" "$2" | zstd -d -q | tar -t',
        'sh',
        keygenFile,
        stored,
      ]);
      expect(stdout.split('\n').filter(Boolean).sort()).toEqual([
        'a.txt',
        'docs/',
        'docs/big.bin',
        'docs/guide.md',
      ]);

      const manifestText = await readFile(store.describe(`${id}/manifest.json`), 'utf8');
      expect(manifestText).toContain(lifeboat.recipient);
      expect(manifestText).not.toContain('AGE-SECRET-KEY');
    });

    it('fails before writing anything when a recipient is malformed', async () => {
      const id = 'bk_20261122T020000Z_files_0002';
      // One character changed (never to itself), so the bech32 checksum no longer matches.
      const last = lifeboat.recipient.endsWith('x') ? 'y' : 'x';
      const error = await rejection(backup(id, [`${lifeboat.recipient.slice(0, -1)}${last}`]));
      expect(error.code).toBe('age_recipient_invalid');
      expect(error.message).toMatch(/encryption recipients are invalid/);
      expect(await keysOf(store, `${id}/`)).toEqual([]);
    });
  });
});
