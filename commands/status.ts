import { defineCommand } from '../src/bot/command.ts';
import { statusMessage } from '../src/bot/views/status.ts';

export const status = defineCommand({
  path: ['status'],
  group: 'general',
  summary: "Services, workers, the queue, and each profile's last success and failure.",
  positionals: [],
  flags: [],
  action: 'status',
  gated: false,
  enqueues: false,
  handler: async (ctx) => {
    const report = await ctx.services.status.report();
    await ctx.reply.post(statusMessage(report, ctx.now()));
    return { status: 'ok', ...report };
  },
});

export const statusCommands = [status];
