import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAgeIdentity } from '../../src/crypto/age/index.ts';
import {
  databaseUrl,
  dropDatabase,
  sql,
  tableChecksums,
  uniqueName,
} from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/**
 * The whole encrypted path through the real CLI and the worker: the config's recipients encrypt,
 * the environment's identities open, and a rotated key leaves older backups readable.
 */
// Each test runs a dozen real CLI processes one after another (each starts, migrates, runs its
// in-process worker and stops): a minute is not always enough on a loaded 2-core machine.
describe('encrypted backups on the command line', () => {
  let sandbox: LifeboatSandbox | undefined;
  let dir: string;
  let env: Record<string, string>;
  const staging = uniqueName('lb_encstage');
  const oldKey = generateAgeIdentity();
  const newKey = generateAgeIdentity();

  async function writeConfig(recipient: string): Promise<void> {
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
encryption: { recipients: ["${recipient}"] }
targets:
  app-db: { kind: postgres, url: "${databaseUrl(sandbox?.sourceDb ?? '')}", environment: production }
  staging-db: { kind: postgres, url: "${databaseUrl(staging)}", environment: staging }
profiles:
  db: { targets: [app-db] }
`,
    );
  }

  beforeAll(async () => {
    sandbox = await createSandbox('enc');
    ({ dir, env } = sandbox);
    await writeConfig(oldKey.recipient);
  }, 60_000);

  afterAll(async () => {
    await dropDatabase(staging);
    await sandbox?.remove();
  });

  it('encrypts to the recipients, opens with the identity, and keeps old backups readable after a key rotation', async () => {
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code).toBe(0);
    const first = String(lastJson(created.stdout).id);
    expect(await readdir(join(dir, 'backups', first))).toEqual([
      'app-db.dump.zst.age',
      'manifest.json',
    ]);
    const manifest = await readFile(join(dir, 'backups', first, 'manifest.json'), 'utf8');
    expect(JSON.parse(manifest).components[0].encryption).toEqual({
      format: 'age',
      recipients: [oldKey.recipient],
    });
    expect(manifest).not.toContain('AGE-SECRET-KEY');

    // Level 1 needs no key: without one, the default level checks the checksums and says that
    // levels 2-3 need the identity; a level that decrypts, asked for, is refused naming it.
    const noKey = await runLifeboat(['backup', 'verify', first, '--json'], { cwd: dir, env });
    expect(noKey.code, noKey.stderr).toBe(0);
    expect(lastJson(noKey.stdout)).toMatchObject({
      status: 'passed',
      level: 1,
      notes: [
        expect.stringMatching(/^Checked at level 1 \(checksums\) only: .*LIFEBOAT_AGE_IDENTITY/),
      ],
    });
    expect(noKey.stderr).toContain('verified at level 1 (checksums)');
    const level2 = await runLifeboat(['backup', 'verify', first, '--level', '2', '--json'], {
      cwd: dir,
      env,
    });
    // No key is no verdict on the backup: could not verify (exit 3), not failed.
    expect(level2.code).toBe(3);
    expect(lastJson(level2.stdout)).toMatchObject({ status: 'error', level: 2 });
    expect(level2.stderr).toMatch(/app-db[\s\S]*LIFEBOAT_AGE_IDENTITY[\s\S]*--level 1/);
    const level1 = await runLifeboat(['backup', 'verify', first, '--level', '1', '--json'], {
      cwd: dir,
      env,
    });
    expect(level1.code).toBe(0);
    expect(lastJson(level1.stdout)).toMatchObject({ status: 'passed', level: 1, notes: [] });

    const withOld = { ...env, LIFEBOAT_AGE_IDENTITY: oldKey.identity };
    const verified = await runLifeboat(['backup', 'verify', first, '--json'], {
      cwd: dir,
      env: withOld,
    });
    expect(verified.code).toBe(0);
    expect(lastJson(verified.stdout)).toMatchObject({ status: 'passed', level: 2 });

    // Rotate: new backups go to the new recipient only.
    await writeConfig(newKey.recipient);
    const rotated = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(rotated.code).toBe(0);
    const second = String(lastJson(rotated.stdout).id);
    const wrongKey = await runLifeboat(['backup', 'verify', second, '--json'], {
      cwd: dir,
      env: withOld,
    });
    // A key that does not open it says nothing about the backup: could not verify (exit 3).
    expect(wrongKey.code).toBe(3);
    expect(lastJson(wrongKey.stdout)).toMatchObject({ status: 'error' });
    expect(wrongKey.stderr).toMatch(/app-db/);

    // An identity file holding both keys opens both backups.
    const identityFile = join(dir, 'identities.txt');
    await writeFile(
      identityFile,
      `# old key\n${oldKey.identity}\n# new key\n${newKey.identity}\n`,
      { mode: 0o600 },
    );
    const both = { ...env, LIFEBOAT_AGE_IDENTITY_FILE: identityFile };
    for (const id of [first, second]) {
      const result = await runLifeboat(['backup', 'verify', id, '--json'], { cwd: dir, env: both });
      expect(result.code, result.stderr).toBe(0);
    }

    // The old backup restores into staging with the file's identities, contents identical.
    const restored = await runLifeboat(
      ['restore', first, '--into', 'app-db=staging-db', '--json'],
      { cwd: dir, env: both },
    );
    expect(restored.code, restored.stderr).toBe(0);
    expect(lastJson(restored.stdout)).toMatchObject({ status: 'completed' });
    expect(await tableChecksums(staging)).toEqual(await tableChecksums(sandbox?.sourceDb ?? ''));
  }, 180_000);

  it('refuses, before anyone is asked to approve, a restore that no identity here can open', async () => {
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code).toBe(0);
    const id = String(lastJson(created.stdout).id);
    const recipient = JSON.parse(await readFile(join(dir, 'backups', id, 'manifest.json'), 'utf8'))
      .components[0].encryption.recipients[0] as string;

    const dryRun = await runLifeboat(['restore', id, '--dry-run', '--json'], { cwd: dir, env });
    expect(dryRun.code).toBe(3);
    expect(lastJson(dryRun.stdout)).toMatchObject({
      status: 'refused',
      dryRun: true,
      problems: [{ component: 'app-db', check: 'identity' }],
    });
    expect(dryRun.stderr.replace(/\s+/g, ' ')).toContain(
      `\`app-db\` is encrypted to ${recipient}, and no age identity is available here`,
    );

    const wrong = await runLifeboat(['restore', id, '--dry-run', '--json'], {
      cwd: dir,
      env: { ...env, LIFEBOAT_AGE_IDENTITY: generateAgeIdentity().identity },
    });
    expect(String(lastJson(wrong.stdout).error)).toContain('none of the age identities here');

    const asked = await runLifeboat(['restore', id, '--json'], { cwd: dir, env });
    expect(asked.code).toBe(3);
    expect(lastJson(asked.stdout)).toMatchObject({ status: 'refused', code: 'restore_cannot_run' });
    const requests = await sql('select id from approval_requests', sandbox?.catalogDb ?? '');
    expect(requests).toEqual([]);

    const able = await runLifeboat(['restore', id, '--dry-run', '--json'], {
      cwd: dir,
      env: { ...env, LIFEBOAT_AGE_IDENTITY: newKey.identity },
    });
    expect(able.code).toBe(0);
    expect(lastJson(able.stdout)).toMatchObject({ status: 'ok', needsApproval: true });
  }, 180_000);
});
