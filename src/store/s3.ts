/**
 * A store over an S3 bucket prefix, on `@aws-sdk/client-s3` (docs/behaviour.md §13.4).
 *
 * The SDK is loaded on first use (it takes ~0.2 s to import), so importing
 * this module is free. It is loaded through a specifier bundlers do not
 * follow, so browser bundles do not carry its ≈ 340 kB: in a browser, read a
 * bucket through its `https://` URL (HttpStore; public or presigned objects,
 * CORS on the bucket).
 *
 * @module
 */

import type {
  GetObjectCommandOutput,
  ListObjectsV2CommandOutput,
  S3Client,
  S3ClientConfig,
} from "@aws-sdk/client-s3";
import { StoreError } from "../errors.js";
import { importNodeOnly } from "../util/node-only.js";
import {
  checkRange,
  errorMessage,
  isAbortError,
  isEmptyRange,
  normalizeKey,
  rangeHeader,
  resolveRange,
  sortedUnique,
} from "./keys.js";
import { bodyBytes } from "./s3-body.js";
import {
  clientConfig,
  errorName,
  httpStatus,
  isConditionFailed,
  isMissing,
  type ObjectStoreOptions,
  parseS3StorageOptions,
  parseS3Url,
  type S3StorageOptions,
  sleep,
} from "./s3-options.js";
import { type RangeQuery, type ReadOptions, readTarget, Store, type VersionedBytes } from "./store.js";

type Sdk = typeof import("@aws-sdk/client-s3");
let sdkModule: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdkModule ??= importNodeOnly<Sdk>("@aws-sdk/client-s3").catch((err: unknown) => {
    sdkModule = undefined;
    throw new StoreError(
      `cannot load the AWS SDK for s3:// stores (${errorMessage(err)}); browser builds leave it out: ` +
        "read the bucket over https:// instead",
      { cause: err },
    );
  });
  return sdkModule;
}

export type { ObjectStoreOptions, S3Credentials, S3StorageOptions } from "./s3-options.js";
export { parseS3StorageOptions, parseS3Url } from "./s3-options.js";

/**
 * Objects below `s3://bucket/prefix`; a key `k` is the object
 * `prefix/k`. Object-store semantics: a prefix exists when an object lies
 * below it; listings use ListObjectsV2 with `Delimiter: "/"` (paginated);
 * `deletePrefix` lists then deletes in DeleteObjects batches of up to 1000.
 * Writes are atomic per object (S3 PUT semantics).
 *
 * @example
 * const store = new ObjectStore("s3://bucket/collections/ssh", {
 *   storageOptions: { endpoint: "http://127.0.0.1:9000", accessKeyId: "k", secretAccessKey: "s" },
 * });
 */
export class ObjectStore extends Store {
  /** `s3://bucket[/prefix]`, without trailing `/`. */
  readonly rootUri: string;
  readonly readOnly: boolean;
  /** Bucket name. */
  readonly bucket: string;
  /** Key prefix of the store root inside the bucket (`""` = bucket root), no leading/trailing `/`. */
  readonly prefix: string;
  private readonly config: S3ClientConfig | undefined;
  private readonly pageSize: number;
  /** Attempts of a GET whose body is cut mid-stream ({@link S3StorageOptions.maxAttempts}; 5 with a given client). */
  private readonly maxAttempts: number;
  private clientPromise: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  private readonly ownsClient: boolean;

  /**
   * @param url - `s3://bucket[/prefix]`.
   * @throws StoreError on a malformed URL, invalid storage options or page size,
   *   or both `client` and `storageOptions`.
   */
  constructor(url: string, opts: ObjectStoreOptions = {}) {
    super();
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.rootUri = prefix === "" ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
    this.readOnly = opts.readOnly ?? false;
    const pageSize = opts.pageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new StoreError(`invalid pageSize ${pageSize} for ${this.rootUri}: expected 1..1000`, {
        key: url,
      });
    }
    this.pageSize = pageSize;
    const raw = opts.storageOptions ?? {};
    if (opts.client !== undefined) {
      if (Object.keys(raw).length > 0) {
        throw new StoreError(`give either a client or storageOptions for ${this.rootUri}, not both`, {
          key: url,
        });
      }
      this.config = undefined;
      this.maxAttempts = 5;
      this.clientPromise = loadSdk().then((sdk) => ({ sdk, client: opts.client as S3Client }));
      this.ownsClient = false;
    } else {
      const parsed = parseS3StorageOptions(raw, this.rootUri);
      this.config = clientConfig(parsed);
      this.maxAttempts = parsed.maxAttempts ?? 5;
      this.ownsClient = true;
    }
  }

  private connect(): Promise<{ sdk: Sdk; client: S3Client }> {
    this.clientPromise ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.S3Client(this.config ?? {}) }));
    return this.clientPromise;
  }

  /** Bucket key of a normalised store key. */
  private full(key: string): string {
    if (this.prefix === "") return key;
    return key === "" ? this.prefix : `${this.prefix}/${key}`;
  }

  /** Bucket prefix of everything below a normalised store key (`""` or ends with `/`). */
  private below(key: string): string {
    const f = this.full(key);
    return f === "" ? "" : `${f}/`;
  }

  /** Rethrows aborts and StoreErrors; wraps anything else in a StoreError naming the key. */
  private fail(op: string, key: string, err: unknown, detail = ""): never {
    if (isAbortError(err) || err instanceof StoreError) throw err;
    const where = key === "" ? this.rootUri : `${this.rootUri}/${key}`;
    const status = httpStatus(err);
    throw new StoreError(
      `S3 ${op} of '${where}' failed${status === undefined ? "" : ` (HTTP ${status})`}${detail}: ` +
        `${errorName(err) ?? "Error"}: ${errorMessage(err)}`,
      { key: where, cause: err },
    );
  }

  /**
   * One GetObject, sent and its body read; the GET is re-issued (up to
   * `maxAttempts` in all, exponential backoff with jitter) when the body is
   * cut mid-stream or shorter than its Content-Length, which the SDK does not
   * retry. Errors of the request itself (already retried by the SDK),
   * including 4xx, and aborts are thrown at once.
   *
   * @throws StoreError naming the key when every attempt had its body cut.
   */
  private async getObject(
    k: string,
    range: string | undefined,
    signal: AbortSignal | undefined,
    allocate?: ReadOptions["allocate"],
  ): Promise<{ res: GetObjectCommandOutput; bytes: Uint8Array }> {
    const { sdk, client } = await this.connect();
    const input = {
      Bucket: this.bucket,
      Key: this.full(k),
      ...(range === undefined ? {} : { Range: range }),
    };
    // Memory from `allocate`, asked for once: a retry answered with another length reads into new memory.
    let allocated: Uint8Array | undefined;
    for (let attempt = 1; ; attempt++) {
      const res = await client.send(new sdk.GetObjectCommand(input), { abortSignal: signal });
      // The caller's memory once the length is known: for the whole object, or the range asked for
      // (a server that ignored the Range header sends the whole object: new memory then).
      const length = res.ContentLength;
      if (
        allocate !== undefined &&
        attempt === 1 &&
        length !== undefined &&
        (range === undefined || res.ContentRange !== undefined)
      ) {
        try {
          allocated = readTarget({ allocate }, length);
        } catch (err) {
          (res.Body as { destroy?: () => void } | undefined)?.destroy?.(); // free the connection
          throw err;
        }
      }
      const target = allocated?.length === length ? allocated : undefined;
      try {
        const bytes = await bodyBytes(res.Body, target);
        if (res.ContentLength !== undefined && bytes.length < res.ContentLength) {
          throw new Error(`response body of ${bytes.length} bytes, Content-Length ${res.ContentLength}`);
        }
        return { res, bytes };
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        if (isAbortError(err)) throw err;
        if (attempt >= this.maxAttempts) {
          return this.fail("GET", k, err, ` after ${attempt} attempts (response body cut)`);
        }
        await sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt), signal);
      }
    }
  }

  /**
   * Bytes of `key` (GetObject), or `undefined` when absent. A body cut
   * mid-stream is re-read (see {@link S3StorageOptions.maxAttempts}).
   *
   * @throws StoreError on any other failure (missing bucket, denied, every
   *   attempt cut); the abort reason when `signal` fires.
   */
  override async readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    try {
      return (await this.getObject(k, undefined, opts?.signal, opts?.allocate)).bytes;
    } catch (err) {
      if (isMissing(err)) return undefined;
      if (err instanceof RangeError) throw err; // from `opts.allocate`: the caller's mistake
      return this.fail("GET", k, err);
    }
  }

  /**
   * A byte range of `key` by a ranged GetObject (`Range: bytes=a-b` or
   * `bytes=-n`), or `undefined` when absent; ranges past the end are clamped
   * (an empty range costs a HeadObject). A body cut mid-stream is re-read.
   *
   * @throws StoreError on an invalid range or any other failure; the abort
   *   reason when `signal` fires.
   */
  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: ReadOptions,
  ): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    checkRange(range, k, this.rootUri);
    opts?.signal?.throwIfAborted();
    if (isEmptyRange(range)) return (await this.head(k, opts?.signal)) ? new Uint8Array(0) : undefined;
    try {
      const { res, bytes } = await this.getObject(k, rangeHeader(range), opts?.signal, opts?.allocate);
      if (res.ContentRange !== undefined) return bytes;
      // A server that ignored the Range header sent the whole object.
      const { start, end } = resolveRange(range, bytes.length);
      return bytes.slice(start, end);
    } catch (err) {
      if (isMissing(err)) return undefined;
      if (err instanceof RangeError) throw err; // from `opts.allocate`: the caller's mistake
      // 416: the object exists but the range starts past its end.
      if (errorName(err) === "InvalidRange" || httpStatus(err) === 416) return new Uint8Array(0);
      return this.fail("GET", k, err);
    }
  }

  /** Whether the object `key` exists (HEAD). */
  private async head(k: string, signal?: AbortSignal): Promise<boolean> {
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.full(k) }), {
        abortSignal: signal,
      });
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      return this.fail("HEAD", k, err);
    }
  }

  /**
   * Bytes of `key` with their version, the ETag exactly as S3 returned it
   * (quotes included; opaque), by one GetObject; `undefined` when absent. A
   * body cut mid-stream is re-read, the ETag coming from the same response
   * as the bytes.
   *
   * @throws StoreError on any other failure; the abort reason when `signal` fires.
   */
  override async readVersioned(
    key: string,
    opts?: { signal?: AbortSignal },
  ): Promise<VersionedBytes | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    let got: { res: GetObjectCommandOutput; bytes: Uint8Array };
    try {
      got = await this.getObject(k, undefined, opts?.signal);
    } catch (err) {
      if (isMissing(err)) return undefined;
      return this.fail("GET", k, err);
    }
    if (got.res.ETag === undefined) {
      return this.fail("GET", k, new Error("the response has no ETag"));
    }
    return { data: got.bytes, version: got.res.ETag };
  }

  /** Conditional PUTs (`If-None-Match`, `If-Match`) are available on a writable store. */
  override get conditionalWrites(): boolean {
    return !this.readOnly;
  }

  /**
   * A conditional PutObject: with `ifVersion` null, `If-None-Match: *`
   * (create only if absent); otherwise `If-Match: <ifVersion>` (replace only
   * if the object still has that ETag). S3 checks and writes in one atomic
   * step.
   *
   * @returns the new ETag, or `undefined` when the condition failed and
   *   nothing was written: 412 PreconditionFailed, 409
   *   ConditionalRequestConflict (a concurrent conditional write won), or 404
   *   for `If-Match` on an absent object.
   * @throws ReadOnlyError on a read-only store; StoreError on any other failure.
   */
  override async writeConditional(
    key: string,
    data: Uint8Array,
    ifVersion: string | null,
  ): Promise<string | undefined> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key });
    const { sdk, client } = await this.connect();
    let etag: string | undefined;
    try {
      const res = await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.full(k),
          Body: data,
          ...(ifVersion === null ? { IfNoneMatch: "*" } : { IfMatch: ifVersion }),
        }),
      );
      etag = res.ETag;
    } catch (err) {
      if (isConditionFailed(err) || (ifVersion !== null && isMissing(err))) return undefined;
      return this.fail("PUT", k, err);
    }
    if (etag === undefined) return this.fail("PUT", k, new Error("the response has no ETag"));
    return etag;
  }

  /**
   * Copies the object `from` to `to` (replacing it) on the server, by one
   * CopyObject (objects up to 5 GiB); copying an object onto itself only
   * checks that it exists.
   *
   * @throws ReadOnlyError on a read-only store; StoreError naming `from` when
   *   it is absent, or on any other failure.
   */
  override async copyObject(from: string, to: string): Promise<void> {
    const f = normalizeKey(from, this.rootUri);
    const t = normalizeKey(to, this.rootUri);
    this.assertWritable(t);
    if (t === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key: to });
    const absent = (): never => {
      throw new StoreError(`cannot copy '${f}' in ${this.rootUri}: no such object`, { key: f });
    };
    if (f === "" || f === t) {
      if (f === "" || !(await this.head(f))) absent();
      return;
    }
    const { sdk, client } = await this.connect();
    const source = `${this.bucket}/${this.full(f).split("/").map(encodeURIComponent).join("/")}`;
    try {
      await client.send(
        new sdk.CopyObjectCommand({ Bucket: this.bucket, Key: this.full(t), CopySource: source }),
      );
    } catch (err) {
      if (isMissing(err)) absent();
      return this.fail("COPY", f, err, ` to '${this.rootUri}/${t}'`);
    }
  }

  /** Replaces `key` by one PutObject (atomic per object). @throws ReadOnlyError on a read-only store; StoreError on failure. */
  override async writeBytes(key: string, data: Uint8Array): Promise<void> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key });
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.full(k), Body: data }));
    } catch (err) {
      return this.fail("PUT", k, err);
    }
  }

  /** Deletes `key` (DeleteObject); absent is a no-op. @throws ReadOnlyError on a read-only store; StoreError on failure. */
  override async deleteKey(key: string): Promise<void> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") return;
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.full(k) }));
    } catch (err) {
      if (isMissing(err)) return;
      return this.fail("DELETE", k, err);
    }
  }

  /** HEAD on the object, then (if absent) a one-key listing of the prefix below it. */
  override async exists(key: string): Promise<boolean> {
    const k = normalizeKey(key, this.rootUri);
    if (k !== "" && (await this.head(k))) return true;
    for await (const page of this.pages(k, { maxKeys: 1, single: true })) {
      return (page.Contents?.length ?? 0) > 0;
    }
    return false;
  }

  /** Pages of a ListObjectsV2 listing of everything below store key `k`. */
  private async *pages(
    k: string,
    opts: { delimiter?: string; maxKeys?: number; single?: boolean } = {},
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    const { sdk, client } = await this.connect();
    const prefix = this.below(k);
    let token: string | undefined;
    do {
      let res: ListObjectsV2CommandOutput;
      try {
        res = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            ...(prefix === "" ? {} : { Prefix: prefix }),
            ...(opts.delimiter === undefined ? {} : { Delimiter: opts.delimiter }),
            MaxKeys: opts.maxKeys ?? this.pageSize,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (err) {
        return this.fail("LIST", k, err);
      }
      yield res;
      token = res.IsTruncated && !opts.single ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private async children(prefix: string, dirsOnly: boolean): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    const start = this.below(p).length;
    const names: string[] = [];
    for await (const page of this.pages(p, { delimiter: "/" })) {
      for (const cp of page.CommonPrefixes ?? []) {
        const name = (cp.Prefix ?? "").slice(start).replace(/\/$/, "");
        if (name !== "") names.push(name);
      }
      if (dirsOnly) continue;
      for (const obj of page.Contents ?? []) {
        const name = (obj.Key ?? "").slice(start);
        if (name !== "") names.push(name); // "" = a "directory marker" object
      }
    }
    return sortedUnique(names);
  }

  /** Names of the objects and common prefixes directly below `prefix`, sorted. */
  override async listPrefix(prefix: string): Promise<string[]> {
    return this.children(prefix, false);
  }

  /** Names of the common prefixes directly below `prefix`, sorted. */
  override async listDir(prefix: string): Promise<string[]> {
    return this.children(prefix, true);
  }

  /** Every object key below `prefix` (full relative keys), sorted. */
  override async list(prefix = ""): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    const root = this.below("").length;
    const keys: string[] = [];
    for await (const page of this.pages(p)) {
      for (const obj of page.Contents ?? []) {
        const key = (obj.Key ?? "").slice(root);
        if (key !== "" && !key.endsWith("/")) keys.push(key);
      }
    }
    return keys.sort();
  }

  /**
   * Deletes the object `prefix` and every object below `prefix/` (`""`:
   * everything below the store root), in DeleteObjects batches.
   *
   * @throws ReadOnlyError on a read-only store; StoreError naming the first
   *   key S3 refused to delete.
   */
  override async deletePrefix(prefix: string): Promise<void> {
    const p = normalizeKey(prefix, this.rootUri);
    this.assertWritable(p);
    const doomed = p === "" ? [] : [this.full(p)];
    for await (const page of this.pages(p)) {
      for (const obj of page.Contents ?? []) if (obj.Key !== undefined) doomed.push(obj.Key);
    }
    const { sdk, client } = await this.connect();
    for (let i = 0; i < doomed.length; i += this.pageSize) {
      const batch = doomed.slice(i, i + this.pageSize);
      let errors: { Key?: string; Code?: string; Message?: string }[];
      try {
        const res = await client.send(
          new sdk.DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        errors = res.Errors ?? [];
      } catch (err) {
        return this.fail("DELETE", p, err);
      }
      const first = errors[0];
      if (first !== undefined) {
        throw new StoreError(
          `S3 DELETE of 's3://${this.bucket}/${first.Key}' failed: ${first.Code}: ${first.Message}` +
            (errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""),
          { key: `s3://${this.bucket}/${first.Key}` },
        );
      }
    }
  }

  /** Destroys the client built by this store (a client passed in is left alone). Idempotent. */
  override async close(): Promise<void> {
    const pending = this.clientPromise;
    if (pending === undefined || !this.ownsClient) return;
    this.clientPromise = undefined;
    (await pending).client.destroy();
  }
}
