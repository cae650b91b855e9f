import type { KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LifeboatError } from '../../core/errors.ts';
import {
  AGE_VERSION_LINE,
  findHeaderEnd,
  MAX_HEADER_BYTES,
  parseHeader,
  verifyHeaderMac,
} from './header.ts';
import {
  ByteQueue,
  CHUNK_BYTES,
  openChunk,
  PAYLOAD_NONCE_BYTES,
  payloadKey,
  SEALED_CHUNK_BYTES,
  TAG_BYTES,
} from './stream.ts';
import type { AgeIdentity } from './x25519.ts';

const MAGIC = Buffer.from(`${AGE_VERSION_LINE}\n`, 'latin1');
const EMPTY = Buffer.alloc(0);

function truncated(message: string): LifeboatError {
  return new LifeboatError('age_truncated', `the age file is truncated: ${message}`);
}

function corrupt(message: string): LifeboatError {
  return new LifeboatError('age_corrupt', `the age file is corrupt: ${message}`);
}

/** The file key from the first stanza one of `identities` unwraps, once the MAC checks out. */
function openHeader(bytes: Buffer, identities: readonly AgeIdentity[]): Buffer {
  const header = parseHeader(bytes);
  for (const stanza of header.stanzas) {
    for (const identity of identities) {
      const fileKey = identity.unwrap(stanza);
      if (fileKey) {
        verifyHeaderMac(header, fileKey);
        return fileKey;
      }
    }
  }
  if (identities.length === 0) {
    throw new LifeboatError(
      'age_no_identity',
      'it is age-encrypted and no age identity was given (set LIFEBOAT_AGE_IDENTITY or LIFEBOAT_AGE_IDENTITY_FILE)',
    );
  }
  const tried = identities.map((identity) => identity.recipient).join(', ');
  throw new LifeboatError(
    'age_no_identity',
    `none of the age identities given opens it (their recipients: ${tried}); it was encrypted to other recipients, or its header is damaged`,
  );
}

/**
 * A transform that decrypts an age v1 file with any of `identities`. It releases plaintext one
 * 64 KiB chunk at a time, each only after its tag authenticated, and fails — never ends
 * cleanly — on anything else. Errors are `LifeboatError`s: `age_header_invalid` (not age, or
 * the header was altered), `age_no_identity`, `age_corrupt` (a chunk fails authentication,
 * data after the final chunk, an empty final chunk after the first), `age_truncated`.
 */
export function createAgeDecryptStream(identities: readonly AgeIdentity[]): Transform {
  let state: 'header' | 'nonce' | 'payload' = 'header';
  let header: Buffer = EMPTY;
  let fileKey: Buffer = EMPTY;
  let key: KeyObject | undefined;
  let counter = 0;
  const queue = new ByteQueue();

  /** Consumes header bytes; returns what follows the header once it is complete. */
  const readHeader = (chunk: Buffer): Buffer | undefined => {
    header = header.length === 0 ? chunk : Buffer.concat([header, chunk]);
    const prefix = Math.min(header.length, MAGIC.length);
    if (!header.subarray(0, prefix).equals(MAGIC.subarray(0, prefix))) {
      throw new LifeboatError(
        'age_header_invalid',
        `it is not an age file: it does not start with "${AGE_VERSION_LINE}"`,
      );
    }
    const end = findHeaderEnd(header);
    if (end < 0) {
      if (header.length > MAX_HEADER_BYTES) {
        throw new LifeboatError(
          'age_header_invalid',
          `the age header is invalid: no MAC line in its first ${MAX_HEADER_BYTES} bytes`,
        );
      }
      return undefined;
    }
    fileKey = openHeader(header.subarray(0, end), identities);
    const rest = header.subarray(end);
    header = EMPTY;
    return rest;
  };

  const open = (stream: Transform, payloadKeyObject: KeyObject, final: boolean) => {
    const pieces = queue.take(final ? queue.length - TAG_BYTES : CHUNK_BYTES);
    const tag = queue.takeBuffer(TAG_BYTES);
    const chunk = counter + 1;
    const plain = openChunk(payloadKeyObject, counter, final, pieces, tag);
    if (!plain) {
      if (openChunk(payloadKeyObject, counter, !final, pieces, tag)) {
        throw final
          ? truncated(`it ends after chunk ${chunk}, which is not the final chunk`)
          : corrupt(`there is data after its final chunk (chunk ${chunk})`);
      }
      throw corrupt(
        `chunk ${chunk} of its payload fails authentication (damaged, altered or cut short)`,
      );
    }
    if (final && pieces.length === 0 && counter > 0) {
      throw corrupt(`its final chunk (chunk ${chunk}) is empty, which age does not allow`);
    }
    for (const piece of plain) stream.push(piece);
    counter += 1;
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        if (state === 'header') {
          const rest = readHeader(chunk);
          if (rest === undefined) return callback();
          state = 'nonce';
          queue.push(rest);
        } else {
          queue.push(chunk);
        }
        if (state === 'nonce') {
          if (queue.length < PAYLOAD_NONCE_BYTES) return callback();
          key = payloadKey(fileKey, queue.takeBuffer(PAYLOAD_NONCE_BYTES));
          state = 'payload';
        }
        // A chunk is opened as non-final only when more bytes follow it.
        while (key && queue.length > SEALED_CHUNK_BYTES) open(this, key, false);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (state === 'header') {
          throw header.length === 0
            ? truncated('the stream is empty, with no age header')
            : truncated('it ends inside the age header');
        }
        if (!key) throw truncated('it ends before the payload nonce');
        if (queue.length === 0 && counter === 0) {
          throw truncated('it ends before its first payload chunk');
        }
        if (queue.length === 0) {
          throw truncated(`it ends after chunk ${counter}, which is not the final chunk`);
        }
        if (queue.length < TAG_BYTES) throw truncated(`it ends inside chunk ${counter + 1}`);
        open(this, key, true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
