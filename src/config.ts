/**
 * Process-wide configuration (docs/behaviour.md §3).
 *
 * Keys: `partition.concurrency` (partitions processed at once, default 8),
 * `codec.profile` (profile used when a variable declares no codecs, default
 * `cloud-balanced`), `catalog.enabled` (default of `catalogEnabled` in
 * `createCollection`, default false), `codec.workers` (worker threads for
 * chunk encode/decode, default = number of cores; 0 = encode on the main thread),
 * `lease.ttl` (time to live of a writer's lease on a partition, in ms,
 * default 30 000; renewed every third of it) and `lease.wait` (how long a
 * writer waits for another live writer of the same partition before a
 * ConflictError, in ms, default 120 000).
 *
 * @module
 */

/** The configuration keys and their value types. */
export interface ConfigValues {
  "partition.concurrency": number;
  "codec.profile": string;
  "catalog.enabled": boolean;
  "codec.workers": number;
  "lease.ttl": number;
  "lease.wait": number;
}

/** A configuration key. */
export type ConfigKey = keyof ConfigValues;

/** Cores available: `os.availableParallelism()` under Node (no static Node import), `navigator.hardwareConcurrency` in browsers. */
function defaultWorkers(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.("node:os") as { availableParallelism?: () => number } | undefined;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const n = os?.availableParallelism?.() ?? nav?.hardwareConcurrency;
  return typeof n === "number" && n > 0 ? n : 2;
}

const DEFAULTS: ConfigValues = {
  "partition.concurrency": 8,
  "codec.profile": "cloud-balanced",
  "catalog.enabled": false,
  "codec.workers": defaultWorkers(),
  "lease.ttl": 30_000,
  "lease.wait": 120_000,
};

const values: ConfigValues = { ...DEFAULTS };

/** Error thrown for an unknown configuration key (a `RangeError`, like Python's KeyError). */
export class UnknownConfigKeyError extends RangeError {}

/**
 * The current value of `key`.
 *
 * @throws UnknownConfigKeyError for an unknown key.
 */
export function get<K extends ConfigKey>(key: K): ConfigValues[K] {
  if (!(key in DEFAULTS)) throw new UnknownConfigKeyError(`unknown zcollection config key: '${String(key)}'`);
  return values[key];
}

/**
 * Sets one or more values. Keys are applied in order; an unknown key throws
 * (keys before it in the same call are already applied, as in Python).
 *
 * @throws UnknownConfigKeyError for an unknown key; TypeError for a value of the wrong type.
 */
export function set(updates: Partial<ConfigValues>): void {
  for (const [key, value] of Object.entries(updates)) {
    if (!(key in DEFAULTS)) throw new UnknownConfigKeyError(`unknown zcollection config key: '${key}'`);
    const expected = typeof DEFAULTS[key as ConfigKey];
    if (typeof value !== expected)
      throw new TypeError(`config '${key}' must be a ${expected}; got ${typeof value}`);
    (values as unknown as Record<string, unknown>)[key] = value;
  }
}

/**
 * Runs `fn` with temporary values, restoring the previous ones afterwards
 * (even when `fn` throws or rejects).
 */
export async function override<T>(updates: Partial<ConfigValues>, fn: () => T | Promise<T>): Promise<T> {
  const saved = { ...values };
  set(updates);
  try {
    return await fn();
  } finally {
    Object.assign(values, saved);
  }
}

/** Restores every key to its default. */
export function reset(): void {
  Object.assign(values, DEFAULTS);
}

/** `partition.concurrency`, clamped to at least 1. */
export function partitionConcurrency(): number {
  return Math.max(1, Math.floor(values["partition.concurrency"]));
}
