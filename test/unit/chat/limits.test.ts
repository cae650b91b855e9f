import { describe, expect, it } from 'vitest';
import {
  CONSOLE_LIMITS,
  cut,
  DISCORD_LIMITS,
  fitMessage,
  type PlatformLimits,
  SLACK_LIMITS,
} from '../../../src/chat/limits.ts';
import type { Block, Button, ChatMessage } from '../../../src/chat/message.ts';

/** Characters of every text a platform counts in a message. */
function totalChars(message: ChatMessage): number {
  return message.blocks.reduce((n, block) => {
    switch (block.type) {
      case 'fields':
        return n + block.fields.reduce((m, f) => m + [...f.label].length + [...f.value].length, 0);
      case 'buttons':
        return n + block.buttons.reduce((m, b) => m + [...b.label].length, 0);
      case 'progress':
        return n + [...block.label].length + [...block.detail].length + 30;
      case 'image':
        return n + [...block.alt].length + [...block.filename].length;
      default:
        return n + [...block.text].length;
    }
  }, 0);
}

function buttonsOf(message: ChatMessage): Button[] {
  return message.blocks.flatMap((b) => (b.type === 'buttons' ? [...b.buttons] : []));
}

function expectWithin(message: ChatMessage, limits: PlatformLimits): void {
  expect(message.blocks.length).toBeLessThanOrEqual(limits.maxBlocks);
  expect(totalChars(message)).toBeLessThanOrEqual(limits.maxTotalChars);
  expect([...message.text].length).toBeLessThanOrEqual(limits.maxFallbackChars);
  const rows = message.blocks.filter((b) => b.type === 'buttons');
  expect(rows.length).toBeLessThanOrEqual(limits.maxButtonRows);
  expect(buttonsOf(message).length).toBeLessThanOrEqual(limits.maxButtons);
  for (const block of message.blocks) {
    switch (block.type) {
      case 'header':
        expect([...block.text].length).toBeLessThanOrEqual(limits.maxHeaderChars);
        break;
      case 'section':
      case 'callout':
      case 'code':
      case 'context':
        expect([...block.text].length).toBeLessThanOrEqual(limits.maxTextChars);
        break;
      case 'fields':
        expect(block.fields.length).toBeLessThanOrEqual(limits.maxFields);
        for (const f of block.fields) {
          expect([...f.label].length).toBeLessThanOrEqual(limits.maxFieldLabelChars);
          expect([...f.value].length).toBeLessThanOrEqual(limits.maxFieldValueChars);
        }
        break;
      case 'buttons':
        expect(block.buttons.length).toBeLessThanOrEqual(limits.maxButtonsPerRow);
        for (const b of block.buttons) {
          expect([...b.label].length).toBeLessThanOrEqual(limits.maxButtonLabelChars);
          expect(b.actionId.length + (b.value?.length ?? 0)).toBeLessThanOrEqual(
            limits.maxActionChars,
          );
        }
        break;
      default:
        break;
    }
  }
}

function button(n: number): Button {
  return {
    actionId: `cmd:backup show bk_${n}`,
    label: `Show ${n}`,
    command: `/backup show bk_${n}`,
  };
}

/** A listing of 200 sections of 120 characters, a header first and two buttons last. */
function longListing(): ChatMessage {
  const blocks: Block[] = [{ type: 'header', text: 'Backups of db: 200 shown' }];
  for (let i = 0; i < 198; i++) {
    blocks.push({
      type: 'section',
      text: `\`bk_${String(i).padStart(4, '0')}\` ${'x'.repeat(110)}`,
    });
  }
  blocks.push({ type: 'buttons', buttons: [button(1), button(2)] });
  return {
    text: `Backups of db: ${'y'.repeat(5000)}`,
    blocks,
    fullResult: '/backup list --profile db --limit 200',
  };
}

describe('fitMessage', () => {
  it.each([
    ['Slack', SLACK_LIMITS],
    ['Discord', DISCORD_LIMITS],
  ])(
    'cuts a 200-block message to %s, keeping the header and the buttons and naming the full result',
    (_name, limits) => {
      const message = longListing();
      const fitted = fitMessage(message, limits);

      expectWithin(fitted, limits);
      expect(fitted.blocks[0]).toEqual({ type: 'header', text: 'Backups of db: 200 shown' });
      expect(buttonsOf(fitted).map((b) => b.label)).toEqual(['Show 1', 'Show 2']);
      expect(fitted.blocks.at(-1)?.type).toBe('buttons');
      const note = fitted.blocks.at(-2);
      expect(note?.type).toBe('context');
      const noteText = note?.type === 'context' ? note.text : '';
      expect(noteText).toContain(`Cut to fit ${limits.name}`);
      expect(noteText).toContain('`/backup list --profile db --limit 200` shows all of it.');
      const shown = fitted.blocks.filter((b) => b.type === 'section').length;
      expect(noteText).toContain(`${198 - shown} more parts not shown`);
      // What is shown is the start, in order.
      expect(fitted.blocks[1]).toBe(message.blocks[1]);
      expect(shown).toBeGreaterThan(10);
    },
  );

  it('says where the full result is when the message names no command', () => {
    const { fullResult: _, ...message } = longListing();
    const fitted = fitMessage(message, DISCORD_LIMITS);
    expect(JSON.stringify(fitted.blocks)).toContain('The full result is in the logs.');
  });

  it('cuts one over-long block to the text limit', () => {
    const fitted = fitMessage(
      { text: 'log', blocks: [{ type: 'code', text: 'z'.repeat(10_000) }] },
      SLACK_LIMITS,
    );
    expectWithin(fitted, SLACK_LIMITS);
    const [code] = fitted.blocks;
    expect(code?.type === 'code' && code.text.endsWith('…')).toBe(true);
  });

  it('lists buttons beyond the limit as typed commands', () => {
    const buttons = Array.from({ length: 30 }, (_, i) => button(i));
    const fitted = fitMessage(
      { text: 'many', blocks: [{ type: 'buttons', buttons }] },
      SLACK_LIMITS,
    );

    expectWithin(fitted, SLACK_LIMITS);
    expect(buttonsOf(fitted)).toHaveLength(25);
    const typed = JSON.stringify(fitted.blocks.filter((b) => b.type === 'context'));
    for (let i = 25; i < 30; i++) expect(typed).toContain(`/backup show bk_${i}`);
    expect(typed).not.toContain('/backup show bk_24`');
  });

  it('keeps Discord to five rows of five buttons, however the buttons came', () => {
    const blocks: Block[] = [];
    for (let i = 0; i < 12; i++) {
      blocks.push({ type: 'section', text: `request ${i}` });
      blocks.push({ type: 'buttons', buttons: [button(i * 2), button(i * 2 + 1)] });
    }
    const fitted = fitMessage({ text: 'requests', blocks }, DISCORD_LIMITS);

    expectWithin(fitted, DISCORD_LIMITS);
    expect(fitted.blocks.filter((b) => b.type === 'buttons')).toHaveLength(5);
    expect(JSON.stringify(fitted.blocks)).toContain('/backup show bk_23');
    // Every section is still there: only the buttons were too many.
    expect(fitted.blocks.filter((b) => b.type === 'section')).toHaveLength(12);
  });

  it('splits a row of buttons longer than the platform allows in one row', () => {
    const buttons = Array.from({ length: 12 }, (_, i) => button(i));
    const fitted = fitMessage(
      { text: 'row', blocks: [{ type: 'buttons', buttons }] },
      DISCORD_LIMITS,
    );
    expect(fitted.blocks.map((b) => (b.type === 'buttons' ? b.buttons.length : 0))).toEqual([
      5, 5, 2,
    ]);
  });

  it('shows a button whose action id and value are too long to carry as its typed command', () => {
    const long: Button = {
      actionId: 'cmd:restore',
      value: `bk_1 --components ${'a,'.repeat(60)}`,
      label: 'Restore',
      command: '/restore bk_1 --components a',
    };
    const short = button(1);
    const fitted = fitMessage(
      { text: 'plan', blocks: [{ type: 'buttons', buttons: [long, short] }] },
      DISCORD_LIMITS,
    );

    expect(buttonsOf(fitted)).toEqual([short]);
    expect(JSON.stringify(fitted.blocks)).toContain('Also: `/restore bk_1 --components a`');
    // Slack carries it.
    expect(
      buttonsOf(
        fitMessage({ text: 'plan', blocks: [{ type: 'buttons', buttons: [long] }] }, SLACK_LIMITS),
      ),
    ).toHaveLength(1);
  });

  it('counts a too-long button without a typed command as a part not shown', () => {
    const fitted = fitMessage(
      {
        text: 'x',
        blocks: [{ type: 'buttons', buttons: [{ actionId: 'a'.repeat(101), label: 'Go' }] }],
        fullResult: '/status',
      },
      DISCORD_LIMITS,
    );
    expect(buttonsOf(fitted)).toEqual([]);
    expect(JSON.stringify(fitted.blocks)).toContain('1 more part not shown');
  });

  it('splits fields into blocks of the most a block holds', () => {
    const fields = Array.from({ length: 23 }, (_, i) => ({ label: `L${i}`, value: `v${i}` }));
    const fitted = fitMessage({ text: 'f', blocks: [{ type: 'fields', fields }] }, SLACK_LIMITS);
    expect(fitted.blocks.map((b) => (b.type === 'fields' ? b.fields.length : 0))).toEqual([
      10, 10, 3,
    ]);
    expect(fitted.blocks.flatMap((b) => (b.type === 'fields' ? b.fields : []))).toEqual(fields);
    expect(
      fitMessage({ text: 'f', blocks: [{ type: 'fields', fields }] }, DISCORD_LIMITS).blocks,
    ).toHaveLength(1);
  });

  it('cuts field labels and values to their limits', () => {
    const fitted = fitMessage(
      {
        text: 'f',
        blocks: [{ type: 'fields', fields: [{ label: 'L'.repeat(300), value: 'v'.repeat(2000) }] }],
      },
      DISCORD_LIMITS,
    );
    expectWithin(fitted, DISCORD_LIMITS);
  });

  it('returns a message within the limits as it is', () => {
    const message: ChatMessage = {
      text: 'Backup bk_1 completed',
      blocks: [
        { type: 'header', text: 'Backup bk_1 completed' },
        { type: 'fields', fields: [{ label: 'Size', value: '48 MB' }] },
        { type: 'progress', label: 'app-db', fraction: 1, detail: 'done' },
        { type: 'image', filename: 'rto.png', alt: 'RTO over time' },
        { type: 'buttons', buttons: [button(1)] },
      ],
    };
    for (const limits of [SLACK_LIMITS, DISCORD_LIMITS, CONSOLE_LIMITS]) {
      expect(fitMessage(message, limits)).toBe(message);
    }
    expect(fitMessage(longListing(), CONSOLE_LIMITS).blocks).toEqual(longListing().blocks);
  });

  it('cuts the plain-text fallback', () => {
    const fitted = fitMessage({ text: 't'.repeat(2500), blocks: [] }, DISCORD_LIMITS);
    expect([...fitted.text]).toHaveLength(2000);
    expect(fitted.text.endsWith('…')).toBe(true);
  });
});

describe('cut', () => {
  it('cuts by code points and marks the cut', () => {
    expect(cut('abcdef', 4)).toBe('abc…');
    expect(cut('abc', 3)).toBe('abc');
    expect(cut('😀😀😀', 3)).toBe('😀😀😀');
    expect(cut('😀😀😀😀', 3)).toBe('😀😀…');
  });
});
