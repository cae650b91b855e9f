/**
 * age's base64: the standard alphabet without `=` padding, and only the canonical encoding is
 * accepted (unused trailing bits zero), as the spec requires, so one header has one byte form.
 */

const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;

/** `bytes` as unpadded standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('base64')
    .replace(/=+$/, '');
}

/** The bytes of canonical unpadded base64 `text`, or undefined when it is not that. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64_CHARS.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return encodeBase64(bytes) === text ? bytes : undefined;
}
