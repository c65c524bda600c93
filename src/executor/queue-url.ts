/**
 * Queue URLs of the BullMQ executor, and the BullMQ objects they open.
 *
 * - `redis://[user:password@]host:port[/db][?queue=name]` (`rediss://` for
 *   TLS): a queue on Redis.
 * - `postgres://[user:password@]host:port/database[?queue=name&schema=name]`
 *   (or `postgresql://`): a queue on PostgreSQL, BullMQ's PostgreSQL backend
 *   (the `pg` driver). The first process to connect creates BullMQ's tables
 *   in `schema` (`bullmq` when absent); other parameters
 *   (`sslmode=…`) go to the driver.
 *
 * The queue name defaults to {@link DEFAULT_QUEUE}.
 *
 * @module
 */

import {
  type ConnectionOptions,
  createPostgresBackend,
  type IQueueBackend,
  type JobProgress,
  type PostgresPoolConfig,
  Queue,
  QueueEvents,
  type QueueEventsOptions,
  type QueueOptions,
  Worker,
  type WorkerOptions,
} from "bullmq";

/** Default queue name. */
export const DEFAULT_QUEUE = "zcollection";

/** The forms a queue URL takes, for messages. */
const FORMS = "redis://host:port[/db][?queue=name] or postgres://host:port/database[?queue=name&schema=name]";

/** A queue on Redis. */
export interface RedisQueueLocation {
  /** The backend: `"redis"`. */
  readonly backend: "redis";
  /** Redis connection options (ioredis). */
  readonly connection: ConnectionOptions;
  /** The queue name. */
  readonly queue: string;
  /** The URL without credentials, for messages. */
  readonly display: string;
}

/** A queue on PostgreSQL. */
export interface PostgresQueueLocation {
  /** The backend: `"postgres"`. */
  readonly backend: "postgres";
  /**
   * Options of BullMQ's PostgreSQL connection: the URL without the `queue`
   * and `schema` parameters as `connectionString`, the `schema` when given,
   * and `migrate: true` (BullMQ's tables are created or upgraded on connect).
   */
  readonly connection: PostgresPoolConfig & { readonly connectionString: string };
  /** The queue name. */
  readonly queue: string;
  /** The URL without credentials, for messages. */
  readonly display: string;
}

/** Where a queue lives, parsed from its URL by {@link parseQueueUrl}. */
export type QueueLocation = RedisQueueLocation | PostgresQueueLocation;

/**
 * Parses a queue URL (see the module comment for the forms).
 *
 * @throws TypeError for another scheme or a malformed URL: not a URL, a
 *   Redis path that is not a database number, a PostgreSQL URL without host
 *   or database, a queue name containing `:`, a schema name that is not a
 *   plain identifier.
 */
export function parseQueueUrl(url: string): QueueLocation {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`not a queue URL: '${url}' (expected ${FORMS})`);
  }
  if (u.protocol === "postgres:" || u.protocol === "postgresql:") return parsePostgres(url, u);
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new TypeError(`queue URL '${url}': expected ${FORMS}`);
  }
  const db = u.pathname.replace(/^\/+/, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new TypeError(`queue URL '${url}': the path must be a database number`);
  const queue = queueName(url, u);
  const connection: ConnectionOptions = {
    host: u.hostname || "127.0.0.1",
    port: u.port === "" ? 6379 : Number(u.port),
    ...(db === "" ? {} : { db: Number(db) }),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    // Required by BullMQ's blocking connections; harmless for the others.
    maxRetriesPerRequest: null,
  };
  return {
    backend: "redis",
    connection,
    queue,
    display: `${u.protocol}//${u.host}${u.pathname}${u.search}`,
  };
}

function queueName(url: string, u: URL): string {
  const queue = u.searchParams.get("queue") ?? DEFAULT_QUEUE;
  if (queue.includes(":")) throw new TypeError(`queue URL '${url}': a queue name may not contain ':'`);
  return queue;
}

/** Query parameters of the driver that carry secrets: never displayed. */
const SECRET_PARAMS = ["password", "sslpassword", "sslkey"];

function parsePostgres(url: string, u: URL): PostgresQueueLocation {
  const expected = "expected postgres://[user:password@]host:port/database[?queue=name&schema=name]";
  if (u.hostname === "") throw new TypeError(`queue URL '${url}': no host (${expected})`);
  const database = u.pathname.replace(/^\/+/, "");
  if (database === "" || database.includes("/"))
    throw new TypeError(`queue URL '${url}': the path must be a database name (${expected})`);
  const queue = queueName(url, u);
  if (queue === "") throw new TypeError(`queue URL '${url}': empty queue name`);
  const schema = u.searchParams.get("schema");
  if (schema !== null && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
    throw new TypeError(`queue URL '${url}': the schema must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*)`);
  const driver = new URL(u.href);
  driver.searchParams.delete("queue");
  driver.searchParams.delete("schema");
  const shown = new URL(u.href);
  for (const name of SECRET_PARAMS) shown.searchParams.delete(name);
  return {
    backend: "postgres",
    connection: {
      connectionString: driver.href,
      // The tables and functions of BullMQ's backend: without it a new database is refused.
      migrate: true,
      ...(schema === null ? {} : { schema }),
    },
    queue,
    display: `${u.protocol}//${u.host}${u.pathname}${shown.search}`,
  };
}

/**
 * A queue of any backend. Only the backend-neutral part of BullMQ's API is
 * used on it (adding, reading, removing jobs and their states).
 */
export type AnyQueue = Queue<unknown, unknown, string, unknown, unknown, string, IQueueBackend, unknown>;

/** The queue at `location` (not yet connected: see `waitUntilReady`). */
export function openQueue(location: QueueLocation, opts: Omit<QueueOptions, "connection"> = {}): AnyQueue {
  if (location.backend === "postgres") {
    return new Queue(
      location.queue,
      { ...opts, connection: location.connection },
      createPostgresBackend,
    ) as unknown as AnyQueue;
  }
  return new Queue(location.queue, { ...opts, connection: location.connection }) as unknown as AnyQueue;
}

/** The events of a queue of any backend. */
export type AnyQueueEvents = QueueEvents<unknown, IQueueBackend, unknown>;

/** The events of the queue at `location` (completions, failures). */
export function openQueueEvents(
  location: QueueLocation,
  opts: Omit<QueueEventsOptions, "connection"> = {},
): AnyQueueEvents {
  if (location.backend === "postgres") {
    return new QueueEvents(
      location.queue,
      { ...opts, connection: location.connection },
      createPostgresBackend,
    ) as unknown as AnyQueueEvents;
  }
  return new QueueEvents(location.queue, {
    ...opts,
    connection: location.connection,
  }) as unknown as AnyQueueEvents;
}

/** A worker of any backend. */
export type AnyWorker = Worker<unknown, unknown, string, IQueueBackend, JobProgress, unknown>;

/** A worker on the queue at `location`, running `processor` for each job. */
export function openWorker(
  location: QueueLocation,
  processor: ConstructorParameters<typeof Worker>[1],
  opts: Omit<WorkerOptions, "connection">,
): AnyWorker {
  if (location.backend === "postgres") {
    return new Worker(
      location.queue,
      processor,
      { ...opts, connection: location.connection },
      createPostgresBackend,
    ) as unknown as AnyWorker;
  }
  return new Worker(location.queue, processor, {
    ...opts,
    connection: location.connection,
  }) as unknown as AnyWorker;
}
