import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { DURATION_PATTERN, isDuration, parseDuration } from '../core/duration.ts';
import { describeUrlValue } from '../core/redact.ts';

/** A name usable as a target, profile, role, drill or channel key. */
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'names use lowercase letters, digits and "-"');

/** `30m`, `1h`, `24h`, `7d`, `90s`. */
export const durationString = z
  .string()
  .regex(DURATION_PATTERN, 'a duration is a number and a unit: 90s, 30m, 24h or 7d');

/**
 * A cron schedule: five fields (minute hour day-of-month month day-of-week), six with a leading
 * seconds field, or an alias such as `@daily`. cron-parser alone accepts `* * *` and the empty
 * string, which are almost certainly mistakes, hence the field count.
 */
export const cronSchedule = z.string().superRefine((value, ctx) => {
  const fields = value.trim().split(/\s+/).filter(Boolean);
  const isAlias = fields.length === 1 && fields[0]?.startsWith('@');
  if (!isAlias && fields.length !== 5 && fields.length !== 6) {
    ctx.addIssue({
      code: 'custom',
      message: `a cron schedule has five fields: minute hour day-of-month month day-of-week (e.g. "0 2 * * *"), got ${fields.length}`,
    });
    return;
  }
  try {
    CronExpressionParser.parse(value);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid cron schedule "${value}": ${error instanceof Error ? error.message : String(error)}`,
      params: showsValue('invalid cron schedule'),
    });
  }
});

/**
 * For a custom issue whose message shows the value: the message without it, used instead when
 * the value came from the environment (then only the variable is named).
 */
function showsValue(withoutValue: string): { readonly withoutValue: string } {
  return { withoutValue };
}

/** An age X25519 recipient: `age1` and 58 bech32 characters, as `age-keygen` prints it. */
export const ageRecipient = z
  .string()
  .regex(
    /^age1[02-9ac-hj-np-z]{58}$/,
    'not an age X25519 recipient: expected "age1" and 58 more characters, as printed by age-keygen',
  );

/** `platform:id`, as in `slack:U012AB3CD`, `discord:80351110224678912`, `console:bob`. */
const identityKey = z
  .string()
  .regex(
    /^(slack|discord|console|cli):\S+$/,
    'an identity is platform:id — slack:USER-ID, discord:USER-ID, console:NAME or cli:OSUSER',
  );

/** A mapping from names to entries that must hold at least one entry. */
function nonEmptyRecord<T extends z.ZodType>(value: T, what: string) {
  return z
    .record(name, value)
    .refine((entries) => Object.keys(entries).length > 0, `define at least one ${what}`);
}

const environment = z.enum(['production', 'staging', 'development', 'scratch']);

/**
 * A URL with one of `schemes`. The issue names what is valid, with an example, and what was
 * given: a URL without its password, anything else only by its length, since a value that is
 * not a URL may be a secret put in the wrong place.
 */
function urlWithScheme(
  schemes: readonly string[],
  example: string,
  what: string,
  options: { readonly emptyAllowed?: boolean } = {},
) {
  const valid = schemes.map((scheme) => `${scheme}://`);
  const list =
    valid.length === 1 ? valid[0] : `${valid.slice(0, -1).join(', ')} or ${valid.at(-1)}`;
  // "an http://" (aitch), "a postgres://".
  const article = schemes[0] === 'http' ? 'an' : 'a';
  return z
    .string()
    .min(options.emptyAllowed ? 0 : 1, `${what} needs a url`)
    .superRefine((value, ctx) => {
      if (value === '') return;
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
      if (scheme !== undefined && schemes.includes(scheme)) return;
      const given = describeUrlValue(value);
      const rule = `must be ${article} ${list} URL (${example})`;
      ctx.addIssue({ code: 'custom', message: `${rule}; got ${given}`, params: showsValue(rule) });
    });
}

const postgresUrl = (what: string) =>
  urlWithScheme(['postgres', 'postgresql'], 'postgres://user@host:5432/database', what);

const postgresTarget = z.strictObject({
  kind: z.literal('postgres'),
  url: postgresUrl('a postgres target'),
  environment: environment.default('production'),
  /** Extra arguments passed to pg_dump (e.g. `--exclude-table=audit_*`). */
  pgDumpArgs: z.array(z.string()).default([]),
});

const directoryTarget = z.strictObject({
  kind: z.literal('directory'),
  path: z.string().min(1, 'a directory target needs a path'),
  /** Globs relative to `path`; when given, only matching files are kept. */
  include: z.array(z.string()).default([]),
  /** Globs relative to `path`; matching files and directories are left out. */
  exclude: z.array(z.string()).default([]),
  environment: environment.default('production'),
  /**
   * A restore into this directory keeps the setuid and setgid bits of the files it brings back.
   * Off by default: the worker restores as root, and a set-user-ID file from a backup (or a
   * tampered archive) would run as its owner for whoever can reach it. @defaultValue false
   */
  keepSetuid: z.boolean().optional(),
});

const redisTarget = z.strictObject({
  kind: z.literal('redis'),
  url: urlWithScheme(['redis', 'rediss'], 'redis://host:6379/0', 'a redis target'),
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
  schedule: cronSchedule.optional(),
  retention: retentionSchema.optional(),
  description: z.string().optional(),
});

const s3Schema = z.strictObject({
  bucket: z.string().min(3, 'an S3 bucket name has at least 3 characters'),
  prefix: z.string().default(''),
  region: z.string().default('us-east-1'),
  /** Empty (an unset `${S3_ENDPOINT}`) is AWS's own endpoint. */
  endpoint: urlWithScheme(['http', 'https'], 'https://minio.example.com:9000', 'an S3 endpoint', {
    emptyAllowed: true,
  }).optional(),
  forcePathStyle: z.boolean().default(false),
  storageClass: z.string().optional(),
  serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
});

export const storageSchema = z.strictObject({
  local: z
    .strictObject({ path: z.string().min(1, 'the local store needs a path') })
    .default({ path: './.lifeboat/backups' }),
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
  schedule: cronSchedule.optional(),
  announce: z.array(durationString).default([]),
  channel: name.optional(),
  objectives: z
    .strictObject({ rto: durationString.optional(), rpo: durationString.optional() })
    .default({}),
  checks: z
    .array(z.strictObject({ target: name, sql: z.string().min(1, 'a check needs its sql') }))
    .default([]),
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
  encryption: z
    .strictObject({
      recipients: z
        .array(ageRecipient)
        .min(1, 'list at least one recipient, or leave encryption out for unencrypted backups'),
    })
    .optional(),
  targets: nonEmptyRecord(targetSchema, 'target'),
  profiles: nonEmptyRecord(profileSchema, 'profile'),
  scratch: z.strictObject({ postgres: postgresUrl('scratch.postgres').optional() }).default({}),
  roles: z.record(name, z.array(identityKey)).optional(),
  policies: z.array(policySchema).optional(),
  /**
   * Who may skip the second person in an emergency (`/restore … --break-glass REASON`): the
   * holders of one role. Absent: nobody can break the glass.
   */
  breakGlass: z.strictObject({ role: name }).optional(),
  drills: z.record(name, drillSchema).default({}),
  chat: z.strictObject({ channels: z.record(name, channelSchema).default({}) }).default({
    channels: {},
  }),
  /**
   * The console chat. `impersonation: false` refuses `lifeboat console --as NAME` and `/as NAME`:
   * the console user is then the operating-system user (`console:<os user>`). Production configs
   * should turn it off; with it on, whoever runs the process can act as anyone. `files` is where
   * files sent with messages (a drill's chart, an exported timeline) are written, 0600 each.
   */
  console: z
    .strictObject({
      impersonation: z.boolean().default(true),
      files: z.string().min(1).default('./.lifeboat/files'),
    })
    .default({ impersonation: true, files: './.lifeboat/files' }),
  runbooks: z.strictObject({ path: z.string().default('./runbooks') }).default({
    path: './runbooks',
  }),
  /**
   * The audit log: how often the scheduler writes a checkpoint of its head into the stores and
   * posts it to the alerts channel (`lifeboat audit checkpoint` takes one at any time).
   */
  audit: z
    .strictObject({
      checkpointEvery: durationString
        .refine((text) => !isDuration(text) || parseDuration(text) >= 60_000, {
          message: 'checkpoints are taken at most once a minute: use 1m or more, e.g. 1h',
        })
        .default('1h'),
    })
    .default({ checkpointEvery: '1h' }),
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
