import { appendFileSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

/**
 * Loaded with `node --import` into a `lifeboat` process a test will kill: after
 * `LIFEBOAT_TEST_HOLD_AFTER_RENAMES` renames whose source is in a directory restore's work
 * directory (`.lifeboat-restore-…`), every further rename never returns, and
 * `LIFEBOAT_TEST_HELD_FILE` gets a line, so the test knows the restore is held half way through
 * moving the backup into place and kills it there.
 */
const limit = Number(process.env.LIFEBOAT_TEST_HOLD_AFTER_RENAMES ?? 'NaN');
const held = process.env.LIFEBOAT_TEST_HELD_FILE;
if (Number.isInteger(limit) && held) {
  const rename = fsPromises.rename;
  let count = 0;
  fsPromises.rename = async (from, to) => {
    if (String(from).includes('.lifeboat-restore-') || String(to).includes('.lifeboat-restore-')) {
      if (count >= limit) {
        appendFileSync(held, `held before ${String(from)}\n`);
        return new Promise<void>(() => {});
      }
      count++;
    }
    return rename(from, to);
  };
  syncBuiltinESMExports();
}
