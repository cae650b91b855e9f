import { describe, expect, it } from 'vitest';
import {
  classifyTarComplaint,
  TarComplaintLog,
} from '../../../../src/backup/sources/tar-complaints.ts';

describe("classifying GNU tar's complaints while it archives", () => {
  it.each([
    ['tar: gone.txt: Cannot stat: No such file or directory', 'vanished', 'gone.txt'],
    ['tar: gone.txt: Cannot open: No such file or directory', 'vanished', 'gone.txt'],
    ['tar: d/f/x: Cannot stat: Not a directory', 'vanished', 'd/f/x'],
    ['tar: link: Cannot readlink: No such file or directory', 'vanished', 'link'],
    ['tar: big.log: File removed before we read it', 'vanished', 'big.log'],
    ['tar: big.log: file changed as we read it', 'changed', 'big.log'],
    ['tar: big.log: File shrank by 1024 bytes; padding with zeros', 'changed', 'big.log'],
    ['tar: Exiting with failure status due to previous errors', 'summary', null],
    ['tar: secret.key: Cannot open: Permission denied', 'error', 'secret.key'],
    ['tar: private/notes.txt: Cannot stat: Permission denied', 'error', 'private/notes.txt'],
    [
      'tar: disk.img: Read error at byte 0, while reading 512 bytes: Input/output error',
      'error',
      'disk.img',
    ],
    ['tar: -: Cannot write: Broken pipe', 'error', '-'],
  ])('%s is %s', (line, kind, path) => {
    expect(classifyTarComplaint(line)).toMatchObject({ kind, path });
  });

  it('keeps the line without its "tar: " prefix', () => {
    expect(classifyTarComplaint('tar: a: Cannot open: Permission denied').text).toBe(
      'a: Cannot open: Permission denied',
    );
  });
});

describe('the log of one tar run', () => {
  it('finds an error among thousands of vanished files, whatever their order', () => {
    const log = new TarComplaintLog();
    log.add('tar: secret.key: Cannot open: Permission denied');
    for (let i = 0; i < 5000; i++) log.add(`tar: tmp/${i}: Cannot stat: No such file or directory`);
    log.add('tar: Exiting with failure status due to previous errors');
    expect(log.failed).toBe(true);
    expect(log.errors()).toEqual(['secret.key: Cannot open: Permission denied']);
  });

  it('keeps the first hundred warnings and counts the rest', () => {
    const log = new TarComplaintLog();
    for (let i = 0; i < 250; i++) log.add(`tar: tmp/${i}: File removed before we read it`);
    expect(log.failed).toBe(false);
    const warnings = log.warnings();
    expect(warnings).toHaveLength(101);
    expect(warnings[0]).toEqual({
      kind: 'incomplete',
      message:
        'tmp/0: File removed before we read it: not in this backup (deleted while the backup ran)',
    });
    expect(warnings.at(-1)).toEqual({
      kind: 'incomplete',
      message: '… and 150 more files like these',
    });
  });
});
