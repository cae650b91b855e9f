import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** The DER header that makes a raw 32-byte Ed25519 public key an SPKI key Node can read. */
const ED25519_SPKI_HEADER = Buffer.from('302a300506032b6570032100', 'hex');

/** How far a request's timestamp may be from now, either way, before it counts as stale. */
export const MAX_SIGNATURE_AGE_MS = 5 * 60 * 1000;

/** The application's public key (64 hex digits, as Discord shows it), or undefined when malformed. */
export function discordPublicKey(hex: string): KeyObject | undefined {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_HEADER, Buffer.from(hex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
}

export type SignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'stale' | 'forged' };

/**
 * Checks Discord's Ed25519 signature (`X-Signature-Ed25519`) over `X-Signature-Timestamp` and
 * the raw body, and that the timestamp (seconds) is recent, so a captured request cannot be
 * replayed later.
 */
export function checkDiscordSignature(
  key: KeyObject,
  headers: { readonly signature: string | undefined; readonly timestamp: string | undefined },
  rawBody: Buffer,
  now: number = Date.now(),
): SignatureCheck {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return { ok: false, reason: 'missing' };
  if (!/^[0-9a-fA-F]{128}$/.test(signature) || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'malformed' };
  }
  const valid = verify(
    null,
    Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]),
    key,
    Buffer.from(signature, 'hex'),
  );
  if (!valid) return { ok: false, reason: 'forged' };
  if (Math.abs(now - Number(timestamp) * 1000) > MAX_SIGNATURE_AGE_MS) {
    return { ok: false, reason: 'stale' };
  }
  return { ok: true };
}
