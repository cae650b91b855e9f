import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTarFile } from '../../../src/tar/archive-check.ts';
import { gnuLongName, paxHeader, tarArchive, tarMember } from '../../support/tar-builder.ts';

const run = promisify(execFile);

describe('checking the archive of a directory backup (level 2 and restores)', () => {
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
      why: /hard link to "etc\/passwd", which is not a file the archive holds before it/,
    },
    {
      case: 'a hard link to a file that comes later',
      archive: () => tarArchive(hardLinkTo('early', 'late'), file('late')),
      entry: 'early',
      why: /hard link to "late", which is not a file the archive holds before it/,
    },
    {
      case: 'a hard link to a directory',
      archive: () => tarArchive(directory('d/'), hardLinkTo('d-again', 'd')),
      entry: 'd-again',
      why: /hard link to "d", which is not a file/,
    },
    {
      case: 'the same path twice (a symlink, then a directory through which tar would write)',
      archive: () => tarArchive(symlinkTo('data', '/etc'), directory('data/')),
      entry: 'data/',
      why: /appears twice in the archive/,
    },
    {
      case: 'a sparse file in a format Lifeboat never writes',
      archive: () =>
        tarArchive(paxHeader({ 'GNU.sparse.size': '100', 'GNU.sparse.numblocks': '0' }), file('s')),
      entry: 's',
      why: /sparse file in a format other than GNU pax 1\.0/,
    },
    {
      case: 'a pax path that overrides a harmless header name',
      archive: () => tarArchive(paxHeader({ path: '../../etc/passwd' }), file('harmless.txt')),
      entry: '../../etc/passwd',
      why: /has a "\.\." segment/,
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
      case: 'a ustar prefix that makes the name absolute',
      archive: () => tarArchive(tarMember({ name: 'passwd', prefix: '/etc' })),
      entry: '/etc/passwd',
      why: /is an absolute path/,
    },
    {
      case: 'a character device',
      archive: () => tarArchive(tarMember({ name: 'dev/null', type: '3' })),
      entry: 'dev/null',
      why: /is a character device; a directory backup leaves devices out and a restore never creates one/,
    },
    {
      case: 'a block device',
      archive: () => tarArchive(tarMember({ name: 'sda', type: '4' })),
      entry: 'sda',
      why: /is a block device/,
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
    expect(refused).toMatchObject({ code: 'archive_entry_unsafe' });
    const message = (refused as Error).message;
    expect(message).toContain(`"${entry}"`);
    expect(message).toMatch(why);
  });

  it('accepts symlinks that point anywhere, and FIFOs: nothing is written through them', async () => {
    const checked = await check(
      tarArchive(
        directory('a/'),
        symlinkTo('shadow', '/etc/shadow'),
        symlinkTo('a/up', '../../outside'),
        symlinkTo('loop-1', 'loop-2'),
        symlinkTo('loop-2', 'loop-1'),
        paxHeader({ linkpath: '/root' }),
        symlinkTo('home', 'inside'),
        tarMember({ name: 'pipe', type: '6', mode: 0o640 }),
      ),
    );
    expect(checked.entries.map((e) => [e.path, e.type, e.linkTarget])).toEqual([
      ['a', 'directory', null],
      ['shadow', 'symlink', '/etc/shadow'],
      ['a/up', 'symlink', '../../outside'],
      ['loop-1', 'symlink', 'loop-2'],
      ['loop-2', 'symlink', 'loop-1'],
      ['home', 'symlink', '/root'],
      ['pipe', 'fifo', null],
    ]);
    expect(checked).toMatchObject({ files: 6, directories: 1, bytes: 0 });
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
    // The hard link shares a.md's data; manifests before 0.4 counted it again.
    expect(checked.bytes).toBe('alpha'.length + 'pax named'.length);
    expect(checked.hardLinkedBytes).toBe('alpha'.length);
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
    expect(checked.bytes).toBe(4 + 70_000);
    expect(checked.hardLinkedBytes).toBe(70_000);
    const big = checked.entries.find((e) => e.path.endsWith('big.bin'));
    expect(big?.mode).toBe(0o600);
    expect(checked.entries.some((e) => e.path.endsWith(`${'m'.repeat(120)}/file.txt`))).toBe(true);
  });
});
