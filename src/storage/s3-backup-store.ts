import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { LifeboatConfig } from '../config/schema.ts';
import { LifeboatError, messageOf, ServiceUnavailableError } from '../core/errors.ts';
import { formatDuration } from '../core/format.ts';
import type { BackupStore, StoredObject } from './backup-store.ts';
import { assertKeyPrefix, assertObjectKey, objectKeyProblem } from './object-key.ts';

/** The `storage.s3` section of the config. */
export type S3StorageConfig = NonNullable<LifeboatConfig['storage']['s3']>;

const MiB = 1024 * 1024;

export interface S3BackupStoreOptions {
  readonly config: S3StorageConfig;
  /**
   * Fixed credentials, for tests against a local server. @defaultValue the AWS SDK's default
   * chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_PROFILE and
   * the shared files, web identity, ECS or EC2 instance roles
   */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /**
   * Bytes per multipart part (at least 5 MiB, S3's minimum). With S3's 10,000 parts, the
   * largest object is 10,000 × this. @defaultValue 16 MiB (objects up to 156 GiB)
   */
  readonly partSize?: number;
  /**
   * Parts uploaded at once. A put holds at most about (queueSize + 1) × partSize bytes in
   * memory, whatever the object's size. @defaultValue 4
   */
  readonly queueSize?: number;
  /** Attempts per request, the first included, before a request fails. @defaultValue 4 */
  readonly maxAttempts?: number;
  /** Time to establish a connection. @defaultValue 10 000 ms */
  readonly connectTimeoutMs?: number;
  /**
   * Time a connection may sit with no byte moving either way (a stalled server, a request that
   * never gets an answer) before the attempt fails. @defaultValue 60 000 ms
   */
  readonly idleTimeoutMs?: number;
  /**
   * Time one request may take from its start to the answer's headers, sending a whole part
   * included. @defaultValue 900 000 ms (15 min)
   */
  readonly requestTimeoutMs?: number;
}

interface Tuning {
  readonly partSize: number;
  readonly queueSize: number;
  readonly maxAttempts: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

type HandlerArguments = Parameters<NodeHttpHandler['handle']>;

/**
 * Backups in an S3 bucket (AWS, MinIO, Ceph, …): the key `bk_…/app-db.dump.zst` is the object
 * `<prefix>bk_…/app-db.dump.zst`.
 *
 * A `put` streams through a multipart upload with bounded memory; S3 makes the object visible
 * only when the upload completes, and a failed or aborted put aborts its upload, so a key holds
 * either nothing or every byte. Every request is retried a bounded number of times, and every
 * attempt is bounded in time, so a stalled server fails the backup instead of hanging it.
 * Credentials come from the AWS SDK's default chain and never appear in messages or logs.
 */
export class S3BackupStore implements BackupStore {
  readonly name = 's3';
  readonly bucket: string;
  readonly prefix: string;
  private readonly config: S3StorageConfig;
  private readonly tuning: Tuning;
  private readonly handler: NodeHttpHandler;
  private readonly clientConfig: S3ClientConfig;
  private readonly client: S3Client;

  constructor(options: S3BackupStoreOptions) {
    const { config } = options;
    this.config = config;
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.tuning = {
      partSize: options.partSize ?? 16 * MiB,
      queueSize: options.queueSize ?? 4,
      maxAttempts: options.maxAttempts ?? 4,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 900_000,
    };
    if (this.tuning.partSize < 5 * MiB) {
      throw new LifeboatError('s3_part_size_invalid', 'the S3 part size must be at least 5 MiB');
    }
    this.handler = newHttpHandler(this.tuning);
    this.clientConfig = {
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      maxAttempts: this.tuning.maxAttempts,
      ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
      // S3-compatible servers (MinIO releases, Ceph, s3rver) often reject the CRC checksums the
      // SDK adds by default since 2025; Lifeboat checks sha256 of every object itself.
      ...(config.endpoint
        ? {
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }
        : {}),
    };
    this.client = new S3Client({ ...this.clientConfig, requestHandler: this.handler });
  }

  async put(
    key: string,
    body: Readable,
    options?: { signal?: AbortSignal },
  ): Promise<StoredObject> {
    let objectKey: string;
    try {
      objectKey = this.objectKey(key);
    } catch (error) {
      body.destroy();
      throw error;
    }
    const where = `${key} to ${this.describe(key)}`;
    // `stop` ends the whole upload at the first failure: the source's, S3's (after its retries)
    // or the caller's abort. It destroys the body and cuts the part uploads still in flight.
    const stop = new AbortController();
    let origin = 's3' as 'source' | 's3' | 'abort';
    const fail = (reason: unknown, from: typeof origin) => {
      if (stop.signal.aborted) return;
      origin = from;
      stop.abort(reason);
    };
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    stop.signal.addEventListener('abort', () => counted.destroy(asError(stop.signal.reason)), {
      once: true,
    });
    pipeline(body, counted).catch((error: unknown) => fail(error, 'source'));
    const onAbort = () => fail(options?.signal?.reason, 'abort');
    if (options?.signal?.aborted) onAbort();
    options?.signal?.addEventListener('abort', onAbort, { once: true });

    // lib-storage's own abort() settles done() before the parts in flight and its
    // AbortMultipartUpload have finished; stopping the body instead lets done() settle only once
    // every request has, and the unfinished upload is then aborted here.
    const upload = new Upload({
      client: this.uploadClient(stop.signal, (error) => fail(error, 's3')),
      params: { Bucket: this.bucket, Key: objectKey, Body: counted, ...this.objectOptions() },
      partSize: this.tuning.partSize,
      queueSize: this.tuning.queueSize,
      leavePartsOnError: true,
    });
    try {
      await upload.done();
      return { key, bytes };
    } catch (error) {
      if (!stop.signal.aborted) fail(error, 's3');
      const reason: unknown = stop.signal.reason;
      const leftover = upload.uploadId
        ? await this.abortUpload(objectKey, upload.uploadId).then(
            () => '',
            (abortError: unknown) =>
              ` (its unfinished upload ${upload.uploadId} could not be aborted either: ${messageOf(abortError)}; deleting the backup removes it)`,
          )
        : '';
      if (origin === 'source') {
        if (leftover && reason instanceof Error) reason.message += leftover;
        throw reason;
      }
      if (origin === 'abort') {
        throw new LifeboatError(
          'store_put_aborted',
          `uploading ${where} was cancelled: ${messageOf(reason ?? 'aborted')}${leftover}`,
          { cause: reason },
        );
      }
      const failure = this.failure('uploading', where, reason);
      failure.message += leftover;
      throw failure;
    } finally {
      options?.signal?.removeEventListener('abort', onAbort);
    }
  }

  async putBytes(key: string, body: Uint8Array): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: body,
          ContentLength: body.length,
          ...this.objectOptions(),
        }),
      );
    } catch (error) {
      throw this.failure('uploading', `${key} to ${this.describe(key)}`, error);
    }
    return { key, bytes: body.length };
  }

  async get(key: string): Promise<Readable> {
    const objectKey = this.objectKey(key);
    const where = `${key} from ${this.describe(key)}`;
    let body: Readable;
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }),
      );
      body = answer.Body as Readable;
    } catch (error) {
      if (codeOf(error) === 'NoSuchKey' || statusOf(error) === 404) {
        throw new LifeboatError(
          'object_not_found',
          `no object stored under "${key}" (${this.describe(key)})`,
          {
            cause: error,
          },
        );
      }
      throw this.failure('reading', where, error);
    }
    // The body's own errors (a stalled or reset connection) get a message naming the object.
    const out = new PassThrough();
    body.on('error', (error) => out.destroy(this.failure('reading', where, error)));
    out.on('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(out);
    return out;
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }),
      );
      return { key, bytes: head.ContentLength ?? 0 };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.failure('checking', this.describe(key), error);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertKeyPrefix(prefix);
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (error) {
        throw this.failure('listing', `${this.describe(prefix)}*`, error);
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.prefix.length);
        // Only keys this store could have written: folder markers and the like are not objects.
        if (key === undefined || objectKeyProblem(key)) continue;
        yield { key, bytes: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      throw this.failure('deleting', this.describe(key), error);
    }
  }

  async deleteAll(prefix: string): Promise<number> {
    assertKeyPrefix(prefix);
    const keys: string[] = [];
    for await (const object of this.list(prefix)) keys.push(object.key);
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      let answer: DeleteObjectsCommandOutput;
      try {
        answer = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.prefix + key })), Quiet: true },
          }),
        );
      } catch (error) {
        throw this.failure('deleting', `${this.describe(prefix)}*`, error);
      }
      const [first, ...others] = answer.Errors ?? [];
      if (first) {
        throw new LifeboatError(
          's3_request_failed',
          `S3 did not delete s3://${this.bucket}/${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim() +
            (others.length ? ` (and ${others.length} more objects)` : ''),
        );
      }
    }
    await this.abortUploadsUnder(prefix);
    return keys.length;
  }

  /** `s3://bucket/<prefix><key>`. */
  describe(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  /**
   * Resolves when the bucket answers a HeadBucket with these credentials, with one quick try.
   * Otherwise throws a `ServiceUnavailableError` saying what failed and how to fix it.
   */
  async checkBucket(timeoutMs = 5_000): Promise<void> {
    const handler = newHttpHandler({
      connectTimeoutMs: timeoutMs,
      idleTimeoutMs: timeoutMs,
      requestTimeoutMs: timeoutMs,
    });
    const client = new S3Client({ ...this.clientConfig, maxAttempts: 1, requestHandler: handler });
    try {
      await client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      throw new ServiceUnavailableError(
        's3_bucket_unreachable',
        [
          `Cannot use the S3 bucket "${this.bucket}" (storage.s3) at ${this.endpointName()}: ${this.bucketProblem(error, timeoutMs)}.`,
          ...this.bucketFix(error),
        ].join('\n'),
        { cause: error },
      );
    } finally {
      client.destroy();
    }
  }

  /** Closes the store's connections. */
  close(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return this.prefix + assertObjectKey(key);
  }

  private objectOptions(): {
    StorageClass?: StorageClass;
    ServerSideEncryption?: ServerSideEncryption;
  } {
    return {
      ...(this.config.storageClass
        ? { StorageClass: this.config.storageClass as StorageClass }
        : {}),
      ...(this.config.serverSideEncryption
        ? { ServerSideEncryption: this.config.serverSideEncryption }
        : {}),
    };
  }

  /**
   * A client for one put, sharing this store's connections and credentials: `signal` cuts its
   * part uploads in flight, and `onFailure` hears of every request that failed for good.
   */
  private uploadClient(signal: AbortSignal, onFailure: (error: unknown) => void): S3Client {
    const shared = this.handler;
    const requestHandler = {
      handle(request: HandlerArguments[0], options?: HandlerArguments[1]) {
        // Only bodies (parts, single puts) are cut; the upload's create and complete are short.
        const abortSignal = request.method === 'PUT' ? signal : options?.abortSignal;
        return shared.handle(request, { ...options, ...(abortSignal ? { abortSignal } : {}) });
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => shared.httpHandlerConfigs(),
    };
    const client = new S3Client({
      ...this.clientConfig,
      credentials: this.clientConfig.credentials ?? this.client.config.credentials,
      requestHandler,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          onFailure(error);
          throw error;
        }
      },
      { step: 'initialize', name: 'lifeboatStopUploadOnFailure' },
    );
    return client;
  }

  private async abortUpload(objectKey: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: objectKey,
          UploadId: uploadId,
        }),
      );
    } catch (error) {
      if (codeOf(error) === 'NoSuchUpload') return;
      throw this.failure('aborting the upload of', `s3://${this.bucket}/${objectKey}`, error);
    }
  }

  /** Aborts the multipart uploads a killed or failed writer left under `prefix`. */
  private async abortUploadsUnder(prefix: string): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
      } catch (error) {
        // A server without multipart listing has nothing to list.
        if (codeOf(error) === 'NotImplemented') return;
        throw this.failure(
          'listing the unfinished uploads under',
          `${this.describe(prefix)}*`,
          error,
        );
      }
      for (const upload of page.Uploads ?? []) {
        if (upload.Key && upload.UploadId) await this.abortUpload(upload.Key, upload.UploadId);
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  /** An error naming what was being done, to which object, and what S3 said. */
  private failure(action: string, where: string, error: unknown): LifeboatError {
    if (error instanceof LifeboatError) return error;
    const attempts = attemptsOf(error);
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    const timeout = timeoutOf(error, this.tuning);
    if (timeout) {
      return new LifeboatError(
        's3_timeout',
        `S3 did not answer within ${formatDuration(timeout.ms)} ${timeout.what} while ${action} ${where}${tries}`,
        { cause: error },
      );
    }
    if (error instanceof S3ServiceException) {
      const status = error.$metadata.httpStatusCode;
      const known = this.knownCause(error.name, status);
      if (known) {
        return new LifeboatError(known.code, `${action} ${where} failed: ${known.text}${tries}`, {
          cause: error,
        });
      }
      return new LifeboatError(
        's3_request_failed',
        `S3 answered ${error.name}${status ? ` (HTTP ${status})` : ''} while ${action} ${where}${tries}: ${error.message}`,
        { cause: error },
      );
    }
    const code = codeOf(error);
    if (code && /^E[A-Z]+$/.test(code)) {
      return new LifeboatError(
        's3_unreachable',
        `could not reach S3 at ${this.endpointName()} (${code}) while ${action} ${where}${tries}`,
        { cause: error },
      );
    }
    return new LifeboatError(
      's3_request_failed',
      `${action} ${where} failed${tries}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }

  /**
   * What S3 errors a person can act on mean, as the local store says EROFS or EACCES: a bucket
   * that does not exist, credentials that may not do this, credentials that are not valid.
   */
  private knownCause(
    name: string,
    status: number | undefined,
  ): { code: string; text: string } | undefined {
    const bucket = `the bucket "${this.bucket}" at ${this.endpointName()}`;
    switch (name) {
      case 'NoSuchBucket':
        return {
          code: 'store_bucket_missing',
          text: `${bucket} does not exist (NoSuchBucket): create it, or set storage.s3.bucket to one that exists`,
        };
      case 'InvalidAccessKeyId':
      case 'SignatureDoesNotMatch':
        return {
          code: 'store_credentials_invalid',
          text: `the credentials are not valid for ${bucket} (${name}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
        };
      case 'AccessDenied':
      case 'AllAccessDisabled':
        return {
          code: 'store_access_denied',
          text: `access denied to ${bucket} (${name}): these credentials may not list, read, write or delete there`,
        };
      default:
        return status === 403
          ? {
              code: 'store_access_denied',
              text: `access denied to ${bucket} (${name}, HTTP 403)`,
            }
          : undefined;
    }
  }

  private endpointName(): string {
    return this.config.endpoint ?? `AWS S3 (${this.config.region})`;
  }

  private bucketProblem(error: unknown, timeoutMs: number): string {
    const status = statusOf(error);
    const name = (error as { name?: string } | undefined)?.name;
    if (name === 'CredentialsProviderError') return 'no AWS credentials were found';
    if (status === 404) return 'the bucket does not exist';
    if (status === 403) return 'access denied: these credentials may not use the bucket';
    if (status === 301 || status === 400) {
      return `the server refused the request (HTTP ${status}): the bucket may be in another region than ${this.config.region}`;
    }
    if (
      timeoutOf(error, {
        connectTimeoutMs: timeoutMs,
        idleTimeoutMs: timeoutMs,
        requestTimeoutMs: timeoutMs,
      })
    ) {
      return `no answer within ${formatDuration(timeoutMs)} (timeout)`;
    }
    const code = codeOf(error);
    if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED): nothing listens there';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
    if (status) return `HTTP ${status} ${name ?? ''}`.trim();
    return messageOf(error);
  }

  private bucketFix(error: unknown): string[] {
    const status = statusOf(error);
    const name = (error as { name?: string } | undefined)?.name;
    if (name === 'CredentialsProviderError' || status === 403) {
      return [
        'To fix it: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the',
        'environment to a key that may list, read, write and delete in the bucket and abort its',
        'multipart uploads. Credentials never go in lifeboat.yaml.',
      ];
    }
    if (status === 404) {
      return [
        `To fix it: create the bucket (aws s3 mb s3://${this.bucket}, or mc mb for MinIO) or set`,
        'storage.s3.bucket to an existing one.',
      ];
    }
    return [
      'To fix it: check storage.s3.endpoint, storage.s3.region and the network; for MinIO set',
      'storage.s3.endpoint (e.g. http://127.0.0.1:9000) and forcePathStyle: true',
      '(docker compose up -d minio minio-init starts one with a `backups` bucket).',
    ];
  }
}

function newHttpHandler(
  tuning: Pick<Tuning, 'connectTimeoutMs' | 'idleTimeoutMs' | 'requestTimeoutMs'>,
) {
  return new NodeHttpHandler({
    connectionTimeout: tuning.connectTimeoutMs,
    socketTimeout: tuning.idleTimeoutMs,
    requestTimeout: tuning.requestTimeoutMs,
    throwOnRequestTimeout: true,
    httpAgent: { keepAlive: true, maxSockets: 50 },
    httpsAgent: { keepAlive: true, maxSockets: 50 },
  });
}

/** Which of the timeouts ended the request, if one did. */
function timeoutOf(
  error: unknown,
  tuning: Pick<Tuning, 'connectTimeoutMs' | 'idleTimeoutMs' | 'requestTimeoutMs'>,
): { ms: number; what: string } | undefined {
  const name = (error as { name?: string } | undefined)?.name;
  const message = messageOf(error);
  if (name !== 'TimeoutError' && codeOf(error) !== 'ETIMEDOUT') return undefined;
  if (/inactivity/.test(message))
    return { ms: tuning.idleTimeoutMs, what: '(the connection stalled)' };
  if (/requestTimeout/.test(message))
    return { ms: tuning.requestTimeoutMs, what: '(the request took too long)' };
  if (/establish a connection/.test(message)) {
    return { ms: tuning.connectTimeoutMs, what: '(no connection)' };
  }
  return { ms: tuning.idleTimeoutMs, what: '' };
}

function attemptsOf(error: unknown): number {
  const attempts = (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata
    ?.attempts;
  return typeof attempts === 'number' ? attempts : 1;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if (error instanceof S3ServiceException) return error.name;
  const { code, Code } = error as { code?: unknown; Code?: unknown };
  if (typeof Code === 'string') return Code;
  return typeof code === 'string' ? code : undefined;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(messageOf(reason));
}
