import { formatBytes } from '../../core/format.ts';
import { identityKey } from '../../core/identity.ts';
import { textParts } from '../mention.ts';
import type { Attachment, Block, Button, ChatMessage, Field, Tone } from '../message.ts';

/** How a message is drawn as terminal text. */
export interface RenderOptions {
  /**
   * Columns to wrap prose at. Code and single words longer than this (paths, URLs) are left
   * whole, so they can still be copied.
   * @defaultValue 80
   */
  readonly width?: number;
  /**
   * Whether to use ANSI colour and emphasis. Without it the text reads the same: tones carry a
   * word as well as a symbol.
   * @defaultValue false
   */
  readonly color?: boolean;
  /**
   * Where the message's attachments were written, by their file name: attachments and image
   * blocks show the path. Without one, the file name is shown.
   */
  readonly files?: ReadonlyMap<string, string>;
}

const BAR_WIDTH = 20;
const MIN_BAR_WIDTH = 10;

const TONES: Record<Tone, { readonly mark: string; readonly word: string; readonly sgr: string }> =
  {
    danger: { mark: '✖', word: 'Error', sgr: '1;31' },
    warning: { mark: '⚠', word: 'Warning', sgr: '1;33' },
    success: { mark: '✔', word: 'OK', sgr: '1;32' },
    info: { mark: 'ℹ', word: 'Info', sgr: '1;34' },
  };

/** Applies an SGR style when colour is on, and is the identity otherwise. */
interface Pen {
  readonly color: boolean;
  paint(sgr: string, text: string): string;
}

/**
 * Renders a neutral chat message as plain terminal text, without a trailing newline: the header
 * emphasised, prose wrapped, fields and progress lines aligned in columns, callouts marked with a
 * symbol and a word, buttons shown with the command that does the same thing (and whether they
 * ask first), images by their alternative text and file, attachments by their file, and
 * mentions as the identity they name (`@console:bob`).
 */
export function renderMessage(message: ChatMessage, options: RenderOptions = {}): string {
  const width = Math.max(20, Math.floor(options.width ?? 80));
  const color = options.color === true;
  const files = options.files ?? new Map<string, string>();
  const pen: Pen = {
    color,
    paint: (sgr, text) => (color && text !== '' ? `\x1b[${sgr}m${text}\x1b[0m` : text),
  };
  const attached = renderAttachments(message.attachments ?? [], files, width);

  if (message.blocks.length === 0) {
    return [...wrap(clean(message.text), width), ...attached].join('\n');
  }

  const parts: string[] = [];
  let previous: Block | undefined;
  for (let i = 0; i < message.blocks.length; i++) {
    const block = message.blocks[i] as Block;
    if (block.type === 'progress' && previous?.type === 'progress') continue;
    if (previous && needsGap(previous, block)) parts.push('');
    if (block.type === 'progress') {
      parts.push(...renderProgressGroup(progressRun(message.blocks, i), width, pen));
    } else {
      parts.push(...renderBlock(block, width, pen, files));
    }
    previous = block;
  }
  if (attached.length > 0) parts.push('', ...attached);
  return parts.join('\n');
}

/** `File: Weekly RTO (weekly-db-rto.png, image/png, 12.3 KiB): .lifeboat/files/m3-1-weekly-db-rto.png`. */
function renderAttachments(
  attachments: readonly Attachment[],
  files: ReadonlyMap<string, string>,
  width: number,
): string[] {
  return attachments.flatMap((a) => {
    const title = a.title ? `${a.title} ` : '';
    const where = files.get(a.filename);
    const about = `${title}(${a.filename}, ${a.contentType}, ${formatBytes(a.data.byteLength)})`;
    return wrap(clean(`File: ${about}${where ? `: ${where}` : ''}`), width);
  });
}

/** A blank line sets prose and code apart; lines of fields, progress and buttons stay together. */
function needsGap(previous: Block, next: Block): boolean {
  if (previous.type === 'header') return false;
  const prose = (b: Block) => b.type === 'section' || b.type === 'code' || b.type === 'callout';
  return prose(previous) || prose(next);
}

function progressRun(blocks: readonly Block[], start: number) {
  const run: Extract<Block, { type: 'progress' }>[] = [];
  for (let i = start; i < blocks.length; i++) {
    const block = blocks[i];
    if (block?.type !== 'progress') break;
    run.push(block);
  }
  return run;
}

function renderBlock(
  block: Exclude<Block, { type: 'progress' }>,
  width: number,
  pen: Pen,
  files: ReadonlyMap<string, string>,
) {
  switch (block.type) {
    case 'header': {
      const lines = wrap(clean(block.text), width);
      if (pen.color) return lines.map((line) => pen.paint('1;4', line));
      const longest = Math.max(...lines.map(visibleLength));
      return [...lines, '─'.repeat(Math.min(longest, width))];
    }
    case 'section':
      return wrap(clean(block.text), width);
    case 'fields':
      return renderFields(block.fields, width);
    case 'callout': {
      const tone = TONES[block.tone];
      const lead = `${tone.mark} ${tone.word}: `;
      const lines = wrap(clean(block.text), width - visibleLength(lead));
      return lines.map((line, n) =>
        n === 0 ? pen.paint(tone.sgr, lead) + line : ' '.repeat(visibleLength(lead)) + line,
      );
    }
    case 'code':
      return clean(block.text.replace(/\t/g, '    '))
        .replace(/\n+$/, '')
        .split('\n')
        .map((line) => (line === '' ? '' : `    ${line}`));
    case 'context':
      return wrap(clean(block.text), width).map((line) => pen.paint('2', line));
    case 'buttons':
      return renderButtons(block.buttons, width, pen);
    case 'image':
      return wrap(
        clean(`[image: ${block.alt}] (${files.get(block.filename) ?? block.filename})`),
        width,
      );
  }
}

function labelColumn(labels: readonly string[], width: number): number {
  const cap = Math.max(8, Math.floor(width / 3));
  return Math.min(cap, Math.max(0, ...labels.map(visibleLength)));
}

function renderFields(fields: readonly Field[], width: number): string[] {
  const labels = fields.map((f) => clean(f.label));
  const column = labelColumn(labels, width);
  const indent = ' '.repeat(column + 2);
  const lines: string[] = [];
  fields.forEach((field, n) => {
    const label = labels[n] ?? '';
    const values = wrap(clean(field.value), Math.max(20, width - column - 2));
    if (visibleLength(label) > column) {
      lines.push(label, ...values.map((v) => indent + v));
      return;
    }
    values.forEach((value, k) => {
      lines.push(`${k === 0 ? pad(label, column) : ' '.repeat(column)}  ${value}`.trimEnd());
    });
  });
  return lines;
}

function renderProgressGroup(
  blocks: readonly Extract<Block, { type: 'progress' }>[],
  width: number,
  pen: Pen,
): string[] {
  const labels = blocks.map((b) => clean(b.label));
  const column = labelColumn(labels, width);
  const indent = ' '.repeat(column + 2);
  // label, two spaces, [bar], a space, "100%": shrink the bar before anything else wraps.
  const barWidth = Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, width - column - 2 - 2 - 5));
  const lines: string[] = [];
  blocks.forEach((block, n) => {
    const label = pad(labels[n] ?? '', column);
    const detail = clean(block.detail).replace(/\s*\n\s*/g, ' ');
    const fraction = block.fraction;
    if (fraction === null || !Number.isFinite(fraction)) {
      const details = wrap(detail, Math.max(20, width - column - 2));
      details.forEach((d, k) => {
        lines.push(`${k === 0 ? label : ' '.repeat(column)}  ${d}`.trimEnd());
      });
      return;
    }
    const clamped = Math.min(1, Math.max(0, fraction));
    // Floor, with a little slack for binary fractions (0.29 * 100 = 28.999…): a bar is full
    // and says 100% only when the work is done.
    const filled = Math.floor(clamped * barWidth + 1e-9);
    const percent = `${Math.floor(clamped * 100 + 1e-9)}%`.padStart(4);
    const bar = `[${pen.paint('36', '#'.repeat(filled))}${'-'.repeat(barWidth - filled)}]`;
    const head = `${label}  ${bar} ${percent}`;
    const headLength = column + 2 + barWidth + 2 + 1 + 4;
    if (detail === '') lines.push(head);
    else if (headLength + 2 + visibleLength(detail) <= width) lines.push(`${head}  ${detail}`);
    else lines.push(head, ...wrap(detail, Math.max(20, width - column - 2)).map((d) => indent + d));
  });
  return lines;
}

function renderButtons(buttons: readonly Button[], width: number, pen: Pen): string[] {
  const items = buttons.map((button) => {
    const sgr = button.style === 'danger' ? '1;31' : button.style === 'primary' ? '1;32' : '1';
    const face = pen.paint(sgr, `[ ${clean(button.label)} ]`);
    const asks = button.confirm ? ' (asks to confirm)' : '';
    return button.command ? `${face} ${clean(button.command)}${asks}` : `${face}${asks}`;
  });
  const oneLine = items.join('   ');
  return visibleLength(stripAnsi(oneLine)) <= width ? [oneLine] : items;
}

/**
 * Word-wraps each line of `text` to `width`, keeping its leading indentation on the lines it
 * wraps onto. A word longer than the width gets a line of its own rather than being cut.
 */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const indent = /^\s*/.exec(line)?.[0] ?? '';
    const words = line.slice(indent.length).split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      out.push('');
      continue;
    }
    let current = indent;
    for (const word of words) {
      if (current.length === indent.length) current += word;
      else if (visibleLength(current) + 1 + visibleLength(word) <= width) current += ` ${word}`;
      else {
        out.push(current);
        current = indent + word;
      }
    }
    out.push(current);
  }
  return out;
}

/** Characters on screen, counting code points rather than UTF-16 units. */
export function visibleLength(text: string): number {
  let n = 0;
  for (const _ of stripAnsi(text)) n++;
  return n;
}

export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
}

/**
 * Drops control characters from text that may come from users (notes, reasons, error messages),
 * so it cannot move the cursor or recolour the terminal. Newlines stay; tabs become spaces.
 * Mentions show as the identity they name (`@console:bob`); stray markers are dropped.
 */
function clean(text: string): string {
  const shown = textParts(text)
    .map((part) => (part.kind === 'text' ? part.text : `@${identityKey(part.identity)}`))
    .join('');
  return (
    shown
      .replace(/\r\n?/g, '\n')
      .replace(/\t/g, '  ')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, '')
  );
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}
