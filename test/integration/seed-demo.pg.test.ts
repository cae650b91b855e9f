import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { seedDemoTargets } from '../../src/demo/seed-demo.ts';
import {
  databaseExists,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';

function demoConfig(database: string, directory: string): LifeboatConfig {
  return configSchema.parse({
    targets: {
      shop: { kind: 'postgres', url: databaseUrl(database), environment: 'development' },
      uploads: { kind: 'directory', path: directory, exclude: ['*.tmp'] },
      cache: { kind: 'redis', url: 'redis://127.0.0.1:6379/0' },
    },
    profiles: { demo: { targets: ['shop', 'uploads', 'cache'] } },
    demo: { targets: ['shop', 'uploads', 'cache'] },
  });
}

/** Every file under `root`, relative, sorted. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

describe('seeding the demo targets', () => {
  const databases: string[] = [];
  let workdir: string;

  beforeAll(async () => {
    workdir = await mkdtemp(join(tmpdir(), 'lifeboat-seed-'));
  });

  afterAll(async () => {
    for (const name of databases) await dropDatabase(name);
    await rm(workdir, { recursive: true, force: true });
  });

  function newDatabase(): string {
    const name = uniqueName('lb_demo');
    databases.push(name);
    return name;
  }

  it('creates the missing database and directory with sample data, and nothing on a second run', async () => {
    const database = newDatabase();
    const directory = join(workdir, 'first', 'uploads');
    const config = demoConfig(database, directory);

    const created = await seedDemoTargets(config);

    expect(created).toEqual([
      expect.stringMatching(
        /^shop: PostgreSQL database "lb_demo_.*" with a sample shop \(56,500 rows\)$/,
      ),
      expect.stringMatching(/^uploads: directory .*first\/uploads with \d+ sample files/),
    ]);
    const counts = await sql<{ table_name: string; rows: string }>(
      `SELECT 'customers' AS table_name, count(*) AS rows FROM customers
       UNION ALL SELECT 'products', count(*) FROM products
       UNION ALL SELECT 'orders', count(*) FROM orders
       UNION ALL SELECT 'order_items', count(*) FROM order_items
       UNION ALL SELECT 'events', count(*) FROM events
       UNION ALL SELECT 'audit.changes', count(*) FROM audit.changes
       UNION ALL SELECT 'order_totals', count(*) FROM order_totals`,
      database,
    );
    expect(Object.fromEntries(counts.map((c) => [c.table_name, Number(c.rows)]))).toEqual({
      customers: 5000,
      products: 500,
      orders: 15000,
      order_items: 30000,
      events: 5000,
      'audit.changes': 1000,
      order_totals: 15000,
    });
    const [event] = await sql<{ payload: Record<string, unknown> }>(
      'SELECT payload FROM events LIMIT 1',
      database,
    );
    expect(event?.payload).toHaveProperty('session');
    const [sequence] = await sql<{ last_value: string }>(
      'SELECT last_value FROM invoice_number_seq',
      database,
    );
    expect(Number(sequence?.last_value)).toBe(115000);

    const files = await filesUnder(directory);
    expect(files).toContain('README.md');
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(true);
    expect(files.some((f) => f.split('/').length >= 4)).toBe(true);
    const sizes = await Promise.all(files.map(async (f) => (await stat(join(directory, f))).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(300 * 1024);
    expect(await readdir(join(directory, '..'))).toEqual(['uploads']);

    // Real work happens in the demo targets; a second start must leave it alone.
    await sql("UPDATE customers SET name = 'Kept By The Second Run' WHERE id = 1", database);
    await writeFile(join(directory, 'README.md'), 'edited by hand\n');
    const lines: string[] = [];

    const again = await seedDemoTargets(config, (line) => lines.push(line));

    expect(again).toEqual([]);
    expect(lines).toEqual([
      `demo target shop: database "${database}" exists; left as it is`,
      `demo target uploads: ${directory} exists; left as it is`,
      'demo target cache: redis targets are not seeded; left as they are',
    ]);
    const [customer] = await sql<{ name: string }>(
      'SELECT name FROM customers WHERE id = 1',
      database,
    );
    expect(customer?.name).toBe('Kept By The Second Run');
    expect(await readFile(join(directory, 'README.md'), 'utf8')).toBe('edited by hand\n');
    expect(await filesUnder(directory)).toEqual(files);
  });

  it('never seeds into a database or directory that exists, even when empty', async () => {
    const database = newDatabase();
    await sql(`CREATE DATABASE ${database}`);
    const directory = join(workdir, 'empty-uploads');
    await rm(directory, { recursive: true, force: true });
    await mkdir(directory);

    const created = await seedDemoTargets(demoConfig(database, directory));

    expect(created).toEqual([]);
    expect(await sql("SELECT 1 FROM pg_tables WHERE schemaname = 'public'", database)).toEqual([]);
    expect(await readdir(directory)).toEqual([]);
  });

  it('resolves a relative directory against the working directory', async () => {
    const database = newDatabase();
    const previous = process.cwd();
    process.chdir(workdir);
    try {
      await seedDemoTargets(demoConfig(database, './relative/uploads'));
    } finally {
      process.chdir(previous);
    }

    expect(await filesUnder(join(workdir, 'relative', 'uploads'))).toContain('README.md');
  });

  it('lets two processes seed at once without either failing or seeding twice', async () => {
    const database = newDatabase();
    const directory = join(workdir, 'racing', 'uploads');
    const config = demoConfig(database, directory);

    const [a, b] = await Promise.all([seedDemoTargets(config), seedDemoTargets(config)]);

    expect([...a, ...b].filter((line) => line.startsWith('shop:'))).toHaveLength(1);
    expect([...a, ...b].filter((line) => line.startsWith('uploads:'))).toHaveLength(1);
    const [orders] = await sql<{ n: string }>('SELECT count(*) AS n FROM orders', database);
    expect(Number(orders?.n)).toBe(15000);
    expect(await databaseExists(database)).toBe(true);
    expect(await readdir(join(workdir, 'racing'))).toEqual(['uploads']);
  });

  it('lets many processes race to the rename, again and again, without a unique violation', async () => {
    for (let round = 0; round < 4; round++) {
      const database = newDatabase();
      const directory = join(workdir, `crowd-${round}`, 'uploads');
      const config = demoConfig(database, directory);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => seedDemoTargets(config)),
      );
      const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
      expect(errors).toEqual([]);
      const lines = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
      expect(lines.filter((line) => line.startsWith('shop:'))).toHaveLength(1);
      expect(lines.filter((line) => line.startsWith('uploads:'))).toHaveLength(1);
      const leftovers = await sql<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE starts_with(datname, 'lifeboat_demo_seed_')`,
      );
      expect(leftovers).toEqual([]);
    }
  }, 120_000);
});
