import type { Button } from '../message.ts';

/**
 * A Discord button carries what a click means in its custom_id (1–100 characters): the neutral
 * button's action id, its value, and whether the click only asks first (Discord has no confirm
 * dialog). A button with just an action id keeps it as is; the others are packed as
 * `~` + kind + action id, then a separator and the value when there is one, which costs up to
 * three characters (`DISCORD_LIMITS.maxActionChars` leaves room for them).
 */
const PACKED = '~';
const SEPARATOR = '\u001f';

/** What a click on a Discord button asks for. */
export type ButtonIntent =
  /** Run the action (the neutral `InboundEvent` of kind `action`). */
  | { readonly kind: 'act'; readonly actionId: string; readonly value?: string }
  /** Show the confirmation for this action before running it. */
  | { readonly kind: 'ask'; readonly actionId: string; readonly value?: string }
  /** The Cancel of a confirmation. */
  | { readonly kind: 'cancel' };

const KIND_CODES = { act: 'd', ask: 'a', cancel: 'x' } as const;

/** The custom_id of a button that asks first (`ask`) or acts (`act`). */
export function packCustomId(
  button: Pick<Button, 'actionId' | 'value'>,
  kind: 'act' | 'ask',
): string {
  if (kind === 'act' && button.value === undefined && !button.actionId.startsWith(PACKED)) {
    return button.actionId;
  }
  const value = button.value === undefined ? '' : `${SEPARATOR}${button.value}`;
  return `${PACKED}${KIND_CODES[kind]}${button.actionId}${value}`;
}

/** The custom_id of a confirmation's Cancel button. */
export const CANCEL_CUSTOM_ID = `${PACKED}${KIND_CODES.cancel}`;

/** What a custom_id this renderer made stands for; undefined for anything else. */
export function unpackCustomId(customId: string): ButtonIntent | undefined {
  if (customId.length === 0 || customId.length > 100) return undefined;
  if (!customId.startsWith(PACKED)) return { kind: 'act', actionId: customId };
  const code = customId[1];
  if (code === KIND_CODES.cancel) return customId.length === 2 ? { kind: 'cancel' } : undefined;
  if (code !== KIND_CODES.act && code !== KIND_CODES.ask) return undefined;
  const body = customId.slice(2);
  const split = body.indexOf(SEPARATOR);
  const actionId = split < 0 ? body : body.slice(0, split);
  if (actionId === '') return undefined;
  const kind = code === KIND_CODES.ask ? 'ask' : 'act';
  return split < 0 ? { kind, actionId } : { kind, actionId, value: body.slice(split + 1) };
}
