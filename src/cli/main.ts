import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { REST } from 'discord.js';
import { commands } from '../../commands/index.ts';
import { type ApprovalSweeper, startApprovalSweeper } from '../approvals/approval-sweeper.ts';
import { readAuditKeys } from '../audit/audit-keys.ts';
import { postAuditCheckpoints } from '../bot/audit-checkpoint-alerts.ts';
import { restoreExecutions } from '../bot/restore-executions.ts';
import { startRunbookWaitSweep } from '../bot/runbook-wait-sweep.ts';
import { suggestionSource } from '../bot/suggestions.ts';
import { approvalRequestMessage } from '../bot/views/approval-request.ts';
import { openCatalog } from '../catalog/open-catalog.ts';
import { describeRebuild, rebuildCatalog } from '../catalog/rebuild-catalog.ts';
import type { ChatAdapter } from '../chat/chat-adapter.ts';
import { ConsoleAdapter } from '../chat/console/console-adapter.ts';
import { redisDeliveryLedger } from '../chat/delivery-ledger.ts';
import { discordSettingsFromEnv } from '../chat/discord/discord-env.ts';
import {
  describeRegistration,
  registerDiscordCommands,
} from '../chat/discord/register-commands.ts';
import { type ChatPlatform, chatPlatformsFromEnv } from '../chat/platforms.ts';
import { slackManifest } from '../chat/slack/slack-manifest.ts';
import { readEnvironment } from '../config/environment.ts';
import { loadConfig } from '../config/load-config.ts';
import { ConfigError, ServiceUnavailableError } from '../core/errors.ts';
import { parseCommand } from '../core/parse-command.ts';
import { quoteWords } from '../core/tokenize.ts';
import { startHttpServer } from '../http/server.ts';
import { type App, createApp } from '../main.ts';
import { checkPostgres } from '../preflight.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { checkStores, closeStores, createStores } from '../storage/create-store.ts';
import { checkWritable, makeDirectorySync } from '../storage/file-system-errors.ts';
import { LIFEBOAT_VERSION } from '../version.ts';
import { auditCheckpoint, auditExport, auditVerify } from './audit-commands.ts';
import { CLI_USAGE, type CliArgs, exitCodeFor, parseCliArgs, wantsJson } from './cli-args.ts';
import {
  type CliOutcome,
  describeFailure,
  failureOutcome,
  invalidOutcome,
  okOutcome,
  resultOutcome,
  sessionExitCode,
} from './cli-outcome.ts';
import { watchClosedOutput } from './closed-stdout.ts';
import { runChatCommand } from './run-chat-command.ts';
import { runbookExport } from './runbook-export.ts';
import { lintRunbooks } from './runbook-lint.ts';

/** Where the console and the CLI write logs, so they stay out of the chat transcript. */
const LOG_FILE = './.lifeboat/lifeboat.log';

/** Runs the `lifeboat` command line; resolves to the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const args = parseCliArgs(argv);
  const json = wantsJson(argv);
  const stdoutClosed = watchClosedOutput(process.stdout);
  // With --json, stdout holds only the JSON line: what people read goes to stderr.
  const out = json ? process.stderr : process.stdout;
  let outcome: CliOutcome;
  try {
    outcome = await run(args, { json, out, stdoutClosed });
  } catch (error) {
    process.stderr.write(describeFailure(error, process.env.LOG_LEVEL === 'debug'));
    outcome = failureOutcome(error);
  }
  if (json) process.stdout.write(`${JSON.stringify(outcome.result)}\n`);
  return outcome.code;
}

interface RunContext {
  readonly json: boolean;
  /** Where text for people goes: stdout, or stderr when stdout is kept for `--json`. */
  readonly out: NodeJS.WritableStream;
  /** Aborted when the reader of stdout went away: stop writing, end quietly. */
  readonly stdoutClosed: AbortSignal;
}

async function run(args: CliArgs, { json, out, stdoutClosed }: RunContext): Promise<CliOutcome> {
  switch (args.mode) {
    case 'usage':
      out.write(CLI_USAGE);
      return okOutcome();
    case 'version':
      out.write(`lifeboat ${LIFEBOAT_VERSION}\n`);
      return okOutcome({ version: LIFEBOAT_VERSION });
    case 'error':
      process.stderr.write(`${args.message}\n\n${CLI_USAGE}`);
      return invalidOutcome(args.message);
    case 'slack-manifest': {
      const manifest = slackManifest(commands, {
        socket: args.socket,
        ...(args.url ? { url: args.url } : {}),
      });
      // With --json the manifest is in the one JSON line; otherwise it is printed, indented.
      if (!json) out.write(`${JSON.stringify(manifest, null, 2)}\n`);
      return okOutcome(json ? { manifest } : {});
    }
    case 'discord-register':
      return await discordRegister(args.guild, out);
    case 'runbook-lint':
      return await lintRunbooks({ paths: args.paths, configPath: args.configPath, json, out });
    case 'unavailable': {
      const error = `\`lifeboat ${args.command}\` is not available in this version of Lifeboat yet.`;
      process.stderr.write(`${error}\n`);
      return { code: 3, result: { status: 'unavailable', error } };
    }
    case 'migrate':
      return await migrate(out);
    case 'catalog-rebuild':
      return await rebuild(args.configPath, args.cleanIncomplete, out);
    case 'audit-verify':
      return await withAuditStores(args.configPath, (stores) =>
        auditVerify({ ...auditIo(stdoutClosed), stores }, json),
      );
    case 'audit-checkpoint':
      return await withAuditStores(args.configPath, (stores) =>
        auditCheckpoint({ ...auditIo(stdoutClosed), stores }, json),
      );
    case 'audit-export':
      return await auditExport(auditIo(stdoutClosed), args.since);
    case 'runbook-export':
      return await runbookExport(args.run, out, process.stderr);
    case 'start':
      return await runService(args.configPath, { worker: true, bot: true }, stdoutClosed);
    case 'worker':
      return await runService(args.configPath, { worker: true, bot: false }, stdoutClosed);
    case 'bot':
      return await runService(args.configPath, { worker: false, bot: true }, stdoutClosed);
    case 'console':
      return await runConsoleOnly(args.configPath, args.user, stdoutClosed);
    case 'command':
      return await runCommand(args.configPath, args.words, out);
  }
}

/** `lifeboat discord register [--guild ID]`: the grammar as Discord slash commands. */
async function discordRegister(
  guild: string | undefined,
  out: NodeJS.WritableStream,
): Promise<CliOutcome> {
  const settings = discordSettingsFromEnv(process.env);
  if (!settings) {
    throw new ConfigError('DISCORD_TOKEN is not set: set it to the bot token to register commands');
  }
  if (!settings.applicationId) {
    throw new ConfigError(
      'DISCORD_APPLICATION_ID is not set: set it to the application id to register commands',
    );
  }
  const registration = await registerDiscordCommands({
    rest: new REST({ api: settings.apiUrl }).setToken(settings.token),
    applicationId: settings.applicationId,
    commands,
    ...(guild ? { guildId: guild } : {}),
  });
  out.write(describeRegistration(registration));
  return okOutcome({
    scope: guild ? `guild:${guild}` : 'global',
    commands: registration.commands.map((c) => c.name),
  });
}

/** Why `--as` or `/as` is refused when the configuration turned impersonation off. */
function impersonationOffMessage(how: '--as' | '/as', user: string): string {
  return `${how} is refused: this configuration turns impersonation off (console: { impersonation: false }), so the console user is the operating-system user, console:${user}`;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * Starts the console's in-process worker when no worker serves the queue. With Redis down it
 * says so and carries on: commands that read the catalog still work.
 */
async function ensureWorkerOrSay(app: App): Promise<void> {
  try {
    await app.ensureWorker();
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    const first = error.message.split('\n')[0];
    process.stderr.write(
      `${first}\nCommands that queue work fail until it is back; /backup list, /backup show, /approvals and /status work without it.\n`,
    );
  }
}

/** The console and one-shot CLI commands log to a file, keeping the terminal for people. */
function quietApp(
  configPath: string | undefined,
  options: { readonly requireRedis: boolean; readonly surveyStore?: boolean },
): Promise<App> {
  const logFile = resolve(LOG_FILE);
  makeDirectorySync(dirname(logFile), `the log directory ${dirname(logFile)}`);
  checkWritable(logFile, `the log file ${logFile}`);
  return createApp({
    configPath,
    logDestination: logFile,
    onStartupNote: (line) => process.stderr.write(`${line}\n`),
    requireRedis: options.requireRedis,
    surveyStore: options.surveyStore ?? false,
    // A restore planned while no worker serves the queue runs in this process's own.
    runsOwnJobs: true,
  });
}

/**
 * The audit commands need the catalog (`DATABASE_URL`) and the audit keys from the
 * environment; no Redis.
 */
function auditIo(stdoutClosed: AbortSignal) {
  const { databaseUrl } = readEnvironment(process.env);
  const keys = readAuditKeys(process.env);
  return {
    databaseUrl,
    keys,
    user: osUser(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutClosed,
  };
}

/**
 * The stores that keep the audit checkpoints, from the config. Without a config file (none
 * given, none at LIFEBOAT_CONFIG or ./lifeboat.yaml) the commands are told why there are none:
 * `audit verify` then checks the chain alone, and says so. A config that exists must load.
 */
async function withAuditStores(
  configPath: string | undefined,
  work: (stores: readonly BackupStore[] | { unavailable: string }) => Promise<CliOutcome>,
): Promise<CliOutcome> {
  const requested = configPath ?? process.env.LIFEBOAT_CONFIG;
  if (requested === undefined && !existsSync(resolve('lifeboat.yaml'))) {
    return work({
      unavailable:
        'no configuration file (no --config, no LIFEBOAT_CONFIG, no ./lifeboat.yaml), so no store to read them from',
    });
  }
  const { config } = loadConfig({ path: configPath, env: process.env });
  const stores = createStores(config, process.cwd(), { env: process.env });
  try {
    return await work([stores.primary, ...stores.replicas]);
  } finally {
    closeStores(stores);
  }
}

async function migrate(out: NodeJS.WritableStream): Promise<CliOutcome> {
  const env = readEnvironment(process.env);
  await checkPostgres(env.databaseUrl, 'the catalog');
  const catalog = await openCatalog(env.databaseUrl);
  try {
    const applied = await catalog.migrate();
    out.write(
      applied.length
        ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n`
        : 'the catalog is up to date\n',
    );
    return okOutcome({ applied });
  } finally {
    await catalog.close();
  }
}

/**
 * `lifeboat catalog rebuild`: the catalog from the manifests in the primary store. Needs the
 * config (for the store) and the catalog database, not Redis or a worker.
 */
async function rebuild(
  configPath: string | undefined,
  cleanIncomplete: boolean,
  out: NodeJS.WritableStream,
): Promise<CliOutcome> {
  const { config } = loadConfig({ path: configPath, env: process.env });
  const env = readEnvironment(process.env);
  await checkPostgres(env.databaseUrl, 'the catalog');
  const stores = createStores(config, process.cwd(), { env: process.env });
  const catalog = await openCatalog(env.databaseUrl);
  try {
    await checkStores(stores);
    const applied = await catalog.migrate();
    if (applied.length) process.stderr.write(`catalog: applied migrations ${applied.join(', ')}\n`);
    const report = await rebuildCatalog({
      store: stores.primary,
      inventory: catalog.inventory,
      cleanIncomplete,
    });
    out.write(`${describeRebuild(report, cleanIncomplete).join('\n')}\n`);
    return okOutcome({
      recorded: report.recorded.length,
      missing: report.missing.length,
      incomplete: report.incomplete.length,
      invalid: report.invalid.length,
    });
  } finally {
    closeStores(stores);
    await catalog.close();
  }
}

async function runCommand(
  configPath: string | undefined,
  words: readonly string[],
  out: NodeJS.WritableStream,
): Promise<CliOutcome> {
  // Only commands that queue work need Redis (and a worker): the others, and dry runs, read
  // the catalog.
  const parsed = parseCommand(`/${quoteWords(words)}`, commands);
  const enqueues = parsed.ok && parsed.command.enqueues && parsed.args.dryRun !== true;
  const app = await quietApp(configPath, { requireRedis: enqueues });
  const watch = enqueues ? app.watchForWorkers() : undefined;
  try {
    if (enqueues) await app.ensureWorker();
    const result = await runChatCommand(app, {
      words,
      user: osUser(),
      output: out,
      filesDirectory: app.loaded.config.console.files,
    });
    return resultOutcome(result);
  } finally {
    watch?.stop();
    await app.close();
  }
}

/**
 * Expires approval requests nobody decided in time, records the outcome of approved restores
 * whose bot stopped or lost track of them, and, when `adapter` is given, shows both on the
 * requests it posted. Bot processes run it; workers do not (they post nothing).
 */
function sweepApprovals(app: App, adapters: readonly ChatAdapter[] = []): ApprovalSweeper {
  const sweeper = startApprovalSweeper({
    approvals: app.services.approvals,
    executions: restoreExecutions((id) => app.catalog.restores.get(id)),
    onChanged: async (request) => {
      const adapter = adapters.find((a) => a.platform === request.platform);
      if (!adapter || !request.message) return;
      await adapter.update(
        request.message,
        approvalRequestMessage(request, { now: new Date(), roles: app.loaded.config.roles }),
      );
    },
    onError: (error) => app.logger.warn({ err: error }, 'approval sweep failed'),
  });
  // At once, too: a bot started after one that stopped mid-approval settles what it left.
  void sweeper.sweep();
  // Runbook runs whose WAIT is over go on with their next step; stopped with the approvals.
  const waits = startRunbookWaitSweep({
    services: app.services,
    config: app.loaded.config,
    adapters,
    onError: (error) => app.logger.warn({ err: error }, 'runbook wait sweep failed'),
  });
  return {
    sweep: () => sweeper.sweep(),
    async stop() {
      await waits.stop();
      await sweeper.stop();
    },
  };
}

/**
 * What a chat platform gets from the bot besides commands: scheduled audit checkpoints in its
 * alerts channel. Returns a function that stops it.
 */
function serveChat(app: App, adapter: ChatAdapter): () => void {
  const channel = app.loaded.config.chat.channels.alerts?.[adapter.platform as 'slack'];
  if (!channel) return () => undefined;
  return postAuditCheckpoints({
    events: app.queue.events,
    adapter,
    channel,
    onError: (error) => app.logger.warn({ err: error }, 'could not post an audit checkpoint'),
  });
}

/**
 * Runs the console chat on the terminal or pipe until its input ends. Resolves to the session's
 * exit code: 0 in a terminal; in a pipe, as a script needs it, the worst of its commands' (see
 * `sessionExitCode`). A reader of stdout that went away (`| head`) ends the session.
 */
async function attachConsole(app: App, user: string, stdoutClosed: AbortSignal): Promise<number> {
  const impersonation = app.loaded.config.console.impersonation;
  const adapter = new ConsoleAdapter({
    input: process.stdin,
    output: process.stdout,
    user,
    filesDirectory: app.loaded.config.console.files,
    ...(impersonation ? {} : { impersonationOff: impersonationOffMessage('/as', user) }),
  });
  const sweeper = sweepApprovals(app, [adapter]);
  // The console is the alerts channel here: it prints each scheduled audit checkpoint.
  const stopCheckpoints = postAuditCheckpoints({
    events: app.queue.events,
    adapter,
    channel: app.loaded.config.chat.channels.alerts?.console ?? 'console',
    onError: (error) => app.logger.warn({ err: error }, 'could not post an audit checkpoint'),
  });
  const codes: number[] = [];
  await adapter.start(async (event) => {
    if (event.kind === 'command' || event.kind === 'action') {
      const result = await app.dispatcher.handle(event, adapter.replyTo(event));
      codes.push(exitCodeFor(result));
    }
  });
  stdoutClosed.addEventListener('abort', () => void adapter.stop(), { once: true });
  await adapter.post(
    { channel: 'console' },
    {
      text: 'Lifeboat console',
      blocks: [
        { type: 'header', text: `Lifeboat ${LIFEBOAT_VERSION} — console chat` },
        {
          type: 'section',
          text: impersonation
            ? `You are console:${user}. Type /help for commands, /as NAME to act as someone else, /quit to leave.`
            : `You are console:${user}. Type /help for commands, /quit to leave.`,
        },
        {
          type: 'fields',
          fields: Object.entries(app.loaded.config.profiles).map(([name, p]) => ({
            label: name === app.loaded.config.defaultProfile ? `${name} (default)` : name,
            value: p.targets.join(', '),
          })),
        },
        { type: 'context', text: `config ${app.loaded.path} · logs ${LOG_FILE}` },
      ],
    },
  );
  await adapter.done;
  stopCheckpoints();
  await sweeper.stop();
  if (process.stdin.isTTY === true) return 0;
  if (adapter.invalidLines > 0) codes.push(2);
  return sessionExitCode(codes);
}

async function runConsoleOnly(
  configPath: string | undefined,
  user: string | undefined,
  stdoutClosed: AbortSignal,
): Promise<CliOutcome> {
  // The console starts without Redis: what reads the catalog works, and it says what does not.
  const app = await quietApp(configPath, { requireRedis: false, surveyStore: true });
  if (user !== undefined && !app.loaded.config.console.impersonation) {
    await app.close();
    const message = impersonationOffMessage('--as', osUser());
    process.stderr.write(`${message}\n`);
    return invalidOutcome(message);
  }
  const watch = app.watchForWorkers();
  try {
    await ensureWorkerOrSay(app);
    const code = await attachConsole(app, user ?? osUser(), stdoutClosed);
    if (code === 0) return okOutcome();
    const status = code === 1 ? 'failed' : code === 2 ? 'invalid' : 'refused';
    return { code, result: { status, error: `a command of the session ended ${status}` } };
  } finally {
    watch.stop();
    await app.close();
  }
}

/**
 * `lifeboat start` (bot + worker + scheduler + HTTP), `lifeboat worker`, `lifeboat bot`. With a
 * terminal on stdin, `start` attaches the console and stops when it ends; otherwise it runs as a
 * service until SIGTERM or SIGINT, whatever stdin holds.
 */
async function runService(
  configPath: string | undefined,
  parts: { worker: boolean; bot: boolean },
  stdoutClosed: AbortSignal,
): Promise<CliOutcome> {
  const attach = parts.worker && parts.bot && process.stdin.isTTY === true;
  const app = attach
    ? await quietApp(configPath, { requireRedis: true, surveyStore: true })
    : await createApp({ configPath, surveyStore: true });
  let server: Server | undefined;
  const platforms: ChatPlatform[] = [];
  const stopPlatforms: (() => void)[] = [];
  try {
    if (parts.worker) app.startWorker();
    await app.syncSchedules();
    if (parts.bot) {
      platforms.push(
        ...(await chatPlatformsFromEnv({
          env: process.env,
          logger: app.logger,
          ledger: redisDeliveryLedger(app.queue.connections.commands('lifeboat-deliveries'), {
            prefix: app.env.queuePrefix,
          }),
          audit: app.catalog.audit,
          commands,
          config: app.loaded.config,
          suggest: suggestionSource({
            config: app.loaded.config,
            backups: app.services.backups,
            openRequests: () => app.services.approvals.open(),
          }),
        })),
      );
      try {
        server = await startHttpServer({
          port: app.env.httpPort,
          host: app.env.httpHost,
          status: app.services.status,
          logger: app.logger,
          routes: new Map(platforms.flatMap((p) => [...p.routes])),
        });
        app.logger.info({ port: app.env.httpPort }, 'http server listening');
      } catch (error) {
        const message = `HTTP server not started on port ${app.env.httpPort}: ${error instanceof Error ? error.message : error} (set LIFEBOAT_HTTP_PORT to another port)`;
        app.logger.warn(message);
        if (attach) process.stderr.write(`${message}\n`);
      }
      for (const { adapter } of platforms) {
        stopPlatforms.push(serveChat(app, adapter));
        await adapter.start(async (event) => {
          await app.dispatcher.handle(event, adapter.replyTo(event));
        });
        app.logger.info({ platform: adapter.platform }, 'chat platform connected');
      }
    }
    if (attach) {
      await attachConsole(app, osUser(), stdoutClosed);
    } else {
      const sweeper = parts.bot
        ? sweepApprovals(
            app,
            platforms.map((p) => p.adapter),
          )
        : undefined;
      app.logger.info('lifeboat running; send SIGTERM to stop');
      await new Promise<void>((resolveSignal) => {
        process.once('SIGTERM', () => resolveSignal());
        process.once('SIGINT', () => resolveSignal());
      });
      app.logger.info('shutting down');
      await sweeper?.stop();
    }
    return okOutcome();
  } finally {
    for (const stop of stopPlatforms) stop();
    for (const { adapter } of platforms) {
      await adapter.stop().catch((error: unknown) => {
        app.logger.warn({ err: error, platform: adapter.platform }, 'chat platform did not stop');
      });
    }
    server?.close();
    await app.close();
  }
}
