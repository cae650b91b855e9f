/**
 * `work` on every item with at most `limit` running at once, results in the items' order. For
 * many small file system calls (an lstat per restored file): one at a time, each waits a full
 * round trip through libuv's thread pool; a few dozen in flight keep its threads busy.
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
