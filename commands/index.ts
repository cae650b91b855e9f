import type { Command } from '../src/bot/command.ts';
import { approvalCommands } from './approvals.ts';
import { backupCommands } from './backup.ts';
import { drillCommands } from './drill.ts';
import { helpCommands } from './help.ts';
import { restoreCommands } from './restore.ts';
import { runbookCommands } from './runbook.ts';
import { statusCommands } from './status.ts';

/**
 * The whole grammar, in the order `/help` lists it. The parser, `/help`, the CLI and the Slack
 * and Discord manifests are generated from this list.
 */
export const commands: readonly Command[] = [
  ...backupCommands,
  ...restoreCommands,
  ...approvalCommands,
  ...drillCommands,
  ...runbookCommands,
  ...statusCommands,
  ...helpCommands,
];
