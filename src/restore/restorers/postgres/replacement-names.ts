import { randomSuffix } from '../../../core/ids.ts';

/**
 * Names of the databases a postgres restore makes beside its destination, and of the session
 * that owns them while the restore runs. A restore builds `lifeboat_restore_<token>_<dest>`,
 * swaps it in, and the destination it replaced becomes `lifeboat_replaced_<token>_<dest>` until
 * it is dropped. Either is a leftover once no session named `lifeboat restore <token>` is
 * connected anywhere on the server: its restore is gone (killed, or its server connection lost).
 */

/** The database being restored, before it is swapped in. */
export const RESTORING_PREFIX = 'lifeboat_restore_';
/** The destination as it was, once the restored copy took its name. */
export const REPLACED_PREFIX = 'lifeboat_replaced_';
/** PostgreSQL keeps 63 bytes of a name. */
const NAME_BYTES = 63;
const TOKEN_LENGTH = 8;
const LEFTOVER = new RegExp(
  `^(?:${RESTORING_PREFIX}|${REPLACED_PREFIX})([0-9a-z]{${TOKEN_LENGTH}})_`,
);

/** A fresh token for one restore: [0-9a-z]{8}. */
export function newRestoreToken(): string {
  return randomSuffix(TOKEN_LENGTH);
}

/** `lifeboat_restore_<token>_<destination, cut to fit>`. */
export function restoringName(token: string, destination: string): string {
  return withDestination(`${RESTORING_PREFIX}${token}_`, destination);
}

/** `lifeboat_replaced_<token>_<destination, cut to fit>`. */
export function replacedName(token: string, destination: string): string {
  return withDestination(`${REPLACED_PREFIX}${token}_`, destination);
}

/** The `application_name` of the session that owns the restore's databases while it runs. */
export function ownerApplication(token: string): string {
  return `lifeboat restore ${token}`;
}

/** The token of a database a restore made, or null for any other name. */
export function leftoverToken(name: string): string | null {
  return LEFTOVER.exec(name)?.[1] ?? null;
}

/** `prefix` and as much of `destination` as fits in 63 bytes, never cutting a character. */
function withDestination(prefix: string, destination: string): string {
  let out = prefix;
  for (const char of destination) {
    if (Buffer.byteLength(out + char) > NAME_BYTES) break;
    out += char;
  }
  return out;
}
