import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { startTemporaryRedis } from '../../src/redis/temporary-redis.ts';

/** The first line a server at the unix socket `path` answers to `command`. */
function rawReply(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path, () => socket.write(command));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply);
      }
    });
    socket.on('error', reject);
  });
}

/** The pid of the server a client talks to. */
async function pidOf(client: Redis): Promise<number> {
  const info = await client.info('server');
  return Number(/^process_id:(\d+)/m.exec(info)?.[1]);
}

/** The local ports of the listening TCP sockets (v4 and v6) the process holds. */
async function tcpListenersOf(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // st 0A is LISTEN; field 9 is the inode.
      if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) {
        ports.push(Number.parseInt(fields[1]?.split(':')[1] ?? '0', 16));
      }
    }
  }
  return ports;
}

import { WAIT } from '../support/worker-harness.ts';

const CHILD = new URL('../support/children/temporary-redis-child.ts', import.meta.url).pathname;

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

describe('a private redis-server of a restore or a verification', () => {
  it('does not outlive the process that started it when that process is killed', async () => {
    // Its staging directory goes under a TMPDIR of the test's own.
    const tmp = await mkdtemp(join(tmpdir(), 'lifeboat-temp-redis-'));
    onTestFinished(() => rm(tmp, { recursive: true, force: true }));
    const child = spawn(process.execPath, [CHILD], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TMPDIR: tmp },
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.once('data', (text: string) => resolve(Number(text.trim())));
      child.once('exit', () => reject(new Error('the child ended before it started redis')));
    });
    expect(await answers(port)).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await vi.waitFor(async () => {
      expect(await answers(port)).toBe(false);
    }, WAIT);
  });

  it('listens on no TCP port, only on a socket in a private directory, and wants its password', async () => {
    const server = await startTemporaryRedis();
    onTestFinished(() => server.stop());
    const client = new Redis(server.clientOptions('test'));
    client.on('error', () => undefined);
    onTestFinished(() => client.disconnect());
    await client.connect();
    expect(await client.config('GET', 'port')).toEqual(['port', '0']);
    expect((await stat(server.socket)).isSocket()).toBe(true);
    expect((await stat(dirname(server.socket))).mode & 0o777).toBe(0o700);
    // Nothing in its directory is readable by others (its configuration holds the password).
    for (const name of await readdir(dirname(server.socket))) {
      expect((await stat(join(dirname(server.socket), name))).mode & 0o077).toBe(0);
    }
    // No listening TCP socket on the host belongs to it.
    const listening = await tcpListenersOf(await pidOf(client));
    expect(listening).toEqual([]);

    // A client of the socket without the password is refused.
    expect(await rawReply(server.socket, 'GET anything\r\n')).toMatch(/^-NOAUTH/);
    // The password is on no command line, where every local user could read it.
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      expect(cmdline).not.toContain(server.password);
    }
  });

  it('names a redis-server that is not installed, through setpriv too', async () => {
    await expect(
      startTemporaryRedis({ redisServer: '/nonexistent/redis-server' }),
    ).rejects.toMatchObject({ code: 'redis_server_missing' });
  });
});
