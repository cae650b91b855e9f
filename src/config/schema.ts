import { z } from 'zod';

/** A name usable as a target, profile, role, drill or channel key. */
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'names use lowercase letters, digits and "-"');

/** `30m`, `1h`, `24h`, `7d`, `90s`. */
export const durationString = z
  .string()
  .regex(/^\d+(s|m|h|d)$/, 'a duration is a number and a unit: 90s, 30m, 24h or 7d');

const environment = z.enum(['production', 'staging', 'development', 'scratch']);

const postgresTarget = z.strictObject({
  kind: z.literal('postgres'),
  url: z.string().min(1),
  environment: environment.default('production'),
  /** Extra arguments passed to pg_dump (e.g. `--exclude-table=audit_*`). */
  pgDumpArgs: z.array(z.string()).default([]),
});

const directoryTarget = z.strictObject({
  kind: z.literal('directory'),
  path: z.string().min(1),
  /** Globs relative to `path`; when given, only matching files are kept. */
  include: z.array(z.string()).default([]),
  /** Globs relative to `path`; matching files and directories are left out. */
  exclude: z.array(z.string()).default([]),
  environment: environment.default('production'),
});

const redisTarget = z.strictObject({
  kind: z.literal('redis'),
  url: z.string().min(1),
  environment: environment.default('production'),
});

export const targetSchema = z.discriminatedUnion('kind', [
  postgresTarget,
  directoryTarget,
  redisTarget,
]);

export const retentionSchema = z.strictObject({
  keepLast: z.number().int().positive().optional(),
  hourly: z.number().int().positive().optional(),
  daily: z.number().int().positive().optional(),
  weekly: z.number().int().positive().optional(),
  monthly: z.number().int().positive().optional(),
  yearly: z.number().int().positive().optional(),
  minKeep: z.number().int().nonnegative().optional(),
  /** A size cap for the profile's backups, e.g. `50GB`. */
  maxSize: z
    .string()
    .regex(/^\d+(B|KB|MB|GB|TB)$/, 'a size is a number and a unit: 500MB, 50GB, 2TB')
    .optional(),
});

export const profileSchema = z.strictObject({
  targets: z.array(name).min(1, 'a profile needs at least one target'),
  schedule: z.string().optional(),
  retention: retentionSchema.optional(),
  description: z.string().optional(),
});

const s3Schema = z.strictObject({
  bucket: z.string().min(3),
  prefix: z.string().default(''),
  region: z.string().default('us-east-1'),
  endpoint: z.string().optional(),
  forcePathStyle: z.boolean().default(false),
  storageClass: z.string().optional(),
  serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
});

export const storageSchema = z.strictObject({
  local: z.strictObject({ path: z.string().min(1) }).default({ path: './.lifeboat/backups' }),
  s3: s3Schema.optional(),
  primary: z.enum(['local', 's3']).default('local'),
  replicas: z.array(z.enum(['local', 's3'])).default([]),
});

const policySchema = z.strictObject({
  action: z.string().min(1),
  environment: environment.optional(),
  approvals: z.number().int().nonnegative().default(1),
  approvers: z.array(name).default([]),
  expires: durationString.default('30m'),
});

const drillSchema = z.strictObject({
  profile: name,
  schedule: z.string().optional(),
  announce: z.array(durationString).default([]),
  channel: name.optional(),
  objectives: z
    .strictObject({ rto: durationString.optional(), rpo: durationString.optional() })
    .default({}),
  checks: z.array(z.strictObject({ target: name, sql: z.string().min(1) })).default([]),
});

const channelSchema = z.strictObject({
  slack: z.string().optional(),
  discord: z.string().optional(),
  console: z.string().optional(),
});

export const configSchema = z.strictObject({
  defaultProfile: name.optional(),
  storage: storageSchema.default({
    local: { path: './.lifeboat/backups' },
    primary: 'local',
    replicas: [],
  }),
  compression: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
  encryption: z.strictObject({ recipients: z.array(z.string()).min(1) }).optional(),
  targets: z.record(name, targetSchema),
  profiles: z.record(name, profileSchema),
  scratch: z.strictObject({ postgres: z.string().optional() }).default({}),
  roles: z.record(name, z.array(z.string())).optional(),
  policies: z.array(policySchema).optional(),
  drills: z.record(name, drillSchema).default({}),
  chat: z.strictObject({ channels: z.record(name, channelSchema).default({}) }).default({
    channels: {},
  }),
  runbooks: z.strictObject({ path: z.string().default('./runbooks') }).default({
    path: './runbooks',
  }),
  /**
   * Targets that start-up creates and seeds with sample data when they do not exist yet, so a
   * first run has something real to back up. Not for production configs.
   */
  demo: z.strictObject({ targets: z.array(name).default([]) }).optional(),
});

export type LifeboatConfig = z.infer<typeof configSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type PostgresTargetConfig = z.infer<typeof postgresTarget>;
export type DirectoryTargetConfig = z.infer<typeof directoryTarget>;
export type RedisTargetConfig = z.infer<typeof redisTarget>;
export type ProfileConfig = z.infer<typeof profileSchema>;
export type RetentionConfig = z.infer<typeof retentionSchema>;
export type Environment = z.infer<typeof environment>;
export type Compression = LifeboatConfig['compression'];
