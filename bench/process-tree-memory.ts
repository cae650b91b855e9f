import { readdir, readFile } from 'node:fs/promises';

/**
 * Peak memory of a process and all its descendants (a shell pipeline, Node spawning pg_dump,
 * pg_restore's workers), sampled from /proc while it runs.
 *
 * Two figures: `peakRssBytes` adds up every process's own high-water mark (VmHWM), an upper
 * bound (the peaks may not coincide) that a short spike between samples cannot escape, as long
 * as the process lived through one sample; `peakConcurrentRssBytes` is the largest sum of current RSS seen in one sample.
 * Server-side work (the PostgreSQL backend serving pg_dump) is not a descendant and is not
 * counted, the same for every run.
 */
export class ProcessTreeMemory {
  private readonly root: number;
  private readonly skipRoot: boolean;
  private readonly highWater = new Map<number, number>();
  private concurrent = 0;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();

  /** `skipRoot`: leave the root out of the sums (a wrapper like GNU time), keep its tree. */
  constructor(rootPid: number, skipRoot = false) {
    this.root = rootPid;
    this.skipRoot = skipRoot;
  }

  /** Samples every `intervalMs` until {@link stop}. */
  start(intervalMs = 50): void {
    const tick = () => {
      this.sampling = this.sample().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<{
    peakRssBytes: number;
    peakConcurrentRssBytes: number;
    processes: number;
  }> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sampling;
    let sum = 0;
    for (const bytes of this.highWater.values()) sum += bytes;
    return {
      peakRssBytes: sum,
      peakConcurrentRssBytes: this.concurrent,
      processes: this.highWater.size,
    };
  }

  /** One pass: find the tree, read each process's VmRSS and VmHWM. */
  async sample(): Promise<void> {
    const pids = await descendantsOf(this.root);
    let now = 0;
    for (const pid of pids) {
      if (this.skipRoot && pid === this.root) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const rss = kilobytes(status, 'VmRSS');
      const hwm = kilobytes(status, 'VmHWM');
      if (hwm === undefined || rss === undefined) continue;
      now += rss * 1024;
      // The latest reading, not the largest: VmHWM only grows within one program, and it starts
      // again at exec, so a reading taken between fork and exec (a copy of the parent) is
      // replaced by the program's own.
      this.highWater.set(pid, hwm * 1024);
    }
    this.concurrent = Math.max(this.concurrent, now);
  }
}

/**
 * `root` and every live process below it, from /proc/<pid>/task/<tid>/children: reading only
 * the tree keeps each sample cheap, so the sampler takes little CPU from the run it measures.
 */
async function descendantsOf(root: number): Promise<number[]> {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    found.push(pid);
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const list = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
      for (const child of list.split(' ')) if (child.trim()) queue.push(Number(child));
    }
  }
  return found;
}

function kilobytes(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match?.[1] ? Number(match[1]) : undefined;
}
