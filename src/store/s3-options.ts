/**
 * What the S3 store (./s3.ts) needs besides the store itself: its
 * `storageOptions`, parsed and checked; `s3://` URLs; the SDK client's
 * configuration; and how the SDK's errors read.
 *
 * @module
 */

import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { StoreError } from "../errors.js";
import { normalizeKey } from "./keys.js";

/** Static credentials of an S3 client. */
export type S3Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/**
 * `storageOptions` accepted for `s3://` URLs (all optional; unknown keys are
 * refused so that a typo does not silently fall back to defaults).
 */
export type S3StorageOptions = {
  /** Endpoint URL of an S3-compatible server (`http://127.0.0.1:9000`). */
  endpoint?: string;
  /** Region; default `us-east-1` when an `endpoint` is given, else the SDK's resolution (env, profile). */
  region?: string;
  /** Static credentials (all three fields may also be given flat, below). */
  credentials?: S3Credentials;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Path-style addressing (`endpoint/bucket/key`); default true when an `endpoint` is given. */
  forcePathStyle?: boolean;
  /**
   * Attempts per request, first included (default 5). Throttling, 5xx and
   * network errors are retried with the SDK's exponential backoff with
   * jitter ("standard" retry mode); a GET whose response body is cut
   * mid-stream is re-issued up to this many times by the store.
   */
  maxAttempts?: number;
  /** SDK request checksums: `WHEN_REQUIRED` for servers that reject the flexible-checksum headers. */
  requestChecksumCalculation?: "WHEN_SUPPORTED" | "WHEN_REQUIRED";
  /** SDK response checksum validation. */
  responseChecksumValidation?: "WHEN_SUPPORTED" | "WHEN_REQUIRED";
};

/** Options of {@link ObjectStore}. */
export interface ObjectStoreOptions {
  /** Refuse writes and deletes with ReadOnlyError (default false). */
  readOnly?: boolean;
  /** Client settings ({@link S3StorageOptions}); validated at construction. */
  storageOptions?: S3StorageOptions | Readonly<Record<string, unknown>>;
  /** A client to use instead of building one from `storageOptions` (it is not destroyed by `close`). */
  client?: S3Client;
  /** Keys per ListObjectsV2 page and per DeleteObjects batch, 1..1000 (default 1000, the S3 maximum). */
  pageSize?: number;
}

const CHECKSUM_MODES = ["WHEN_SUPPORTED", "WHEN_REQUIRED"];

/**
 * Validates raw `storageOptions` for an `s3://` store.
 *
 * @throws StoreError naming the offending option.
 */
export function parseS3StorageOptions(raw: Readonly<Record<string, unknown>>, uri: string): S3StorageOptions {
  const out: S3StorageOptions = {};
  const bad = (name: string, want: string): never => {
    throw new StoreError(`invalid S3 storage option '${name}' for ${uri}: expected ${want}`, { key: uri });
  };
  const str = (name: string, v: unknown): string =>
    typeof v === "string" && v !== "" ? v : bad(name, "a non-empty string");
  for (const [name, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    switch (name) {
      case "endpoint": {
        const s = str(name, v);
        if (!/^https?:\/\/[^/]/i.test(s)) bad(name, "an http(s):// URL");
        out.endpoint = s;
        break;
      }
      case "region":
        out.region = str(name, v);
        break;
      case "accessKeyId":
      case "secretAccessKey":
      case "sessionToken":
        out[name] = str(name, v);
        break;
      case "credentials": {
        const c = v as Partial<Record<string, unknown>> | null;
        if (typeof c !== "object" || c === null)
          bad(name, "an object {accessKeyId, secretAccessKey, sessionToken?}");
        const creds: S3Credentials = {
          accessKeyId: str("credentials.accessKeyId", c?.accessKeyId),
          secretAccessKey: str("credentials.secretAccessKey", c?.secretAccessKey),
        };
        if (c?.sessionToken !== undefined)
          creds.sessionToken = str("credentials.sessionToken", c.sessionToken);
        out.credentials = creds;
        break;
      }
      case "forcePathStyle":
        out.forcePathStyle = typeof v === "boolean" ? v : bad(name, "a boolean");
        break;
      case "maxAttempts":
        out.maxAttempts =
          Number.isInteger(v) && (v as number) >= 1 ? (v as number) : bad(name, "an integer >= 1");
        break;
      case "requestChecksumCalculation":
      case "responseChecksumValidation":
        if (typeof v !== "string" || !CHECKSUM_MODES.includes(v))
          bad(name, "'WHEN_SUPPORTED' or 'WHEN_REQUIRED'");
        out[name] = v as "WHEN_SUPPORTED" | "WHEN_REQUIRED";
        break;
      default:
        throw new StoreError(
          `unknown S3 storage option '${name}' for ${uri} (known: endpoint, region, credentials, accessKeyId, ` +
            "secretAccessKey, sessionToken, forcePathStyle, maxAttempts, requestChecksumCalculation, " +
            "responseChecksumValidation)",
          { key: uri },
        );
    }
  }
  if ((out.accessKeyId === undefined) !== (out.secretAccessKey === undefined)) {
    bad(out.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey", "to be given with its pair");
  }
  if (out.credentials !== undefined && out.accessKeyId !== undefined) {
    bad("credentials", "either 'credentials' or 'accessKeyId'/'secretAccessKey', not both");
  }
  return out;
}

/** The S3 client configuration for validated options. */
export function clientConfig(o: S3StorageOptions): S3ClientConfig {
  const cfg: S3ClientConfig = { maxAttempts: o.maxAttempts ?? 5, retryMode: "standard" };
  if (o.endpoint !== undefined) cfg.endpoint = o.endpoint;
  const region = o.region ?? (o.endpoint !== undefined ? "us-east-1" : undefined);
  if (region !== undefined) cfg.region = region;
  const forcePathStyle = o.forcePathStyle ?? (o.endpoint !== undefined ? true : undefined);
  if (forcePathStyle !== undefined) cfg.forcePathStyle = forcePathStyle;
  if (o.credentials !== undefined) cfg.credentials = o.credentials;
  else if (o.accessKeyId !== undefined && o.secretAccessKey !== undefined) {
    cfg.credentials = {
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      ...(o.sessionToken === undefined ? {} : { sessionToken: o.sessionToken }),
    };
  }
  if (o.requestChecksumCalculation !== undefined)
    cfg.requestChecksumCalculation = o.requestChecksumCalculation;
  if (o.responseChecksumValidation !== undefined)
    cfg.responseChecksumValidation = o.responseChecksumValidation;
  return cfg;
}

/** Bucket and key prefix of an `s3://bucket/prefix` URL. @throws StoreError when malformed. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/i.exec(url);
  if (m === null)
    throw new StoreError(`invalid S3 URL '${url}': expected s3://bucket[/prefix]`, { key: url });
  return { bucket: m[1] as string, prefix: normalizeKey(m[2] ?? "", url) };
}

export function httpStatus(err: unknown): number | undefined {
  const s = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof s === "number" ? s : undefined;
}

export function errorName(err: unknown): string | undefined {
  const n = (err as { name?: unknown } | null)?.name;
  return typeof n === "string" ? n : undefined;
}

/** `NoSuchKey` (GET) / `NotFound` (HEAD): the object is absent. A missing bucket is not "absent". */
export function isMissing(err: unknown): boolean {
  const name = errorName(err);
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || httpStatus(err) === 404;
}

/** `PreconditionFailed` (412) or `ConditionalRequestConflict` (409, two conditional writes raced). */
export function isConditionFailed(err: unknown): boolean {
  const name = errorName(err);
  const status = httpStatus(err);
  return (
    name === "PreconditionFailed" || name === "ConditionalRequestConflict" || status === 412 || status === 409
  );
}

/** `ms` milliseconds, cut short by `signal` (rejects with its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
