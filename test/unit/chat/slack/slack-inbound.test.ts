import { describe, expect, it } from 'vitest';
import { readSlackPayload, typedText } from '../../../../src/chat/slack/slack-inbound.ts';

const command = (fields: Record<string, string>) => ({
  command: '/backup',
  text: 'create full',
  user_id: 'UALICE',
  team_id: 'T1',
  channel_id: 'C1',
  trigger_id: 'trig-1',
  ...fields,
});

describe('reading Slack payloads', () => {
  it('joins the command word and its text into the typed command', () => {
    const reading = readSlackPayload(command({ text: ' create full --note "before deploy" ' }));
    expect(reading).toMatchObject({
      ok: true,
      inbound: {
        kind: 'command',
        userId: 'UALICE',
        teamId: 'T1',
        channel: { channel: 'C1' },
        text: '/backup create full --note "before deploy"',
        deliveryKey: 'slack:trigger:trig-1',
      },
    });
    expect(readSlackPayload(command({ command: '/status', text: '' }))).toMatchObject({
      inbound: { text: '/status' },
    });
  });

  it('undoes Slack’s entities and typographic quotes in what was typed', () => {
    expect(typedText('create --note \u201Ca &amp; b &lt;x&gt;\u201D')).toBe(
      'create --note "a & b <x>"',
    );
  });

  it('takes a click’s identity from the payload’s user, never from the button', () => {
    const reading = readSlackPayload({
      type: 'block_actions',
      user: { id: 'UBOB', team_id: 'T1' },
      team: { id: 'T1' },
      channel: { id: 'C1' },
      container: { message_ts: '1.2' },
      trigger_id: 'trig-2',
      actions: [{ action_id: 'cmd:approve apr_1', value: 'slack:UALICE' }],
    });
    expect(reading).toMatchObject({
      ok: true,
      inbound: {
        kind: 'action',
        userId: 'UBOB',
        actionId: 'cmd:approve apr_1',
        value: 'slack:UALICE',
        message: { channel: 'C1', messageId: '1.2' },
      },
    });
  });

  it('refuses what names no user, no channel or no action, keeping who it names', () => {
    expect(readSlackPayload(command({ user_id: '' }))).toMatchObject({ ok: false });
    expect(readSlackPayload(command({ user_id: 'U<!x>' }))).toMatchObject({ ok: false });
    expect(readSlackPayload(command({ channel_id: '' }))).toMatchObject({
      ok: false,
      userId: 'UALICE',
    });
    expect(
      readSlackPayload({ type: 'block_actions', user: { id: 'UBOB' }, channel: { id: 'C1' } }),
    ).toMatchObject({ ok: false, reason: 'the click names no action', userId: 'UBOB' });
    expect(readSlackPayload({ type: 'view_submission' })).toMatchObject({ ok: false });
  });
});
