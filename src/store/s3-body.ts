/**
 * Reading the body of a GetObject response, into memory the caller chose
 * (`ReadOptions.allocate`) when the response says its length up front.
 *
 * @module
 */

import type { GetObjectCommandOutput } from "@aws-sdk/client-s3";

/**
 * The bytes of `body`: streamed into `target` when given (a view of exactly
 * the response's Content-Length), else new memory of their own.
 *
 * @throws Error when the body is longer than `target` (a response that
 *   does not match its headers); a shorter body is returned as the prefix
 *   of `target` it filled, for the caller to compare with Content-Length.
 */
export async function bodyBytes(
  body: GetObjectCommandOutput["Body"],
  target: Uint8Array | undefined,
): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array(0);
  if (target === undefined || !isAsyncIterable(body)) {
    const bytes = await body.transformToByteArray();
    if (target === undefined || bytes.length > target.length) return ownBytes(bytes);
    target.set(bytes);
    return target.subarray(0, bytes.length);
  }
  let at = 0;
  for await (const chunk of body) {
    if (at + chunk.length > target.length) {
      throw new Error(`response body longer than its Content-Length ${target.length}`);
    }
    target.set(chunk, at);
    at += chunk.length;
  }
  return target.subarray(0, at);
}

function isAsyncIterable(body: object): body is AsyncIterable<Uint8Array> {
  return typeof (body as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === "function";
}

/** A plain `Uint8Array` that owns its whole buffer (the SDK may hand out a view on a pooled or larger one). */
export function ownBytes(b: Uint8Array): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.constructor === Uint8Array) return b;
  return new Uint8Array(b);
}
