import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The uid and gid of `nobody`, which owns nothing the tests create. */
export const NOBODY = 65534;

/**
 * Writes an executable `tar` into `dir` that runs the real GNU tar as `nobody`: the tests run
 * as root, which can read anything, so this is how they meet a real "Permission denied".
 * Whatever tar reads must be reachable by others (the test makes its directories 0755).
 */
export async function unprivilegedTar(dir: string): Promise<string> {
  const path = join(dir, 'tar-as-nobody');
  await writeFile(
    path,
    `#!/bin/sh\nexec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups tar "$@"\n`,
  );
  await chmod(path, 0o755);
  return path;
}
