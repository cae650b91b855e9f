import { describe, expect, it } from 'vitest';
import { packCustomId, unpackCustomId } from '../../../../src/chat/discord/custom-id.ts';
import { renderDiscordMessage } from '../../../../src/chat/discord/render-discord.ts';
import { mention } from '../../../../src/chat/mention.ts';
import type { Block, Button, ChatMessage } from '../../../../src/chat/message.ts';

function embedChars(body: ReturnType<typeof renderDiscordMessage>['body']): number {
  return body.embeds.reduce(
    (n, e) =>
      n +
      (e.title?.length ?? 0) +
      (e.description?.length ?? 0) +
      (e.fields ?? []).reduce((m, f) => m + f.name.length + f.value.length, 0),
    0,
  );
}

describe('renderDiscordMessage', () => {
  it('puts the header in the title, prose in the description and fields in embed fields', () => {
    const { body } = renderDiscordMessage({
      text: 'Backup done',
      blocks: [
        { type: 'header', text: 'Backup bk_1 completed' },
        { type: 'section', text: 'Stored in s3.' },
        { type: 'fields', fields: [{ label: 'Size', value: '48 MB' }] },
      ],
    });

    expect(body.embeds).toHaveLength(1);
    expect(body.embeds[0]).toMatchObject({
      title: 'Backup bk\\_1 completed',
      description: 'Stored in s3.',
      fields: [{ name: 'Size', value: '48 MB' }],
    });
  });

  it('keeps a message far over every limit within Discord’s', () => {
    const long = 'x'.repeat(5_000);
    const blocks: Block[] = [
      { type: 'header', text: long },
      ...Array.from({ length: 30 }, () => ({ type: 'section', text: long }) as const),
      {
        type: 'fields',
        fields: Array.from({ length: 60 }, (_, i) => ({ label: `f${i}`, value: long })),
      },
      {
        type: 'buttons',
        buttons: Array.from({ length: 40 }, (_, i) => ({
          actionId: `cmd:backup show bk_${i}`,
          label: `Button ${i} ${'y'.repeat(100)}`,
          value: 'v'.repeat(30),
          confirm: { title: 'Sure?', text: 'Really.', confirm: 'Yes' },
          command: `/backup show bk_${i}`,
        })),
      },
    ];
    const { body } = renderDiscordMessage({ text: long, blocks, fullResult: '/backup show bk_1' });

    expect(body.content.length).toBeLessThanOrEqual(2_000);
    expect(embedChars(body)).toBeLessThanOrEqual(6_000);
    for (const embed of body.embeds) {
      expect(embed.title?.length ?? 0).toBeLessThanOrEqual(256);
      expect(embed.description?.length ?? 0).toBeLessThanOrEqual(4_096);
      expect(embed.fields?.length ?? 0).toBeLessThanOrEqual(25);
      for (const f of embed.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(1_024);
    }
    expect(body.embeds.length).toBeLessThanOrEqual(10);
    expect(body.components.length).toBeLessThanOrEqual(5);
    const buttons = body.components.flatMap((row) => row.components);
    expect(buttons.length).toBeGreaterThan(0);
    for (const row of body.components) expect(row.components.length).toBeLessThanOrEqual(5);
    for (const button of buttons) {
      expect(button.custom_id.length).toBeLessThanOrEqual(100);
      expect(button.label.length).toBeLessThanOrEqual(80);
    }
    expect(JSON.stringify(body.embeds)).toContain('`/backup show bk_1` shows all of it');
  });

  it('stays within Discord’s limits when escaping makes the text longer', () => {
    const stars = '*_'.repeat(2_000);
    const { body } = renderDiscordMessage({
      text: stars,
      blocks: [
        { type: 'header', text: stars },
        ...Array.from({ length: 5 }, () => ({ type: 'section', text: stars }) as const),
        {
          type: 'fields',
          fields: Array.from({ length: 5 }, () => ({ label: stars, value: stars })),
        },
      ],
    });

    expect(embedChars(body)).toBeLessThanOrEqual(6_000);
    expect(body.content.length).toBeLessThanOrEqual(2_000);
    for (const embed of body.embeds) {
      expect(embed.title?.length ?? 0).toBeLessThanOrEqual(256);
      expect(embed.description?.length ?? 0).toBeLessThanOrEqual(4_096);
      for (const f of embed.fields ?? []) {
        expect(f.name.length).toBeLessThanOrEqual(256);
        expect(f.value.length).toBeLessThanOrEqual(1_024);
      }
    }
  });

  it('never pings for @everyone or a typed <@id> in text', () => {
    const { body } = renderDiscordMessage({
      text: '@everyone look <@80351110224678912> @here',
      blocks: [{ type: 'section', text: '@everyone look <@80351110224678912> <@&42> @here' }],
    });

    expect(body.allowed_mentions).toEqual({ parse: [], users: [] });
    const description = body.embeds[0]?.description ?? '';
    expect(description).not.toMatch(/(^|[^\\])<@/);
    expect(description).not.toContain('@everyone');
    expect(description).not.toContain('@here');
    expect(body.content).toBe('');
  });

  it('mentions a Discord user made with mention(), and only that one', () => {
    const { body } = renderDiscordMessage({
      text: 'approval',
      blocks: [
        {
          type: 'section',
          text: `Needs ${mention({ platform: 'discord', id: '80351110224678912' })}, not ${mention({ platform: 'slack', id: 'U1' })}`,
        },
      ],
    });

    expect(body.allowed_mentions).toEqual({ parse: [], users: ['80351110224678912'] });
    expect(body.content).toBe('<@80351110224678912>');
    expect(body.embeds[0]?.description).toBe('Needs <@80351110224678912>, not slack:U1');
  });

  it('escapes markdown in text but keeps `code` as code', () => {
    const { body } = renderDiscordMessage({
      text: 'x',
      blocks: [{ type: 'section', text: 'run `/backup list` for **all** [link](http://x)' }],
    });

    expect(body.embeds[0]?.description).toBe(
      'run `/backup list` for \\*\\*all\\*\\* \\[link\\]\\(http://x\\)',
    );
  });

  it('colours the embed by the strongest callout', () => {
    const { body } = renderDiscordMessage({
      text: 'x',
      blocks: [
        { type: 'callout', tone: 'warning', text: 'slow' },
        { type: 'callout', tone: 'danger', text: 'failed' },
        { type: 'callout', tone: 'success', text: 'partly' },
      ],
    });

    expect(body.embeds[0]?.color).toBe(0xed4245);
  });

  it('shows an image block as the embed image and attaches its file', () => {
    const data = new Uint8Array([137, 80, 78, 71]);
    const message: ChatMessage = {
      text: 'chart',
      blocks: [
        { type: 'header', text: 'Drill' },
        { type: 'image', filename: 'rto.png', alt: 'RTO chart' },
      ],
      attachments: [{ filename: 'rto.png', contentType: 'image/png', data, title: 'RTO' }],
    };
    const { body, files } = renderDiscordMessage(message);

    expect(body.embeds[0]?.image).toEqual({ url: 'attachment://rto.png' });
    expect(body.attachments).toEqual([{ id: 0, filename: 'rto.png', description: 'RTO' }]);
    expect(files).toEqual([{ name: 'rto.png', data, contentType: 'image/png' }]);
  });

  it('gives buttons their styles and a custom_id that unpacks to the action and value', () => {
    const buttons: Button[] = [
      { actionId: 'approve:apr_1', label: 'Approve', style: 'primary', value: 'apr_1' },
      { actionId: 'reject:apr_1', label: 'Reject', style: 'danger' },
      {
        actionId: 'restore',
        label: 'Restore',
        value: 'bk_1',
        confirm: { title: 'Restore?', text: 'Overwrites app-db.', confirm: 'Restore' },
      },
    ];
    const { body, confirms } = renderDiscordMessage({
      text: 'x',
      blocks: [{ type: 'buttons', buttons }],
    });
    const rendered = body.components[0]?.components ?? [];

    expect(rendered.map((b) => b.style)).toEqual([1, 4, 2]);
    expect(rendered.map((b) => unpackCustomId(b.custom_id))).toEqual([
      { kind: 'act', actionId: 'approve:apr_1', value: 'apr_1' },
      { kind: 'act', actionId: 'reject:apr_1' },
      { kind: 'ask', actionId: 'restore', value: 'bk_1' },
    ]);
    expect(confirms.get(rendered[2]?.custom_id ?? '')).toEqual(buttons[2]?.confirm);
  });
});

describe('custom_id packing', () => {
  it('round-trips action ids and values, including ones that look packed', () => {
    for (const button of [
      { actionId: 'cmd:backup create full' },
      { actionId: '~odd', value: '' },
      { actionId: 'a', value: 'with\u001fseparator' },
    ]) {
      for (const kind of ['act', 'ask'] as const) {
        expect(unpackCustomId(packCustomId(button, kind))).toEqual({ kind, ...button });
      }
    }
  });

  it('rejects custom_ids it did not make', () => {
    expect(unpackCustomId('~q')).toBeUndefined();
    expect(unpackCustomId('~d')).toBeUndefined();
    expect(unpackCustomId('')).toBeUndefined();
  });
});
