import { describe, expect, it } from 'vitest';
import { renderMessage, stripAnsi, wrap } from '../../../../src/chat/console/render-text.ts';
import type { Block, ChatMessage, Tone } from '../../../../src/chat/message.ts';

function render(blocks: Block[], options: { width?: number; color?: boolean } = {}): string {
  return renderMessage({ text: 'fallback', blocks }, options);
}

const ESC = '\x1b';

const everyBlock: ChatMessage = {
  text: 'Backup bk_1 completed',
  blocks: [
    { type: 'header', text: 'Backup bk_1 completed' },
    { type: 'section', text: 'All three components were stored and verified.' },
    { type: 'fields', fields: [{ label: 'Profile', value: 'full' }] },
    { type: 'progress', label: 'app-db', fraction: 0.5, detail: '24 MB' },
    { type: 'callout', tone: 'danger', text: 'Replica s3 failed' },
    { type: 'code', text: 'lifeboat backup show bk_1' },
    { type: 'context', text: 'job 42' },
    {
      type: 'buttons',
      buttons: [{ actionId: 'retry', label: 'Retry', style: 'primary', command: '/backup create' }],
    },
  ],
};

describe('renderMessage', () => {
  describe('header', () => {
    it('underlines the header with a rule when colour is off', () => {
      expect(render([{ type: 'header', text: 'Backup bk_1' }])).toBe('Backup bk_1\n───────────');
    });

    it('makes the header bold and underlined when colour is on', () => {
      expect(render([{ type: 'header', text: 'Backup bk_1' }], { color: true })).toBe(
        `${ESC}[1;4mBackup bk_1${ESC}[0m`,
      );
    });
  });

  describe('section', () => {
    const prose =
      'The restore replaces every table in app-db with the contents of backup bk_01HX, taken ' +
      'yesterday at 02:00, after a safety backup of the current database has been stored.';

    it('wraps prose to the width without losing or splitting words', () => {
      const lines = render([{ type: 'section', text: prose }], { width: 40 }).split('\n');

      expect(lines.length).toBeGreaterThan(3);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
      expect(lines.join(' ')).toBe(prose);
    });

    it('keeps a word longer than the width whole on a line of its own', () => {
      const url = `s3://backups/lifeboat/${'x'.repeat(60)}/manifest.json`;
      const lines = render([{ type: 'section', text: `Stored at ${url} today` }], { width: 30 });

      expect(lines.split('\n')).toEqual(['Stored at', url, 'today']);
    });

    it('keeps line breaks and the indentation of wrapped list items', () => {
      const text = 'Steps:\n  - stop the app servers before the restore begins';

      expect(render([{ type: 'section', text }], { width: 30 }).split('\n')).toEqual([
        'Steps:',
        '  - stop the app servers',
        '  before the restore begins',
      ]);
    });
  });

  describe('fields', () => {
    it('aligns the values of all fields in one column', () => {
      const text = render([
        {
          type: 'fields',
          fields: [
            { label: 'Profile', value: 'full' },
            { label: 'Requested by', value: 'console:alice' },
          ],
        },
      ]);

      expect(text.split('\n')).toEqual(['Profile       full', 'Requested by  console:alice']);
    });

    it('wraps a long value under its own column', () => {
      const text = render(
        [
          {
            type: 'fields',
            fields: [{ label: 'Note', value: 'taken before the billing schema migration runs' }],
          },
        ],
        { width: 30 },
      );

      expect(text.split('\n')).toEqual([
        'Note  taken before the billing',
        '      schema migration runs',
      ]);
    });
  });

  describe('progress', () => {
    it.each([
      [0, 'app-db  [--------------------]   0%  0 B'],
      [0.5, 'app-db  [##########----------]  50%  0 B'],
      [1, 'app-db  [####################] 100%  0 B'],
    ])('draws a bar for fraction %s', (fraction, expected) => {
      expect(render([{ type: 'progress', label: 'app-db', fraction, detail: '0 B' }])).toBe(
        expected,
      );
    });

    it('shows only the detail when the total is unknown', () => {
      expect(
        render([{ type: 'progress', label: 'uploads', fraction: null, detail: '2,311 files' }]),
      ).toBe('uploads  2,311 files');
    });

    it('matches the bar and percentage of the house example at 45%', () => {
      expect(
        render([{ type: 'progress', label: 'app-db', fraction: 0.45, detail: '40 MB/s' }]),
      ).toBe('app-db  [#########-----------]  45%  40 MB/s');
    });

    it('does not round a binary fraction down a percent (0.29 is 29%)', () => {
      expect(render([{ type: 'progress', label: 'a', fraction: 0.29, detail: '' }])).toContain(
        ' 29%',
      );
    });

    it('says 100% only when the work is done', () => {
      expect(render([{ type: 'progress', label: 'a', fraction: 0.999, detail: '' }])).toContain(
        ' 99%',
      );
    });

    it('keeps fractions outside 0..1 inside the bar', () => {
      expect(render([{ type: 'progress', label: 'a', fraction: 1.7, detail: '' }])).toBe(
        'a  [####################] 100%',
      );
    });

    it('lines up consecutive progress lines under one label column', () => {
      const text = render([
        { type: 'progress', label: 'app-db', fraction: 0.5, detail: '24 MB' },
        { type: 'progress', label: 'uploads', fraction: null, detail: '800 MB' },
        { type: 'progress', label: 'cache', fraction: 1, detail: '4 MB' },
      ]);

      expect(text.split('\n')).toEqual([
        'app-db   [##########----------]  50%  24 MB',
        'uploads  800 MB',
        'cache    [####################] 100%  4 MB',
      ]);
    });

    it('moves a detail that does not fit onto the next line', () => {
      const text = render(
        [{ type: 'progress', label: 'db', fraction: 0.5, detail: '1.2 GB of 2.4 GB at 40 MB/s' }],
        { width: 40 },
      );

      expect(text.split('\n')).toEqual([
        'db  [##########----------]  50%',
        '    1.2 GB of 2.4 GB at 40 MB/s',
      ]);
    });
  });

  describe('callout', () => {
    it.each<[Tone, string]>([
      ['danger', '✖ Error: it broke'],
      ['warning', '⚠ Warning: it broke'],
      ['success', '✔ OK: it broke'],
      ['info', 'ℹ Info: it broke'],
    ])('marks a %s callout with a symbol and a word', (tone, expected) => {
      expect(render([{ type: 'callout', tone, text: 'it broke' }])).toBe(expected);
    });

    it('wraps a long callout under its text, not under the marker', () => {
      const text = render(
        [{ type: 'callout', tone: 'danger', text: 'pg_dump refused: server version 16 is newer' }],
        { width: 30 },
      );

      expect(text.split('\n')).toEqual([
        '✖ Error: pg_dump refused:',
        '         server version 16 is',
        '         newer',
      ]);
    });
  });

  describe('code', () => {
    it('indents code and leaves long lines whole so they can be copied', () => {
      const command = `zstd -d < app-db.dump.zst | pg_restore --clean --if-exists -d ${'x'.repeat(40)}`;
      const text = render([{ type: 'code', text: `${command}\n\tpsql -c 'select 1'\n` }], {
        width: 40,
      });

      expect(text.split('\n')).toEqual([`    ${command}`, "        psql -c 'select 1'"]);
    });
  });

  describe('context', () => {
    it('prints context plainly without colour and dim with it', () => {
      expect(render([{ type: 'context', text: 'job 42' }])).toBe('job 42');
      expect(render([{ type: 'context', text: 'job 42' }], { color: true })).toBe(
        `${ESC}[2mjob 42${ESC}[0m`,
      );
    });
  });

  describe('buttons', () => {
    it('shows each button with the command that does the same thing', () => {
      const text = render([
        {
          type: 'buttons',
          buttons: [
            { actionId: 'a', label: 'Approve', style: 'primary', command: '/approve apr_123' },
            { actionId: 'r', label: 'Reject', style: 'danger', command: '/reject apr_123' },
          ],
        },
      ]);

      expect(text).toBe('[ Approve ] /approve apr_123   [ Reject ] /reject apr_123');
    });

    it('shows a button without a typed equivalent by its label alone', () => {
      expect(render([{ type: 'buttons', buttons: [{ actionId: 'done', label: 'Done' }] }])).toBe(
        '[ Done ]',
      );
    });

    it('puts buttons on lines of their own when they do not fit on one', () => {
      const text = render(
        [
          {
            type: 'buttons',
            buttons: [
              { actionId: 'a', label: 'Approve', command: '/approve apr_123' },
              { actionId: 'r', label: 'Reject', command: '/reject apr_123' },
            ],
          },
        ],
        { width: 40 },
      );

      expect(text.split('\n')).toEqual([
        '[ Approve ] /approve apr_123',
        '[ Reject ] /reject apr_123',
      ]);
    });
  });

  describe('layout and colour', () => {
    it('renders a message without blocks as its wrapped text', () => {
      expect(renderMessage({ text: 'Nothing to prune.', blocks: [] })).toBe('Nothing to prune.');
    });

    it('sets prose apart with blank lines and keeps lines of data together', () => {
      const text = render([
        { type: 'header', text: 'Drill weekly-db' },
        { type: 'fields', fields: [{ label: 'RTO', value: '4m 12s' }] },
        { type: 'section', text: 'Within objectives.' },
        { type: 'context', text: 'drill run dr_1' },
      ]);

      expect(text).toBe(
        'Drill weekly-db\n───────────────\nRTO  4m 12s\n\nWithin objectives.\n\ndrill run dr_1',
      );
    });

    it('writes no escape codes when colour is off', () => {
      expect(renderMessage(everyBlock, { color: false })).not.toContain(ESC);
    });

    it('writes the same words with colour on, only emphasised', () => {
      const colored = renderMessage(everyBlock, { color: true });

      expect(colored).toContain(ESC);
      const plainWithoutRule = renderMessage(everyBlock).replace(/\n─+/, '');
      expect(stripAnsi(colored)).toBe(plainWithoutRule);
    });

    it('drops control characters from text, so a note cannot drive the terminal', () => {
      const text = render([
        {
          type: 'fields',
          fields: [{ label: 'Note', value: `evil${ESC}[2J${ESC}]0;title\x07 note\r` }],
        },
      ]);

      expect(text).not.toContain(ESC);
      expect(text).not.toContain('\x07');
      expect(text).not.toContain('\r');
      expect(text).toContain('evil');
    });
  });
});

describe('wrap', () => {
  it('keeps blank lines between paragraphs', () => {
    expect(wrap('one\n\ntwo', 80)).toEqual(['one', '', 'two']);
  });
});

describe('renderMessage: what the platforms have that a terminal shows as text', () => {
  it('says which buttons ask before they act', () => {
    const text = render([
      {
        type: 'buttons',
        buttons: [
          {
            actionId: 'cmd:reject apr_1',
            label: 'Reject',
            style: 'danger',
            command: '/reject apr_1',
            confirm: { title: 'Reject?', text: 'Nothing runs.', confirm: 'Reject' },
          },
          { actionId: 'cmd:status', label: 'Status', command: '/status' },
        ],
      },
    ]);
    expect(text).toBe('[ Reject ] /reject apr_1 (asks to confirm)   [ Status ] /status');
  });

  it('shows a mention as the identity it names, never the markers', () => {
    const text = render([
      {
        type: 'section',
        text: 'Approved by \uE000console:bob\uE001 for \uE000slack:U012AB3CD\uE001.',
      },
      { type: 'context', text: 'stray \uE000 and \uE001 markers' },
    ]);
    expect(text).toContain('Approved by @console:bob for @slack:U012AB3CD.');
    expect(text).toContain('stray and markers');
    expect(text).not.toMatch(/[\uE000\uE001]/);
  });

  it('shows an image by its alternative text and the file it was written to', () => {
    const message: ChatMessage = {
      text: 'chart',
      blocks: [{ type: 'image', filename: 'rto.png', alt: 'RTO of the last 10 drills' }],
      attachments: [
        { filename: 'rto.png', contentType: 'image/png', data: new Uint8Array(2048), title: 'RTO' },
        { filename: 'timeline.md', contentType: 'text/markdown', data: new Uint8Array(10) },
      ],
    };
    const files = new Map([
      ['rto.png', '.lifeboat/files/20261122T120000Z-aaaaaa-rto.png'],
      ['timeline.md', '.lifeboat/files/20261122T120000Z-bbbbbb-timeline.md'],
    ]);
    const text = renderMessage(message, { files, width: 200 });
    expect(text).toContain(
      '[image: RTO of the last 10 drills] (.lifeboat/files/20261122T120000Z-aaaaaa-rto.png)',
    );
    expect(text).toContain(
      'File: RTO (rto.png, image/png, 2.0 KiB): .lifeboat/files/20261122T120000Z-aaaaaa-rto.png',
    );
    expect(text).toContain(
      'File: (timeline.md, text/markdown, 10 B): .lifeboat/files/20261122T120000Z-bbbbbb-timeline.md',
    );
    // Without the files written, the names.
    expect(renderMessage(message)).toContain('[image: RTO of the last 10 drills] (rto.png)');
  });
});
