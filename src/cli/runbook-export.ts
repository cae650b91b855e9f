import { openCatalog } from '../catalog/open-catalog.ts';
import { readEnvironment } from '../config/environment.ts';
import { checkPostgres } from '../preflight.ts';
import { runSummaryMarkdown } from '../runbook/run-summary.ts';
import { type CliOutcome, invalidOutcome } from './cli-outcome.ts';

/** A run id as `/runbook status` shows it. */
const RUN_ID = /^run_[A-Za-z0-9_-]+$/;

/**
 * `lifeboat runbook export RUN-ID`: prints the run's summary as markdown for the incident review
 * (the one kept when it ended; for a run still open, its timeline so far). Needs the catalog only.
 */
export async function runbookExport(
  runId: string,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<CliOutcome> {
  if (!RUN_ID.test(runId)) {
    const error = `\`${runId}\` is not a run id; run ids look like run_…, and \`lifeboat runbook status\` lists the open ones.`;
    err.write(`${error}\n`);
    return invalidOutcome(error);
  }
  const { databaseUrl } = readEnvironment(process.env);
  await checkPostgres(databaseUrl, 'the catalog');
  const catalog = await openCatalog(databaseUrl, { createIfMissing: false });
  try {
    const run = await catalog.runbookRuns.get(runId);
    if (!run) {
      const error = `There is no runbook run \`${runId}\` in the catalog.`;
      err.write(`${error}\n`);
      return invalidOutcome(error);
    }
    const markdown =
      run.summary ?? runSummaryMarkdown(run, await catalog.runbookRuns.timeline(runId));
    out.write(markdown);
    return { code: 0, result: { status: 'ok', id: run.id, runStatus: run.status, markdown } };
  } finally {
    await catalog.close();
  }
}
