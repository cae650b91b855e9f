import { wrap } from '../chat/console/render-text.ts';
import type { CommandSpec } from '../core/command-grammar.ts';
import { groupCommands, usageLine } from '../core/command-help.ts';

const SERVICES = `Services
  start                   bot + worker + scheduler + HTTP in one process; attaches the
                          console chat when stdin is a terminal
  worker                  a worker serving the job queue
  bot                     the chat bot, the scheduler and the HTTP endpoints
  console [--as USER]     the console chat (commands from a terminal or a pipe)
  migrate                 apply the catalog's database migrations
  slack manifest [--url https://HOST] [--socket]
                          print a Slack app manifest (JSON) generated from the commands:
                          slash commands, bot scopes, interactivity at HOST/slack/events,
                          or Socket Mode with --socket
  catalog rebuild [--clean-incomplete]
                          rebuild the catalog from the manifests in the primary store
                          (storage is the truth); reports incomplete backups (no
                          manifest) and with --clean-incomplete deletes those older than
                          1 h whose backup is not queued or running
  audit verify [--json]   check the audit log's chain (keyed with LIFEBOAT_AUDIT_KEY, or
                          plain sha256) and compare it with the checkpoints in the stores;
                          reports entries changed, inserted, removed or reordered and a
                          tail cut off behind a checkpoint (exit 1 on any finding)
  audit checkpoint [--json]
                          write the audit log's head (seq, hash, time, signed with the
                          audit key) into every store now; the scheduler also does it
                          every audit.checkpointEvery
  audit export [--since TIME]
                          the audit log as JSON lines on stdout, for a SIEM; TIME is an
                          ISO 8601 date or time (2026-11-22, 2026-11-22T10:00:00Z) or a
                          duration back from now (24h, 7d)
  runbook lint [PATH...] [--json]
                          check runbooks (files, or directories of *.md; default the
                          config's runbooks.path): prints file:line: error|warning:
                          message; exit 2 when any error
  runbook export RUN-ID   a runbook run's summary and timeline as markdown, for the
                          incident review
  discord register [--guild ID]
                          register the slash commands with Discord (DISCORD_TOKEN,
                          DISCORD_APPLICATION_ID), in one guild at once or globally`;

const OPTIONS = `Options
  --config PATH           the config file (default: $LIFEBOAT_CONFIG, else ./lifeboat.yaml)
  --json                  print one JSON object as the last line of stdout, whatever
                          happens: at least "status", and "error" when it failed, was
                          refused or was bad input
  --version, -v           print the version

Exit codes: 0 success, 1 failure, 2 bad input or configuration, 3 refused, unavailable
or waiting for approval, 4 completed but incomplete (a backup that left something out:
its warnings say what).`;

/** Columns the summaries are wrapped at, below their usage line. */
const WIDTH = 86;
const INDENT = '      ';

/**
 * The text of `lifeboat --help`. Its chat commands come from the grammar in `commands/`, the
 * same declarations `/help` shows, so a new command can never be missing from it.
 */
export function cliUsage(commands: readonly CommandSpec[]): string {
  const lines = [
    'Usage: lifeboat <command> [options]',
    '',
    SERVICES,
    '',
    'Chat commands (the same words as in chat, without the slash;',
    '`lifeboat help COMMAND` or `lifeboat COMMAND --help` shows one in full)',
  ];
  for (const { group, commands: members } of groupCommands(commands)) {
    lines.push(`${group}:`);
    for (const command of members) {
      // The CLI takes the chat words without their slash.
      lines.push(`  ${usageLine(command).slice(1)}`);
      for (const line of wrap(command.summary, WIDTH - INDENT.length)) lines.push(INDENT + line);
    }
  }
  lines.push('', OPTIONS, '');
  return lines.join('\n');
}
