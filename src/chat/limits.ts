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
  /** Rows of buttons in one message (Discord: 5 action rows); each buttons block is a row or more. */
  readonly maxButtonRows: number;
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
  maxButtonRows: 25,
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
  maxButtonRows: 5,
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
  maxButtonRows: Number.POSITIVE_INFINITY,
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

/** Characters of `text` as `cut` counts them (code points). */
function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The characters a block adds to a message, as the platforms count them (near enough). */
function blockChars(block: Block): number {
  switch (block.type) {
    case 'fields':
      return block.fields.reduce((n, f) => n + length(f.label) + length(f.value), 0);
    case 'buttons':
      return block.buttons.reduce((n, b) => n + length(b.label), 0);
    case 'progress':
      // The label, the detail and the bar a renderer draws.
      return length(block.label) + length(block.detail) + 30;
    case 'image':
      return length(block.alt) + length(block.filename);
    default:
      return length(block.text);
  }
}

/** `block` with `text` cut to `max`, or `block` itself when it fits. */
function withText<B extends { readonly text: string }>(block: B, max: number): B {
  const text = cut(block.text, max);
  return text === block.text ? block : { ...block, text };
}

/** A button the typed command stands in for, when it cannot be shown as a button. */
interface Dropped {
  /** Buttons left out that have no typed command: the cut note counts them. */
  buttons: number;
  /** The typed commands of buttons left out. */
  readonly typed: string[];
}

function drop(button: Button, dropped: Dropped): void {
  if (button.command) dropped.typed.push(button.command);
  else dropped.buttons++;
}

/** Each block within its own limits; a fields or buttons block split where it holds too many. */
function fitBlock(block: Block, limits: PlatformLimits, dropped: Dropped): Block[] {
  switch (block.type) {
    case 'header':
      return [withText(block, limits.maxHeaderChars)];
    case 'section':
    case 'callout':
    case 'code':
    case 'context':
      return [withText(block, limits.maxTextChars)];
    case 'progress': {
      const label = cut(block.label, limits.maxFieldLabelChars);
      const detail = cut(block.detail, limits.maxFieldValueChars);
      return [
        label === block.label && detail === block.detail ? block : { ...block, label, detail },
      ];
    }
    case 'image': {
      const alt = cut(block.alt, limits.maxFieldLabelChars);
      return [alt === block.alt ? block : { ...block, alt }];
    }
    case 'fields': {
      let changed = false;
      const fields = block.fields.map((f) => {
        const label = cut(f.label, limits.maxFieldLabelChars);
        const value = cut(f.value, limits.maxFieldValueChars);
        if (label === f.label && value === f.value) return f;
        changed = true;
        return { label, value };
      });
      if (!changed && fields.length <= limits.maxFields) return [block];
      const out: Block[] = [];
      for (let i = 0; i < fields.length; i += limits.maxFields) {
        out.push({ type: 'fields', fields: fields.slice(i, i + limits.maxFields) });
      }
      return out;
    }
    case 'buttons': {
      let changed = false;
      const fitting: Button[] = [];
      for (const button of block.buttons) {
        const size = button.actionId.length + (button.value?.length ?? 0);
        if (size > limits.maxActionChars) {
          // Too big to carry: the typed command still does it.
          drop(button, dropped);
          changed = true;
          continue;
        }
        const label = cut(button.label, limits.maxButtonLabelChars);
        if (label !== button.label) changed = true;
        fitting.push(label === button.label ? button : { ...button, label });
      }
      if (!changed && fitting.length <= limits.maxButtonsPerRow) return [block];
      const out: Block[] = [];
      for (let i = 0; i < fitting.length; i += limits.maxButtonsPerRow) {
        out.push({ type: 'buttons', buttons: fitting.slice(i, i + limits.maxButtonsPerRow) });
      }
      return out;
    }
  }
}

/** Blocks and characters the notes of a cut message may take, at most. */
const NOTE_CHARS = 600;

/**
 * `message` within `limits`: each block cut to its size, then, when the message holds too many
 * blocks, buttons or characters, the blocks that do not fit are left out and a last line says
 * so and names the command that shows everything (`message.fullResult`). The header and the
 * buttons are kept before prose, since they say what this is and are how the reader acts;
 * buttons beyond the limits, or too big to carry, are listed as typed commands. A message within
 * the limits is returned as it is.
 */
export function fitMessage(message: ChatMessage, limits: PlatformLimits): ChatMessage {
  const dropped: Dropped = { buttons: 0, typed: [] };
  const blocks = message.blocks.flatMap((block) => fitBlock(block, limits, dropped));

  // Buttons first, within the limits on buttons and rows; extra ones become typed commands.
  let buttonsLeft = limits.maxButtons;
  let rowsLeft = limits.maxButtonRows;
  const withButtons: Block[] = [];
  for (const block of blocks) {
    if (block.type !== 'buttons') {
      withButtons.push(block);
      continue;
    }
    const room = rowsLeft > 0 ? Math.max(0, buttonsLeft) : 0;
    const kept = block.buttons.slice(0, room);
    for (const extra of block.buttons.slice(kept.length)) drop(extra, dropped);
    if (kept.length === 0) continue;
    buttonsLeft -= kept.length;
    rowsLeft--;
    withButtons.push(
      kept.length === block.buttons.length ? block : { type: 'buttons', buttons: kept },
    );
  }

  const buttonBlocks = withButtons.filter((b) => b.type === 'buttons');
  const header = withButtons.find((b) => b.type === 'header');
  const typedNote = typedCommandsNote(dropped.typed, limits);
  // Room for the header, the buttons and both notes: the rest is for the blocks in between.
  const reservedBlocks = buttonBlocks.length + (header ? 1 : 0) + 2;
  const reservedChars =
    buttonBlocks.reduce((n, b) => n + blockChars(b), 0) +
    (header ? blockChars(header) : 0) +
    (typedNote ? blockChars(typedNote) : 0) +
    NOTE_CHARS;
  const blockBudget = limits.maxBlocks - reservedBlocks;
  const charBudget = limits.maxTotalChars - reservedChars;

  const kept: Block[] = [];
  let used = 0;
  let usedChars = 0;
  let left = dropped.buttons;
  let full = false;
  for (const block of withButtons) {
    if (block.type === 'buttons' || block === header) {
      kept.push(block);
      continue;
    }
    const size = blockChars(block);
    // In order: once one block does not fit, the ones after it are left out too, so what is
    // shown never skips a part and carries on as if nothing were missing.
    full = full || used + 1 > blockBudget || usedChars + size > charBudget;
    if (full) {
      left++;
      continue;
    }
    kept.push(block);
    used++;
    usedChars += size;
  }

  const notes: Block[] = [];
  if (typedNote) notes.push(typedNote);
  if (left > 0) {
    const where = message.fullResult
      ? `\`${message.fullResult}\` shows all of it.`
      : 'The full result is in the logs.';
    notes.push({
      type: 'context',
      text: cut(
        `Cut to fit ${limits.name}: ${left} more part${left === 1 ? '' : 's'} not shown. ${where}`,
        Math.min(limits.maxTextChars, NOTE_CHARS),
      ),
    });
  }
  // Notes go before the trailing buttons, so the buttons stay last.
  let firstTrailingButton = kept.length;
  while (firstTrailingButton > 0 && kept[firstTrailingButton - 1]?.type === 'buttons') {
    firstTrailingButton--;
  }
  const out = [...kept.slice(0, firstTrailingButton), ...notes, ...kept.slice(firstTrailingButton)];
  const text = cut(message.text, limits.maxFallbackChars);
  const unchanged =
    text === message.text &&
    out.length === message.blocks.length &&
    out.every((b, i) => b === message.blocks[i]);
  if (unchanged) return message;
  return { ...message, text, blocks: out };
}

/** `Also: /a, /b`: the buttons that could not be shown, as the commands that do the same. */
function typedCommandsNote(typed: readonly string[], limits: PlatformLimits): Block | undefined {
  if (typed.length === 0) return undefined;
  const max = Math.min(limits.maxTextChars, Math.floor(limits.maxTotalChars / 4));
  return { type: 'context', text: cut(`Also: ${typed.map((c) => `\`${c}\``).join(', ')}`, max) };
}
