/**
 * Bech32 (BIP 173) as age uses it for recipients (`age1…`) and identities
 * (`AGE-SECRET-KEY-1…`): the plain Bech32 checksum (not Bech32m) and no 90-character limit.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const CHAR_VALUES = new Map([...CHARSET].map((c, i) => [c, i]));

/** Why a string is not valid Bech32; the message never repeats the input (it may be a secret). */
export class Bech32Error extends Error {}

export interface Bech32Decoded {
  /** The human-readable part, lowercased: `age`, `age-secret-key-`. */
  readonly hrp: string;
  readonly data: Buffer;
}

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const value of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) {
      if ((top >>> i) & 1) chk ^= GENERATOR[i] as number;
    }
  }
  return chk >>> 0;
}

function expandHrp(hrp: string): number[] {
  const high = [...hrp].map((c) => c.charCodeAt(0) >>> 5);
  const low = [...hrp].map((c) => c.charCodeAt(0) & 31);
  return [...high, 0, ...low];
}

function convertBits(data: Iterable<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & max);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || acc !== 0) {
    throw new Bech32Error('its padding bits are not zero');
  }
  return out;
}

/** Encodes `data` under `hrp`; an upper-case `hrp` gives an all upper-case string. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const lower = hrp.toLowerCase();
  const values = convertBits(data, 8, 5, true);
  const checksumInput = [...expandHrp(lower), ...values, 0, 0, 0, 0, 0, 0];
  const mod = polymod(checksumInput) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  const text = `${lower}1${[...values, ...checksum].map((v) => CHARSET[v]).join('')}`;
  return hrp === lower ? text : text.toUpperCase();
}

/** Decodes an all lower-case or all upper-case Bech32 string, checking its checksum. */
export function bech32Decode(text: string): Bech32Decoded {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) {
    throw new Bech32Error('it mixes upper and lower case');
  }
  const lower = text.toLowerCase();
  const separator = lower.lastIndexOf('1');
  if (separator < 1 || separator + 7 > lower.length) {
    throw new Bech32Error('it lacks the "1" separator or the 6-character checksum');
  }
  const hrp = lower.slice(0, separator);
  for (const c of hrp) {
    const code = c.charCodeAt(0);
    if (code < 33 || code > 126) throw new Bech32Error('its prefix has a character out of range');
  }
  const values: number[] = [];
  for (const c of lower.slice(separator + 1)) {
    const value = CHAR_VALUES.get(c);
    if (value === undefined) throw new Bech32Error('it has a character outside the Bech32 set');
    values.push(value);
  }
  if (polymod([...expandHrp(hrp), ...values]) !== 1) {
    throw new Bech32Error('its checksum does not match (a character is wrong or missing)');
  }
  const data = Buffer.from(convertBits(values.slice(0, -6), 5, 8, false));
  return { hrp, data };
}
