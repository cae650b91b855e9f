import { rm, rmdir } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateAgeIdentity } from '../src/crypto/age/index.ts';
import { measureConfigLoad, renderConfigLoad } from './config-load.ts';
import { parseBenchOptions, USAGE } from './options.ts';
import { renderReport } from './report.ts';
import type { SizeResult } from './results.ts';
import { runSize } from './run-size.ts';
import { startBenchS3 } from './s3-endpoint.ts';
import { measureSlackAck, renderAck } from './slack-ack.ts';
import { ratios, rssVerdicts, verdicts } from './targets.ts';

/**
 * `npm run bench`: Lifeboat's backup and restore against pg_dump, pg_restore and tar | zstd on
 * a pgbench database and a generated directory tree, with the targets judged at the end.
 */
async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = parseBenchOptions(argv);
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  if (options.ack) {
    const result = await measureSlackAck({ ...options, log });
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ ack: result }, null, 2)}\n`
        : renderAck(result, machineLine()),
    );
    return 0;
  }
  if (options.configLoad) {
    const results = options.configLoad.map((targets) => {
      log(`loading a generated config of ${targets} targets`);
      return measureConfigLoad(targets, options.repeat);
    });
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ configLoad: results }, null, 2)}\n`
        : renderConfigLoad(results),
    );
    return 0;
  }
  const age = generateAgeIdentity();
  const loadBefore = loadavg()[0] ?? 0;
  const results: SizeResult[] = [];
  const workDirectory = join(tmpdir(), `lifeboat-bench-${process.pid}`);
  const treeDirectory = join(tmpdir(), `${options.namespace}_trees`);
  const s3 = options.skipS3 ? undefined : await startBenchS3();
  if (s3) log(`S3: ${s3.description}`);
  try {
    for (const bytes of options.sizes) {
      results.push(
        await runSize({
          ...(s3 ? { s3: s3.store } : {}),
          bytes,
          serverUrl: options.serverUrl,
          namespace: options.namespace,
          keep: options.keep,
          fresh: options.fresh,
          repeat: options.repeat,
          workDirectory,
          treeDirectory,
          age,
          log,
        }),
      );
    }
  } finally {
    await s3?.stop();
    await rm(workDirectory, { recursive: true, force: true });
    // Only when empty: trees kept by earlier runs with --keep stay.
    await rmdir(treeDirectory).catch(() => {});
  }
  // A shared machine's other work slows every run; the load average says how busy it was.
  const load = `load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after`;
  const machine = `${cpus().length} CPU (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.versions.node}, ${load}`;
  if (options.json) {
    const document = {
      machine,
      results: results.map((r) => ({ ...r, ratios: ratios(r), targets: verdicts(r) })),
      rss: rssVerdicts(results),
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    process.stdout.write(renderReport(results, machine));
  }
  return 0;
}

/** The machine, for reading the figures: CPUs, memory, Node, how busy it is. */
function machineLine(): string {
  return `${cpus().length} CPU (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.versions.node}, load average ${(loadavg()[0] ?? 0).toFixed(1)}`;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
