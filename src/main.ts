import { commands } from '../commands/index.ts';
import { createSystemStatus } from './app/system-status.ts';
import { createApprovals } from './approvals/approvals-service.ts';
import { createDispatcher, type Dispatcher } from './bot/dispatcher.ts';
import type { Services } from './bot/services.ts';
import { type Catalog, openCatalog } from './catalog/open-catalog.ts';
import {
  environmentSecrets,
  type LifeboatEnvironment,
  readEnvironment,
} from './config/environment.ts';
import { type LoadedConfig, loadConfig } from './config/load-config.ts';
import { loadAgeIdentities } from './crypto/age-identities.ts';
import { seedDemoTargets } from './demo/seed-demo.ts';
import { createBackupJobs } from './jobs/backup-jobs.ts';
import { createJobJournal } from './jobs/job-journal.ts';
import { createBackupProcessor } from './jobs/processors/backup-processor.ts';
import { createPruneProcessor } from './jobs/processors/prune-processor.ts';
import { createRestoreProcessor } from './jobs/processors/restore-processor.ts';
import { createScheduledBackupProcessor } from './jobs/processors/scheduled-backup-processor.ts';
import { createVerifyProcessor } from './jobs/processors/verify-processor.ts';
import { createRetentionJobs } from './jobs/prune-jobs.ts';
import { type JobQueue, openJobQueue } from './jobs/queue.ts';
import { createRestoreJobs } from './jobs/restore-jobs.ts';
import { createVerificationJobs } from './jobs/verify-jobs.ts';
import { startWorker, type WorkerHandle, type WorkerTuning } from './jobs/worker.ts';
import { type WorkerWatch, watchForWorkers } from './jobs/worker-watch.ts';
import { createLogger, type Logger } from './logging/logger.ts';
import { checkPostgres, checkRedis } from './preflight.ts';
import { syncBackupSchedules } from './schedule/backup-schedules.ts';
import type { BackupStore } from './storage/backup-store.ts';
import { checkStores, closeStores, createStores } from './storage/create-store.ts';
import { LIFEBOAT_VERSION } from './version.ts';

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
   * Refuse to start unless Redis answers. Commands that need only the catalog (`backup list`,
   * `status`) start without it: the queue connects on first use, and says Redis is down then.
   * @defaultValue true
   */
  readonly requireRedis?: boolean;
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
   * Keeps looking, every few seconds until stopped, whether a worker serves the queue, and
   * starts the in-process one when none does and jobs wait (see `watchForWorkers`): for the
   * CLI and the console, whose jobs would otherwise be stranded when the worker that served
   * them at start-up stops.
   */
  watchForWorkers(intervalMs?: number): WorkerWatch;
  /** Makes the queue's schedules match the config. */
  syncSchedules(): Promise<{ scheduled: string[]; removed: string[] }>;
  close(): Promise<void>;
}

export async function createApp(options: AppOptions = {}): Promise<App> {
  const rawEnv = options.env ?? process.env;
  const loaded = loadConfig({ path: options.configPath, env: rawEnv });
  const env = readEnvironment(rawEnv);
  const logger =
    options.logger ??
    createLogger({
      level: rawEnv.LOG_LEVEL ?? options.defaultLogLevel ?? env.logLevel,
      secrets: [...loaded.secrets, ...environmentSecrets(env)],
      destination: options.logDestination,
    });
  const note = options.onStartupNote ?? ((line: string) => logger.info(line));
  const { config } = loaded;

  await checkPostgres(env.databaseUrl, 'the catalog');
  if (options.requireRedis !== false) await checkRedis(env.redisUrl);

  const catalog = await openCatalog(env.databaseUrl);
  const closers: (() => Promise<void>)[] = [() => catalog.close()];
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
    const stores = createStores(config, process.cwd(), { env: rawEnv });
    closers.push(async () => closeStores(stores));
    await checkStores(stores);
    const store = stores.primary;
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
    });
    const approvals = createApprovals({
      config,
      repository: catalog.approvals,
      audit: catalog.audit,
      logger,
    });
    const services: Services = {
      approvals,
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
        queue,
      }),
      verifications: createVerificationJobs({
        config,
        queue,
        backups: catalog.backups,
        verifications: catalog.verifications,
        jobs: catalog.jobs,
      }),
      restores: createRestoreJobs({
        config,
        queue,
        backups: catalog.backups,
        restores: catalog.restores,
        jobs: catalog.jobs,
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
      restore: createRestoreProcessor({
        config,
        catalog,
        store,
        identities: () => loadAgeIdentities(rawEnv),
        audit: catalog.audit,
        lifeboatVersion: LIFEBOAT_VERSION,
      }),
      // Replicas hold copies of the same objects: a pruned backup goes from every store.
      prune: createPruneProcessor({
        config,
        retention: catalog.retention,
        stores: [store, ...stores.replicas],
      }),
      verify: createVerifyProcessor({
        catalog,
        store,
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
    const workers = new Set<WorkerHandle>();
    const startOwnWorker = (tuning: WorkerTuning = {}) => {
      const worker = startWorker({
        ...tuning,
        redisUrl: env.redisUrl,
        prefix: env.queuePrefix,
        processors,
        logger,
        journal,
      });
      workers.add(worker);
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
      watchForWorkers: (intervalMs) =>
        watchForWorkers({
          queue,
          serving: () => workers.size > 0,
          start: () => void startOwnWorker(),
          logger,
          ...(intervalMs ? { intervalMs } : {}),
        }),
      syncSchedules: () => syncBackupSchedules(queue, config),
      async close() {
        await Promise.all([...workers].map((w) => w.close()));
        for (const close of closers) await close();
        logger.flush();
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}
