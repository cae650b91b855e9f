import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { type TarEntry, TarParser } from './tar-parser.ts';

/**
 * The entries of a tar stream, from their headers, as the chunks arrive; data is skipped.
 *
 * @throws LifeboatError `tar_invalid` when the stream is not a well-formed tar archive.
 */
export async function* tarEntriesOf(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<TarEntry> {
  const parser = new TarParser();
  for await (const chunk of chunks) {
    yield* parser.push(chunk);
    if (parser.done) break;
  }
  parser.end();
}

/**
 * Every entry of the tar file at `path`, read chunk by chunk (see {@link tarEntriesOf}): for a
 * reader that wants them all, without a promise per entry.
 */
export async function readAllTarEntries(path: string): Promise<TarEntry[]> {
  const parser = new TarParser();
  const entries: TarEntry[] = [];
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      for (const entry of parser.push(chunk as Buffer)) entries.push(entry);
      if (parser.done) break;
    }
    parser.end();
    return entries;
  } finally {
    stream.destroy();
  }
}

/** The entries of the tar file at `path` (see {@link tarEntriesOf}). */
export async function* readTarEntries(path: string): AsyncGenerator<TarEntry> {
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  try {
    yield* tarEntriesOf(stream);
  } finally {
    stream.destroy();
  }
}

/**
 * A pass-through that reads the tar headers of the bytes going by and calls `onEntry` with each
 * entry, before its data passes. The stream errors — never ends — when the bytes are not a
 * well-formed archive or `onEntry` throws, so what it counts is what went through.
 */
export function tarEntryTap(onEntry: (entry: TarEntry) => void): Transform {
  const parser = new TarParser();
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        for (const entry of parser.push(chunk)) onEntry(entry);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        parser.end();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
