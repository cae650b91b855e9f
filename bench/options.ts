/** The benchmark's command line: `npm run bench -- --sizes 256MB,1GB --keep`. */

export interface BenchOptions {
  /** Target database sizes in bytes (pg_database_size), one full run each, in order. */
  readonly sizes: readonly number[];
  /** Keep the pgbench databases and the generated directory trees for the next run. */
  readonly keep: boolean;
  /** Recreate the pgbench database and the directory tree even when they exist. */
  readonly fresh: boolean;
  readonly skipS3: boolean;
  /** Print one JSON document instead of the table. */
  readonly json: boolean;
  /** Each run is taken this many times and the median kept. */
  readonly repeat: number;
  /** The server the pgbench databases are created on (any database name in it is replaced). */
  readonly serverUrl: string;
  /**
   * Names the databases (`<namespace>_<scale>`) and the kept trees, so a test can run the bench
   * beside someone's kept data without touching it. @defaultValue `lifeboat_bench`
   */
  readonly namespace: string;
  /**
   * Only time loading generated configurations of these many targets (`--config-load`), and
   * nothing else: no database, no S3.
   */
  readonly configLoad?: readonly number[];
  /**
   * Only measure Slack's acknowledgement latency (`--ack`): signed slash commands to the real
   * bot against a fake Slack while the worker backs up. Nothing else runs.
   */
  readonly ack?: boolean;
}

export const USAGE = `usage: npm run bench -- [--size 1GB | --sizes 256MB,1GB] [--repeat 3] [--keep] [--fresh] [--skip-s3] [--json] | --ack

  --size SIZE      one run at about SIZE of pgbench data (pg_database_size); default 1GB
  --sizes A,B      one run per size, to compare peak memory as the size grows
  --keep           keep the databases and directory trees (lifeboat_bench_<scale>) for next time
  --fresh          recreate them even when they exist
  --repeat N       take every run N times and keep the median wall time; default 3
  --skip-s3        leave out the S3 backup
  --json           print the results as JSON
  --config-load [N,M]  only time loading a generated config of N, M targets (default 20000,200000)
  --ack            only measure Slack acknowledgement latency (p50/p99 of 200 signed slash
                   commands sent 50 at a time to the real bot, a fake Slack, while backing up)

  PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://127.0.0.1:5432
  Names: BENCH_NAMESPACE (default lifeboat_bench) prefixes the databases and kept trees
  S3: an in-process s3rver, unless BENCH_S3_ENDPOINT (+ BENCH_S3_BUCKET, AWS_* credentials) is set`;

const DEFAULT_SIZE = 1e9;
const DEFAULT_REPEAT = 3;
const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** `1GB`, `256MB`, `1.5GB` (decimal units) → bytes; throws on anything else. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)$/i.exec(text.trim());
  const unit = match?.[2] ? UNITS[match[2].toUpperCase()] : undefined;
  if (!match?.[1] || unit === undefined) {
    throw new Error(`"${text}" is not a size; write a number and a unit: 20MB, 256MB, 1GB`);
  }
  const bytes = Number(match[1]) * unit;
  if (bytes < 5e6) throw new Error(`${text} is too small: the smallest pgbench database is ~15MB`);
  return bytes;
}

export function parseBenchOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): BenchOptions {
  let sizes: number[] = [DEFAULT_SIZE];
  let repeat = DEFAULT_REPEAT;
  let configLoad: number[] | undefined;
  const flags = { keep: false, fresh: false, skipS3: false, json: false };
  let ack = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [name, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value\n\n${USAGE}`);
      return v;
    };
    switch (name) {
      case '--size':
        sizes = [parseSize(value())];
        break;
      case '--sizes':
        sizes = value().split(',').map(parseSize);
        break;
      case '--repeat':
        repeat = Number(value());
        if (!Number.isInteger(repeat) || repeat < 1) {
          throw new Error(`--repeat takes a whole number of runs, 1 or more`);
        }
        break;
      case '--keep':
        flags.keep = true;
        break;
      case '--fresh':
        flags.fresh = true;
        break;
      case '--skip-s3':
        flags.skipS3 = true;
        break;
      case '--json':
        flags.json = true;
        break;
      case '--ack':
        ack = true;
        break;
      case '--config-load': {
        const next = inline ?? argv[i + 1];
        if (next !== undefined && /^\d[\d,]*$/.test(next)) {
          if (inline === undefined) i += 1;
          configLoad = next.split(',').map(parseTargetCount);
        } else configLoad = [...DEFAULT_CONFIG_LOAD];
        break;
      }
      default:
        throw new Error(`unknown argument ${arg}\n\n${USAGE}`);
    }
  }
  return {
    sizes,
    repeat,
    ...flags,
    ...(configLoad ? { configLoad } : {}),
    ...(ack ? { ack } : {}),
    serverUrl: env.BENCH_DATABASE_URL ?? env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/postgres',
    namespace: parseNamespace(env.BENCH_NAMESPACE ?? 'lifeboat_bench'),
  };
}

const DEFAULT_CONFIG_LOAD = [20_000, 200_000];

function parseTargetCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) {
    throw new Error(`--config-load takes target counts from 1 to 1000000, got "${text}"`);
  }
  return count;
}

function parseNamespace(text: string): string {
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(text)) {
    throw new Error(
      `BENCH_NAMESPACE "${text}" must be lowercase letters, digits and _ (40 at most)`,
    );
  }
  return text;
}
