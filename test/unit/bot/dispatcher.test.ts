import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { defineCommand } from '../../../src/bot/command.ts';
import { createDispatcher } from '../../../src/bot/dispatcher.ts';
import { createAcknowledgement } from '../../../src/chat/acknowledgement.ts';
import { PolicyError, ServiceUnavailableError } from '../../../src/core/errors.ts';
import { inMemoryServices } from '../../doubles/in-memory-services.ts';
import { RecordingLogger, testBot } from '../../doubles/test-bot.ts';
import { buttonsOf, messageText, TestChat } from '../../doubles/test-chat.ts';
import { testConfig } from '../../doubles/test-config.ts';

const roles = { dba: ['console:bob'], oncall: ['console:alice', 'slack:U045EF6GH'] };

describe('dispatcher: bad input', () => {
  it.each([
    ['/bakup create', 'did you mean `/backup create`?'],
    ['/backup create --notes x', 'did you mean `--note`?'],
    ['/backup create full extra', 'one too many'],
    ['/backup create --note "oops', 'unterminated'],
    ['/backup list --limit lots', 'whole number'],
    ['/backup create nightly', 'profiles: full, quick, db'],
  ])('answers %s with one clear message and starts no work', async (line, expected) => {
    const { chat, services } = testBot();
    const result = await chat.say(line);
    expect(result.status).toBe('invalid');
    expect(chat.posted).toHaveLength(1);
    expect(chat.lastText()).toContain(expected);
    expect(chat.lastText()).toMatch(/^\[warning\]/);
    expect(services.backupJobs.requests).toEqual([]);
  });

  it('lists the subcommands of a group typed alone, as information', async () => {
    const { chat } = testBot();
    const result = await chat.say('/backup');
    expect(result).toMatchObject({ status: 'invalid', reason: 'incomplete_command' });
    expect(chat.lastText()).toMatch(/^\[info\] `\/backup` needs a subcommand/);
  });

  it('checks names against the config even for commands not available yet', async () => {
    const { chat } = testBot();
    const result = await chat.say('/restore latest --into app-db=stagingdb');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain('Unknown target "stagingdb"; did you mean "staging-db"?');
    expect((await chat.say('/drill run monthly')).status).toBe('invalid');
    expect(chat.lastText()).toContain('drills: weekly-db');
    expect((await chat.say('/backup list --profile nope')).status).toBe('invalid');
  });
});

describe('dispatcher: commands not available yet', () => {
  it.each([
    ['/drill run weekly-db', '/drill run'],
    ['/drill list', '/drill list'],
    ['/drill history', '/drill history'],
  ])('answers %s as not available yet', async (line, name) => {
    const { chat, services } = testBot();
    const result = await chat.say(line);
    expect(result).toMatchObject({ status: 'unavailable', command: name });
    expect(chat.lastText()).toBe(
      `[info] \`${name}\` is not available yet in this version of Lifeboat. \`/help\` lists what is.`,
    );
    expect(services.backupJobs.requests).toEqual([]);
  });
});

describe('dispatcher: roles', () => {
  it('lets anyone run anything when the config has no roles', async () => {
    const { chat } = testBot();
    expect((await chat.say('/backup create db', 'mallory')).status).toBe('completed');
  });

  it('refuses a gated command to someone without a role, and starts nothing', async () => {
    const { chat, services, logger } = testBot({ config: testConfig({ roles }) });
    const result = await chat.say('/backup create db', 'eve');
    expect(result.status).toBe('refused');
    expect(chat.lastText()).toContain('`/backup create` is for people with a role (dba, oncall)');
    expect(chat.lastText()).toMatch(/^\[danger\]/);
    expect(services.backupJobs.requests).toEqual([]);
    expect(logger.entries.some((e) => e.msg === 'command refused: no role')).toBe(true);
  });

  it('lets a role holder run a gated command, on any platform', async () => {
    const { chat } = testBot({ config: testConfig({ roles }) });
    expect((await chat.say('/backup create db', 'alice')).status).toBe('completed');
    expect((await chat.say('/backup create db', 'slack:U045EF6GH')).status).toBe('completed');
  });

  it('leaves read-only commands open to everyone', async () => {
    const { chat } = testBot({ config: testConfig({ roles }) });
    expect((await chat.say('/backup list', 'eve')).status).toBe('ok');
    expect((await chat.say('/status', 'eve')).status).toBe('ok');
    expect((await chat.say('/help', 'eve')).status).toBe('ok');
  });

  it('checks the role of whoever clicks a button', async () => {
    const { chat, services } = testBot({ config: testConfig({ roles }) });
    services.backupJobs.script({ kind: 'fail', failing: 'app-db', error: 'boom' });
    await chat.say('/backup create db', 'alice');
    expect((await chat.click('Retry', 'eve')).status).toBe('refused');
    expect(services.backupJobs.requests).toHaveLength(1);
  });

  it('refuses unavailable gated commands by role before saying they are unavailable', async () => {
    const { chat } = testBot({ config: testConfig({ roles }) });
    expect((await chat.say('/restore latest', 'eve')).status).toBe('refused');
  });
});

describe('dispatcher: buttons', () => {
  it('runs a command button through the same path as typing it', async () => {
    const { chat, services } = testBot();
    const result = await chat.clickAction('cmd:backup create quick --no-replicate', 'bob');
    expect(result.status).toBe('completed');
    expect(services.backupJobs.requests).toEqual([
      { profile: 'quick', note: null, requestedBy: 'console:bob', replicate: false },
    ]);
  });

  it('validates a button’s command like a typed one', async () => {
    const { chat, services } = testBot();
    expect((await chat.clickAction('cmd:backup create gone')).status).toBe('invalid');
    expect(services.backupJobs.requests).toEqual([]);
  });

  it('answers an action id it does not know', async () => {
    const { chat } = testBot();
    const result = await chat.clickAction('legacy:approve:42');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain('That button is not one this version of Lifeboat knows');
  });
});

describe('dispatcher: failures', () => {
  function botWith(handler: () => Promise<never>) {
    const config = testConfig();
    const services = inMemoryServices(config, () => new Date());
    const logger = new RecordingLogger();
    const boom = defineCommand({
      path: ['boom'],
      summary: 'Fails.',
      positionals: [],
      flags: [],
      action: 'boom',
      gated: false,
      enqueues: false,
      handler,
    });
    const dispatcher = createDispatcher({
      commands: [...commands, boom],
      services,
      config,
      logger,
    });
    return { chat: new TestChat(dispatcher), logger };
  }

  it('logs an unexpected error with its stack and shows a short message with a reference', async () => {
    const { chat, logger } = botWith(async () => {
      throw new TypeError('Cannot read properties of undefined (reading "x")\n    at secret.ts:1');
    });
    const result = await chat.say('/boom');
    expect(result.status).toBe('failed');
    const reference = String(result.reference);
    expect(reference).toMatch(/^err_[0-9a-z]{8}$/);
    expect(chat.lastText()).toBe(
      `[danger] Something went wrong: Cannot read properties of undefined (reading "x") (see the logs for ${reference})`,
    );
    const [logged] = logger.errors();
    expect(logged?.obj.reference).toBe(reference);
    expect((logged?.obj.err as Error | undefined)?.stack).toContain('TypeError');
  });

  it('shows a user-facing error as it is, without logging it as a crash', async () => {
    const { chat, logger } = botWith(async () => {
      throw new ServiceUnavailableError('redis_down', 'Redis at 127.0.0.1:6379 is not reachable.');
    });
    const result = await chat.say('/boom');
    expect(result).toMatchObject({ status: 'failed', code: 'redis_down' });
    expect(chat.lastText()).toBe('[danger] Redis at 127.0.0.1:6379 is not reachable.');
    expect(logger.errors()).toEqual([]);
  });

  it('ends a policy error as refused', async () => {
    const { chat } = botWith(async () => {
      throw new PolicyError('not_allowed', 'Production restores need a second person.');
    });
    expect((await chat.say('/boom')).status).toBe('refused');
  });

  it('does not throw when even posting the answer fails', async () => {
    const { chat, logger } = botWith(async () => {
      throw new Error('first');
    });
    chat.failNextPost = new Error('chat is down');
    await expect(chat.say('/boom')).resolves.toMatchObject({ status: 'failed' });
    expect(logger.errors().map((e) => e.msg)).toEqual([
      'command failed unexpectedly',
      'could not post an answer',
    ]);
  });

  it('fails a backup cleanly when the queue is unreachable', async () => {
    const { chat, services, logger } = testBot();
    services.backupJobs.enqueueError = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    const result = await chat.say('/backup create db');
    expect(result.status).toBe('failed');
    expect(chat.lastText()).toContain('Something went wrong: connect ECONNREFUSED 127.0.0.1:6379');
    expect(logger.errors()).toHaveLength(1);
  });

  it('keeps serving after a failure', async () => {
    const { chat } = botWith(async () => {
      throw new Error('first');
    });
    await chat.say('/boom');
    expect((await chat.say('/status')).status).toBe('ok');
  });
});

describe('dispatcher: results', () => {
  it('logs every finished command with who ran it', async () => {
    const { chat, logger } = testBot();
    await chat.say('/status', 'slack:U1');
    expect(logger.entries).toContainEqual({
      level: 'info',
      obj: { identity: 'slack:U1', command: '/status', status: 'ok', id: undefined },
      msg: 'command finished',
    });
  });

  it('posts into the reply channel it was given', async () => {
    const { chat } = testBot();
    await chat.say('/help');
    expect(chat.posted[0]?.ref.channel).toBe('ops');
    expect(buttonsOf(chat.last())).toEqual([]);
    expect(messageText(chat.last())).toContain('/backup create');
  });
});

/** An acknowledgement that records what the platform was told, in order. */
function recordedAck(options: { failAccept?: Error } = {}) {
  const told: string[] = [];
  const ack = createAcknowledgement(
    {
      accept: async () => {
        told.push('accept');
        if (options.failAccept) throw options.failAccept;
      },
      replyPrivately: async (message, first) => {
        told.push(`${first ? 'private-ack' : 'private'}: ${messageText(message)}`);
      },
    },
    { deadlineMs: Number.POSITIVE_INFINITY },
  );
  return { ack, told };
}

describe('dispatcher: acknowledgement', () => {
  function gatedBot(config = testConfig()) {
    const services = inMemoryServices(config, () => new Date());
    const logger = new RecordingLogger();
    const gate = Promise.withResolvers<void>();
    const entered = Promise.withResolvers<void>();
    const slow = defineCommand({
      path: ['slow'],
      summary: 'Waits for the gate.',
      positionals: [],
      flags: [],
      action: 'slow',
      gated: true,
      enqueues: false,
      handler: async (ctx) => {
        entered.resolve();
        await gate.promise;
        await ctx.reply.post({
          text: 'slow done',
          blocks: [{ type: 'section', text: 'slow done' }],
        });
        return { status: 'ok' };
      },
    });
    const dispatcher = createDispatcher({
      commands: [...commands, slow],
      services,
      config,
      logger,
    });
    const chat = new TestChat(dispatcher);
    const send = (text: string, ack: ReturnType<typeof recordedAck>['ack'], as = 'alice') =>
      dispatcher.handle(
        {
          kind: 'command',
          identity: { platform: 'console', id: as },
          channel: { channel: 'ops' },
          text,
          ack,
        },
        chat.reply,
      );
    return { dispatcher, chat, services, logger, gate, entered, send };
  }

  it('accepts the event before the handler does its slow work', async () => {
    const { gate, entered, send, chat } = gatedBot();
    const { ack, told } = recordedAck();
    const running = send('/slow', ack);
    await entered.promise;
    // The handler is still blocked on its gate, and the platform already has its answer.
    expect(ack.acknowledged).toBe(true);
    expect(told).toEqual(['accept']);
    expect(chat.posted).toEqual([]);
    gate.resolve();
    await expect(running).resolves.toMatchObject({ status: 'ok' });
    expect(chat.publicTexts()).toEqual(['slow done']);
    expect(told).toEqual(['accept']);
  });

  it('accepts a backup before it is queued', async () => {
    const { services, send } = gatedBot();
    const { ack, told } = recordedAck();
    const enqueue = services.backupJobs.enqueue.bind(services.backupJobs);
    let ackedWhenQueued: boolean | undefined;
    services.backupJobs.enqueue = (request) => {
      ackedWhenQueued = ack.acknowledged;
      return enqueue(request);
    };
    await expect(send('/backup create db', ack)).resolves.toMatchObject({ status: 'completed' });
    expect(ackedWhenQueued).toBe(true);
    expect(told).toEqual(['accept']);
  });

  it.each([
    ['/bakup create', 'did you mean `/backup create`?'],
    ['/backup create nightly', 'profiles: full, quick, db'],
    ['/backup create --note "oops', 'unterminated'],
  ])('answers bad input %s privately, posts nothing, runs nothing', async (line, expected) => {
    const { chat, services, send } = gatedBot();
    const { ack, told } = recordedAck();
    const result = await send(line, ack);
    expect(result.status).toBe('invalid');
    expect(chat.publicTexts()).toEqual([]);
    expect(chat.privateTexts()).toHaveLength(1);
    expect(chat.privateTexts()[0]).toContain(expected);
    expect(services.backupJobs.requests).toEqual([]);
    // The private answer is the acknowledgement's: the event was never accepted as work.
    expect(told).toEqual([]);
  });

  it('refuses a command to someone without a role privately, and starts nothing', async () => {
    const { chat, services, entered, send } = gatedBot(testConfig({ roles }));
    const { ack, told } = recordedAck();
    let started = false;
    void entered.promise.then(() => {
      started = true;
    });
    expect((await send('/slow', ack, 'eve')).status).toBe('refused');
    expect((await send('/backup create db', recordedAck().ack, 'eve')).status).toBe('refused');
    expect(chat.publicTexts()).toEqual([]);
    expect(chat.privateTexts()).toHaveLength(2);
    expect(told).toEqual([]);
    expect(services.backupJobs.requests).toEqual([]);
    await Promise.resolve();
    expect(started).toBe(false);
  });

  it('goes on with the command when the acknowledgement fails, and logs it', async () => {
    const { chat, logger, gate, send } = gatedBot();
    const { ack } = recordedAck({ failAccept: new Error('platform said no') });
    gate.resolve();
    await expect(send('/slow', ack)).resolves.toMatchObject({ status: 'ok' });
    expect(chat.publicTexts()).toEqual(['slow done']);
    expect(logger.entries.some((e) => e.msg === 'could not acknowledge')).toBe(true);
  });

  it('answers errors of the work privately', async () => {
    const { chat, services } = testBot();
    services.backupJobs.enqueueError = new ServiceUnavailableError('redis_down', 'Redis is down.');
    expect((await chat.say('/backup create db')).status).toBe('failed');
    expect(chat.publicTexts()).toEqual([]);
    expect(chat.privateTexts()).toEqual(['[danger] Redis is down.']);
  });

  it('drops mention markers from what was typed', async () => {
    const { chat, services } = testBot();
    await chat.say('/backup create db --note "hi \uE000slack:U1\uE001"');
    expect(services.backupJobs.requests[0]?.note).toBe('hi slack:U1');
    expect(chat.texts().join('\n')).not.toMatch(/[\uE000\uE001]/);
  });
});
