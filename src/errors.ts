/**
 * The error taxonomy of the library (docs/behaviour.md §2.1).
 *
 * Every error thrown on purpose by zcollection is a {@link ZCollectionError}.
 * Each subclass carries a literal `_tag` so that errors can be told apart
 * across realms and bundles with {@link isZCollectionError}, plus typed fields
 * naming the culprit (path, variable, expression, key). The original error is
 * kept in `cause`.
 *
 * @module
 */

/** Tags of every library error class. */
export type ZCollectionErrorTag =
  | "ZCollectionError"
  | "SchemaError"
  | "FormatVersionError"
  | "PartitionError"
  | "ExpressionError"
  | "StoreError"
  | "CollectionExistsError"
  | "CollectionNotFoundError"
  | "ReadOnlyError"
  | "CodecError"
  | "ConflictError";

/** Options shared by every library error. */
export interface ZCollectionErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
}

/** Base class of every error thrown by zcollection. */
export class ZCollectionError extends Error {
  /** Discriminating tag; stable across bundles (use {@link isZCollectionError}). */
  readonly _tag: ZCollectionErrorTag = "ZCollectionError";

  constructor(message: string, options?: ZCollectionErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** Invalid or inconsistent schema, data that does not fit its schema, or a lossy cast. */
export class SchemaError extends ZCollectionError {
  override readonly _tag = "SchemaError" as const;
  /** The variable concerned, when there is one (path for nested variables). */
  readonly variable: string | undefined;
  /** The dimension concerned, when there is one. */
  readonly dimension: string | undefined;
  /** The group path concerned, when there is one. */
  readonly group: string | undefined;

  constructor(
    message: string,
    options?: ZCollectionErrorOptions & { variable?: string; dimension?: string; group?: string },
  ) {
    super(message, options);
    this.variable = options?.variable;
    this.dimension = options?.dimension;
    this.group = options?.group;
  }
}

/** A schema `format_version` this library cannot read (docs/format.md §3.8). */
export class FormatVersionError extends ZCollectionError {
  override readonly _tag = "FormatVersionError" as const;
  /** The version found on disk. */
  readonly version: number;

  constructor(message: string, version: number, options?: ZCollectionErrorOptions) {
    super(message, options);
    this.version = version;
  }
}

/** A dataset cannot be split into partitions, or a partition path cannot be encoded/decoded. */
export class PartitionError extends ZCollectionError {
  override readonly _tag = "PartitionError" as const;
  /** The partitioning variable concerned, when there is one. */
  readonly variable: string | undefined;
  /** The partition path concerned, when there is one. */
  readonly path: string | undefined;

  constructor(message: string, options?: ZCollectionErrorOptions & { variable?: string; path?: string }) {
    super(message, options);
    this.variable = options?.variable;
    this.path = options?.path;
  }
}

/** A partition filter expression that does not compile or evaluate. */
export class ExpressionError extends ZCollectionError {
  override readonly _tag = "ExpressionError" as const;
  /** The expression text. */
  readonly expression: string;
  /** Zero-based character offset of the problem, when known. */
  readonly position: number | undefined;

  constructor(
    message: string,
    expression: string,
    options?: ZCollectionErrorOptions & { position?: number },
  ) {
    super(message, options);
    this.expression = expression;
    this.position = options?.position;
  }
}

/** Store-layer failure: bad URL, missing object where one is required, corrupt bytes, backend error. */
export class StoreError extends ZCollectionError {
  override readonly _tag: "StoreError" | "CodecError" = "StoreError";
  /** The URL or key concerned, when there is one. */
  readonly key: string | undefined;

  constructor(message: string, options?: ZCollectionErrorOptions & { key?: string }) {
    super(message, options);
    this.key = options?.key;
  }
}

/**
 * Bytes that cannot be encoded or decoded: a corrupted or truncated chunk,
 * a checksum mismatch, an unsupported codec or data type. A {@link StoreError}.
 */
export class CodecError extends StoreError {
  override readonly _tag = "CodecError" as const;
}

/** `create` over an existing collection or view without `overwrite`. */
export class CollectionExistsError extends ZCollectionError {
  override readonly _tag = "CollectionExistsError" as const;
  /** Root URI of the existing collection. */
  readonly uri: string;

  constructor(message: string, uri: string, options?: ZCollectionErrorOptions) {
    super(message, options);
    this.uri = uri;
  }
}

/** `open` of a location that holds no collection (no `_zcollection.json`) or no view. */
export class CollectionNotFoundError extends ZCollectionError {
  override readonly _tag = "CollectionNotFoundError" as const;
  /** Root URI searched. */
  readonly uri: string;

  constructor(message: string, uri: string, options?: ZCollectionErrorOptions) {
    super(message, options);
    this.uri = uri;
  }
}

/** A mutation on a read-only collection, view or store. */
export class ReadOnlyError extends ZCollectionError {
  override readonly _tag = "ReadOnlyError" as const;
  /** Root URI or key refused. */
  readonly uri: string;

  constructor(message: string, uri: string, options?: ZCollectionErrorOptions) {
    super(message, options);
    this.uri = uri;
  }
}

/**
 * Another writer holds or changed what this write needed: a partition whose
 * lease another live process holds past the wait timeout, a lease lost
 * while writing, or a transactional commit whose changes overlap another
 * writer's. Nothing of the refused write is published; what was stored
 * before is intact, so the write can be retried.
 */
export class ConflictError extends ZCollectionError {
  override readonly _tag = "ConflictError" as const;
  /** The partition path (or other store key, e.g. `_catalog/state.json`) in conflict. */
  readonly partition: string;
  /** Who holds it (`host:pid` and operation), when known. */
  readonly holder: string | undefined;

  constructor(message: string, partition: string, options?: ZCollectionErrorOptions & { holder?: string }) {
    super(message, options);
    this.partition = partition;
    this.holder = options?.holder;
  }
}

/**
 * Whether `err` is a zcollection error, optionally of one of the given tags.
 * Works across bundles and realms (it checks the `_tag`, not the prototype).
 *
 * @example
 * if (isZCollectionError(err, "ReadOnlyError", "StoreError")) { ... }
 */
export function isZCollectionError(err: unknown, ...tags: ZCollectionErrorTag[]): err is ZCollectionError {
  if (typeof err !== "object" || err === null) return false;
  const tag = (err as { _tag?: unknown })._tag;
  if (typeof tag !== "string") return false;
  const known: readonly string[] = [
    "ZCollectionError",
    "SchemaError",
    "FormatVersionError",
    "PartitionError",
    "ExpressionError",
    "StoreError",
    "CollectionExistsError",
    "CollectionNotFoundError",
    "ReadOnlyError",
    "CodecError",
    "ConflictError",
  ];
  if (!known.includes(tag)) return false;
  if (tags.length === 0) return true;
  // A CodecError is also a StoreError.
  return tags.includes(tag as ZCollectionErrorTag) || (tag === "CodecError" && tags.includes("StoreError"));
}
