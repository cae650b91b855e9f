import type { BackupStore } from './backup-store.ts';

/**
 * A small object of `store` as text, read to at most `maxBytes`: past that the stream is
 * destroyed and `tooLarge()` is thrown, so a crafted or damaged object never fills memory.
 */
export async function readBoundedText(
  store: BackupStore,
  key: string,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const stream = await store.get(key);
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    if (bytes > maxBytes) {
      stream.destroy();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
