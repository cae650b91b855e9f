import { type ChildProcess, execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { childEnvironment } from '../../core/child-env.ts';
import { BackupError } from '../../core/errors.ts';
import type { OpenedSource, SourceResult } from './backup-source.ts';

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited and its output streams have closed. */
export function childExit(child: ChildProcess, tool: string): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    child.once('error', (error) => reject(toolError(tool, error)));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Passes `output` through, but ends only once `completion` resolves; a rejected completion
 * errors the stream. A tool that dies midway closes its stdout like one that finished, and
 * this keeps such a truncated stream from looking complete to whoever stores it.
 */
export function endWhenComplete(output: Readable, completion: Promise<unknown>): Readable {
  return Readable.from(
    (async function* () {
      yield* output;
      await completion;
    })(),
    { objectMode: false },
  );
}

/** How a source streams the stdout of the tool it spawned. */
export interface ToolStreamOptions {
  /** Aborting it calls `stop`, until `finished` settles. */
  readonly signal: AbortSignal;
  /** Stops the tool (and whatever the source holds open alongside it). */
  readonly stop: () => void;
  readonly expectedBytes: number | null;
  /** Waits for the tool to exit and judges how it went; rejects with a `BackupError`. */
  readonly finish: () => Promise<SourceResult>;
  /** Runs after `finish` settles, whichever way, before `finished` does. */
  readonly release?: () => Promise<void>;
  /** What to stream instead of the child's stdout (that stdout piped through a transform). */
  readonly output?: Readable;
}

/**
 * The `OpenedSource` of a source that streams `child`'s stdout: the stream ends only once
 * `finish` has resolved, aborting the signal stops the tool, and `finished` settles after the
 * abort listener is removed and `release` has run.
 */
export function toolStream(child: ChildProcess, options: ToolStreamOptions): OpenedSource {
  const { signal, stop } = options;
  if (!child.stdout) throw new Error('the tool was spawned without a stdout pipe');
  signal.addEventListener('abort', stop, { once: true });
  const finished = (async (): Promise<SourceResult> => {
    try {
      return await options.finish();
    } finally {
      signal.removeEventListener('abort', stop);
      await options.release?.();
    }
  })();
  // The stream carries the failure to the consumer; this only keeps it from being unhandled.
  finished.catch(() => {});
  return {
    stream: endWhenComplete(options.output ?? child.stdout, finished),
    expectedBytes: options.expectedBytes,
    finished,
  };
}

/** Keeps the last lines a child wrote to stderr (bounded, whatever it writes). */
export class StderrTail {
  private text = '';
  private readonly maxChars: number;

  constructor(stream: Readable | null, maxChars = 16 * 1024) {
    this.maxChars = maxChars;
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      this.text = (this.text + chunk).slice(-this.maxChars);
    });
  }

  /** The last `count` non-empty lines. */
  lines(count = 10): string[] {
    return this.text
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line.length > 0)
      .slice(-count);
  }
}

/** The first line a tool prints for `--version`; a missing tool is a `tool_missing` error. */
export function toolVersionLine(tool: string, path = tool): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ['--version'],
      { timeout: 10_000, env: childEnvironment(process.env) },
      (error, stdout) => {
        if (error) reject(toolError(tool, error));
        else resolve(stdout.split('\n')[0]?.trim() ?? '');
      },
    );
  });
}

function toolError(tool: string, error: unknown): BackupError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new BackupError('tool_missing', `${tool} was not found on the PATH of the worker`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BackupError('tool_failed', `${tool} could not be run: ${message}`, { cause: error });
}

/** The error a source reports when its backup was cancelled through its signal. */
export function cancelledError(signal: AbortSignal): BackupError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  return new BackupError('backup_aborted', `cancelled: ${reason}`, { cause: signal.reason });
}
