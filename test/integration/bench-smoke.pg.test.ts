import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { SizeResult } from '../../bench/results.ts';
import type { TargetVerdict } from '../../bench/targets.ts';
import { databaseExists, dropDatabase, uniqueName } from '../support/databases.ts';

const run = promisify(execFile);
const BENCH = new URL('../../bench/run.ts', import.meta.url).pathname;

interface BenchDocument {
  readonly results: (SizeResult & { targets: TargetVerdict[] })[];
}

describe('npm run bench', () => {
  const namespace = uniqueName('bench_smoke');

  afterAll(async () => {
    await dropDatabase(`${namespace}_1`);
    await dropDatabase(`${namespace}_1_restore`);
  });

  it('measures every run at a tiny size and judges the targets', async () => {
    const { stdout } = await run(
      process.execPath,
      [BENCH, '--size', '20MB', '--skip-s3', '--json', '--repeat', '1'],
      { env: { ...process.env, BENCH_NAMESPACE: namespace }, maxBuffer: 16 * 1024 * 1024 },
    );
    const document = JSON.parse(stdout) as BenchDocument;
    const [result] = document.results;
    expect(document.results).toHaveLength(1);
    expect(result?.database).toBe(`${namespace}_1`);
    expect(result?.databaseBytes).toBeGreaterThan(10e6);
    expect(result?.dumpBytes).toBeGreaterThan(5e6);

    const rows = result?.rows ?? [];
    expect(rows.map((r) => r.id)).toEqual([
      'pg_dump_ceiling',
      'pg_dump_gzip',
      'lifeboat_local',
      'restore_pg_restore',
      'restore_lifeboat',
      'directory_tar_zstd',
      'directory_lifeboat',
    ]);
    for (const row of rows) {
      expect(row.wallSeconds, row.id).toBeGreaterThan(0);
      expect(row.mbPerSecond, row.id).toBeGreaterThan(0);
      expect(row.outputBytes, row.id).toBeGreaterThan(0);
      expect(row.peakRssBytes, row.id).toBeGreaterThan(0);
    }
    // The Lifeboat backups were encrypted and compressed; the restores brought back every byte.
    for (const id of ['lifeboat_local', 'directory_lifeboat']) {
      expect(rows.find((r) => r.id === id)?.label).toContain('+ age');
    }
    const local = rows.find((r) => r.id === 'lifeboat_local');
    expect(local?.outputBytes).toBeLessThan(result?.dumpBytes ?? 0);
    expect(result?.targets.map((t) => t.name)).toEqual([
      'backup ≥ 0.9× the ceiling',
      'backup ≥ 1.5× plain pg_dump at ≤ its size',
      'restore ≥ 0.5× backup speed',
    ]);
    // Without --keep the pgbench database is dropped at the end.
    expect(await databaseExists(`${namespace}_1`)).toBe(false);
  });
});
