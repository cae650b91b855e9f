import { commands } from '../../commands/index.ts';
import type { CommandResult } from '../bot/dispatcher.ts';
import { userNameProblem } from '../core/identity.ts';
import { cliUsage } from './cli-usage.ts';
import { parseSinceTime } from './since-time.ts';

export type CliArgs =
  | { readonly mode: 'usage' | 'version' | 'migrate' }
  | { readonly mode: 'start' | 'worker' | 'bot'; readonly configPath?: string }
  | { readonly mode: 'console'; readonly configPath?: string; readonly user?: string }
  | {
      readonly mode: 'catalog-rebuild';
      readonly configPath?: string;
      readonly cleanIncomplete: boolean;
    }
  | {
      readonly mode: 'command';
      readonly configPath?: string;
      readonly words: readonly string[];
      readonly json: boolean;
    }
  | { readonly mode: 'audit-verify' | 'audit-checkpoint'; readonly configPath?: string }
  /** `since`: only entries appended at or after it; null for the whole log. */
  | { readonly mode: 'audit-export'; readonly since: Date | null }
  /** `lifeboat slack manifest [--url URL] [--socket]` */
  | { readonly mode: 'slack-manifest'; readonly url?: string; readonly socket: boolean }
  /** `guild`: register in that guild only; absent, globally. */
  | { readonly mode: 'discord-register'; readonly guild?: string }
  /** `lifeboat runbook export RUN-ID`: the run's summary as markdown. */
  | { readonly mode: 'runbook-export'; readonly run: string }
  /** `lifeboat runbook lint [PATH…]`: no paths, the config's `runbooks.path`. */
  | {
      readonly mode: 'runbook-lint';
      readonly configPath?: string;
      readonly paths: readonly string[];
    }
  | { readonly mode: 'unavailable'; readonly command: string }
  | { readonly mode: 'error'; readonly message: string };

/** CLI extras that later versions bring; they answer "not available yet" until then. */
const LATER: readonly string[] = [];

const RUNBOOK_LINT_USAGE = '`lifeboat runbook lint` takes: runbook lint [PATH...] [--json]';

const SLACK_USAGE = '`lifeboat slack` takes: slack manifest [--url https://HOST] [--socket]';

const DISCORD_REGISTER_USAGE = '`lifeboat discord register` takes: discord register [--guild ID]';

const AUDIT_USAGE =
  '`lifeboat audit` takes: audit verify [--json] | audit checkpoint [--json] | audit export [--since TIME]';

/** The text of `lifeboat --help`, generated from the grammar. */
export const CLI_USAGE = cliUsage(commands);

/**
 * Parses `lifeboat` arguments. Everything not a service word is a chat command.
 * @param now what `--since 24h` counts back from. @defaultValue the current time
 */
export function parseCliArgs(argv: readonly string[], now: Date = new Date()): CliArgs {
  const words: string[] = [];
  let configPath: string | undefined;
  let user: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--config' || word === '--as') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        return { mode: 'error', message: `${word} needs a value` };
      }
      if (word === '--config') configPath = value;
      else user = value;
      i++;
    } else if (word.startsWith('--config=')) {
      configPath = word.slice('--config='.length);
    } else if (word.startsWith('--as=')) {
      user = word.slice('--as='.length);
    } else if (word === '--json') {
      json = true;
    } else {
      words.push(word);
    }
  }
  const [first = '', second = ''] = words;
  if (first === '' || first === '--help' || first === '-h') return { mode: 'usage' };
  if (first === '--version' || first === '-v' || first === 'version') return { mode: 'version' };
  if (user !== undefined && first !== 'console') {
    return { mode: 'error', message: '--as is only for `lifeboat console`' };
  }
  const userProblem = user === undefined ? undefined : userNameProblem(user);
  if (userProblem) return { mode: 'error', message: `--as: ${userProblem}` };
  switch (first) {
    case 'start':
    case 'worker':
    case 'bot':
    case 'migrate':
      if (words.length > 1)
        return { mode: 'error', message: `\`lifeboat ${first}\` takes no arguments` };
      return first === 'migrate' ? { mode: 'migrate' } : { mode: first, configPath };
    case 'catalog': {
      const rest = words.slice(2);
      if (second !== 'rebuild' || rest.some((w) => w !== '--clean-incomplete')) {
        return {
          mode: 'error',
          message: '`lifeboat catalog` takes: catalog rebuild [--clean-incomplete]',
        };
      }
      return {
        mode: 'catalog-rebuild',
        configPath,
        cleanIncomplete: rest.includes('--clean-incomplete'),
      };
    }
    case 'audit':
      return parseAuditArgs(words.slice(1), configPath, now);
    case 'slack':
      return parseSlackArgs(words.slice(1));
    case 'console':
      if (words.length > 1)
        return { mode: 'error', message: '`lifeboat console` takes only --as USER' };
      return { mode: 'console', configPath, user };
    case 'discord':
      if (second === 'register') return parseDiscordRegister(words.slice(2));
      break;
    case 'runbook':
      if (second === 'export') {
        const rest = words.slice(2);
        return rest.length === 1 && rest[0]
          ? { mode: 'runbook-export', run: rest[0] }
          : { mode: 'error', message: '`lifeboat runbook export` takes: runbook export RUN-ID' };
      }
      if (second === 'lint') {
        const paths = words.slice(2);
        const option = paths.find((word) => word.startsWith('-'));
        if (option) {
          return { mode: 'error', message: `${RUNBOOK_LINT_USAGE}; unknown option ${option}` };
        }
        return { mode: 'runbook-lint', configPath, paths };
      }
  }
  if (LATER.includes(`${first} ${second}`))
    return { mode: 'unavailable', command: `${first} ${second}` };
  // `lifeboat backup create --help` means `lifeboat help backup create`.
  const helpAt = words.findIndex((w) => w === '--help' || w === '-h');
  if (helpAt > 0) {
    const command = words.slice(0, helpAt).filter((w) => !w.startsWith('-'));
    return { mode: 'command', configPath, words: ['help', ...command], json };
  }
  return { mode: 'command', configPath, words, json };
}

/** `slack manifest [--url URL] [--socket]`: the app manifest, printed. */
function parseSlackArgs(words: readonly string[]): CliArgs {
  const [sub, ...rest] = words;
  if (sub !== 'manifest') return { mode: 'error', message: SLACK_USAGE };
  let url: string | undefined;
  let socket = false;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    if (word === '--socket') socket = true;
    else if (word === '--url' || word.startsWith('--url=')) {
      url = word === '--url' ? rest[++i] : word.slice('--url='.length);
      if (!url || !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) {
        return {
          mode: 'error',
          message: '--url takes the public base URL of the bot, as in https://lifeboat.example.com',
        };
      }
    } else return { mode: 'error', message: SLACK_USAGE };
  }
  return { mode: 'slack-manifest', socket, ...(url ? { url } : {}) };
}

/** `discord register [--guild ID]`: a guild id is a snowflake. */
function parseDiscordRegister(words: readonly string[]): CliArgs {
  if (words.length === 0) return { mode: 'discord-register' };
  const [flag, value, ...more] = words;
  const guild =
    flag === '--guild'
      ? value
      : flag?.startsWith('--guild=')
        ? flag.slice('--guild='.length)
        : undefined;
  if (guild === undefined || more.length || (flag === '--guild' && value === undefined)) {
    return { mode: 'error', message: DISCORD_REGISTER_USAGE };
  }
  if (flag !== '--guild' && value !== undefined)
    return { mode: 'error', message: DISCORD_REGISTER_USAGE };
  if (!/^\d{5,25}$/.test(guild)) {
    return {
      mode: 'error',
      message: `--guild: ${JSON.stringify(guild)} is not a guild id (a number such as 80351110224678912)`,
    };
  }
  return { mode: 'discord-register', guild };
}

/**
 * `audit verify`, `audit checkpoint` (the catalog, and the config for the stores that keep the
 * checkpoints) and `audit export [--since TIME]` (the catalog only).
 */
function parseAuditArgs(
  words: readonly string[],
  configPath: string | undefined,
  now: Date,
): CliArgs {
  const [sub, ...rest] = words;
  if (sub === 'verify' || sub === 'checkpoint') {
    return rest.length
      ? { mode: 'error', message: AUDIT_USAGE }
      : { mode: sub === 'verify' ? 'audit-verify' : 'audit-checkpoint', configPath };
  }
  if (sub !== 'export') return { mode: 'error', message: AUDIT_USAGE };
  let since: Date | null = null;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    let time: string | undefined;
    if (word === '--since') {
      time = rest[++i];
      if (time === undefined) return { mode: 'error', message: '--since needs a TIME' };
    } else if (word.startsWith('--since=')) {
      time = word.slice('--since='.length);
    } else {
      return { mode: 'error', message: AUDIT_USAGE };
    }
    const parsed = parseSinceTime(time, now);
    if (!parsed.ok) return { mode: 'error', message: parsed.message };
    since = parsed.since;
  }
  return { mode: 'audit-export', since };
}

/**
 * Whether the run was asked for `--json`, however its other arguments parse: every exit then
 * prints one JSON object, bad input included.
 */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/**
 * 0 success, 1 failure, 2 bad input, 3 refused / unavailable / waiting for approval / a
 * verification that could not check (`error`: nothing is known about the backup, so neither 0
 * nor the 1 of a backup found bad), 4 completed but incomplete. 4 is its own code because neither 0 nor 1 is true of such a backup: it exists
 * and restores what it holds (a script must not retry or page as for a failure), but something
 * is missing from it (a cron job must not report it as fine). Like restic's exit 3 for a
 * snapshot that could not read every file; 3 is taken here.
 */
export function exitCodeFor(result: Pick<CommandResult, 'status' | 'incomplete'>): number {
  switch (result.status) {
    case 'ok':
    case 'completed':
    case 'passed':
      return result.incomplete === true ? 4 : 0;
    case 'failed':
      return 1;
    case 'invalid':
      return 2;
    default:
      return 3;
  }
}
