import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTarFile } from '../../../src/restore/tar-safety.ts';
import { gnuLongName, paxHeader, tarArchive, tarMember } from '../../support/tar-builder.ts';

const run = promisify(execFile);

describe('checking a tar archive before it is extracted', () => {
  let dir: string;
  let count = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-tar-safety-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function check(archive: Buffer) {
    const path = join(dir, `archive-${++count}.tar`);
    await writeFile(path, archive);
    return checkTarFile(path);
  }

  const file = (name: string, data = 'x') => tarMember({ name, data });
  const directory = (name: string) => tarMember({ name, type: '5', mode: 0o755 });
  const symlinkTo = (name: string, target: string) =>
    tarMember({ name, type: '2', linkName: target });
  const hardLinkTo = (name: string, target: string) =>
    tarMember({ name, type: '1', linkName: target });

  const refusals: { case: string; archive: () => Buffer; entry: string; why: RegExp }[] = [
    {
      case: 'a ".." segment',
      archive: () => tarArchive(file('docs/../../etc/cron.d/evil')),
      entry: 'docs/../../etc/cron.d/evil',
      why: /has a "\.\." segment/,
    },
    {
      case: 'a leading ".."',
      archive: () => tarArchive(file('../outside.txt')),
      entry: '../outside.txt',
      why: /has a "\.\." segment/,
    },
    {
      case: 'an absolute path',
      archive: () => tarArchive(file('/etc/passwd')),
      entry: '/etc/passwd',
      why: /is an absolute path/,
    },
    {
      case: 'a symlink to an absolute path',
      archive: () => tarArchive(symlinkTo('shadow', '/etc/shadow')),
      entry: 'shadow',
      why: /symlink to the absolute path "\/etc\/shadow"/,
    },
    {
      case: 'a symlink that climbs out',
      archive: () => tarArchive(directory('a/'), symlinkTo('a/up', '../../outside')),
      entry: 'a/up',
      why: /symlink to "\.\.\/\.\.\/outside", which leads outside the destination/,
    },
    {
      case: 'a symlink that climbs out through another symlink of the archive',
      archive: () =>
        tarArchive(
          directory('x/'),
          directory('x/y/'),
          symlinkTo('x/y/top', '../..'),
          symlinkTo('t', 'x/y/top/..'),
        ),
      entry: 't',
      why: /symlink to "x\/y\/top\/\.\.", which leads outside the destination/,
    },
    {
      case: 'symlinks that loop',
      archive: () => tarArchive(symlinkTo('a', 'b/c'), symlinkTo('b', 'a/d')),
      entry: 'a',
      why: /loops through other symlinks/,
    },
    {
      case: 'an entry beneath a symlink of the same archive',
      archive: () => tarArchive(symlinkTo('etc', 'inside'), file('etc/passwd', 'root::0:0')),
      entry: 'etc/passwd',
      why: /lies beneath "etc", a symlink of the same archive/,
    },
    {
      case: 'an entry beneath a symlink that comes later in the archive',
      archive: () => tarArchive(file('cfg/app.ini'), symlinkTo('cfg', 'elsewhere')),
      entry: 'cfg/app.ini',
      why: /lies beneath "cfg"/,
    },
    {
      case: 'a hard link that climbs out',
      archive: () => tarArchive(hardLinkTo('passwd', '../../etc/passwd')),
      entry: 'passwd',
      why: /hard link to "\.\.\/\.\.\/etc\/passwd", which has a "\.\." segment/,
    },
    {
      case: 'a hard link to an absolute path',
      archive: () => tarArchive(hardLinkTo('passwd', '/etc/passwd')),
      entry: 'passwd',
      why: /hard link to "\/etc\/passwd", which is an absolute path/,
    },
    {
      case: 'a hard link through a symlink of the archive',
      archive: () => tarArchive(symlinkTo('etc', 'sub'), hardLinkTo('passwd', 'etc/passwd')),
      entry: 'passwd',
      why: /links to "etc\/passwd", which lies beneath "etc"/,
    },
    {
      case: 'a pax path that overrides a harmless header name',
      archive: () => tarArchive(paxHeader({ path: '../../etc/passwd' }), file('harmless.txt')),
      entry: '../../etc/passwd',
      why: /has a "\.\." segment/,
    },
    {
      case: 'a pax linkpath that overrides a harmless symlink target',
      archive: () => tarArchive(paxHeader({ linkpath: '/root' }), symlinkTo('home', 'inside')),
      entry: 'home',
      why: /symlink to the absolute path "\/root"/,
    },
    {
      case: 'a harmless pax path over a dangerous header name (any reader might take either)',
      archive: () => tarArchive(paxHeader({ path: 'fine.txt' }), file('../escape.txt')),
      entry: 'fine.txt',
      why: /has a "\.\." segment/,
    },
    {
      case: 'a pax global header that sets every path',
      archive: () => tarArchive(paxHeader({ path: '/etc/motd' }, 'g'), file('a.txt')),
      entry: '/etc/motd',
      why: /is an absolute path/,
    },
    {
      case: 'a GNU long name that climbs out',
      archive: () =>
        tarArchive(gnuLongName(`${'deep/'.repeat(30)}${'../'.repeat(40)}etc/passwd`), file('x')),
      entry: `${'deep/'.repeat(30)}${'../'.repeat(40)}etc/passwd`,
      why: /has a "\.\." segment/,
    },
    {
      case: 'a GNU long link name to an absolute path',
      archive: () => tarArchive(gnuLongName('/etc/shadow', 'K'), symlinkTo('s', 'ok')),
      entry: 's',
      why: /symlink to the absolute path "\/etc\/shadow"/,
    },
    {
      case: 'a ustar prefix that makes the name absolute',
      archive: () => tarArchive(tarMember({ name: 'passwd', prefix: '/etc' })),
      entry: '/etc/passwd',
      why: /is an absolute path/,
    },
    {
      case: 'a character device',
      archive: () => tarArchive(tarMember({ name: 'dev/null', type: '3' })),
      entry: 'dev/null',
      why: /is a character device/,
    },
    {
      case: 'a block device',
      archive: () => tarArchive(tarMember({ name: 'sda', type: '4' })),
      entry: 'sda',
      why: /is a block device/,
    },
    {
      case: 'a FIFO',
      archive: () => tarArchive(tarMember({ name: 'pipe', type: '6' })),
      entry: 'pipe',
      why: /is a fifo/,
    },
    {
      case: 'a file that names the destination itself',
      archive: () => tarArchive(file('./')),
      entry: './',
      why: /names the destination directory itself/,
    },
  ];

  it.each(refusals)('refuses $case, naming the entry', async ({ archive, entry, why }) => {
    const refused = await check(archive()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).toMatchObject({ code: 'restore_entry_unsafe' });
    const message = (refused as Error).message;
    expect(message).toContain(`"${entry}"`);
    expect(message).toMatch(why);
    expect(message).toContain('nothing was extracted');
  });

  it('refuses a symlink header that carries data, which could hide an entry from one reader', async () => {
    const archive = tarArchive(
      tarMember({ name: 'link', type: '2', linkName: 'ok', size: 512 }),
      file('../hidden'),
    );
    await expect(check(archive)).rejects.toMatchObject({ code: 'tar_invalid' });
  });

  it('refuses a damaged header and an archive cut short inside an entry', async () => {
    const damaged = tarArchive(file('a.txt', 'alpha'));
    damaged[10] = (damaged[10] ?? 0) ^ 0xff;
    await expect(check(damaged)).rejects.toMatchObject({
      code: 'tar_invalid',
      message: expect.stringMatching(/checksum is wrong/),
    });
    const cut = tarMember({ name: 'big.bin', data: Buffer.alloc(4096, 1) }).subarray(0, 1024);
    await expect(check(cut)).rejects.toMatchObject({
      code: 'tar_invalid',
      message: expect.stringMatching(/ends inside the data of big\.bin/),
    });
  });

  it('accepts links that stay inside and counts files, directories and bytes', async () => {
    const archive = tarArchive(
      directory('./'),
      directory('./docs/'),
      file('./docs/a.md', 'alpha'),
      symlinkTo('./docs/latest', 'a.md'),
      symlinkTo('./up', 'docs/../docs/a.md'),
      hardLinkTo('./docs/b.md', 'docs/a.md'),
      paxHeader({ path: 'docs/long name with spaces.txt', mtime: '1700000123.5' }),
      file('short', 'pax named'),
    );
    const checked = await check(archive);
    expect(checked.directories).toBe(1);
    expect(checked.files).toBe(5);
    expect(checked.bytes).toBe('alpha'.length * 2 + 'pax named'.length);
    expect(checked.entries.map((e) => e.path)).toEqual([
      '',
      'docs',
      'docs/a.md',
      'docs/latest',
      'up',
      'docs/b.md',
      'docs/long name with spaces.txt',
    ]);
    expect(checked.entries.at(-1)?.mtime).toBe(1_700_000_123);
  });

  it("reads GNU tar's own archives: long names, long link names, hard links, modes", async () => {
    const tree = join(dir, 'tree');
    const deep = join(tree, 'n'.repeat(120), 'm'.repeat(120));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'file.txt'), 'deep');
    await writeFile(join(tree, 'big.bin'), Buffer.alloc(70_000, 3), { mode: 0o600 });
    await link(join(tree, 'big.bin'), join(tree, 'big-again.bin'));
    await symlink(join('n'.repeat(120), 'm'.repeat(120), 'file.txt'), join(tree, 'to-deep'));
    const archive = join(dir, 'gnu.tar');
    await run('tar', ['--create', `--file=${archive}`, `--directory=${tree}`, '.']);
    const checked = await checkTarFile(archive);
    expect(checked.files).toBe(4);
    expect(checked.directories).toBe(2);
    expect(checked.bytes).toBe(4 + 70_000 * 2);
    const big = checked.entries.find((e) => e.path.endsWith('big.bin'));
    expect(big?.mode).toBe(0o600);
    expect(checked.entries.some((e) => e.path.endsWith(`${'m'.repeat(120)}/file.txt`))).toBe(true);
  });
});
