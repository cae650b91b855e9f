import type { ChatMessage, Tone } from '../../chat/message.ts';
import { withoutMentionMarkers } from '../../core/format.ts';

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Notices quote what people typed and what tools said: neither may mention anyone. */
function callout(tone: Tone, text: string): ChatMessage {
  const body = capitalized(withoutMentionMarkers(text));
  return { text: body, blocks: [{ type: 'callout', tone, text: body }] };
}

/** Input that did not parse or named something unknown: what was wrong and what is valid. */
export function invalidInputMessage(error: string): ChatMessage {
  return callout('warning', error);
}

/** A listing the person asked for by typing a group alone (`/backup`). */
export function subcommandsMessage(listing: string): ChatMessage {
  return callout('info', listing);
}

/** Refused by a role or policy. */
export function refusedMessage(reason: string): ChatMessage {
  return callout('danger', reason);
}

/** A command of the grammar that this version does not carry out yet. */
export function unavailableMessage(command: string): ChatMessage {
  return callout(
    'info',
    `\`${command}\` is not available yet in this version of Lifeboat. \`/help\` lists what is.`,
  );
}

/** Something failed; `text` is already written for the person in chat. */
export function failureMessage(text: string): ChatMessage {
  return callout('danger', text);
}
