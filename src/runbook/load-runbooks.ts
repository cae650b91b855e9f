import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runbook } from './model.ts';
import { MAX_RUNBOOK_CHARS, parseRunbook, runbookName } from './parse-runbook.ts';

/** A runbook's name: what `/runbook start NAME` takes and the file is called (`NAME.md`). */
export const RUNBOOK_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** How many bytes of a file are read at most: a larger file is refused, not read whole. */
const MAX_RUNBOOK_BYTES = MAX_RUNBOOK_CHARS * 4;

/**
 * Every `*.md` runbook in `directory` (not README.md), parsed, sorted by name. A file that
 * cannot be read or is badly named is a runbook with an error finding, not a throw.
 * @throws Error when the directory itself cannot be listed (the caller names the setting).
 */
export async function listRunbooks(directory: string): Promise<Runbook[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const files = entries
    .filter((entry) => !entry.isDirectory() && /\.md$/i.test(entry.name))
    .filter((entry) => entry.name.toLowerCase() !== 'readme.md')
    .map((entry) => entry.name)
    .sort();
  const runbooks = await Promise.all(files.map((file) => readRunbookFile(join(directory, file))));
  return runbooks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The runbook `name` (`runbooks/NAME.md`), or undefined when there is none. */
export async function loadRunbook(directory: string, name: string): Promise<Runbook | undefined> {
  if (!RUNBOOK_NAME.test(name) || name.toLowerCase() === 'readme') return undefined;
  const runbook = await readRunbookFile(join(directory, `${name}.md`));
  return runbook.findings.some((f) => f.message.startsWith('no such file')) ? undefined : runbook;
}

/**
 * Reads and parses one runbook file. Never throws: a missing, unreadable, oversized or badly
 * named file is a runbook without steps and with an error finding saying so.
 */
export async function readRunbookFile(file: string): Promise<Runbook> {
  const name = runbookName(file);
  const read = await readBounded(file);
  if (!read.ok) return failed(file, read.problem);
  const runbook = parseRunbook(read.text, file);
  if (RUNBOOK_NAME.test(name)) return runbook;
  return {
    ...runbook,
    findings: [
      {
        severity: 'error',
        file,
        line: 1,
        message: `"${name}" is not a runbook name: name the file with letters, digits, - and _ (at most 64), then .md`,
      },
      ...runbook.findings,
    ],
  };
}

async function readBounded(
  file: string,
): Promise<{ ok: true; text: string } | { ok: false; problem: string }> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, problem: 'not a file' };
    if (stat.size > MAX_RUNBOOK_BYTES) {
      return {
        ok: false,
        problem: `the runbook is larger than ${MAX_RUNBOOK_CHARS / 1024 / 1024} MiB; split it into several`,
      };
    }
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_RUNBOOK_BYTES) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_RUNBOOK_BYTES) {
      return { ok: false, problem: 'the runbook grew while it was read; try again' };
    }
    return { ok: true, text: buffer.subarray(0, bytesRead).toString('utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem:
        code === 'ENOENT'
          ? 'no such file'
          : `cannot read the file: ${code ?? (error instanceof Error ? error.message : String(error))}`,
    };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function failed(file: string, problem: string): Runbook {
  const name = runbookName(file);
  return {
    name,
    file,
    title: name,
    description: '',
    roles: [],
    params: [],
    intro: '',
    steps: [],
    findings: [{ severity: 'error', file, line: 1, message: problem }],
  };
}
