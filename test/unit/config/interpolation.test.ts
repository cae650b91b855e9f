import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.ts';
import { configIssues } from '../../support/config-issues.ts';

const PROFILES = 'profiles:\n  full: { targets: [app-db] }\n';

function configWithUrl(url: string): string {
  return `targets:\n  app-db: { kind: postgres, url: "${url}" }\n${PROFILES}`;
}

function appDbUrl(text: string, env: Record<string, string | undefined>): string {
  const target = parseConfig(text, env, 'test.yaml').config.targets['app-db'];
  if (target?.kind !== 'postgres') throw new Error('app-db is not a postgres target');
  return target.url;
}

describe('environment variables in the configuration', () => {
  it(`replaces \${VAR} with the variable, anywhere in a string`, () => {
    const text = configWithUrl(`postgres://\${DB_HOST}:5432/\${DB_NAME}`);
    expect(appDbUrl(text, { DB_HOST: 'db.internal', DB_NAME: 'app' })).toBe(
      'postgres://db.internal:5432/app',
    );
  });

  it('reports an unset variable by the path of the value that needs it', () => {
    const text = `targets:\n  app-db: { kind: postgres, url: "\${APP_DATABASE_URL}" }\nstorage:\n  s3: { bucket: backups, endpoint: "\${S3_ENDPOINT}" }\n${PROFILES}`;
    expect(configIssues(text, {})).toEqual([
      'targets.app-db.url: environment variable APP_DATABASE_URL is not set',
      'storage.s3.endpoint: environment variable S3_ENDPOINT is not set',
    ]);
  });

  it(`uses the default of \${VAR:-default} when the variable is unset or empty`, () => {
    const text = configWithUrl(`\${APP_URL:-postgres://127.0.0.1:5432/app}`);
    expect(appDbUrl(text, {})).toBe('postgres://127.0.0.1:5432/app');
    expect(appDbUrl(text, { APP_URL: '' })).toBe('postgres://127.0.0.1:5432/app');
  });

  it('prefers the variable over the default when it is set', () => {
    const text = configWithUrl(`\${APP_URL:-postgres://127.0.0.1:5432/app}`);
    expect(appDbUrl(text, { APP_URL: 'postgres://db/other' })).toBe('postgres://db/other');
  });

  it('keeps an empty variable without a default as an empty string', () => {
    expect(configIssues(configWithUrl(`\${APP_URL}`), { APP_URL: '' })).toEqual([
      'targets.app-db.url: a postgres target needs a url',
    ]);
  });

  it(`writes $\${ as a literal \${ without looking it up`, () => {
    const text = configWithUrl(`postgres://h/app?application_name=$\${NOT_A_VAR}`);
    expect(appDbUrl(text, {})).toBe(`postgres://h/app?application_name=\${NOT_A_VAR}`);
  });

  it('substitutes inside list items', () => {
    const text = `targets:
  app-db: { kind: postgres, url: "postgres://h/app", pgDumpArgs: ["--schema=\${SCHEMA}"] }
${PROFILES}`;
    const target = parseConfig(text, { SCHEMA: 'public' }, 'test.yaml').config.targets['app-db'];
    expect(target).toMatchObject({ pgDumpArgs: ['--schema=public'] });
  });

  it('reports a malformed reference', () => {
    expect(configIssues(configWithUrl(`postgres://\${DB HOST}/app`), {})).toEqual([
      `targets.app-db.url: malformed variable reference "\${DB HOST}"; write \${NAME} or \${NAME:-default}, or $\${ for a literal "\${"`,
    ]);
  });

  it('substitutes before validating, so a substituted value is validated', () => {
    const text = `targets:\n  app-db: { kind: postgres, url: "postgres://h/app" }\n${PROFILES}compression: "\${COMPRESSION}"\n`;
    expect(parseConfig(text, { COMPRESSION: 'gzip' }, 'test.yaml').config.compression).toBe('gzip');
    expect(configIssues(text, { COMPRESSION: 'lz4' })).toEqual([
      'compression: must be one of: zstd, gzip, none (got the value of $COMPRESSION (not shown))',
    ]);
  });

  it('reports an unset variable once, not again as the invalid value it leaves', () => {
    const text = `targets:\n  app-db: { kind: postgres, url: "postgres://h/app" }\n${PROFILES}encryption: { recipients: ["\${LIFEBOAT_AGE_RECIPIENT}"] }\n`;
    expect(configIssues(text, {})).toEqual([
      'encryption.recipients[0]: environment variable LIFEBOAT_AGE_RECIPIENT is not set',
    ]);
  });
});

describe('values from the environment in validation errors', () => {
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const env = { AWS_SECRET_ACCESS_KEY: SECRET };

  function issuesWith(text: string, variables: Record<string, string>): readonly string[] {
    const issues = configIssues(text, variables);
    for (const value of Object.values(variables)) expect(issues.join('\n')).not.toContain(value);
    return issues;
  }

  it('names the variable instead of echoing its value', () => {
    const text = `${configWithUrl('postgres://h/app')}compression: "\${AWS_SECRET_ACCESS_KEY}"\n`;
    const issues = issuesWith(text, env);
    expect(issues).toEqual([
      'compression: must be one of: zstd, gzip, none (got the value of $AWS_SECRET_ACCESS_KEY (not shown))',
    ]);
    expect(issues.join('\n')).not.toContain('wJalr');
  });

  it('names every variable of a value built from several, and the file text around them', () => {
    const text = `${configWithUrl('postgres://h/app')}compression: "z-\${A_TOKEN}-\${B_PASSWORD}"\n`;
    expect(issuesWith(text, { A_TOKEN: 'first-secret', B_PASSWORD: 'second-secret' })).toEqual([
      'compression: must be one of: zstd, gzip, none (got a value built from $A_TOKEN and $B_PASSWORD (not shown))',
    ]);
  });

  it('still shows a value that only used the default written in the file', () => {
    const text = `${configWithUrl('postgres://h/app')}compression: "\${COMPRESSION:-lz4}"\n`;
    expect(configIssues(text, {})).toEqual([
      'compression: must be one of: zstd, gzip, none (got "lz4")',
    ]);
  });

  it('does not echo a URL from the environment, even without its password', () => {
    const text = configWithUrl(`\${APP_DATABASE_URL}`);
    expect(issuesWith(text, { APP_DATABASE_URL: 'mysql://app:pw@secret-host/app' })).toEqual([
      'targets.app-db.url: must be a postgres:// or postgresql:// URL (postgres://user@host:5432/database); got the value of $APP_DATABASE_URL (not shown)',
    ]);
    expect(
      issuesWith(configWithUrl(`mysql://app:\${DB_PASSWORD}@db/app`), {
        DB_PASSWORD: 'hunter2hunter2',
      }),
    ).toEqual([
      'targets.app-db.url: must be a postgres:// or postgresql:// URL (postgres://user@host:5432/database); got a value built from $DB_PASSWORD (not shown)',
    ]);
  });

  it('does not echo a cron schedule from the environment, nor the parser’s reading of it', () => {
    const text = `targets:\n  app-db: { kind: postgres, url: "postgres://h/app" }\nprofiles:\n  full: { targets: [app-db], schedule: "\${SCHEDULE}" }\n`;
    expect(issuesWith(text, { SCHEDULE: '* * * * wJalrXUtnFEMI' })).toEqual([
      'profiles.full.schedule: invalid cron schedule; got the value of $SCHEDULE (not shown)',
    ]);
  });

  it('does not echo a target kind from the environment', () => {
    const text = `targets:\n  app-db: { kind: "\${KIND}", url: "postgres://h/app" }\n${PROFILES}`;
    expect(issuesWith(text, { KIND: 'kind-secret' })).toEqual([
      'targets.app-db.kind: must be one of: postgres, directory, redis (got the value of $KIND (not shown))',
    ]);
  });

  it('does not echo names from the environment that refer to nothing', () => {
    const text = `targets:
  app-db: { kind: postgres, url: "postgres://h/app" }
profiles:
  full: { targets: ["\${T1}", app-db] }
defaultProfile: "\${P1}"
roles: { dba: ["console:bob"] }
policies:
  - { action: "\${A1}", approvers: ["\${R1}"] }
storage: { replicas: ["\${S1}"] }
chat: { channels: { ops: { console: x } } }
drills:
  weekly: { profile: full, channel: "\${C1}" }
`;
    const variables = {
      T1: 'target-secret',
      P1: 'profile-secret',
      A1: 'action-secret',
      R1: 'role-secret',
      S1: 'local',
      C1: 'channel-secret',
    };
    expect(issuesWith(text, variables)).toEqual([
      'profiles.full.targets[0]: unknown target (the value of $T1, not shown); targets: app-db',
      'defaultProfile: unknown profile (the value of $P1, not shown); profiles: full',
      'policies[0].action: unknown action (the value of $A1, not shown); actions: backup.create, backup.verify, backup.prune, restore, drill.run, runbook.start',
      'policies[0].approvers[0]: unknown role (the value of $R1, not shown); roles: dba',
      'storage.replicas[0]: (the value of $S1, not shown) is already the primary store; a replica must be another store',
      'drills.weekly.channel: unknown channel (the value of $C1, not shown); channels: ops',
    ]);
  });
});

describe('secrets found while loading', () => {
  it('collects values of variables whose names look secret', () => {
    const text = `targets:
  app-db: { kind: postgres, url: "postgres://app@h/app?sslkey=\${PG_SSL_KEY}" }
  cache: { kind: redis, url: "redis://:\${REDIS_PASSWORD}@h:6379" }
${PROFILES}storage: { s3: { bucket: backups, endpoint: "\${S3_ENDPOINT}" } }
`;
    const { secrets } = parseConfig(
      text,
      { PG_SSL_KEY: 'k3y-material', REDIS_PASSWORD: 'hunter2', S3_ENDPOINT: 'http://minio:9000' },
      'test.yaml',
    );
    expect(secrets).toContain('k3y-material');
    expect(secrets).toContain('hunter2');
    expect(secrets).not.toContain('http://minio:9000');
  });

  it('collects passwords inside URLs, whatever the variable is called, decoded too', () => {
    const text = configWithUrl(`\${APP_DATABASE_URL}`);
    const { secrets } = parseConfig(
      text,
      { APP_DATABASE_URL: 'postgres://app:long%40passphrase@db:5432/app' },
      'test.yaml',
    );
    expect(secrets).toEqual(expect.arrayContaining(['long%40passphrase', 'long@passphrase']));
    expect(secrets).not.toContain('app');
  });

  it('collects a password written literally in a URL in the file', () => {
    const { secrets } = parseConfig(
      configWithUrl('postgres://app:letmein-at-last@db/app'),
      {},
      'test.yaml',
    );
    expect(secrets).toEqual(['letmein-at-last']);
  });

  it('leaves short URL passwords to the URL pattern, so common words are not hidden everywhere', () => {
    const { secrets } = parseConfig(
      configWithUrl('postgres://postgres:postgres@db/app'),
      {},
      'test.yaml',
    );
    expect(secrets).toEqual([]);
  });

  it('does not treat a default value from the file as a secret', () => {
    const text = `targets:\n  app-db: { kind: postgres, url: "postgres://h/app", pgDumpArgs: ["\${DUMP_TOKEN:-none}"] }\n${PROFILES}`;
    expect(parseConfig(text, {}, 'test.yaml').secrets).toEqual([]);
  });
});
