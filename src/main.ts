import { commands } from '../commands/index.ts';
import type { Services } from './app/services.ts';
import { createSystemStatus } from './app/system-status.ts';
import { createApprovals } from './approvals/approvals-service.ts';
import { type AuditKeyring, readAuditKeys } from './audit/audit-keys.ts';
import { createDispatcher, type Dispatcher } from './bot/dispatcher.ts';
import { databaseExists } from './catalog/ensure-database.ts';
import { type Catalog, openCatalog } from './catalog/open-catalog.ts';
import { describeSurvey, type StoreSurvey, surveyStore } from './catalog/store-survey.ts';
import { discordSecrets } from './chat/discord/discord-env.ts';
import { slackEnvSecrets } from './chat/slack/slack-config.ts';
import {
  environmentSecrets,
  type LifeboatEnvironment,
  readEnvironment,
} from './config/environment.ts';
import { type LoadedConfig, loadConfig } from './config/load-config.ts';
import { ConfigError } from './core/errors.ts';
import { type PeriodicSweep, startPeriodicSweep } from './core/periodic-sweep.ts';
import { redactUrl } from './core/redact.ts';
import { loadAgeIdentities } from './crypto/age-identities.ts';
import { seedDemoTargets } from './demo/seed-demo.ts';
import { createBackupJobs } from './jobs/backup-jobs.ts';
import { type InterruptedWorkSweep, sweepInterruptedWork } from './jobs/interrupted-work.ts';
import { createJobJournal } from './jobs/job-journal.ts';
import { createAuditCheckpointProcessor } from './jobs/processors/audit-checkpoint-processor.ts';
import { createBackupProcessor } from './jobs/processors/backup-processor.ts';
import { createPruneProcessor } from './jobs/processors/prune-processor.ts';
import { createRestoreCheckProcessor } from './jobs/processors/restore-check-processor.ts';
import { createRestoreProcessor } from './jobs/processors/restore-processor.ts';
import { createScheduledBackupProcessor } from './jobs/processors/scheduled-backup-processor.ts';
import { createVerifyProcessor } from './jobs/processors/verify-processor.ts';
import { createRetentionJobs } from './jobs/prune-jobs.ts';
import { type JobQueue, openJobQueue } from './jobs/queue.ts';
import { createRestoreChecks } from './jobs/restore-check-jobs.ts';
import { createRestoreJobs } from './jobs/restore-jobs.ts';
import { createVerificationJobs } from './jobs/verify-jobs.ts';
import { startWorker, type WorkerHandle, type WorkerTuning, workerName } from './jobs/worker.ts';
import { type WorkerWatch, watchForWorkers } from './jobs/worker-watch.ts';
import { createLogger, type Logger } from './logging/logger.ts';
import { withDefaultUser } from './postgres/connection-url.ts';
import { checkPostgres, checkRedis } from './preflight.ts';
import { recoverDestination } from './restore/recover-destination.ts';
import { gatherRestoreFacts } from './restore/restore-facts.ts';
import { sweepRestoreLeftovers } from './restore/restorers/postgres/sweep-leftovers.ts';
import { listRunbooks, loadRunbook } from './runbook/load-runbooks.ts';
import { syncAuditCheckpointSchedule } from './schedule/audit-checkpoint-schedule.ts';
import { syncBackupSchedules } from './schedule/backup-schedules.ts';
import { sweepStaging } from './staging/staging-area.ts';
import type { BackupStore } from './storage/backup-store.ts';
import { checkStores, closeStores, createStores } from './storage/create-store.ts';
import { S3BackupStore } from './storage/s3-backup-store.ts';
import { LIFEBOAT_VERSION } from './version.ts';

/** How often a process that runs a worker sweeps what dead workers left (see `sweepInterruptedWork`). */
const INTERRUPTED_WORK_SWEEP_MS = 60_000;

export interface AppOptions {
  /** The config file; @defaultValue `LIFEBOAT_CONFIG`, else `./lifeboat.yaml`. */
  readonly configPath?: string;
  readonly env?: Record<string, string | undefined>;
  /** @defaultValue a pino logger at `LOG_LEVEL` on standard output */
  readonly logger?: Logger;
  /** Where log lines go when no logger is given. @defaultValue 1 (stdout) */
  readonly logDestination?: number | string;
  /** Log level when LOG_LEVEL is not set. @defaultValue `info` */
  readonly defaultLogLevel?: string;
  /** Create and seed the config's `demo` targets when missing. @defaultValue true */
  readonly seedDemo?: boolean;
  /** Called with short lines about what start-up did (demo seeding, migrations). */
  readonly onStartupNote?: (line: string) => void;
  /**
   * Look at the first objects of the primary store at start-up and say when it holds backups
   * the catalog does not know (a mistyped DATABASE_URL, a recreated catalog); bounded, so that
   * start-up stays fast however large the store. @defaultValue false
   */
  readonly surveyStore?: boolean;
  /**
   * Refuse to start unless Redis answers. Commands that need only the catalog (`backup list`,
   * `status`) start without it: the queue connects on first use, and says Redis is down then.
   * @defaultValue true
   */
  readonly requireRedis?: boolean;
  /**
   * This process runs the jobs it queues when no worker serves the queue (the CLI and the
   * console: see `ensureWorker`), so a restore it plans while no worker runs would run here,
   * and is checked here. @defaultValue false: the checks of a restore are a worker's (a bot
   * holds no age identity, may have no pg_restore, and its disk is not the worker's)
   */
  readonly runsOwnJobs?: boolean;
}

/** Everything a Lifeboat process is made of, built once; each entry point uses what it needs. */
export interface App {
  readonly loaded: LoadedConfig;
  readonly env: LifeboatEnvironment;
  readonly logger: Logger;
  readonly catalog: Catalog;
  readonly queue: JobQueue;
  /** The primary store. */
  readonly store: BackupStore;
  /** `storage.replicas`: where completed backups are copied. */
  readonly replicas: readonly BackupStore[];
  readonly services: Services;
  readonly dispatcher: Dispatcher;
  /** Starts a worker serving the queue from this process. */
  startWorker(tuning?: WorkerTuning): WorkerHandle;
  /**
   * Starts an in-process worker when no worker serves the queue, so the CLI and the console
   * work on their own; returns it, or undefined when workers are already running.
   */
  ensureWorker(): Promise<WorkerHandle | undefined>;
  /**
   * Ends now what workers that died left behind (see `sweepInterruptedWork`). Processes that
   * run a worker do it by themselves when their first worker starts, and every minute after.
   */
  sweepInterruptedWork(): Promise<InterruptedWorkSweep>;
  /**
   * Keeps looking, every few seconds until stopped, whether a worker serves the queue, and
   * starts the in-process one when none does and jobs wait (see `watchForWorkers`): for the
   * CLI and the console, whose jobs would otherwise be stranded when the worker that served
   * them at start-up stops.
   */
  watchForWorkers(intervalMs?: number): WorkerWatch;
  /** Makes the queue's schedules match the config (backups, and audit checkpoints). */
  syncSchedules(): Promise<{ scheduled: string[]; removed: string[] }>;
  close(): Promise<void>;
}

/**
 * Opens the catalog, creating its database when it does not exist, but only while the store
 * holds no backups: a missing catalog beside a store full of backups is a mistyped DATABASE_URL
 * or a lost catalog, and an empty new one would silently hide them. Creating it on a fresh
 * install stays automatic, so that the shipped config starts with `npm start` alone.
 */
async function openCatalogOf(
  databaseUrl: string,
  store: BackupStore,
  note: (line: string) => void,
  auditKeys: AuditKeyring,
): Promise<Catalog> {
  if (await databaseExists(withDefaultUser(databaseUrl))) {
    return openCatalog(databaseUrl, { auditKeys });
  }
  const survey = await surveyStore({ store, known: async () => new Set(), maxObjects: 200 });
  if (survey.unknown.length > 0) throw catalogMissing(databaseUrl, survey);
  const catalog = await openCatalog(databaseUrl, { auditKeys });
  note(
    `catalog: created the database ${redactUrl(databaseUrl)}, which did not exist (the store ${survey.store} holds no backups yet)`,
  );
  return catalog;
}

function catalogMissing(databaseUrl: string, survey: StoreSurvey): ConfigError {
  const where = redactUrl(databaseUrl);
  const shown = survey.unknown.slice(0, 3).join(', ');
  const message = `DATABASE_URL: there is no catalog database at ${where}, but the store ${survey.store} holds backups (${shown}${survey.unknown.length > 3 ? ', …' : ''}). Lifeboat does not create an empty catalog beside them: check DATABASE_URL for a typo; if the catalog was lost, \`lifeboat catalog rebuild\` creates it from the store's manifests.`;
  return new ConfigError(message, [message]);
}

export async function createApp(options: AppOptions = {}): Promise<App> {
  const rawEnv = options.env ?? process.env;
  const loaded = loadConfig({ path: options.configPath, env: rawEnv });
  const env = readEnvironment(rawEnv);
  const auditKeys = readAuditKeys(rawEnv);
  const logger =
    options.logger ??
    createLogger({
      level: rawEnv.LOG_LEVEL ?? options.defaultLogLevel ?? env.logLevel,
      secrets: [
        ...loaded.secrets,
        ...environmentSecrets(env),
        ...auditKeys.secrets,
        ...slackEnvSecrets(rawEnv),
        ...discordSecrets(rawEnv),
      ],
      destination: options.logDestination,
    });
  const note = options.onStartupNote ?? ((line: string) => logger.info(line));
  const { config } = loaded;

  await checkPostgres(env.databaseUrl, 'the catalog');
  if (options.requireRedis !== false) await checkRedis(env.redisUrl);

  const stores = createStores(config, process.cwd(), { env: rawEnv });
  const closers: (() => Promise<void>)[] = [async () => closeStores(stores)];
  let catalog: Catalog;
  try {
    await checkStores(stores);
    catalog = await openCatalogOf(env.databaseUrl, stores.primary, note, auditKeys);
  } catch (error) {
    closeStores(stores);
    throw error;
  }
  closers.unshift(() => catalog.close());
  try {
    const applied = await catalog.migrate();
    if (applied.length) note(`catalog: applied migrations ${applied.join(', ')}`);
    if (options.seedDemo !== false && config.demo?.targets.length) {
      for (const created of await seedDemoTargets(config)) note(`demo: created ${created}`);
    }
    if (!config.encryption) {
      note(
        'encryption: not configured, so backups are stored unencrypted (see `encryption` in lifeboat.example.yaml)',
      );
    }
    const store = stores.primary;
    const survey = () => surveyStore({ store, known: (ids) => catalog.inventory.known(ids) });
    if (options.surveyStore) {
      const unknown = describeSurvey(await survey());
      if (unknown) note(`catalog: ${unknown}`);
    }
    const queue = openJobQueue({ redisUrl: env.redisUrl, prefix: env.queuePrefix, logger });
    closers.unshift(() => queue.close());

    const backupJobs = createBackupJobs({
      config,
      queue,
      backups: catalog.backups,
      jobs: catalog.jobs,
    });
    const retention = createRetentionJobs({
      config,
      queue,
      jobs: catalog.jobs,
      retention: catalog.retention,
      stores: [store, ...stores.replicas],
      claims: catalog.backupClaims,
    });
    const approvals = createApprovals({
      config,
      repository: catalog.approvals,
      audit: catalog.audit,
      logger,
    });
    const services: Services = {
      approvals,
      runbooks: {
        library: {
          list: () => listRunbooks(config.runbooks.path),
          load: (name) => loadRunbook(config.runbooks.path, name),
        },
        runs: catalog.runbookRuns,
      },
      audit: catalog.audit,
      backups: catalog.backups,
      backupJobs,
      retention,
      status: createSystemStatus({
        config,
        databaseUrl: env.databaseUrl,
        redisUrl: env.redisUrl,
        catalog,
        backups: catalog.backups,
        verifications: catalog.verifications,
        queue,
        store: {
          name: store.name,
          where: store.describe(''),
          check: () => probeStore(store),
        },
        survey,
      }),
      verifications: createVerificationJobs({
        config,
        queue,
        backups: catalog.backups,
        verifications: catalog.verifications,
        jobs: catalog.jobs,
        stores: [store, ...stores.replicas],
      }),
      restores: createRestoreJobs({
        config,
        queue,
        backups: catalog.backups,
        restores: catalog.restores,
        jobs: catalog.jobs,
        stores: [store, ...stores.replicas],
        check: createRestoreChecks({
          queue,
          config,
          ...(options.runsOwnJobs
            ? {
                gatherHere: (plan, manifest) =>
                  gatherRestoreFacts(plan, {
                    config,
                    manifest,
                    env: rawEnv,
                    catalogUrl: env.databaseUrl,
                  }),
              }
            : {}),
        }),
      }),
    };
    const dispatcher = createDispatcher({ commands, services, config, logger });
    const processors = {
      backup: createBackupProcessor({
        config,
        catalog,
        store,
        replicas: stores.replicas,
        lifeboatVersion: LIFEBOAT_VERSION,
        afterCompleted: (payload) => retention.afterBackup(payload),
      }),
      'scheduled-backup': createScheduledBackupProcessor(backupJobs),
      'audit-checkpoint': createAuditCheckpointProcessor({
        audit: catalog.audit,
        stores: [store, ...stores.replicas],
      }),
      restore: createRestoreProcessor({
        config,
        catalog,
        catalogUrl: env.databaseUrl,
        store,
        replicas: stores.replicas,
        identities: () => loadAgeIdentities(rawEnv),
        audit: catalog.audit,
        lifeboatVersion: LIFEBOAT_VERSION,
      }),
      'restore-check': createRestoreCheckProcessor({
        config,
        backups: catalog.backups,
        stores: [store, ...stores.replicas],
        env: rawEnv,
        catalogUrl: env.databaseUrl,
        worker: workerName(),
      }),
      // Replicas hold copies of the same objects: a pruned backup goes from every store.
      prune: createPruneProcessor({
        config,
        retention: catalog.retention,
        stores: [store, ...stores.replicas],
        claims: catalog.backupClaims,
        audit: catalog.audit,
      }),
      verify: createVerifyProcessor({
        catalog,
        store,
        replicas: stores.replicas,
        identities: () => loadAgeIdentities(rawEnv),
        // Without scratch.postgres, restore tests use the catalog's server (DATABASE_URL).
        restoreTest: { postgresUrl: config.scratch.postgres ?? env.databaseUrl },
      }),
    };
    const journal = createJobJournal({
      jobs: catalog.jobs,
      backups: catalog.backups,
      verifications: catalog.verifications,
      restores: catalog.restores,
    });
    const interruptedWork = () =>
      sweepInterruptedWork({
        restores: catalog.restores,
        verifications: catalog.verifications,
        targetLocks: catalog.targetLocks,
        journal,
        sweepStaging: () => sweepStaging(),
        recoverDestination: (entry) => recoverDestination(entry, config.targets[entry.destination]),
        audit: catalog.audit,
        logger,
      });
    let workSweep: PeriodicSweep<InterruptedWorkSweep> | undefined;
    const workers = new Set<WorkerHandle>();
    // A worker killed mid-restore leaves its partial copy beside the destination: drop such
    // copies when a worker starts, not only before the next restore to that server.
    const sweepLeftovers = () => {
      sweepRestoreLeftovers(config.targets)
        .then((sweeps) => {
          for (const sweep of sweeps) {
            if (sweep.dropped.length > 0) {
              logger.info(
                { server: sweep.server, dropped: sweep.dropped },
                'dropped databases left by restores that did not finish',
              );
            }
            if (sweep.error) {
              logger.info(
                { server: sweep.server, error: sweep.error },
                'could not look for databases left by restores that did not finish',
              );
            }
          }
        })
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'sweeping restore leftovers failed'),
        );
    };
    const startOwnWorker = (tuning: WorkerTuning = {}) => {
      if (!workSweep) {
        const onError = (error: unknown) =>
          logger.warn({ err: error }, 'the sweep of interrupted work failed');
        workSweep = startPeriodicSweep({
          once: interruptedWork,
          intervalMs: INTERRUPTED_WORK_SWEEP_MS,
          onError,
        });
        // At once, too: a worker started after one that was killed cleans up what it left.
        workSweep.sweep().catch(onError);
      }
      const worker = startWorker({
        ...tuning,
        redisUrl: env.redisUrl,
        prefix: env.queuePrefix,
        processors,
        logger,
        journal,
      });
      workers.add(worker);
      sweepLeftovers();
      return {
        name: worker.name,
        async close(deadlineMs?: number) {
          await worker.close(deadlineMs);
          workers.delete(worker);
        },
      };
    };

    return {
      loaded,
      env,
      logger,
      catalog,
      queue,
      store,
      replicas: stores.replicas,
      services,
      dispatcher,
      startWorker: (tuning) => startOwnWorker(tuning),
      async ensureWorker() {
        if (workers.size || (await queue.workerCount()) > 0) return undefined;
        return startOwnWorker();
      },
      sweepInterruptedWork: () => workSweep?.sweep() ?? interruptedWork(),
      watchForWorkers: (intervalMs) =>
        watchForWorkers({
          queue,
          serving: () => workers.size > 0,
          start: () => void startOwnWorker(),
          logger,
          ...(intervalMs ? { intervalMs } : {}),
        }),
      async syncSchedules() {
        const synced = await syncBackupSchedules(queue, config);
        await syncAuditCheckpointSchedule(queue, config);
        return synced;
      },
      async close() {
        await Promise.all([...workers].map((w) => w.close()));
        await workSweep?.stop();
        for (const close of closers) await close();
        logger.flush();
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}

/** Resolves when the store answers: its bucket can be used, or its listing can be read. */
async function probeStore(store: BackupStore): Promise<void> {
  if (store instanceof S3BackupStore) return store.checkBucket(2_000);
  for await (const _ of store.list('')) break;
}
