import type { PipelineStage } from '../../backup/pipeline.ts';
import { LifeboatError } from '../../core/errors.ts';
import { createAgeEncryptStream } from './encrypt.ts';
import { parseAgeRecipient } from './x25519.ts';

/**
 * The age file format (age-encryption.org/v1) with X25519 recipients, on Node's own crypto:
 * files interoperate with the `age` command line tool both ways.
 */

export { createAgeDecryptStream } from './decrypt.ts';
export { createAgeEncryptStream } from './encrypt.ts';
export {
  type AgeIdentity,
  type AgeRecipient,
  generateAgeIdentity,
  parseAgeIdentities,
  parseAgeIdentity,
  parseAgeRecipient,
} from './x25519.ts';

/**
 * The backup pipeline stage that encrypts each component to `recipients`. The recipients are
 * checked here, so a malformed one fails before any bytes flow.
 *
 * @throws LifeboatError `age_recipient_invalid`
 */
export function ageEncryptionStage(recipients: readonly string[]): PipelineStage {
  if (recipients.length === 0) {
    throw new LifeboatError('age_recipient_invalid', 'age encryption needs at least one recipient');
  }
  for (const recipient of recipients) parseAgeRecipient(recipient);
  const list = [...recipients];
  return { name: 'age', create: () => createAgeEncryptStream(list) };
}
