import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3StorageConfig } from '../../src/storage/s3-backup-store.ts';

/**
 * A real S3 server for tests: s3rver, in this process, on a free port of 127.0.0.1, keeping its
 * buckets in its own temporary directory.
 *
 *     const s3 = await startS3Server();
 *     const store = new S3BackupStore({ config: s3.config({ prefix: 'p/' }), credentials: s3.credentials });
 *     …
 *     await s3.stop();
 *
 * s3rver lacks two calls real S3 and MinIO have and Lifeboat uses to leave nothing behind:
 * ListMultipartUploads and AbortMultipartUpload. This server adds both, working on s3rver's own
 * files, so the suites exercise the same requests as production.
 */
export interface S3TestServer {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** A bucket created at start. */
  readonly bucket: string;
  readonly region: string;
  /** The only credentials s3rver accepts. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Where s3rver keeps its files. */
  readonly directory: string;
  /** A `storage.s3` section for this server; `endpoint` may point at a proxy in front of it. */
  config(overrides?: Partial<S3StorageConfig>): S3StorageConfig;
  /** The multipart uploads started and neither completed nor aborted, as S3 would list them. */
  unfinishedUploads(bucket?: string): Promise<{ key: string; uploadId: string }[]>;
  /** What s3rver stored about an object (content type, storage class, …); undefined if none. */
  storedMetadata(key: string, bucket?: string): Promise<Record<string, string> | undefined>;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
}

/** The credentials s3rver accepts (its fixed pair). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A bucket name no other suite uses: lowercase letters, digits and `-`, as S3 requires. */
export function uniqueBucketName(prefix = 'lifeboat-test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Starts s3rver with `buckets` (default: one unique bucket) created. */
export async function startS3Server(
  options: { readonly buckets?: readonly string[] } = {},
): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'lifeboat-s3rver-'));
  const buckets = options.buckets?.length ? [...options.buckets] : [uniqueBucketName()];
  const [bucket] = buckets as [string, ...string[]];
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  // Before the router (the last middleware), which answers these two calls NotImplemented.
  server.middleware.splice(
    server.middleware.length - 1,
    0,
    multipartExtensions(directory) as (typeof server.middleware)[number],
  );
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const sockets = trackSockets(server.httpServer);

  return {
    endpoint,
    bucket,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    directory,
    config: (overrides = {}) => ({
      bucket,
      prefix: '',
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      ...overrides,
    }),
    unfinishedUploads: (name = bucket) => listUploads(directory, name, ''),
    async storedMetadata(key, name = bucket) {
      const parts = key.split('/');
      const last = parts.pop() ?? '';
      const file = join(directory, name, ...parts, `${last}._S3rver_metadata.json`);
      try {
        return JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
      } catch {
        return undefined;
      }
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await server.close().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The few Koa context fields the extension reads and writes. */
interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
}

/** ListMultipartUploads (`GET /bucket?uploads`) and AbortMultipartUpload (`DELETE /bucket/key?uploadId=…`). */
function multipartExtensions(directory: string) {
  return async (ctx: KoaContext, next: () => Promise<void>) => {
    const [, bucket = '', ...rest] = ctx.path.split('/').map((s) => decodeURIComponent(s));
    const key = rest.join('/');
    if (ctx.method === 'GET' && bucket && key === '' && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const uploads = await listUploads(directory, bucket, prefix);
      ctx.status = 200;
      ctx.body = {
        ListMultipartUploadsResult: {
          '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
          Bucket: bucket,
          Prefix: prefix,
          MaxUploads: 1000,
          IsTruncated: false,
          ...(uploads.length
            ? {
                Upload: uploads.map((u) => ({
                  Key: u.key,
                  UploadId: u.uploadId,
                  Initiated: u.initiated.toISOString(),
                })),
              }
            : {}),
        },
      };
      return;
    }
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'DELETE' && bucket && key && typeof uploadId === 'string') {
      const uploads = await listUploads(directory, bucket, key);
      if (!uploads.some((u) => u.uploadId === uploadId && u.key === key)) {
        ctx.status = 404;
        ctx.body = {
          Error: {
            Code: 'NoSuchUpload',
            Message: 'The specified upload does not exist.',
            UploadId: uploadId,
          },
        };
        return;
      }
      await rm(join(uploadsDirectory(directory, bucket), uploadId), {
        recursive: true,
        force: true,
      });
      ctx.status = 204;
      ctx.body = null;
      return;
    }
    await next();
  };
}

function uploadsDirectory(directory: string, bucket: string): string {
  return join(directory, bucket, '._S3rver_uploads');
}

async function listUploads(
  directory: string,
  bucket: string,
  prefix: string,
): Promise<{ key: string; uploadId: string; initiated: Date }[]> {
  const root = uploadsDirectory(directory, bucket);
  let ids: string[];
  try {
    ids = await readdir(root);
  } catch {
    return [];
  }
  const uploads = [];
  for (const uploadId of ids) {
    try {
      const key = await readFile(join(root, uploadId, 'key'), 'utf8');
      const { mtime } = await stat(join(root, uploadId));
      if (key.startsWith(prefix)) uploads.push({ key, uploadId, initiated: mtime });
    } catch {
      // An upload being aborted or completed right now.
    }
  }
  return uploads.sort((a, b) =>
    a.key === b.key ? a.uploadId.localeCompare(b.uploadId) : a.key < b.key ? -1 : 1,
  );
}

function trackSockets(
  server: { on(event: 'connection', f: (s: Socket) => void): unknown } | undefined,
) {
  const sockets = new Set<Socket>();
  server?.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** What the faulty proxy does to a request instead of forwarding it. */
export type Fault =
  /** Reads the whole request, then answers this status with an S3 error body. */
  | { readonly kind: 'status'; readonly status?: number; readonly code?: string }
  /** Reads `afterBytes` of the body (default 64 KiB), then stops reading and never answers. */
  | { readonly kind: 'stall-body'; readonly afterBytes?: number }
  /** Reads the whole request and never answers. */
  | { readonly kind: 'no-answer' }
  /**
   * Forwards the request, and holds S3's answer back until `release()`: a reader that waits
   * there is really mid-request, for as long as a test needs, without sleeping.
   */
  | { readonly kind: 'hold-answer' };

/** Which requests get a fault: every condition given must hold. */
export interface FaultRule {
  /** `PUT`, `POST`, … */
  readonly method?: string;
  /** Tested against the request's path and query: `/partNumber=2/`, `/\?uploads/`. */
  readonly url?: RegExp;
  /** How many matching requests get the fault. @defaultValue every one */
  readonly times?: number;
  readonly fault: Fault;
}

/** One request the proxy saw. */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The fault it got, or undefined when it was forwarded. */
  readonly fault?: Fault['kind'];
}

/**
 * An HTTP proxy in front of an S3 server that forwards requests as they are (signatures stay
 * valid) except those a rule picks, which get a fault: a 500, a stall mid-body, no answer.
 *
 *     const proxy = await startFaultyProxy(s3.endpoint, [{ method: 'PUT', times: 2, fault: { kind: 'status' } }]);
 *     new S3BackupStore({ config: s3.config({ endpoint: proxy.endpoint }), … });
 */
export interface FaultyProxy {
  /** `http://127.0.0.1:PORT`, to use as the S3 endpoint. */
  readonly endpoint: string;
  /** Every request seen so far, in order. */
  readonly requests: readonly ProxiedRequest[];
  /** Answers the next `count` requests, whatever they are, with `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** Adds a rule after the existing ones; the first matching rule with uses left applies. */
  add(rule: FaultRule): void;
  /** Removes every rule: from now on everything is forwarded. */
  clear(): void;
  /** Requests whose answers `hold-answer` holds back now. */
  held(): number;
  /** Sends every answer held back so far, and holds no more (the rules stay). */
  release(): void;
  /** Closes the proxy and every connection, stalled ones included. */
  stop(): Promise<void>;
}

export async function startFaultyProxy(
  target: string,
  plan: readonly FaultRule[] = [],
): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const rules: { rule: FaultRule; left: number }[] = [];
  const requests: ProxiedRequest[] = [];
  const add = (rule: FaultRule) =>
    rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  plan.forEach(add);

  const faultFor = (req: IncomingMessage): Fault | undefined => {
    for (const entry of rules) {
      const { rule } = entry;
      if (entry.left <= 0) continue;
      if (rule.method && rule.method !== req.method) continue;
      if (rule.url && !rule.url.test(req.url ?? '')) continue;
      entry.left -= 1;
      return rule.fault;
    }
    return undefined;
  };

  const holding: (() => void)[] = [];
  const server = createServer((req, res) => {
    const fault = faultFor(req);
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      ...(fault ? { fault: fault.kind } : {}),
    });
    if (!fault) return forward(upstream, req, res);
    switch (fault.kind) {
      case 'status':
        req.resume();
        req.on('end', () => answerError(res, fault.status ?? 500, fault.code ?? 'InternalError'));
        return;
      case 'no-answer':
        req.resume();
        return;
      case 'hold-answer':
        return forward(upstream, req, res, (send) => holding.push(send));
      case 'stall-body': {
        const limit = fault.afterBytes ?? 64 * 1024;
        let seen = 0;
        req.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen >= limit) req.pause();
        });
        return;
      }
    }
  });
  const sockets = trackSockets(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, status = 500) {
      rules.unshift({ rule: { fault: { kind: 'status', status } }, left: count });
    },
    add,
    clear() {
      rules.length = 0;
    },
    held: () => holding.length,
    release() {
      for (const send of holding.splice(0)) send();
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Forwards the request; with `hold`, S3's answer goes out only when `hold`'s callback runs. */
function forward(
  upstream: URL,
  req: IncomingMessage,
  res: ServerResponse,
  hold?: (send: () => void) => void,
): void {
  const out = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (answer) => {
      const send = () => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      };
      if (hold) hold(send);
      else send();
    },
  );
  out.on('error', () => res.destroy());
  res.on('close', () => out.destroy());
  req.pipe(out);
}

function answerError(res: ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message><RequestId>proxy</RequestId></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
