import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, truncate, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManifestComponent } from '../../../src/backup/manifest.ts';
import {
  compressionExtension,
  type PipelineStage,
  streamToStore,
} from '../../../src/backup/pipeline.ts';
import { openComponent, stageComponent, stagedName } from '../../../src/backup/read-component.ts';
import type { Compression } from '../../../src/config/schema.ts';
import {
  ageEncryptionStage,
  generateAgeIdentity,
  parseAgeIdentity,
} from '../../../src/crypto/age/index.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';

const ID = 'bk_20261122T020000Z_full_t3st';

/** Half random, half repetitive: compresses, but not to nothing. */
function payload(bytes: number): Buffer {
  const random = randomBytes(Math.floor(bytes / 2));
  const text = Buffer.alloc(bytes - random.length, 'lifeboat ');
  return Buffer.concat([random, text]);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('reading a stored component back', () => {
  let root: string;
  let store: LocalBackupStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-read-'));
    store = new LocalBackupStore({ root: join(root, 'store') });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function storeComponent(
    raw: Buffer,
    compression: Compression,
    stage?: { stage: PipelineStage; recipients: string[] },
  ): Promise<ManifestComponent> {
    const object = `app-db.dump${compressionExtension(compression)}${stage ? '.age' : ''}`;
    const stored = await streamToStore({
      source: Readable.from([raw]),
      store,
      key: `${ID}/${object}`,
      compression,
      stages: stage ? [stage.stage] : [],
    });
    const now = new Date().toISOString();
    return {
      name: 'app-db',
      kind: 'postgres',
      object,
      bytes: stored.storedBytes,
      sha256: stored.sha256,
      rawBytes: stored.rawBytes,
      compression,
      encryption: stage ? { format: 'age', recipients: stage.recipients } : null,
      tools: {},
      startedAt: now,
      finishedAt: now,
      durationMs: 1,
      source: {
        kind: 'postgres',
        url: 'postgres://127.0.0.1/app',
        database: 'app',
        serverVersion: '15',
        format: 'custom',
        snapshot: 's',
        tables: [],
      },
    };
  }

  async function flipByte(object: string, offset: number): Promise<void> {
    const handle = await open(join(root, 'store', ID, object), 'r+');
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0x01;
    await handle.write(byte, 0, 1, offset);
    await handle.close();
  }

  it.each(['zstd', 'gzip', 'none'] as const)(
    'gives back the raw bytes of a %s object',
    async (c) => {
      const raw = payload(700_000);
      const component = await storeComponent(raw, c);
      const back = await collect(
        await openComponent({ store, backupId: ID, component, identities: [] }),
      );
      expect(back.equals(raw)).toBe(true);
    },
  );

  it('decrypts an age-encrypted object with a matching identity', async () => {
    const key = generateAgeIdentity();
    const raw = payload(300_000);
    const component = await storeComponent(raw, 'zstd', {
      stage: ageEncryptionStage([key.recipient]),
      recipients: [key.recipient],
    });
    const identities = [parseAgeIdentity(key.identity)];
    const back = await collect(await openComponent({ store, backupId: ID, component, identities }));
    expect(back.equals(raw)).toBe(true);
  });

  it('refuses an encrypted object when no identity is configured, naming the variables', async () => {
    const key = generateAgeIdentity();
    const component = await storeComponent(payload(1000), 'zstd', {
      stage: ageEncryptionStage([key.recipient]),
      recipients: [key.recipient],
    });
    await expect(openComponent({ store, backupId: ID, component, identities: [] })).rejects.toThrow(
      /component app-db .*LIFEBOAT_AGE_IDENTITY/,
    );
  });

  it('errors naming the component and both hashes when a byte was flipped', async () => {
    const component = await storeComponent(payload(200_000), 'none');
    await flipByte(component.object, 1000);
    const stream = await openComponent({ store, backupId: ID, component, identities: [] });
    await expect(collect(stream)).rejects.toMatchObject({
      code: 'object_checksum_mismatch',
      message: expect.stringMatching(
        new RegExp(`component app-db .*${component.object}.*corrupted.*${component.sha256}`),
      ),
    });
  });

  it('errors naming the component when a compressed object was corrupted', async () => {
    const component = await storeComponent(payload(200_000), 'zstd');
    await flipByte(component.object, Math.floor(component.bytes / 2));
    const stream = await openComponent({ store, backupId: ID, component, identities: [] });
    await expect(collect(stream)).rejects.toThrow(/component app-db/);
  });

  it('errors as truncated when the object is shorter than the manifest says', async () => {
    const component = await storeComponent(payload(200_000), 'none');
    await truncate(join(root, 'store', ID, component.object), component.bytes - 10);
    const stream = await openComponent({ store, backupId: ID, component, identities: [] });
    await expect(collect(stream)).rejects.toMatchObject({ code: 'object_truncated' });
  });

  it('errors naming the key when the object is gone', async () => {
    const component = await storeComponent(payload(1000), 'none');
    await unlink(join(root, 'store', ID, component.object));
    await expect(
      openComponent({ store, backupId: ID, component, identities: [] }),
    ).rejects.toMatchObject({
      code: 'object_not_found',
      message: expect.stringContaining('component app-db'),
    });
  });

  it('stages a good object to a file and leaves no file behind for a bad one', async () => {
    const raw = payload(400_000);
    const component = await storeComponent(raw, 'zstd');
    const directory = join(root, 'staging');
    await import('node:fs/promises').then((fs) => fs.mkdir(directory));
    const staged = await stageComponent({
      store,
      backupId: ID,
      component,
      identities: [],
      directory,
    });
    expect(staged.path).toBe(join(directory, 'app-db.dump'));
    expect(stagedName(component)).toBe('app-db.dump');
    expect((await readFile(staged.path)).equals(raw)).toBe(true);
    await rm(staged.path);

    await flipByte(component.object, 20);
    await expect(
      stageComponent({ store, backupId: ID, component, identities: [], directory }),
    ).rejects.toThrow(/component app-db/);
    expect(await readdir(directory)).toEqual([]);
  });

  it('rejects, naming the component and the directory, when the staging file cannot be created', async () => {
    const component = await storeComponent(payload(10_000), 'zstd');
    const missing = join(root, 'no-such-staging');
    await expect(
      stageComponent({ store, backupId: ID, component, identities: [], directory: missing }),
    ).rejects.toMatchObject({
      code: 'staging_failed',
      message: expect.stringContaining(`component app-db could not be staged in ${missing}`),
    });
  });

  it('refuses an object name that would be staged outside the staging directory', async () => {
    const component = await storeComponent(payload(1000), 'none');
    const directory = join(root, 'staging');
    await import('node:fs/promises').then((fs) => fs.mkdir(directory));
    for (const object of ['../escape.dump', 'nested/app-db.dump']) {
      await expect(
        stageComponent({
          store,
          backupId: ID,
          component: { ...component, object },
          identities: [],
          directory,
        }),
      ).rejects.toMatchObject({ code: 'invalid_object_key' });
    }
    expect(await readdir(root)).toEqual(['staging', 'store']);
    expect(await readdir(directory)).toEqual([]);
  });
});
