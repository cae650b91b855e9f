import type { CommandResult } from '../bot/dispatcher.ts';
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
  | { readonly mode: 'audit-verify'; readonly json: boolean }
  /** `since`: only entries appended at or after it; null for the whole log. */
  | { readonly mode: 'audit-export'; readonly since: Date | null }
  | { readonly mode: 'unavailable'; readonly command: string }
  | { readonly mode: 'error'; readonly message: string };

/** CLI extras that later versions bring; they answer "not available yet" until then. */
const LATER = ['runbook lint', 'slack manifest', 'discord register'];

const AUDIT_USAGE = '`lifeboat audit` takes: audit verify [--json] | audit export [--since TIME]';

export const CLI_USAGE = `Usage: lifeboat <command> [options]

Services
  start                   bot + worker + scheduler + HTTP in one process; attaches the
                          console chat when stdin is a terminal
  worker                  a worker serving the job queue
  bot                     the chat bot, the scheduler and the HTTP endpoints
  console [--as USER]     the console chat (commands from a terminal or a pipe)
  migrate                 apply the catalog's database migrations
  catalog rebuild [--clean-incomplete]
                          rebuild the catalog from the manifests in the primary store
                          (storage is the truth); reports incomplete backups (no
                          manifest) and with --clean-incomplete deletes those older than
                          1 h whose backup is not queued or running
  audit verify [--json]   check the audit log's hash chain; reports the first entry that
                          was changed, removed or reordered (exit 1 when broken)
  audit export [--since TIME]
                          the audit log as JSON lines on stdout, for a SIEM; TIME is an
                          ISO 8601 date or time (2026-11-22, 2026-11-22T10:00:00Z) or a
                          duration back from now (24h, 7d)

Chat commands (the same words as in chat, without the slash)
  backup create [PROFILE] [--note TEXT] [--no-replicate]
  backup list [--profile P] [--limit N]
  backup show ID
  backup verify ID|latest [--profile P] [--restore-test]
  backup prune [--profile P] [--dry-run]
  status
  help [COMMAND]          every command, as /help shows it

Options
  --config PATH           the config file (default: $LIFEBOAT_CONFIG, else ./lifeboat.yaml)
  --json                  for chat commands: print one JSON object as the last line of stdout
  --version, -v           print the version

Exit codes: 0 success, 1 failure, 2 bad input or configuration, 3 refused, unavailable
or waiting for approval, 4 completed but incomplete (a backup that left something out:
its warnings say what).
`;

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
      return parseAuditArgs(words.slice(1), json, now);
    case 'console':
      if (words.length > 1)
        return { mode: 'error', message: '`lifeboat console` takes only --as USER' };
      return { mode: 'console', configPath, user };
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

/** `audit verify` and `audit export [--since TIME]`; they need only the catalog. */
function parseAuditArgs(words: readonly string[], json: boolean, now: Date): CliArgs {
  const [sub, ...rest] = words;
  if (sub === 'verify') {
    return rest.length ? { mode: 'error', message: AUDIT_USAGE } : { mode: 'audit-verify', json };
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
 * 0 success, 1 failure, 2 bad input, 3 refused / unavailable / waiting for approval, 4 completed
 * but incomplete. 4 is its own code because neither 0 nor 1 is true of such a backup: it exists
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
