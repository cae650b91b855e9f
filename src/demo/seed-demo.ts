import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { quoteIdentifier, sqlState } from '../catalog/database.ts';
import { createDatabase, databaseExists, databaseName } from '../catalog/ensure-database.ts';
import type {
  DirectoryTargetConfig,
  LifeboatConfig,
  PostgresTargetConfig,
} from '../config/schema.ts';
import { randomSuffix } from '../core/ids.ts';
import { urlForDatabase, withDefaultUser } from '../postgres/connection-url.ts';

const SHOP_SQL = new URL('./demo-shop.sql', import.meta.url);

/**
 * Creates the config's `demo` targets that do not exist yet and fills them with sample data: a
 * PostgreSQL database gets a small shop, a directory a small tree of files. A database or
 * directory that exists is left untouched, so real data is never seeded over. Each target is
 * built under a temporary name and renamed into place when complete, so a crash or a second
 * process starting at once never leaves a half-seeded target behind.
 *
 * @param log told about targets left as they are
 * @returns a line for each target created
 */
export async function seedDemoTargets(
  config: LifeboatConfig,
  log: (line: string) => void = () => undefined,
): Promise<string[]> {
  const created: string[] = [];
  for (const name of config.demo?.targets ?? []) {
    const target = config.targets[name];
    if (!target) {
      log(`demo target ${name} is not among the configured targets; skipped`);
      continue;
    }
    let line: string | undefined;
    if (target.kind === 'postgres') line = await seedPostgres(name, target, log);
    else if (target.kind === 'directory') line = await seedDirectory(name, target, log);
    else log(`demo target ${name}: ${target.kind} targets are not seeded; left as they are`);
    if (line) created.push(line);
  }
  return created;
}

async function seedPostgres(
  name: string,
  target: PostgresTargetConfig,
  log: (line: string) => void,
): Promise<string | undefined> {
  const database = databaseName(target.url);
  if (await databaseExists(target.url)) {
    log(`demo target ${name}: database "${database}" exists; left as it is`);
    return undefined;
  }
  const scratch = `lifeboat_demo_seed_${randomSuffix(8)}`;
  await createDatabase(target.url, scratch);
  const admin = new pg.Client({
    connectionString: withDefaultUser(urlForDatabase(target.url, 'postgres')),
  });
  admin.on('error', () => undefined);
  try {
    const rows = await runShopScript(urlForDatabase(target.url, scratch));
    await admin.connect();
    if (!(await renameDatabase(admin, scratch, database))) {
      log(`demo target ${name}: database "${database}" appeared meanwhile; left as it is`);
      return undefined;
    }
    return `${name}: PostgreSQL database "${database}" with a sample shop (${rows.toLocaleString('en')} rows)`;
  } finally {
    await dropIfExists(admin, target.url, scratch);
  }
}

/**
 * Renames `from` to `to`; false when `to` exists — found taken (42P04), or taken by another
 * process renaming at the same moment, which PostgreSQL reports as a unique violation in
 * pg_database (23505). The seeding session may still be ending on the server after its client
 * closed, which PostgreSQL refuses as "being accessed by other users" (55006): that is waited
 * out briefly.
 */
async function renameDatabase(admin: pg.Client, from: string, to: string): Promise<boolean> {
  const sql = `ALTER DATABASE ${quoteIdentifier(from)} RENAME TO ${quoteIdentifier(to)}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(sql);
      return true;
    } catch (error) {
      const code = sqlState(error);
      if (code === '42P04' || code === '23505') return false;
      if (code !== '55006' || attempt >= 50) throw error;
      await delay(100);
    }
  }
}

/** Runs the shop script in the database at `url`; returns the rows it made. */
async function runShopScript(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: withDefaultUser(url) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(await readFile(SHOP_SQL, 'utf8'));
    await client.query('COMMIT');
    const { rows } = await client.query<{ rows: string }>(
      `SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM products)
            + (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_items)
            + (SELECT count(*) FROM events) + (SELECT count(*) FROM audit.changes) AS rows`,
    );
    return Number(rows[0]?.rows ?? 0);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropIfExists(admin: pg.Client, url: string, database: string): Promise<void> {
  const sql = `DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`;
  try {
    await admin.query(sql);
  } catch {
    // Not connected (the seed failed before): drop through a connection of its own.
    const client = new pg.Client({
      connectionString: withDefaultUser(urlForDatabase(url, 'postgres')),
    });
    client.on('error', () => undefined);
    await client
      .connect()
      .then(() => client.query(sql))
      .catch(() => undefined);
    await client.end().catch(() => undefined);
  }
  await admin.end().catch(() => undefined);
}

async function seedDirectory(
  name: string,
  target: DirectoryTargetConfig,
  log: (line: string) => void,
): Promise<string | undefined> {
  const path = resolve(target.path);
  if (await exists(path)) {
    log(`demo target ${name}: ${path} exists; left as it is`);
    return undefined;
  }
  await mkdir(dirname(path), { recursive: true });
  const scratch = `${path}.lifeboat-seed-${randomSuffix(8)}`;
  try {
    const { files, bytes } = await writeSampleTree(scratch);
    try {
      await rename(scratch, path);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      log(`demo target ${name}: ${path} appeared meanwhile; left as it is`);
      return undefined;
    }
    return `${name}: directory ${path} with ${files} sample files (${Math.round(bytes / 1024)} KB)`;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

/** Writes the sample tree under `root`; returns how many files and bytes it wrote. */
async function writeSampleTree(root: string): Promise<{ files: number; bytes: number }> {
  const files = new Map<string, string | Buffer>([
    [
      'README.md',
      '# Demo uploads\n\nSample files that Lifeboat created so a first backup has something to ' +
        'carry. Delete this directory and start Lifeboat again to get a fresh copy.\n',
    ],
    ['docs/getting-started.md', '# Getting started\n\n1. Put on the lifejacket.\n2. Breathe.\n'],
    ['docs/runbooks/restore-notes.txt', 'Restores go into scratch first; compare row counts.\n'],
    ['reports/2026/q1/sales.csv', csv(200)],
    ['reports/2026/q2/sales.csv', csv(350)],
    ['bin/rotate-logs.sh', '#!/bin/sh\nfind /var/log/shop -name "*.log" -mtime +7 -delete\n'],
    ['upload-in-progress.tmp', 'a partial upload: excluded by the "*.tmp" glob\n'],
    ['cache/thumbnails/render.tmp', randomBytes(4 * 1024)],
  ]);
  for (let i = 1; i <= 12; i++) {
    const month = String(i).padStart(2, '0');
    files.set(
      `invoices/2026/${month}/invoice-${100000 + i}.txt`,
      `Invoice ${100000 + i}\nCustomer: customer${i}@example.com\nTotal: ${(i * 1234) / 100} EUR\n`,
    );
  }
  for (let i = 1; i <= 4; i++) {
    files.set(`images/products/photo-${i}.jpg`, randomBytes(64 * 1024 + i * 1000));
  }
  files.set('images/banner.png', randomBytes(96 * 1024));

  let bytes = 0;
  for (const [relative, content] of files) {
    const file = join(root, relative);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    bytes += Buffer.byteLength(content);
  }
  await chmod(join(root, 'bin/rotate-logs.sh'), 0o755);
  await mkdir(join(root, 'incoming'), { recursive: true });
  return { files: files.size, bytes };
}

function csv(rows: number): string {
  const lines = ['date,sku,quantity,total_cents'];
  for (let i = 1; i <= rows; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    lines.push(
      `2026-03-${day},SKU-${String(1 + (i % 500)).padStart(5, '0')},${1 + (i % 5)},${i * 397}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
