import type { Block, Button, ChatMessage } from './message.ts';

/**
 * What one chat platform accepts in a message, in the neutral model's terms. Every adapter
 * passes what it sends through `fitMessage` with its limits: one place cuts long output, so no
 * feature meets a platform's API error.
 */
export interface PlatformLimits {
  /** The platform's name, for the note on a cut message. */
  readonly name: string;
  /** When the adapter acknowledges an event itself if the handler has not (platforms allow 3 s). */
  readonly ackDeadlineMs: number;
  readonly maxBlocks: number;
  readonly maxHeaderChars: number;
  /** Text of one section, callout, code or context block. */
  readonly maxTextChars: number;
  readonly maxFields: number;
  readonly maxFieldLabelChars: number;
  readonly maxFieldValueChars: number;
  /** All the text of a message together. */
  readonly maxTotalChars: number;
  readonly maxButtons: number;
  readonly maxButtonsPerRow: number;
  readonly maxButtonLabelChars: number;
  /** A button's action id and value together (Discord packs both in its custom_id). */
  readonly maxActionChars: number;
  /** The plain-text fallback. */
  readonly maxFallbackChars: number;
}

/**
 * Slack Block Kit: 50 blocks, 3,000 characters a section, 10 fields of 2,000, a header of 150,
 * button text 75, action id 255 plus value 2,000; messages near 13k characters in all have been
 * refused (`msg_blocks_too_long`), so the total stays well below.
 */
export const SLACK_LIMITS: PlatformLimits = {
  name: 'Slack',
  ackDeadlineMs: 2_000,
  maxBlocks: 50,
  maxHeaderChars: 150,
  maxTextChars: 3_000,
  maxFields: 10,
  maxFieldLabelChars: 500,
  maxFieldValueChars: 1_500,
  maxTotalChars: 11_000,
  maxButtons: 25,
  maxButtonsPerRow: 25,
  maxButtonLabelChars: 75,
  maxActionChars: 255,
  maxFallbackChars: 3_000,
};

/**
 * Discord: message content 2,000 characters; embeds 6,000 characters together (title 256,
 * description 4,096, 25 fields, name 256, value 1,024); 5 rows of 5 buttons; custom_id 100;
 * button label 80. The renderer puts the whole message in one embed's description and fields.
 * A custom_id packs the action id and value with up to three characters of its own (a button
 * that asks first, the separator before the value), so they get 97 of its 100.
 */
export const DISCORD_LIMITS: PlatformLimits = {
  name: 'Discord',
  ackDeadlineMs: 2_000,
  maxBlocks: 40,
  maxHeaderChars: 256,
  maxTextChars: 4_000,
  maxFields: 25,
  maxFieldLabelChars: 256,
  maxFieldValueChars: 1_024,
  maxTotalChars: 5_800,
  maxButtons: 25,
  maxButtonsPerRow: 5,
  maxButtonLabelChars: 80,
  maxActionChars: 97,
  maxFallbackChars: 2_000,
};

/** The console and the CLI print everything; only the action id is kept to Discord's size. */
export const CONSOLE_LIMITS: PlatformLimits = {
  name: 'the console',
  ackDeadlineMs: Number.POSITIVE_INFINITY,
  maxBlocks: Number.POSITIVE_INFINITY,
  maxHeaderChars: Number.POSITIVE_INFINITY,
  maxTextChars: Number.POSITIVE_INFINITY,
  maxFields: Number.POSITIVE_INFINITY,
  maxFieldLabelChars: Number.POSITIVE_INFINITY,
  maxFieldValueChars: Number.POSITIVE_INFINITY,
  maxTotalChars: Number.POSITIVE_INFINITY,
  maxButtons: Number.POSITIVE_INFINITY,
  maxButtonsPerRow: Number.POSITIVE_INFINITY,
  maxButtonLabelChars: Number.POSITIVE_INFINITY,
  maxActionChars: 100,
  maxFallbackChars: Number.POSITIVE_INFINITY,
};

/** `text` cut to `max` characters (code points), ending in `…` when cut. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

function blockChars(block: Block): number {
  switch (block.type) {
    case 'fields':
      return block.fields.reduce((n, f) => n + f.label.length + f.value.length, 0);
    case 'buttons':
      return block.buttons.reduce((n, b) => n + b.label.length, 0);
    case 'progress':
      return block.label.length + block.detail.length + 30;
    case 'image':
      return block.alt.length;
    default:
      return block.text.length;
  }
}

/** Each block within its own limits; a fields or buttons block split where it holds too many. */
function fitBlock(block: Block, limits: PlatformLimits, typedOnly: string[]): Block[] {
  switch (block.type) {
    case 'header':
      return [{ ...block, text: cut(block.text, limits.maxHeaderChars) }];
    case 'section':
    case 'callout':
    case 'code':
    case 'context':
      return [{ ...block, text: cut(block.text, limits.maxTextChars) }];
    case 'progress':
      return [
        {
          ...block,
          label: cut(block.label, limits.maxFieldLabelChars),
          detail: cut(block.detail, limits.maxFieldValueChars),
        },
      ];
    case 'image':
      return [{ ...block, alt: cut(block.alt, limits.maxFieldLabelChars) }];
    case 'fields': {
      const fields = block.fields.map((f) => ({
        label: cut(f.label, limits.maxFieldLabelChars),
        value: cut(f.value, limits.maxFieldValueChars),
      }));
      const out: Block[] = [];
      for (let i = 0; i < fields.length; i += limits.maxFields) {
        out.push({ type: 'fields', fields: fields.slice(i, i + limits.maxFields) });
      }
      return out;
    }
    case 'buttons': {
      const fitting: Button[] = [];
      for (const button of block.buttons) {
        const size = button.actionId.length + (button.value?.length ?? 0);
        if (size > limits.maxActionChars) {
          // Too big to carry: the typed command still does it.
          if (button.command) typedOnly.push(button.command);
          continue;
        }
        fitting.push({ ...button, label: cut(button.label, limits.maxButtonLabelChars) });
      }
      const out: Block[] = [];
      for (let i = 0; i < fitting.length; i += limits.maxButtonsPerRow) {
        out.push({ type: 'buttons', buttons: fitting.slice(i, i + limits.maxButtonsPerRow) });
      }
      return out;
    }
  }
}

/**
 * `message` within `limits`: each block cut to its size, then, when the message holds too many
 * blocks, buttons or characters, the blocks that do not fit are left out and a last line says
 * so and names the command that shows everything (`message.fullResult`). Buttons are kept
 * before prose, since they are how the reader acts; buttons beyond the limit, or too big to
 * carry, are listed as typed commands.
 */
export function fitMessage(message: ChatMessage, limits: PlatformLimits): ChatMessage {
  const typedOnly: string[] = [];
  const blocks = message.blocks.flatMap((block) => fitBlock(block, limits, typedOnly));

  // Buttons first, within the limit; extra ones become typed commands.
  let buttonsLeft = limits.maxButtons;
  const withButtons: Block[] = [];
  for (const block of blocks) {
    if (block.type !== 'buttons') {
      withButtons.push(block);
      continue;
    }
    const kept = block.buttons.slice(0, Math.max(0, buttonsLeft));
    for (const extra of block.buttons.slice(kept.length)) {
      if (extra.command) typedOnly.push(extra.command);
    }
    buttonsLeft -= kept.length;
    if (kept.length) withButtons.push({ type: 'buttons', buttons: kept });
  }

  const buttonBlocks = withButtons.filter((b) => b.type === 'buttons');
  const reserveBlocks = buttonBlocks.length + 2; // the cut note and the typed commands
  const reserveChars =
    buttonBlocks.reduce((n, b) => n + blockChars(b), 0) +
    400 +
    typedOnly.reduce((n, c) => n + c.length + 4, 0);

  const kept: Block[] = [];
  let chars = 0;
  let left = 0;
  for (const block of withButtons) {
    if (block.type === 'buttons') {
      kept.push(block);
      continue;
    }
    const size = blockChars(block);
    const fits =
      left === 0 &&
      kept.length + reserveBlocks < limits.maxBlocks + 1 &&
      chars + size + reserveChars <= limits.maxTotalChars;
    if (fits) {
      kept.push(block);
      chars += size;
    } else {
      left++;
    }
  }

  const notes: Block[] = [];
  if (typedOnly.length) {
    notes.push({
      type: 'context',
      text: cut(`Also: ${typedOnly.map((c) => `\`${c}\``).join(', ')}`, limits.maxTextChars),
    });
  }
  if (left > 0) {
    const where = message.fullResult
      ? `\`${message.fullResult}\` shows all of it.`
      : 'The full result is in the logs.';
    notes.push({
      type: 'context',
      text: `Cut to fit ${limits.name}: ${left} more part${left === 1 ? '' : 's'} not shown. ${where}`,
    });
  }
  // Notes go before the trailing buttons, so the buttons stay last.
  let firstTrailingButton = kept.length;
  while (firstTrailingButton > 0 && kept[firstTrailingButton - 1]?.type === 'buttons') {
    firstTrailingButton--;
  }
  const out = [...kept.slice(0, firstTrailingButton), ...notes, ...kept.slice(firstTrailingButton)];
  const unchanged =
    out.length === message.blocks.length &&
    out.every((b, i) => b === message.blocks[i]) &&
    message.text.length <= limits.maxFallbackChars;
  if (unchanged) return message;
  return { ...message, text: cut(message.text, limits.maxFallbackChars), blocks: out };
}
