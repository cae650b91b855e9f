import { startTemporaryTcpRedis } from '../../../src/redis/temporary-redis.ts';

/** Starts a private redis-server, prints its port and waits to be killed. */
const server = await startTemporaryTcpRedis({ password: null });
process.stdout.write(`${server.port}\n`);
setInterval(() => {}, 60_000);
