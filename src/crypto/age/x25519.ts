import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { LifeboatError } from '../../core/errors.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { Bech32Error, bech32Decode, bech32Encode } from './bech32.ts';
import type { AgeStanza } from './header.ts';

/** age's X25519 recipients and identities, and the stanzas that wrap a file key to them. */

const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'AGE-SECRET-KEY-';
const STANZA_TYPE = 'X25519';
const WRAP_INFO = 'age-encryption.org/v1/X25519';
const KEY_BYTES = 32;
const FILE_KEY_BYTES = 16;
const ZERO_NONCE = Buffer.alloc(12);
// DER prefixes of an X25519 SubjectPublicKeyInfo and PKCS #8 key around the raw 32 bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

const RECIPIENT_FORM = 'expected "age1" followed by 58 characters, as age-keygen prints it';
const IDENTITY_FORM =
  'expected "AGE-SECRET-KEY-1" followed by 58 characters, as age-keygen writes it';

/** An X25519 public key that a file key can be wrapped to. */
export interface AgeRecipient {
  /** `age1…` */
  readonly text: string;
  /** @internal */
  readonly publicKey: KeyObject;
  /** @internal the raw 32 bytes */
  readonly bytes: Buffer;
}

/**
 * A secret key that opens files encrypted to its {@link recipient}. The key itself stays in a
 * private field: printing or serialising an identity shows only its public recipient.
 */
export interface AgeIdentity {
  /** The matching public recipient, `age1…`. */
  readonly recipient: string;
  /** The file key if `stanza` wraps it to this identity, otherwise undefined. */
  unwrap(stanza: AgeStanza): Buffer | undefined;
}

function publicKeyOf(raw: Buffer): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function decodeKey(text: string, hrp: string, code: string, what: string, form: string): Buffer {
  let decoded: { hrp: string; data: Buffer };
  try {
    decoded = bech32Decode(text);
  } catch (error) {
    const why = error instanceof Bech32Error ? error.message : String(error);
    throw new LifeboatError(code, `not a valid age ${what}: ${why}; ${form}`);
  }
  if (decoded.hrp !== hrp.toLowerCase()) {
    throw new LifeboatError(code, `not an age ${what}: wrong prefix; ${form}`);
  }
  if (decoded.data.length !== KEY_BYTES) {
    throw new LifeboatError(code, `not an age ${what}: the key is not 32 bytes; ${form}`);
  }
  return decoded.data;
}

/** Parses an `age1…` recipient. @throws LifeboatError `age_recipient_invalid` */
export function parseAgeRecipient(text: string): AgeRecipient {
  const trimmed = text.trim();
  const bytes = decodeKey(
    trimmed,
    RECIPIENT_HRP,
    'age_recipient_invalid',
    'recipient',
    RECIPIENT_FORM,
  );
  return { text: bech32Encode(RECIPIENT_HRP, bytes), publicKey: publicKeyOf(bytes), bytes };
}

/** The HKDF key that wraps the file key for one ephemeral share and recipient. */
function wrapKey(shared: Buffer, share: Buffer, recipient: Buffer): Buffer {
  if (shared.every((byte) => byte === 0)) {
    throw new LifeboatError('age_header_invalid', 'the X25519 share is a low-order point');
  }
  return Buffer.from(
    hkdfSync('sha256', shared, Buffer.concat([share, recipient]), WRAP_INFO, KEY_BYTES),
  );
}

function sharedSecret(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch (error) {
    // OpenSSL refuses a low-order point (an all-zero shared secret).
    throw new LifeboatError('age_header_invalid', 'the X25519 share is a low-order point', {
      cause: error,
    });
  }
}

/** The `X25519` stanza wrapping `fileKey` to `recipient` under a fresh ephemeral key. */
export function wrapFileKey(fileKey: Buffer, recipient: AgeRecipient): AgeStanza {
  const ephemeral = generateKeyPairSync('x25519');
  const share = rawPublicKey(ephemeral.publicKey);
  const key = wrapKey(
    sharedSecret(ephemeral.privateKey, recipient.publicKey),
    share,
    recipient.bytes,
  );
  const cipher = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  return { type: STANZA_TYPE, args: [encodeBase64(share)], body };
}

class X25519Identity implements AgeIdentity {
  readonly recipient: string;
  readonly #privateKey: KeyObject;
  readonly #publicBytes: Buffer;

  constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    this.#publicBytes = rawPublicKey(createPublicKey(privateKey));
    this.recipient = bech32Encode(RECIPIENT_HRP, this.#publicBytes);
  }

  unwrap(stanza: AgeStanza): Buffer | undefined {
    if (stanza.type !== STANZA_TYPE) return undefined;
    const share = stanza.args.length === 1 ? decodeBase64(stanza.args[0] ?? '') : undefined;
    if (!share || share.length !== KEY_BYTES || stanza.body.length !== FILE_KEY_BYTES + 16) {
      throw new LifeboatError(
        'age_header_invalid',
        'the age header is invalid: an X25519 stanza is malformed',
      );
    }
    const shared = sharedSecret(this.#privateKey, publicKeyOf(share));
    const key = wrapKey(shared, share, this.#publicBytes);
    const decipher = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
    decipher.setAuthTag(stanza.body.subarray(FILE_KEY_BYTES));
    const fileKey = decipher.update(stanza.body.subarray(0, FILE_KEY_BYTES));
    try {
      decipher.final();
    } catch {
      return undefined; // wrapped to someone else
    }
    return fileKey;
  }

  toJSON(): { recipient: string } {
    return { recipient: this.recipient };
  }
}

function identityOf(secret: Buffer): AgeIdentity {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, secret]),
    format: 'der',
    type: 'pkcs8',
  });
  return new X25519Identity(privateKey);
}

/**
 * Parses an `AGE-SECRET-KEY-1…` identity. The error never repeats the text, which is a secret.
 * @throws LifeboatError `age_identity_invalid`
 */
export function parseAgeIdentity(text: string): AgeIdentity {
  const secret = decodeKey(
    text.trim(),
    IDENTITY_HRP,
    'age_identity_invalid',
    'identity',
    IDENTITY_FORM,
  );
  return identityOf(secret);
}

/**
 * Parses an age identity file: one identity a line, blank lines and `#` comments ignored (the
 * format `age-keygen` writes). Errors name the line, never its content.
 * @throws LifeboatError `age_identity_invalid`
 */
export function parseAgeIdentities(fileText: string): AgeIdentity[] {
  const identities: AgeIdentity[] = [];
  const lines = fileText.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      identities.push(parseAgeIdentity(line));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new LifeboatError('age_identity_invalid', `line ${index + 1}: ${message}`, {
        cause: error,
      });
    }
  }
  return identities;
}

/** A new identity and its recipient, as `age-keygen` makes them. */
export function generateAgeIdentity(): { identity: string; recipient: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const secret = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  return {
    identity: bech32Encode(IDENTITY_HRP, secret),
    recipient: bech32Encode(RECIPIENT_HRP, rawPublicKey(publicKey)),
  };
}
