import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { copyFile, link, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import type { RedisOptions } from 'ioredis';
import { childEnvironment } from '../core/child-env.ts';
import { LifeboatError } from '../core/errors.ts';
import { freePort } from '../core/free-port.ts';
import { PRIVATE_FILE_MODE } from '../core/private-modes.ts';
import { createStagingDirectory } from '../staging/staging-area.ts';
import { FAIL_FAST } from './redis-url.ts';

export interface TemporaryRedisOptions {
  /** An RDB file the server loads at start-up (linked, or copied, into its own directory). */
  readonly rdbFile?: string;
  /** Aborting it stops the server (and fails the start if it is still starting). */
  readonly signal?: AbortSignal;
  /** The redis-server binary. @defaultValue `redis-server` from the PATH */
  readonly redisServer?: string;
  /**
   * How many databases the server has. An RDB naming a higher index does not load; each empty
   * database costs a few hundred bytes. @defaultValue 1024
   */
  readonly databases?: number;
  /** Further configuration for tests, e.g. `['--repl-diskless-sync-delay', '0']`. */
  readonly args?: readonly string[];
}

/**
 * A private redis-server: a unix socket in its own 0700 directory, no TCP port, and a random
 * password (in a 0600 configuration file, never on a command line). Only this process can
 * reach it: nobody else on the host reads the snapshot it holds or writes into it.
 */
export interface TemporaryRedis {
  /** The path of its unix socket. */
  readonly socket: string;
  /** Its `requirepass`. */
  readonly password: string;
  /** What an ioredis client of it is given: the socket, the password, this database. */
  clientOptions(connectionName: string, db?: number): RedisOptions;
  /** Stops the server and removes its directory; safe to call more than once. */
  stop(): Promise<void>;
}

/** A temporary redis-server that also listens on 127.0.0.1, for what needs a URL (a scratch destination, tests). */
export interface TemporaryTcpRedis extends TemporaryRedis {
  /** `redis://:<password>@127.0.0.1:<port>`; without the password when it has none. */
  readonly url: string;
  readonly port: number;
}

export interface TemporaryTcpRedisOptions extends TemporaryRedisOptions {
  /**
   * Its password; `null` for none, which only tests standing in for a real server may ask.
   * @defaultValue a random one
   */
  readonly password?: string | null;
}

const READY_TIMEOUT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;
const SOCKET = 'redis.sock';
const CONFIG = 'redis.conf';

/**
 * Starts a private `redis-server` (see {@link TemporaryRedis}) in its own temporary directory,
 * saving nothing (`save ""`, no AOF), optionally loading an RDB file. Resolves once the server
 * has loaded the file and answers; a file that does not load is an error carrying the server's
 * log. Restores and snapshot counts read an RDB through one of these rather than parsing it.
 */
export async function startTemporaryRedis(
  options: TemporaryRedisOptions = {},
): Promise<TemporaryRedis> {
  return start(options, null, randomPassword());
}

/**
 * {@link startTemporaryRedis}, listening on a free port of 127.0.0.1 as well, with a password
 * (random unless given): for a scratch destination addressed by URL, and tests.
 */
export async function startTemporaryTcpRedis(
  options: TemporaryTcpRedisOptions = {},
): Promise<TemporaryTcpRedis> {
  const password = options.password === undefined ? randomPassword() : options.password;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const server = await start(options, port, password);
      const auth = password === null ? '' : `:${encodeURIComponent(password)}@`;
      return { ...server, url: `redis://${auth}127.0.0.1:${port}`, port };
    } catch (error) {
      // Another process can take the port between choosing it and redis binding it.
      if (!(error instanceof PortTaken)) throw error;
      if (attempt >= PORT_ATTEMPTS) {
        throw new LifeboatError(
          'redis_server_failed',
          `redis-server found no free port: ${error.message}`,
        );
      }
    }
  }
}

function randomPassword(): string {
  return randomBytes(24).toString('hex');
}

async function start(
  options: TemporaryRedisOptions,
  port: number | null,
  password: string | null,
): Promise<TemporaryRedis> {
  options.signal?.throwIfAborted();
  // Private and swept: the snapshot it loads is a database's contents in the clear.
  const directory = await createStagingDirectory('redis');
  try {
    if (options.rdbFile) await placeRdb(options.rdbFile, join(directory, 'dump.rdb'));
    return await launch(directory, port, password, options);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

class PortTaken extends Error {}

async function placeRdb(from: string, to: string): Promise<void> {
  // A hard link costs no copy. redis never rewrites the file in place (it saves to a temporary
  // file and renames it), and this server saves nothing anyway, so the original stays intact.
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new LifeboatError('rdb_missing', `the RDB file ${from} does not exist`, {
        cause: error,
      });
    }
    await copyFile(from, to);
  }
}

/** A redis configuration value, quoted as redis reads it. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

async function launch(
  directory: string,
  port: number | null,
  password: string | null,
  options: TemporaryRedisOptions,
): Promise<TemporaryRedis> {
  const binary = options.redisServer ?? 'redis-server';
  const socket = join(directory, SOCKET);
  // The password goes in a private file: a command line is readable by every local user.
  const config = join(directory, CONFIG);
  const lines = [
    `port ${port ?? 0}`,
    ...(port === null ? [] : ['bind 127.0.0.1']),
    `unixsocket ${quoted(socket)}`,
    'unixsocketperm 700',
    `dir ${quoted(directory)}`,
    'dbfilename dump.rdb',
    'save ""',
    'appendonly no',
    'daemonize no',
    'logfile ""',
    `databases ${options.databases ?? 1024}`,
    ...(password === null ? [] : [`requirepass ${quoted(password)}`]),
  ];
  await writeFile(config, `${lines.join('\n')}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  const args = [config, ...(options.args ?? [])];
  // The server dies with this process, even by SIGKILL: it holds a database's contents in the
  // clear, and nothing else would stop it.
  const setpriv = setprivPath();
  const spawnOptions = {
    stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
    env: childEnvironment(process.env),
  };
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args], spawnOptions)
    : spawn(binary, args, spawnOptions);
  const log = new LogTail(child);
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('exit', (code) => resolve({ code }));
  });
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      if (alive && child.pid !== undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(directory, { recursive: true, force: true });
    })();
    return stopped;
  };
  const onAbort = () => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let outcome: 'ready' | { code: number | null; error?: Error };
  try {
    outcome = await Promise.race([
      waitUntilReady(socket, log, () => alive).then(() => 'ready' as const),
      exited,
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  if (outcome !== 'ready') {
    options.signal?.removeEventListener('abort', onAbort);
    if (outcome.error) throw missingOrFailed(binary, outcome.error);
    if (options.signal?.aborted) throw options.signal.reason;
    const lines = log.lines();
    // setpriv could not run it: as spawn's ENOENT without setpriv.
    if (setpriv && outcome.code === 127 && lines.some((l) => /failed to execute/.test(l))) {
      const missing = Object.assign(new Error(lines.join('\n')), { code: 'ENOENT' });
      throw missingOrFailed(binary, missing);
    }
    if (lines.some((line) => /Address already in use/i.test(line)))
      throw new PortTaken(lines.join('\n'));
    throw new LifeboatError(
      'redis_server_failed',
      `redis-server exited with code ${outcome.code} while starting${options.rdbFile ? ` with ${options.rdbFile}` : ''}: ${lines.slice(-6).join('\n') || 'no output'}`,
    );
  }
  return {
    socket,
    password: password ?? '',
    clientOptions: (connectionName, db = 0) => ({
      path: socket,
      ...(password === null ? {} : { password }),
      db,
      connectionName,
      ...FAIL_FAST,
    }),
    stop,
  };
}

let setprivFound: string | null | undefined;

/**
 * util-linux's `setpriv`, which sets the parent-death signal of what it runs; null where it is
 * not installed (the server then outlives a killed worker until the next sweep of its staging).
 */
function setprivPath(): string | null {
  if (setprivFound !== undefined) return setprivFound;
  setprivFound = null;
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      setprivFound = candidate;
      break;
    } catch {
      // Not here.
    }
  }
  return setprivFound;
}

function missingOrFailed(binary: string, error: Error): LifeboatError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new LifeboatError(
      'redis_server_missing',
      `${binary} is not installed: restoring and counting Redis snapshots runs a private redis-server (Debian package redis-server)`,
      { cause: error },
    );
  }
  return new LifeboatError('redis_server_failed', `${binary} could not be run: ${error.message}`, {
    cause: error,
  });
}

/**
 * Waits for the log line redis writes once the data is loaded, then for a PING to be answered
 * (`+PONG`, or `-NOAUTH` from a server that requires a password: it is up all the same).
 */
async function waitUntilReady(socket: string, log: LogTail, running: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    // The exit is reported by the caller's race; this only stops polling.
    if (!running()) return;
    if (/ready to accept connections/i.test(log.text)) {
      const reply = await ping(socket);
      if (reply?.startsWith('+PONG') || reply?.startsWith('-NOAUTH')) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new LifeboatError('redis_server_failed', `redis-server on ${socket} was not ready in time`);
}

function ping(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (value: string | null) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2_000, () => done(null));
    socket.once('error', () => done(null));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply);
    });
    socket.connect(path, () => socket.write('PING\r\n'));
  });
}

/** The server's log (it logs to stdout), bounded. */
class LogTail {
  text = '';

  constructor(child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.text = (this.text + chunk).slice(-32 * 1024);
      });
    }
  }

  lines(): string[] {
    return this.text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
  }
}
