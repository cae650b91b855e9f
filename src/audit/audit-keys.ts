import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigError } from '../core/errors.ts';

/** The fewest bytes an audit key may have: as many as the HMAC-SHA256 output. */
export const MIN_AUDIT_KEY_BYTES = 32;

/** How a key is named in output and in the log: a short hash of it, never the key. */
const KEY_ID_LENGTH = 16;

/**
 * A key that chains the audit log (HMAC-SHA256). It lives outside the catalog (in the
 * environment), so that whoever can write the catalog cannot recompute the chain. The secret
 * never leaves this object: it is not enumerable, serialises and prints as its id alone.
 */
export class AuditKey {
  /** 16 hex digits of sha256 over a label and the key: names the key, reveals nothing of it. */
  readonly id: string;
  readonly #secret: Buffer;

  constructor(secret: Buffer) {
    this.#secret = Buffer.from(secret);
    this.id = auditKeyId(secret);
  }

  /** HMAC-SHA256 (hex) of `text` under this key. */
  mac(text: string): string {
    return createHmac('sha256', this.#secret).update(text).digest('hex');
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }

  [inspect.custom](): string {
    return `AuditKey(${this.id})`;
  }
}

/** The id of a key: what entries and checkpoints record of the key that chained them. */
export function auditKeyId(secret: Uint8Array): string {
  return createHash('sha256')
    .update('lifeboat audit key id\0')
    .update(secret)
    .digest('hex')
    .slice(0, KEY_ID_LENGTH);
}

/** The keys a process holds: the one new entries are chained with, and older ones by id. */
export interface AuditKeyring {
  /** `LIFEBOAT_AUDIT_KEY` (or `_FILE`); null: new entries are chained with plain sha256. */
  readonly current: AuditKey | null;
  /** The key with this id, current or previous; undefined when this process does not hold it. */
  byId(id: string): AuditKey | undefined;
  /** The ids of every key held, current first. */
  readonly ids: readonly string[];
  /** The keys as written in the environment, for the logger to redact. */
  readonly secrets: readonly string[];
}

/** A keyring with no key: the log is chained plainly and verified as far as that goes. */
export const NO_AUDIT_KEYS: AuditKeyring = keyring(null, [], []);

/** A keyring of these keys, the first (when not null) being the current one. */
export function keyring(
  current: AuditKey | null,
  previous: readonly AuditKey[],
  secrets: readonly string[] = [],
): AuditKeyring {
  const all = new Map<string, AuditKey>();
  for (const key of [...(current ? [current] : []), ...previous]) {
    if (!all.has(key.id)) all.set(key.id, key);
  }
  return {
    current,
    byId: (id) => all.get(id),
    ids: [...all.keys()],
    secrets,
  };
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * A key as written: hex (only hex digits, an even number of them) or base64 (standard or URL
 * alphabet), of at least {@link MIN_AUDIT_KEY_BYTES} bytes, e.g. `openssl rand -base64 32`.
 * @throws ConfigError naming `where` and what a valid key is; never echoing the key.
 */
export function parseAuditKey(text: string, where: string): AuditKey {
  const written = text.trim();
  let bytes: Buffer | undefined;
  if (HEX.test(written)) bytes = Buffer.from(written, 'hex');
  else if (BASE64.test(written)) bytes = Buffer.from(written, 'base64');
  if (!bytes || bytes.length < MIN_AUDIT_KEY_BYTES) {
    const got = bytes ? `${bytes.length} bytes` : 'neither hex nor base64';
    throw configError(
      `${where}: an audit key is at least ${MIN_AUDIT_KEY_BYTES} random bytes written as base64 or hex, e.g. the output of \`openssl rand -base64 32\` (got ${got})`,
    );
  }
  return new AuditKey(bytes);
}

/**
 * The audit keys from the environment:
 * - `LIFEBOAT_AUDIT_KEY`: the key new entries and checkpoints are chained with; or
 * - `LIFEBOAT_AUDIT_KEY_FILE`: a file holding it (not both);
 * - `LIFEBOAT_AUDIT_PREVIOUS_KEYS`: keys used before, separated by commas or whitespace, so the
 *   entries they chained still verify after a rotation.
 * None set: no key (the chain is plain sha256). An empty variable counts as unset.
 * @throws ConfigError for a key too short or unreadable, or both the key and its file set.
 */
export function readAuditKeys(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): AuditKeyring {
  const inline = env.LIFEBOAT_AUDIT_KEY || undefined;
  const file = env.LIFEBOAT_AUDIT_KEY_FILE || undefined;
  if (inline !== undefined && file !== undefined) {
    throw configError(
      'LIFEBOAT_AUDIT_KEY and LIFEBOAT_AUDIT_KEY_FILE are both set: set one of them',
    );
  }
  const secrets: string[] = [];
  let current: AuditKey | null = null;
  if (inline !== undefined) {
    secrets.push(inline.trim());
    current = parseAuditKey(inline, 'LIFEBOAT_AUDIT_KEY');
  } else if (file !== undefined) {
    let text: string;
    try {
      text = readFile(file);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw configError(`LIFEBOAT_AUDIT_KEY_FILE: cannot read ${file}: ${reason}`);
    }
    secrets.push(text.trim());
    current = parseAuditKey(text, `LIFEBOAT_AUDIT_KEY_FILE (${file})`);
  }
  const previousText = env.LIFEBOAT_AUDIT_PREVIOUS_KEYS ?? '';
  const previous = previousText
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((written, index) => {
      secrets.push(written);
      return parseAuditKey(written, `LIFEBOAT_AUDIT_PREVIOUS_KEYS (key ${index + 1})`);
    });
  return keyring(current, previous, secrets);
}

function configError(message: string): ConfigError {
  return new ConfigError(message, [message]);
}
