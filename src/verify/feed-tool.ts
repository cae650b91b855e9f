import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { type ChildExit, childExit, StderrTail } from '../backup/sources/child-process-output.ts';
import { childEnvironment } from '../core/child-env.ts';

export interface FeedToolOptions {
  /** The bytes to feed: read to the end whatever the tool does. */
  readonly input: AsyncIterable<Buffer>;
  readonly command: string;
  readonly args: readonly string[];
  /** Called with each line the tool prints on stdout. */
  readonly onLine: (line: string) => void;
  /** Called with the input bytes read so far as they arrive. */
  readonly onBytes?: (bytes: number) => void;
  readonly signal?: AbortSignal;
}

export interface FedTool extends ChildExit {
  /** Input bytes read, all of them: the tool may have stopped reading earlier. */
  readonly inputBytes: number;
  /** The last lines the tool printed on stderr. */
  readonly stderr: readonly string[];
}

/**
 * Runs a tool that reads an archive on stdin (`pg_restore --list`, `tar --list`) and reads the
 * input to its very end even when the tool stops reading early: `pg_restore --list` reads only
 * the table of contents, but a verification must decrypt and decompress every byte. An input
 * that errors (a checksum mismatch at the end) kills the tool and rethrows.
 */
export async function feedTool(options: FeedToolOptions): Promise<FedTool> {
  const child = spawn(options.command, options.args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    // C locale: the listings are parsed.
    env: childEnvironment(process.env, { LC_ALL: 'C' }),
  });
  const exited = childExit(child, options.command);
  exited.catch(() => {});
  const stderr = new StderrTail(child.stderr);
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', options.onLine);

  const stdin = child.stdin;
  let open = true;
  // The tool closing its stdin early (EPIPE) is how `--list` ends; its exit status tells how.
  stdin.on('error', () => {
    open = false;
  });
  stdin.on('close', () => {
    open = false;
  });
  const stop = () => child.kill('SIGTERM');
  options.signal?.addEventListener('abort', stop, { once: true });
  let inputBytes = 0;
  try {
    for await (const chunk of options.input) {
      inputBytes += chunk.length;
      options.onBytes?.(inputBytes);
      if (open && !stdin.write(chunk)) await drainedOrClosed(stdin);
    }
    if (open) stdin.end();
  } catch (error) {
    stop();
    await exited.catch(() => {});
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  const exit = await exited;
  return { ...exit, inputBytes, stderr: stderr.lines(20) };
}

function drainedOrClosed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) {
      resolve();
      return;
    }
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}
