import { describe, expect, it } from 'vitest';
import { MANIFEST_FORMAT, type Manifest } from '../../../src/backup/manifest.ts';
import { chooseLevel } from '../../../src/verify/verification-level.ts';

const ID = 'bk_20261122T020000Z_full_7q3k';

function manifest(encrypted: boolean): Manifest {
  return {
    format: MANIFEST_FORMAT,
    id: ID,
    profile: 'full',
    note: null,
    requestedBy: 'console:alice',
    lifeboatVersion: '0.3.0',
    startedAt: '2026-11-22T02:00:00.000Z',
    finishedAt: '2026-11-22T02:00:01.000Z',
    durationMs: 1000,
    storage: [],
    components: [
      {
        name: 'uploads',
        kind: 'directory',
        object: encrypted ? 'uploads.tar.zst.age' : 'uploads.tar.zst',
        bytes: 10,
        sha256: 'a'.repeat(64),
        rawBytes: 20,
        compression: 'zstd',
        encryption: encrypted ? { format: 'age', recipients: ['age1abc'] } : null,
        tools: {},
        startedAt: '2026-11-22T02:00:00.000Z',
        finishedAt: '2026-11-22T02:00:01.000Z',
        durationMs: 1000,
        source: {
          kind: 'directory',
          path: '/srv/uploads',
          include: [],
          exclude: [],
          counts: 'archive',
          files: 1,
          directories: 0,
          bytes: 20,
          warnings: [],
        },
      },
    ],
  };
}

describe('choosing the level of a verification', () => {
  it('runs the level asked for when nothing needs a key or the key is there', () => {
    for (const requested of [1, 2, 3] as const) {
      expect(
        chooseLevel({ manifest: manifest(false), requested, explicit: true, hasIdentity: false }),
      ).toEqual({ level: requested, notes: [], refusal: null });
      expect(
        chooseLevel({ manifest: manifest(true), requested, explicit: false, hasIdentity: true }),
      ).toEqual({ level: requested, notes: [], refusal: null });
    }
  });

  it('runs level 1 of an encrypted backup without a key: checksums need none', () => {
    expect(
      chooseLevel({ manifest: manifest(true), requested: 1, explicit: true, hasIdentity: false }),
    ).toEqual({ level: 1, notes: [], refusal: null });
  });

  it('falls back from the default level to 1 without a key, saying why', () => {
    const choice = chooseLevel({
      manifest: manifest(true),
      requested: 2,
      explicit: false,
      hasIdentity: false,
    });
    expect(choice.level).toBe(1);
    expect(choice.refusal).toBeNull();
    expect(choice.notes).toEqual([
      expect.stringMatching(
        /^Checked at level 1 \(checksums\) only: backup .* is encrypted \(uploads\), and levels 2 and 3 decrypt it .*LIFEBOAT_AGE_IDENTITY.*`--level 2`/,
      ),
    ]);
  });

  it('refuses a level that decrypts, asked for without a key, pointing at level 1', () => {
    const choice = chooseLevel({
      manifest: manifest(true),
      requested: 3,
      explicit: true,
      hasIdentity: false,
    });
    expect(choice.level).toBe(3);
    expect(choice.refusal).toMatch(
      /is encrypted \(uploads\), and level 3 \(restore test\) decrypts it, but no age identity is configured: set LIFEBOAT_AGE_IDENTITY.*`--level 1` checks every object's sha256 without a key$/,
    );
  });
});
