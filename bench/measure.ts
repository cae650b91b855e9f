import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ProcessTreeMemory } from './process-tree-memory.ts';

/** Debian's GNU time: it reports the CPU time of a process and every descendant it waited for. */
const GNU_TIME = '/usr/bin/time';

/** What one measured child process (and its descendants) took. */
export interface Measurement {
  readonly wallSeconds: number;
  /** Sum of each process's VmHWM in the tree: see {@link ProcessTreeMemory}. */
  readonly peakRssBytes: number;
  /** The largest sum of RSS across the tree seen in one sample. */
  readonly peakConcurrentRssBytes: number;
  /** Processes seen in the tree. */
  readonly processes: number;
  /**
   * User + system CPU seconds of the whole tree (GNU time's %U + %S; the PostgreSQL server's
   * work for it is not included); null without /usr/bin/time.
   */
  readonly cpuSeconds: number | null;
  /** The child's stdout (the Node children print their result as JSON on it). */
  readonly stdout: string;
}

export interface MeasureOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Names the run in errors. */
  readonly label: string;
}

/**
 * Runs `command args` as its own process and measures wall time (spawn to exit), the peak
 * memory of its process tree and its CPU time. A non-zero exit throws with the end of its
 * stderr.
 */
export async function measure(
  command: string,
  args: readonly string[],
  options: MeasureOptions,
): Promise<Measurement> {
  const timed = existsSync(GNU_TIME);
  const scratch = timed ? await mkdtemp(join(tmpdir(), 'lifeboat-bench-time-')) : undefined;
  const timeFile = scratch ? join(scratch, 'time') : undefined;
  try {
    const run = await measureChild(
      timeFile ? GNU_TIME : command,
      timeFile ? ['-f', '%U %S', '-o', timeFile, command, ...args] : args,
      options,
      // GNU time's own process is not part of what is measured.
      timeFile !== undefined,
    );
    const cpu = timeFile ? await readCpuSeconds(timeFile) : null;
    return { ...run, cpuSeconds: cpu };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function measureChild(
  command: string,
  args: readonly string[],
  options: MeasureOptions,
  skipRoot: boolean,
): Promise<Omit<Measurement, 'cpuSeconds'>> {
  const started = performance.now();
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  const memory = new ProcessTreeMemory(child.pid ?? 0, skipRoot);
  memory.start();
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exit = await new Promise<{ code: number | null; signal: string | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  const wallSeconds = (performance.now() - started) / 1000;
  const peaks = await memory.stop();
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new Error(`${options.label} ${how}:\n${stderr.trim() || '(no stderr)'}`);
  }
  return { wallSeconds, ...peaks, stdout: Buffer.concat(stdout).toString('utf8') };
}

/** The last line GNU time wrote: `USER SYSTEM` seconds. */
async function readCpuSeconds(file: string): Promise<number | null> {
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  const [user, system] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
  return user !== undefined && system !== undefined && Number.isFinite(user + system)
    ? user + system
    : null;
}

/** `sh -c SCRIPT`: for the shell pipelines the standard tools run as. */
export function measureShell(script: string, options: MeasureOptions): Promise<Measurement> {
  return measure('sh', ['-c', script], options);
}

/** Quotes one word for `sh`. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Several runs of the same thing as one: the median wall time (the machine may be shared; the
 * median shrugs off one run that was slowed by a neighbour), the largest memory peaks.
 */
export function summarize(runs: readonly Measurement[]): Measurement {
  if (runs.length === 0) throw new Error('nothing was measured');
  const byTime = [...runs].sort((a, b) => a.wallSeconds - b.wallSeconds);
  const median = byTime[Math.floor((byTime.length - 1) / 2)] as Measurement;
  return {
    ...median,
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    peakConcurrentRssBytes: Math.max(...runs.map((r) => r.peakConcurrentRssBytes)),
    processes: Math.max(...runs.map((r) => r.processes)),
    cpuSeconds: median.cpuSeconds,
  };
}
