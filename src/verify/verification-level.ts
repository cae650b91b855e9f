import type { Manifest } from '../backup/manifest.ts';
import { AGE_IDENTITY_FILE_VARIABLE, AGE_IDENTITY_VARIABLE } from '../crypto/age-identities.ts';
import { levelName, type VerificationLevel } from './verification.ts';

/** The level a verification runs at, what people should know about it, or why it cannot run. */
export interface LevelChoice {
  readonly level: VerificationLevel;
  /** Shown with the result: a lower level run than the default, and why. */
  readonly notes: readonly string[];
  /** Why the level asked for cannot run at all; null when it can. */
  readonly refusal: string | null;
}

/**
 * The level to verify a backup at. Level 1 reads stored bytes and needs no key; levels 2 and 3
 * decrypt, so an encrypted backup needs an age identity for them. Without one, a level someone
 * asked for (`--level 2`, `--restore-test`) is refused saying so, and the default level falls
 * back to level 1 with a note that says levels 2–3 need the identity: never a pass of a level
 * that did not run, never a failure of a check that needs no key.
 */
export function chooseLevel(options: {
  readonly manifest: Manifest;
  readonly requested: VerificationLevel;
  /** True when the level was asked for; false for the default. */
  readonly explicit: boolean;
  readonly hasIdentity: boolean;
}): LevelChoice {
  const { manifest, requested } = options;
  const encrypted = manifest.components.filter((c) => c.encryption !== null).map((c) => c.name);
  if (requested === 1 || encrypted.length === 0 || options.hasIdentity) {
    return { level: requested, notes: [], refusal: null };
  }
  const setIdentity = `set ${AGE_IDENTITY_VARIABLE} to the AGE-SECRET-KEY-1… line, or ${AGE_IDENTITY_FILE_VARIABLE} to an age identity file, on the worker`;
  const what = `backup ${manifest.id} is encrypted (${encrypted.join(', ')})`;
  if (options.explicit) {
    return {
      level: requested,
      notes: [],
      refusal: `${what}, and level ${requested} (${levelName(requested)}) decrypts it, but no age identity is configured: ${setIdentity}. \`--level 1\` checks every object's sha256 without a key`,
    };
  }
  return {
    level: 1,
    notes: [
      `Checked at level 1 (checksums) only: ${what}, and levels 2 and 3 decrypt it with an age identity this worker does not have (${setIdentity}; then verify with \`--level 2\`).`,
    ],
    refusal: null,
  };
}
