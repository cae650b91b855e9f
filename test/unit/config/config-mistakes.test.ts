import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { configIssues } from '../../support/config-issues.ts';

const TARGETS = `
targets:
  app-db: { kind: postgres, url: "postgres://127.0.0.1:5432/app" }
  uploads: { kind: directory, path: /srv/uploads }
  cache: { kind: redis, url: "redis://127.0.0.1:6379/0" }
`;
const PROFILES = `
profiles:
  full: { targets: [app-db, uploads, cache] }
  db: { targets: [app-db] }
`;
const VALID = TARGETS + PROFILES;
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe('parseConfig', () => {
  it('accepts a minimal config and fills in the defaults', () => {
    const { config, path } = parseConfig(VALID, {}, 'test.yaml');
    expect(path).toBe('test.yaml');
    expect(config.storage).toEqual({
      local: { path: './.lifeboat/backups' },
      primary: 'local',
      replicas: [],
    });
    expect(config.compression).toBe('zstd');
    expect(config.targets['app-db']).toMatchObject({ environment: 'production', pgDumpArgs: [] });
    expect(config.runbooks.path).toBe('./runbooks');
  });

  it('names an unknown top-level key and lists the valid ones', () => {
    expect(configIssues(`${VALID}retension: { daily: 7 }\n`)).toEqual([
      'retension: unknown key; valid keys: defaultProfile, storage, compression, encryption, targets, profiles, scratch, roles, policies, breakGlass, drills, chat, console, runbooks, audit, demo',
    ]);
  });

  it('names an unknown nested key with the valid keys at its level', () => {
    expect(configIssues(`${VALID}storage:\n  locl: { path: /backups }\n`)).toEqual([
      'storage.locl: unknown key; valid keys: local, s3, primary, replicas',
    ]);
  });

  it('lists the keys of the right target kind for an unknown target key', () => {
    const text = `${PROFILES}targets:
  app-db: { kind: postgres, url: "postgres://h/app" }
  uploads: { kind: directory, path: /srv, exlude: ["*.tmp"] }
  cache: { kind: redis, url: "redis://h" }
`;
    expect(configIssues(text)).toEqual([
      'targets.uploads.exlude: unknown key; valid keys: kind, path, include, exclude, environment, keepSetuid',
    ]);
  });

  it('reports a value of the wrong type with what was expected and what was found', () => {
    const text = `${TARGETS}profiles:
  full: { targets: app-db }
  db: { targets: [app-db] }
storage:
  s3: { bucket: backups, forcePathStyle: "yes" }
`;
    expect(configIssues(text)).toEqual([
      'profiles.full.targets: expected a list, got "app-db"',
      'storage.s3.forcePathStyle: expected true or false, got "yes"',
    ]);
  });

  it('lists the valid values of an enum', () => {
    const text = `${VALID}compression: lz4\nstorage: { primary: ftp }\n`;
    expect(configIssues(text)).toEqual([
      'compression: must be one of: zstd, gzip, none (got "lz4")',
      'storage.primary: must be one of: local, s3 (got "ftp")',
    ]);
  });

  it('lists the valid target kinds and environments', () => {
    const text = `${PROFILES}targets:
  app-db: { kind: mysql, url: "mysql://h/app" }
  uploads: { kind: directory, path: /srv, environment: prod }
  cache: { url: "redis://h" }
`;
    expect(configIssues(text)).toEqual([
      'targets.app-db.kind: must be one of: postgres, directory, redis (got "mysql")',
      'targets.uploads.environment: must be one of: production, staging, development, scratch (got "prod")',
      'targets.cache.kind: is required; one of: postgres, directory, redis',
    ]);
  });

  it('still checks the rest of a target whose kind is misspelt, against the kind it is closest to', () => {
    const text = `targets:
  app-db: { kind: postgress, url: 7, environment: prod, pgDumpArgs: [--no-owner], extra: 1 }
  uploads: { kind: directory, path: /srv, exlude: ["*.tmp"] }
profiles:
  full: { targets: [app-db, uploads, cahce] }
compresion: zstd
`;
    expect(configIssues(text)).toEqual([
      'targets.app-db.kind: must be one of: postgres, directory, redis (got "postgress"); did you mean "postgres"?',
      'targets.app-db.url: expected text, got 7',
      'targets.app-db.environment: must be one of: production, staging, development, scratch (got "prod")',
      'targets.app-db.extra: unknown key; valid keys: kind, url, environment, pgDumpArgs',
      'targets.uploads.exlude: unknown key; valid keys: kind, path, include, exclude, environment, keepSetuid',
      'profiles.full.targets[2]: unknown target "cahce"; targets: app-db, uploads',
      'compresion: unknown key; valid keys: defaultProfile, storage, compression, encryption, targets, profiles, scratch, roles, policies, breakGlass, drills, chat, console, runbooks, audit, demo',
    ]);
  });

  it('reports keys no target kind has when the kind is unknown or missing', () => {
    const text = `${PROFILES}targets:
  app-db: { kind: mysql, url: "mysql://h/app", enviroment: production }
  uploads: { kind: directory, path: /srv }
  cache: { url: "redis://h", environment: prod }
`;
    expect(configIssues(text)).toEqual([
      'targets.app-db.kind: must be one of: postgres, directory, redis (got "mysql")',
      'targets.app-db.enviroment: unknown key; no target kind has it (keys: kind, url, environment, pgDumpArgs, path, include, exclude, keepSetuid)',
      'targets.cache.kind: is required; one of: postgres, directory, redis',
      'targets.cache.environment: must be one of: production, staging, development, scratch (got "prod")',
    ]);
  });

  it('reports missing targets and profiles as required', () => {
    expect(configIssues('compression: zstd\n')).toEqual([
      'targets: is required',
      'profiles: is required',
    ]);
  });

  it('reports a missing required key inside a target', () => {
    const text = `${PROFILES}targets:
  app-db: { kind: postgres }
  uploads: { kind: directory, path: /srv }
  cache: { kind: redis, url: "redis://h" }
`;
    expect(configIssues(text)).toEqual(['targets.app-db.url: is required']);
  });

  it('rejects empty targets and profiles mappings', () => {
    expect(configIssues('targets: {}\nprofiles: {}\n')).toEqual([
      'targets: define at least one target',
      'profiles: define at least one profile',
    ]);
  });

  it('rejects a name that is not lowercase letters, digits and dashes', () => {
    const text = `${VALID.replace('cache:', 'Cache_1:')}`;
    expect(configIssues(text)).toContain(
      'targets.Cache_1: invalid name: names use lowercase letters, digits and "-"',
    );
  });

  it('suggests the closest target for a misspelt one in a profile', () => {
    const text = `${TARGETS}profiles:\n  full: { targets: [app-db, uploads, cahce] }\n`;
    expect(configIssues(text)).toEqual([
      'profiles.full.targets[2]: unknown target "cahce"; did you mean "cache"?',
    ]);
  });

  it('lists the valid targets when no target is close', () => {
    const text = `${TARGETS}profiles:\n  full: { targets: [mailserver] }\n`;
    expect(configIssues(text)).toEqual([
      'profiles.full.targets[0]: unknown target "mailserver"; targets: app-db, uploads, cache',
    ]);
  });

  it('rejects a target listed twice in one profile', () => {
    const text = `${TARGETS}profiles:\n  full: { targets: [app-db, cache, app-db] }\n`;
    expect(configIssues(text)).toEqual(['profiles.full.targets[2]: "app-db" is listed twice']);
  });

  it('rejects a defaultProfile that is not a profile', () => {
    expect(configIssues(`${VALID}defaultProfile: ful\n`)).toEqual([
      'defaultProfile: unknown profile "ful"; did you mean "full"?',
    ]);
    expect(configIssues(`${VALID}defaultProfile: nightly\n`)).toEqual([
      'defaultProfile: unknown profile "nightly"; profiles: full, db',
    ]);
  });

  it('rejects a cron schedule the parser refuses, with its reason', () => {
    const text = `${TARGETS}profiles:\n  full: { targets: [app-db], schedule: "61 * * * *" }\n`;
    expect(configIssues(text)).toEqual([
      'profiles.full.schedule: invalid cron schedule "61 * * * *": Constraint error, got value 61 expected range 0-59',
    ]);
  });

  it('rejects a cron schedule with the wrong number of fields', () => {
    const text = `${VALID}drills:\n  weekly: { profile: db, schedule: "0 3 *" }\n`;
    expect(configIssues(text)).toEqual([
      'drills.weekly.schedule: a cron schedule has five fields: minute hour day-of-month month day-of-week (e.g. "0 2 * * *"), got 3',
    ]);
  });

  it('accepts five-field, six-field and @alias schedules', () => {
    const text = `${TARGETS}profiles:
  a: { targets: [app-db], schedule: "0 2 * * mon" }
  b: { targets: [app-db], schedule: "30 0 2 * * *" }
  c: { targets: [app-db], schedule: "@daily" }
`;
    const { config } = parseConfig(text, {}, 'test.yaml');
    expect(Object.values(config.profiles).map((p) => p.schedule)).toEqual([
      '0 2 * * mon',
      '30 0 2 * * *',
      '@daily',
    ]);
  });

  it('rejects a malformed duration', () => {
    const text = `${VALID}policies:
  - { action: restore, expires: 30 minutes }
drills:
  weekly: { profile: db, announce: [24h, 1w] }
`;
    expect(configIssues(text)).toEqual([
      'policies[0].expires: a duration is a number and a unit: 90s, 30m, 24h or 7d',
      'drills.weekly.announce[1]: a duration is a number and a unit: 90s, 30m, 24h or 7d',
    ]);
  });

  it('takes audit.checkpointEvery as a duration of a minute or more, 1h by default', () => {
    expect(parseConfig(VALID, {}, 'test.yaml').config.audit).toEqual({ checkpointEvery: '1h' });
    expect(
      parseConfig(`${VALID}audit: { checkpointEvery: 15m }\n`, {}, 'test.yaml').config.audit,
    ).toEqual({ checkpointEvery: '15m' });
    expect(configIssues(`${VALID}audit: { checkpointEvery: hourly }\n`)).toEqual([
      'audit.checkpointEvery: a duration is a number and a unit: 90s, 30m, 24h or 7d',
    ]);
    expect(configIssues(`${VALID}audit: { checkpointEvery: 30s }\n`)).toEqual([
      'audit.checkpointEvery: checkpoints are taken at most once a minute: use 1m or more, e.g. 1h',
    ]);
    expect(configIssues(`${VALID}audit: { every: 1h }\n`)).toEqual([
      expect.stringContaining('audit'),
    ]);
  });

  it('rejects an encryption recipient that is not an age X25519 recipient', () => {
    const text = `${VALID}encryption: { recipients: ["${RECIPIENT}", "age1tooshort", "ssh-ed25519 AAAA"] }\n`;
    expect(configIssues(text)).toEqual([
      'encryption.recipients[1]: not an age X25519 recipient: expected "age1" and 58 more characters, as printed by age-keygen',
      'encryption.recipients[2]: not an age X25519 recipient: expected "age1" and 58 more characters, as printed by age-keygen',
    ]);
  });

  it('rejects an encryption section without recipients', () => {
    expect(configIssues(`${VALID}encryption: { recipients: [] }\n`)).toEqual([
      'encryption.recipients: list at least one recipient, or leave encryption out for unencrypted backups',
    ]);
  });

  it('rejects a role member that is not platform:id', () => {
    const text = `${VALID}roles:\n  dba: ["slack:U012AB3CD", "Bob Smith"]\n`;
    expect(configIssues(text)).toEqual([
      'roles.dba[1]: an identity is platform:id — slack:USER-ID, discord:USER-ID, console:NAME or cli:OSUSER',
    ]);
  });

  it('rejects a replica s3 without a storage.s3 section', () => {
    expect(configIssues(`${VALID}storage: { replicas: [s3] }\n`)).toEqual([
      'storage.replicas[0]: replica s3 needs a storage.s3 section',
    ]);
  });

  it('rejects primary s3 without a storage.s3 section', () => {
    expect(configIssues(`${VALID}storage: { primary: s3 }\n`)).toEqual([
      'storage.primary: the primary store is s3 but there is no storage.s3 section',
    ]);
  });

  it('rejects a replica that is the primary store', () => {
    expect(configIssues(`${VALID}storage: { primary: local, replicas: [local] }\n`)).toEqual([
      'storage.replicas[0]: "local" is already the primary store; a replica must be another store',
    ]);
  });

  it('accepts s3 as a replica when the s3 section is there', () => {
    const text = `${VALID}storage: { s3: { bucket: backups }, replicas: [s3] }\n`;
    const { config } = parseConfig(text, {}, 'test.yaml');
    expect(config.storage.replicas).toEqual(['s3']);
    expect(config.storage.s3).toMatchObject({ bucket: 'backups', region: 'us-east-1', prefix: '' });
  });

  it('rejects an approver role that is not defined in roles', () => {
    const text = `${VALID}roles: { dba: ["console:bob"], oncall: ["console:alice"] }
policies:
  - { action: restore, approvers: [dba, dbas] }
  - { action: backup.prune, approvers: [security] }
`;
    expect(configIssues(text)).toEqual([
      'policies[0].approvers[1]: unknown role "dbas"; did you mean "dba"?',
      'policies[1].approvers[0]: unknown role "security"; roles: dba, oncall',
    ]);
  });

  it('rejects approvers and a break-glass role when there is no roles section', () => {
    const text = `${VALID}policies:
  - { action: restore, approvers: [dba] }
breakGlass: { role: dba }
`;
    expect(configIssues(text)).toEqual([
      'policies[0].approvers[0]: unknown role "dba": there is no roles section; define the role under roles',
      'breakGlass.role: unknown role "dba": there is no roles section; define the role under roles',
    ]);
  });

  it('rejects a break-glass role that is not defined', () => {
    const text = `${VALID}roles: { dba: ["console:bob"] }
breakGlass: { role: dbas }
`;
    expect(configIssues(text)).toEqual([
      'breakGlass.role: unknown role "dbas"; did you mean "dba"?',
    ]);
  });

  it('names an unknown policy action and the valid ones', () => {
    const text = `${VALID}policies:
  - { action: restor }
  - { action: launch-rockets }
`;
    expect(configIssues(text)).toEqual([
      'policies[0].action: unknown action "restor"; did you mean "restore"?',
      'policies[1].action: unknown action "launch-rockets"; actions: backup.create, backup.verify, backup.prune, restore, drill.run, runbook.start',
    ]);
  });

  it('refuses a policy that lets one person restore into production', () => {
    const text = `${VALID}policies:
  - { action: restore, environment: production, approvals: 0 }
  - { action: restore, environment: staging, approvals: 0 }
`;
    expect(configIssues(text)).toEqual([
      'policies[0].approvals: a restore into production needs at least one approver besides the requester (the two-person rule); for emergencies, configure breakGlass and use /restore … --break-glass REASON',
    ]);
  });

  it('checks a drill profile, channel and check targets', () => {
    const text = `${VALID}chat: { channels: { ops: { slack: C0123 } } }
drills:
  weekly:
    profile: bd
    channel: opz
    checks:
      - { target: uploads, sql: "select 1" }
      - { target: app-bd, sql: "select 1" }
`;
    expect(configIssues(text)).toEqual([
      'drills.weekly.profile: unknown profile "bd"; did you mean "db"?',
      'drills.weekly.channel: unknown channel "opz"; did you mean "ops"?',
      'drills.weekly.checks[0].target: "uploads" is a directory target; SQL checks run on postgres targets',
      'drills.weekly.checks[1].target: unknown target "app-bd"; did you mean "app-db"?',
    ]);
  });

  it('says so when a drill names a channel and no channels are defined', () => {
    expect(configIssues(`${VALID}drills: { weekly: { profile: db, channel: ops } }\n`)).toEqual([
      'drills.weekly.channel: unknown channel "ops"; no channels are defined under chat.channels',
    ]);
  });

  it('rejects a drill check on a target its profile does not restore', () => {
    const text = `${TARGETS}  other-db: { kind: postgres, url: "postgres://h/other" }
profiles:
  db: { targets: [app-db] }
drills:
  weekly: { profile: db, checks: [{ target: other-db, sql: "select 1" }] }
`;
    expect(configIssues(text)).toEqual([
      'drills.weekly.checks[0].target: "other-db" is not in profile "db" (app-db); a check runs on the restored copy of one of the profile\'s targets',
    ]);
  });

  it('rejects demo targets that are unknown or cannot hold demo data', () => {
    expect(configIssues(`${VALID}demo: { targets: [app-db, cache, nope] }\n`)).toEqual([
      'demo.targets[1]: "cache" is a redis target; demo data is made for postgres and directory targets only',
      'demo.targets[2]: unknown target "nope"; targets: app-db, uploads, cache',
    ]);
  });

  it('reports a YAML syntax error with its line and column', () => {
    const [issue, ...rest] = configIssues('targets:\n  app-db: { kind: postgres\nprofiles: {}\n');
    expect(rest).toEqual([]);
    expect(issue).toMatch(/^line 3, column 1: /);
  });

  it('names a duplicate key with its line', () => {
    expect(configIssues(`${VALID}compression: zstd\ncompression: gzip\n`)).toEqual([
      'line 11, column 1: duplicate key "compression"; a key may appear only once in a mapping',
    ]);
  });

  it('rejects an empty file and a file that is not a mapping', () => {
    expect(configIssues('')[0]).toMatch(
      /^the file is empty; it needs at least targets and profiles/,
    );
    expect(configIssues('- targets\n- profiles\n')).toEqual([
      'the top level must be a mapping of keys such as targets and profiles, not a list',
    ]);
  });

  it('lists every problem at once, in the order they appear in the file', () => {
    const text = `defaultProfile: nightly
storage: { locl: {} }
compression: brotli
targets:
  app-db: { kind: postgres, url: "\${APP_DATABASE_URL}" }
profiles:
  full: { targets: [app-db, cahce], schedule: "every night" }
policies:
  - { action: restore, expires: soon }
`;
    const issues = configIssues(text);
    expect(issues).toEqual([
      'defaultProfile: unknown profile "nightly"; profiles: full',
      'storage.locl: unknown key; valid keys: local, s3, primary, replicas',
      'compression: must be one of: zstd, gzip, none (got "brotli")',
      'targets.app-db.url: environment variable APP_DATABASE_URL is not set',
      'profiles.full.targets[1]: unknown target "cahce"; targets: app-db',
      expect.stringMatching(/^profiles\.full\.schedule: a cron schedule has five fields/),
      'policies[0].expires: a duration is a number and a unit: 90s, 30m, 24h or 7d',
    ]);
  });

  it('puts every problem in the error message too', () => {
    const text = `${TARGETS}profiles:\n  full: { targets: [cahce] }\ncompression: lz4\n`;
    const error = (() => {
      try {
        parseConfig(text, {}, 'conf/lifeboat.yaml');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const { message, code } = error as ConfigError;
    expect(code).toBe('config_invalid');
    expect(message).toContain('conf/lifeboat.yaml has 2 problems');
    expect(message).toContain('  - profiles.full.targets[0]: unknown target "cahce"');
    expect(message).toContain('  - compression: must be one of: zstd, gzip, none (got "lz4")');
  });

  it('quotes keys that are not plain words in paths', () => {
    const text = `${TARGETS}profiles:\n  full: { targets: [app-db] }\nchat: { channels: { ops: { "team.chat": x } } }\n`;
    expect(configIssues(text)).toEqual([
      'chat.channels.ops["team.chat"]: unknown key; valid keys: slack, discord, console',
    ]);
  });
});

describe('URL schemes', () => {
  it('names the key, what was given without its password, and what is valid', () => {
    const text = `${PROFILES}targets:
  app-db: { kind: postgres, url: "mysql://app:s3cret@db:3306/app" }
  uploads: { kind: directory, path: /srv/uploads }
  cache: { kind: redis, url: "http://:hunter2@cache:6379" }
storage:
  s3: { bucket: backups, endpoint: "minio:9000" }
scratch: { postgres: "redis://scratch:6379" }
`;
    const issues = configIssues(text);
    expect(issues).toEqual([
      'targets.app-db.url: must be a postgres:// or postgresql:// URL (postgres://user@host:5432/database); got mysql://app@db:3306/app',
      'targets.cache.url: must be a redis:// or rediss:// URL (redis://host:6379/0); got http://@cache:6379',
      'storage.s3.endpoint: must be an http:// or https:// URL (https://minio.example.com:9000); got a value that is not a URL (10 characters, not shown)',
      'scratch.postgres: must be a postgres:// or postgresql:// URL (postgres://user@host:5432/database); got redis://scratch:6379',
    ]);
    expect(issues.join('\n')).not.toContain('s3cret');
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  it('never echoes a value that is not a URL: it may be a secret put in the wrong place', () => {
    const text = `${PROFILES}targets:
  app-db: { kind: postgres, url: "correct-horse-battery-staple" }
  uploads: { kind: directory, path: /srv/uploads }
  cache: { kind: redis, url: "redis://cache:6379" }
`;
    const issues = configIssues(text);
    expect(issues).toEqual([
      'targets.app-db.url: must be a postgres:// or postgresql:// URL (postgres://user@host:5432/database); got a value that is not a URL (28 characters, not shown)',
    ]);
  });

  it('accepts postgresql://, rediss:// and an https endpoint', () => {
    const text = `${PROFILES}targets:
  app-db: { kind: postgres, url: "postgresql://app@db/app" }
  uploads: { kind: directory, path: /srv/uploads }
  cache: { kind: redis, url: "rediss://cache:6380" }
storage:
  s3: { bucket: backups, endpoint: "https://minio:9000" }
scratch: { postgres: "postgres://scratch/postgres" }
`;
    expect(() => parseConfig(text, {}, 'test.yaml')).not.toThrow();
  });
});

describe('a configuration with many names', () => {
  const many = (count: number) =>
    `targets:\n${Array.from({ length: count }, (_, i) => `  t-${i}: { kind: directory, path: /srv/${i} }`).join('\n')}\n`;

  it('lists at most 20 names when none is close to an unknown one, and counts the rest', () => {
    const text = `${many(100)}profiles:\n  full: { targets: [zzz-unknown] }\n`;
    const names = Array.from({ length: 20 }, (_, i) => `t-${i}`).join(', ');
    expect(configIssues(text)).toEqual([
      `profiles.full.targets[0]: unknown target "zzz-unknown"; targets: ${names} and 80 more`,
    ]);
  });

  it('still finds the name meant among many', () => {
    const text = `${many(1000)}profiles:\n  full: { targets: [t-9990] }\n`;
    expect(configIssues(text)).toEqual([
      'profiles.full.targets[0]: unknown target "t-9990"; did you mean "t-990"?',
    ]);
  });

  it('reports each target listed twice in a profile, at the second listing', () => {
    const text = `${many(3)}profiles:\n  full: { targets: [t-0, t-1, t-0, t-2, t-1, t-0] }\n`;
    expect(configIssues(text)).toEqual([
      'profiles.full.targets[2]: "t-0" is listed twice',
      'profiles.full.targets[4]: "t-1" is listed twice',
      'profiles.full.targets[5]: "t-0" is listed twice',
    ]);
  });
});
