import { describe, expect, it } from 'vitest';
import { MANIFEST_FORMAT, type Manifest } from '../../../src/backup/manifest.ts';
import { manifestDisagreements } from '../../../src/backup/manifest-agreement.ts';

const ID = 'bk_20261122T020000Z_full_7q3k';

const component = (name: string, sha: string): Manifest['components'][number] => ({
  name,
  kind: 'postgres',
  object: `${name}.dump.zst`,
  bytes: 100,
  sha256: sha.repeat(64),
  rawBytes: 400,
  compression: 'zstd',
  encryption: null,
  tools: { pg_dump: '15.20' },
  startedAt: '2026-11-22T02:00:00.000Z',
  finishedAt: '2026-11-22T02:00:01.000Z',
  durationMs: 1000,
  source: {
    kind: 'postgres',
    url: 'postgres://127.0.0.1/app',
    database: 'app',
    serverVersion: '15.20',
    format: 'custom',
    snapshot: '00000003-1',
    tables: [{ schema: 'public', table: 'users', rows: 10 }],
  },
});

const MANIFEST: Manifest = {
  format: MANIFEST_FORMAT,
  id: ID,
  profile: 'full',
  note: null,
  requestedBy: 'console:alice',
  lifeboatVersion: '0.3.0',
  startedAt: '2026-11-22T02:00:00.000Z',
  finishedAt: '2026-11-22T02:00:05.000Z',
  durationMs: 5000,
  storage: [{ store: 'local', location: `/backups/${ID}` }],
  components: [component('app-db', 'a'), component('audit-db', 'b')],
};

describe('comparing the stored manifest with the catalog', () => {
  it('finds nothing when they agree, whatever order the keys and components come in', () => {
    const reordered = JSON.parse(
      JSON.stringify({ ...MANIFEST, components: [...MANIFEST.components].reverse() }),
    ) as Manifest;
    expect(manifestDisagreements(reordered, MANIFEST)).toEqual([]);
  });

  it('ignores what a reader does not rely on: the note, the timings, the storage list', () => {
    const other = { ...MANIFEST, note: 'edited', durationMs: 1, storage: [] };
    expect(manifestDisagreements(other, MANIFEST)).toEqual([]);
  });

  it('names the component and the field for each size, checksum or object that differs', () => {
    const [first, second] = MANIFEST.components as [
      Manifest['components'][number],
      Manifest['components'][number],
    ];
    const stored = {
      ...MANIFEST,
      components: [
        { ...first, sha256: 'c'.repeat(64), bytes: 101 },
        { ...second, object: 'x.zst' },
      ],
    };
    expect(manifestDisagreements(stored, MANIFEST)).toEqual([
      'component app-db: bytes 101 in the store, 100 in the catalog',
      `component app-db: sha256 ${'c'.repeat(64)} in the store, ${'a'.repeat(64)} in the catalog`,
      'component audit-db: object x.zst in the store, audit-db.dump.zst in the catalog',
    ]);
  });

  it('names row counts and encryption that differ', () => {
    const [first] = MANIFEST.components as [Manifest['components'][number]];
    const stored = {
      ...MANIFEST,
      components: [
        {
          ...first,
          encryption: { format: 'age' as const, recipients: ['age1xyz'] },
          source: { ...first.source, tables: [{ schema: 'public', table: 'users', rows: 11 }] },
        },
        ...MANIFEST.components.slice(1),
      ],
    };
    const found = manifestDisagreements(stored, MANIFEST);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^component app-db: encryption \{"format":"age".*\} in the store, none in the catalog$/,
    );
    expect(found[1]).toBe(
      'component app-db: source.tables[public.users].rows 11 in the store, 10 in the catalog',
    );
  });

  it('names the nested field that differs, and a table or key only one side has', () => {
    const [first] = MANIFEST.components as [Manifest['components'][number]];
    const source = first.source as Extract<typeof first.source, { kind: 'postgres' }>;
    const stored = {
      ...MANIFEST,
      components: [
        {
          ...first,
          source: {
            ...source,
            snapshot: '00000003-2',
            tables: [...source.tables, { schema: 'public', table: 'orders', rows: 5 }],
          },
        },
        ...MANIFEST.components.slice(1),
      ],
    };
    expect(manifestDisagreements(stored, MANIFEST)).toEqual([
      'component app-db: source.snapshot 00000003-2 in the store, 00000003-1 in the catalog',
      'component app-db: source.tables[public.orders] {"schema":"public","table":"orders","rows":5} in the store, none in the catalog',
    ]);
  });

  it('names components only one side has, and another id', () => {
    const stored = {
      ...MANIFEST,
      id: 'bk_20261122T020000Z_full_zzzz',
      components: [
        MANIFEST.components[0] as Manifest['components'][number],
        component('extra', 'e'),
      ],
    };
    expect(manifestDisagreements(stored, MANIFEST)).toEqual([
      `it describes backup bk_20261122T020000Z_full_zzzz, the catalog's copy ${ID}`,
      "component extra is in the store's manifest only",
      "component audit-db is in the catalog's copy only",
    ]);
  });
});
