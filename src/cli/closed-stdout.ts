/**
 * Watches the CLI's stdout for a reader that went away (`lifeboat audit export | head`): the
 * first write error (EPIPE) aborts the returned signal and every later write is dropped quietly,
 * so commands that write a lot stop early and the run ends with its own exit code rather than
 * an unhandled `write EPIPE`.
 */
export function watchClosedOutput(stream: NodeJS.WritableStream): AbortSignal {
  const closed = new AbortController();
  // Kept for the whole run: each write after the reader left reports its own error.
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!closed.signal.aborted) closed.abort(error);
  });
  return closed.signal;
}
