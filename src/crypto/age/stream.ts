import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';

/**
 * age's payload encryption, STREAM: the plaintext in 64 KiB chunks, each sealed with
 * ChaCha20-Poly1305 under the payload key and a nonce of an 11-byte big-endian chunk counter
 * and a flag byte that is 1 only on the final chunk, so truncation and reordering fail.
 */

/** Plaintext bytes in every chunk but the final one. */
export const CHUNK_BYTES = 64 * 1024;
export const TAG_BYTES = 16;
/** A full chunk as stored: ciphertext and tag. */
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;
/** The random nonce between the header and the first chunk, the payload key's HKDF salt. */
export const PAYLOAD_NONCE_BYTES = 16;

/** The payload key: HKDF-SHA-256 of the file key, salted with the payload nonce. */
export function payloadKey(fileKey: Buffer, nonce: Buffer): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32)));
}

function chunkNonce(counter: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  // Bytes 0-2 of the 11-byte counter stay zero: 2^64 chunks are out of reach anyway.
  nonce.writeBigUInt64BE(BigInt(counter), 3);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/**
 * Seals one chunk given as pieces (so the caller need not copy them together); returns the
 * ciphertext pieces followed by the tag.
 */
export function sealChunk(
  key: KeyObject,
  counter: number,
  final: boolean,
  pieces: readonly Buffer[],
): Buffer[] {
  const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(counter, final), {
    authTagLength: TAG_BYTES,
  });
  const out = pieces.map((piece) => cipher.update(piece));
  cipher.final();
  out.push(cipher.getAuthTag());
  return out;
}

/**
 * Opens one chunk; returns its plaintext pieces only when the tag authenticates, otherwise
 * undefined (and nothing of the chunk is released).
 */
export function openChunk(
  key: KeyObject,
  counter: number,
  final: boolean,
  pieces: readonly Buffer[],
  tag: Buffer,
): Buffer[] | undefined {
  const decipher = createDecipheriv('chacha20-poly1305', key, chunkNonce(counter, final), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAuthTag(tag);
  const out = pieces.map((piece) => decipher.update(piece));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return out;
}

/**
 * A FIFO of buffers that hands out exact byte counts as views of what it holds: no copying and
 * no growing `Buffer.concat`, whatever sizes the input arrives in.
 */
export class ByteQueue {
  #buffers: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(buffer: Buffer): void {
    if (buffer.length === 0) return;
    this.#buffers.push(buffer);
    this.#length += buffer.length;
  }

  /** The next `count` bytes (at most {@link length}) as views, in order. */
  take(count: number): Buffer[] {
    const pieces: Buffer[] = [];
    let wanted = Math.min(count, this.#length);
    this.#length -= wanted;
    while (wanted > 0) {
      const buffer = this.#buffers[this.#head] as Buffer;
      const available = buffer.length - this.#offset;
      if (available <= wanted) {
        pieces.push(this.#offset === 0 ? buffer : buffer.subarray(this.#offset));
        this.#buffers[this.#head] = EMPTY;
        this.#head += 1;
        this.#offset = 0;
        wanted -= available;
      } else {
        pieces.push(buffer.subarray(this.#offset, this.#offset + wanted));
        this.#offset += wanted;
        wanted = 0;
      }
    }
    if (this.#head > 64 && this.#head * 2 > this.#buffers.length) {
      this.#buffers = this.#buffers.slice(this.#head);
      this.#head = 0;
    }
    return pieces;
  }

  /** The next `count` bytes as one buffer (copied only when they span several). */
  takeBuffer(count: number): Buffer {
    const pieces = this.take(count);
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  }
}

const EMPTY = Buffer.alloc(0);
