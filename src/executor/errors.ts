/**
 * Errors across process boundaries: a task's error travels as text (its
 * class name and message) and is rebuilt with the library's class on the
 * side that waits for it.
 *
 * @module
 */

import {
  CodecError,
  CollectionExistsError,
  CollectionNotFoundError,
  ConflictError,
  ExpressionError,
  PartitionError,
  ReadOnlyError,
  SchemaError,
  StoreError,
  ZCollectionError,
} from "../errors.js";
import type { TaskSpec } from "./api.js";

/** The error classes rebuilt by name; anything else becomes a plain `Error`. */
const CLASSES: Record<string, (message: string) => Error> = {
  SchemaError: (m) => new SchemaError(m),
  StoreError: (m) => new StoreError(m),
  CodecError: (m) => new CodecError(m),
  CollectionExistsError: (m) => new CollectionExistsError(m, ""),
  CollectionNotFoundError: (m) => new CollectionNotFoundError(m, ""),
  ReadOnlyError: (m) => new ReadOnlyError(m, ""),
  ConflictError: (m) => new ConflictError(m, ""),
  ExpressionError: (m) => new ExpressionError(m, ""),
  PartitionError: (m) => new PartitionError(m),
  ZCollectionError: (m) => new ZCollectionError(m),
  TypeError: (m) => new TypeError(m),
  RangeError: (m) => new RangeError(m),
};

/** `Name: message` of an error, the form in which it travels. */
export function encodeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `Error: ${String(err)}`;
}

/** Rebuilds an error from {@link encodeError}'s text, with the library's class when it is one. */
export function decodeError(text: string): Error {
  const m = /^([A-Za-z]+): ([\s\S]*)$/.exec(text);
  if (m === null) return new Error(text);
  const make = CLASSES[m[1] as string];
  return make === undefined ? new Error(text) : make(m[2] as string);
}

/** Whether a failed task may succeed when run again (a store or network hiccup), rather than fail the same way. */
export function isTransient(err: unknown): boolean {
  if (err instanceof CodecError) return false;
  if (err instanceof StoreError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN)$/.test(code);
}

/**
 * `err` naming the task's partition (unless it already does), keeping its
 * class; abort reasons pass through unchanged.
 */
export function taskError(err: unknown, task: TaskSpec): unknown {
  if (!(err instanceof Error) || err.name === "AbortError") return err;
  if (err.message.includes(task.partition)) return err;
  const rebuilt = decodeError(`${err.name}: ${err.message} (task ${task.kind} on '${task.partition}')`);
  if (rebuilt.constructor === Error && err.constructor !== Error) return err;
  return rebuilt;
}
