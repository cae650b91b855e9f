import { describe, expect, it } from 'vitest';
import { mention } from '../../../../src/chat/mention.ts';
import type { Block, ChatMessage } from '../../../../src/chat/message.ts';
import {
  mrkdwn,
  progressBar,
  renderSlackMessage,
  type SlackBlock,
} from '../../../../src/chat/slack/render-blocks.ts';

const one = (block: Block): SlackBlock => {
  const [rendered] = renderSlackMessage({ text: 'x', blocks: [block] }).blocks;
  if (!rendered) throw new Error('nothing rendered');
  return rendered;
};

const textOf = (block: SlackBlock) => (block.text as { text: string }).text;

describe('Slack Block Kit renderer', () => {
  it('escapes <!channel>, <@U…> and links typed into text, so they neither ping nor link', () => {
    const section = one({ type: 'section', text: 'note: <!channel> ping <@U999> & <https://x|y>' });
    expect(textOf(section)).toBe(
      'note: &lt;!channel&gt; ping &lt;@U999&gt; &amp; &lt;https://x|y&gt;',
    );
    expect(textOf(section)).not.toMatch(/<[!@h]/);
  });

  it('escapes the notification text too', () => {
    const rendered = renderSlackMessage({ text: 'hi <!here>', blocks: [] });
    expect(rendered.text).toBe('hi &lt;!here&gt;');
  });

  it('turns a mention of a Slack user into <@U…> and of anyone else into plain text', () => {
    const text = `approved by ${mention({ platform: 'slack', id: 'U012AB3CD' })} and ${mention({ platform: 'discord', id: '80351110224678912' })}`;
    expect(mrkdwn(text)).toBe('approved by <@U012AB3CD> and discord:80351110224678912');
  });

  it('never pings from a header or a button label (plain text)', () => {
    const header = one({
      type: 'header',
      text: `Restore by ${mention({ platform: 'slack', id: 'U1' })}`,
    });
    expect(header).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Restore by @U1', emoji: true },
    });
  });

  it('keeps `code` as code and escapes inside code blocks', () => {
    expect(textOf(one({ type: 'section', text: 'run `a < b`' }))).toBe('run `a &lt; b`');
    expect(textOf(one({ type: 'code', text: 'x <!channel>' }))).toBe(
      '```\nx &lt;!channel&gt;\n```',
    );
  });

  it('renders fields, progress, callouts and context', () => {
    expect(one({ type: 'fields', fields: [{ label: 'Target', value: 'app-db' }] })).toEqual({
      type: 'section',
      fields: [{ type: 'mrkdwn', text: '*Target*\napp-db' }],
    });
    expect(textOf(one({ type: 'progress', label: 'db', fraction: 0.5, detail: '12 MB' }))).toBe(
      `*db*\n\`${'▓'.repeat(10)}${'░'.repeat(10)} 50 %\` 12 MB`,
    );
    expect(progressBar(null)).toBe('in progress');
    expect(textOf(one({ type: 'callout', tone: 'danger', text: 'failed' }))).toBe(
      ':rotating_light: *Danger:* failed',
    );
    expect(one({ type: 'context', text: 'bk_1' })).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'bk_1' }],
    });
  });

  it('renders buttons with style, value and a confirm dialog', () => {
    const actions = one({
      type: 'buttons',
      buttons: [
        {
          actionId: 'cmd:approve apr_1',
          label: 'Approve',
          style: 'primary',
          value: 'apr_1',
          confirm: { title: 'Restore?', text: 'Overwrites app-db', confirm: 'Restore' },
        },
      ],
    });
    expect(actions).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: 'cmd:approve apr_1',
          text: { type: 'plain_text', text: 'Approve', emoji: true },
          value: 'apr_1',
          style: 'primary',
          confirm: {
            title: { type: 'plain_text', text: 'Restore?', emoji: true },
            text: { type: 'plain_text', text: 'Overwrites app-db', emoji: true },
            confirm: { type: 'plain_text', text: 'Restore', emoji: true },
            deny: { type: 'plain_text', text: 'Cancel', emoji: true },
          },
        },
      ],
    });
  });

  it('names an image block’s file, which is uploaded beside the message', () => {
    const block = one({ type: 'image', filename: 'rto.png', alt: 'RTO per week' });
    expect(JSON.stringify(block)).toContain('RTO per week');
    expect(JSON.stringify(block)).toContain('rto.png');
  });

  it('keeps a message to 50 blocks and says how to see the rest', () => {
    const message: ChatMessage = {
      text: 'many',
      blocks: Array.from({ length: 80 }, (_, i) => ({ type: 'section', text: `line ${i}` })),
      fullResult: '/backup list --limit 80',
    };
    const { blocks } = renderSlackMessage(message);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(blocks.at(-1))).toContain('/backup list --limit 80');
  });

  it('keeps every text within 3,000 characters, escaping and code fences included', () => {
    const rendered = renderSlackMessage({
      text: 'long',
      blocks: [
        { type: 'section', text: 'a'.repeat(5_000) },
        { type: 'code', text: '<'.repeat(5_000) },
        { type: 'fields', fields: [{ label: 'L'.repeat(600), value: '&'.repeat(2_000) }] },
      ],
    });
    const texts = rendered.blocks.flatMap((b) => [
      ...(b.text ? [(b.text as { text: string }).text] : []),
      ...((b.fields as { text: string }[] | undefined) ?? []).map((f) => f.text),
    ]);
    expect(texts.length).toBeGreaterThanOrEqual(3);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(3_000);
    const fields = rendered.blocks.find((b) => b.fields) as { fields: { text: string }[] };
    for (const field of fields.fields) expect(field.text.length).toBeLessThanOrEqual(2_000);
  });
});
