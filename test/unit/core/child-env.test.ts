import { describe, expect, it } from 'vitest';
import { childEnvironment, pgToolEnvironment } from '../../../src/core/child-env.ts';

const parent = {
  PATH: '/usr/bin',
  LANG: 'en_US.UTF-8',
  LC_TIME: 'C',
  TZ: 'UTC',
  TMPDIR: '/tmp/x',
  HOME: '/root',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
  LIFEBOAT_AGE_IDENTITY: 'AGE-SECRET-KEY-1',
  SLACK_BOT_TOKEN: 'xoxb-1',
  OTHER_DB_URL: 'postgres://u:p@h/db',
  PGPASSWORD: 'from-the-parent',
  PGHOST: 'elsewhere',
  PGSSLMODE: 'verify-full',
  PGAPPNAME: 'lifeboat',
  REDISCLI_AUTH: 'from-the-parent',
};

describe('the environment of a child tool', () => {
  it('keeps PATH, the locale, TZ, TMPDIR and HOME, and nothing else', () => {
    expect(childEnvironment(parent)).toEqual({
      PATH: '/usr/bin',
      LANG: 'en_US.UTF-8',
      LC_TIME: 'C',
      TZ: 'UTC',
      TMPDIR: '/tmp/x',
      HOME: '/root',
    });
  });

  it("sets the tool's own variables and leaves out those given as undefined", () => {
    const env = childEnvironment(parent, {
      LC_ALL: 'C',
      REDISCLI_AUTH: undefined,
      LANG: undefined,
    });
    expect(env.LC_ALL).toBe('C');
    expect(env).not.toHaveProperty('REDISCLI_AUTH');
    expect(env).not.toHaveProperty('LANG');
  });

  it("gives a pg tool libpq's TLS settings and the URL's password, never the parent's", () => {
    const env = pgToolEnvironment(parent, 'from-the-url');
    expect(env).toMatchObject({
      PGPASSWORD: 'from-the-url',
      PGSSLMODE: 'verify-full',
      PGAPPNAME: 'lifeboat',
    });
    expect(env).not.toHaveProperty('PGHOST');
    expect(pgToolEnvironment(parent, null)).not.toHaveProperty('PGPASSWORD');
    expect(JSON.stringify(env)).not.toMatch(/wJalr|AGE-SECRET|xoxb|OTHER_DB|from-the-parent/);
  });
});
