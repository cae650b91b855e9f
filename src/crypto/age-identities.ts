import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';
import { type AgeIdentity, parseAgeIdentities } from './age/index.ts';

/** The variable holding one or more `AGE-SECRET-KEY-1…` lines. */
export const AGE_IDENTITY_VARIABLE = 'LIFEBOAT_AGE_IDENTITY';
/** The variable naming an age identity file (as `age-keygen -o` writes it). */
export const AGE_IDENTITY_FILE_VARIABLE = 'LIFEBOAT_AGE_IDENTITY_FILE';

/**
 * The age identities that decrypt backups for restores and verifications, from the environment
 * only (never the config file): `LIFEBOAT_AGE_IDENTITY` and the file at
 * `LIFEBOAT_AGE_IDENTITY_FILE`, both when both are set, so old and new keys can live side by
 * side during a key rotation. An empty variable counts as unset.
 *
 * @returns the identities; `[]` when neither variable is set.
 * @throws ConfigError naming the variable (never a key) when it holds no valid identity list.
 */
export function loadAgeIdentities(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AgeIdentity[] {
  const identities: AgeIdentity[] = [];
  const inline = env[AGE_IDENTITY_VARIABLE];
  if (inline?.trim()) identities.push(...parse(AGE_IDENTITY_VARIABLE, inline));
  const file = env[AGE_IDENTITY_FILE_VARIABLE];
  if (file?.trim()) {
    let text: string;
    try {
      text = readFileSync(file.trim(), 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw invalid(
        AGE_IDENTITY_FILE_VARIABLE,
        `cannot read the identity file ${file} (${reason})`,
      );
    }
    identities.push(...parse(`${AGE_IDENTITY_FILE_VARIABLE} (${file})`, text));
  }
  return identities;
}

function parse(source: string, text: string): AgeIdentity[] {
  let identities: AgeIdentity[];
  try {
    identities = parseAgeIdentities(text);
  } catch (error) {
    throw invalid(source, error instanceof Error ? error.message : String(error));
  }
  if (identities.length === 0) {
    throw invalid(source, 'it holds no AGE-SECRET-KEY-1… line, only blanks and # comments');
  }
  return identities;
}

function invalid(source: string, reason: string): ConfigError {
  const message = `${source}: ${reason}`;
  return new ConfigError(message, [message]);
}
