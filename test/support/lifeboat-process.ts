import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url));

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A `lifeboat` process left running: its output so far, and ways to end it. */
export interface RunningLifeboat {
  /** Everything it printed on stdout so far. */
  stdout(): string;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Writes a line to its stdin (a console command). */
  type(line: string): void;
  /** Closes its stdin, as the end of a piped script does. */
  endInput(text?: string): void;
  /** Sends `signal` (unless it already exited) and resolves once it exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Resolves with its exit code once it exited (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/**
 * Starts the real `lifeboat` command with the Node running the tests (Node 24) and leaves it
 * running (a worker, a console being typed into), in `cwd`, with `env` on top of a clean
 * environment; stdin is a pipe, as in scripts.
 */
export function startLifeboat(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): RunningLifeboat {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    type: (line) => {
      child.stdin.write(`${line}\n`);
    },
    endInput: (text = '') => {
      child.stdin.end(text);
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited.catch(() => undefined);
    },
    exited,
  };
}

/**
 * Runs the real `lifeboat` command to its end, feeding `input` on stdin; SIGKILLs it and fails
 * after `timeoutMs`.
 */
export async function runLifeboat(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<ProcessResult> {
  const running = startLifeboat(args, options);
  running.endInput(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 50_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void running.kill('SIGKILL');
      reject(
        new Error(
          `lifeboat ${args.join(' ')} timed out\nstdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`,
        ),
      );
    }, timeoutMs);
  });
  try {
    const code = await Promise.race([running.exited, timedOut]);
    return { code, stdout: running.stdout(), stderr: running.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** Its exit code once it exited; fails after `timeoutMs`, with what it printed on stderr. */
export async function exitWithin(
  running: RunningLifeboat,
  timeoutMs: number,
): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`lifeboat did not exit within ${timeoutMs} ms\nstderr:\n${running.stderr()}`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([running.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
