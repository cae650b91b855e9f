import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LifeboatError } from '../../core/errors.ts';
import { formatHeader } from './header.ts';
import { ByteQueue, CHUNK_BYTES, PAYLOAD_NONCE_BYTES, payloadKey, sealChunk } from './stream.ts';
import { parseAgeRecipient, wrapFileKey } from './x25519.ts';

const FILE_KEY_BYTES = 16;

/**
 * A transform that encrypts its input to every recipient as an age v1 file: header, payload
 * nonce, then 64 KiB STREAM chunks, the last one flagged final. Each recipient's identity alone
 * can decrypt it.
 *
 * @throws LifeboatError `age_recipient_invalid` for a malformed recipient or none at all.
 */
export function createAgeEncryptStream(recipients: readonly string[]): Transform {
  if (recipients.length === 0) {
    throw new LifeboatError('age_recipient_invalid', 'age encryption needs at least one recipient');
  }
  const parsed = recipients.map(parseAgeRecipient);
  const fileKey = randomBytes(FILE_KEY_BYTES);
  const nonce = randomBytes(PAYLOAD_NONCE_BYTES);
  const preamble = Buffer.concat([
    formatHeader(
      parsed.map((recipient) => wrapFileKey(fileKey, recipient)),
      fileKey,
    ),
    nonce,
  ]);
  const key = payloadKey(fileKey, nonce);
  const queue = new ByteQueue();
  let counter = 0;
  let started = false;

  const start = (stream: Transform) => {
    if (started) return;
    started = true;
    stream.push(preamble);
  };
  const seal = (stream: Transform, final: boolean) => {
    const pieces = queue.take(final ? queue.length : CHUNK_BYTES);
    for (const out of sealChunk(key, counter, final, pieces)) stream.push(out);
    counter += 1;
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        start(this);
        queue.push(chunk);
        // A chunk is sealed only when more bytes follow it: the final one is sealed in flush.
        while (queue.length > CHUNK_BYTES) seal(this, false);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        start(this);
        seal(this, true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
