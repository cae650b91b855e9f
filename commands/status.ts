import { defineCommand } from '../src/bot/command.ts';
import { statusMessage } from '../src/bot/views/status.ts';

export const status = defineCommand({
  path: ['status'],
  group: 'general',
  summary:
    "Services, workers, the queue, and each profile's last success, failure and verification; fails when a service is down.",
  positionals: [],
  flags: [],
  action: 'status',
  gated: false,
  enqueues: false,
  handler: async (ctx) => {
    const report = await ctx.services.status.report();
    await ctx.reply.post(statusMessage(report, ctx.now()));
    // Something it checks is down: the run fails (the CLI exits 1), naming what and why.
    const down = report.services.filter((s) => !s.ok);
    if (down.length > 0) {
      return {
        ...report,
        status: 'failed',
        error: `not healthy: ${down.map((s) => `${s.name} (${s.detail})`).join('; ')}`,
      };
    }
    return { status: 'ok', ...report };
  },
});

export const statusCommands = [status];
