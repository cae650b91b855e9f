import { withoutMentionMarkers } from '../core/format.ts';
import { type Identity, identityKey, parseIdentityKey } from '../core/identity.ts';

/**
 * Mentions travel through the neutral model as `\uE000platform:id\uE001`, characters from
 * Unicode's private use area that no keyboard types; each renderer turns them into its own
 * mention (`<@U012AB3CD>` on Slack, `<@80351110224678912>` on Discord) when the person is on
 * its platform, and into the plain identity otherwise. Renderers escape all other text, so a
 * mention cannot be forged by typing `<@U…>`; `printable()` removes the markers from untrusted
 * text.
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const TOKEN = /\uE000([^\uE000\uE001]{1,200})\uE001/g;

/** Text that mentions `who` wherever it is shown. */
export function mention(who: Identity | string): string {
  const key = typeof who === 'string' ? who : identityKey(who);
  return `${OPEN}${key}${CLOSE}`;
}

/** One piece of text: plain, or a mention of a person. */
export type TextPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'mention'; readonly identity: Identity };

/** Splits text into plain runs and mentions, for a renderer. Markers that do not pair up are dropped. */
export function textParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const identity = parseIdentityKey(match[1] ?? '');
    const before = text.slice(last, match.index);
    if (before) parts.push({ kind: 'text', text: stripMarkers(before) });
    parts.push(
      identity
        ? { kind: 'mention', identity }
        : { kind: 'text', text: stripMarkers(match[1] ?? '') },
    );
    last = (match.index ?? 0) + match[0].length;
  }
  const rest = text.slice(last);
  if (rest) parts.push({ kind: 'text', text: stripMarkers(rest) });
  return parts;
}

/** Text with any mention markers removed: for text that must not mention anyone. */
export function stripMarkers(text: string): string {
  return withoutMentionMarkers(text);
}
