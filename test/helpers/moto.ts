/**
 * Starts a local S3 server (`moto_server`, Python moto) for the S3 tests.
 *
 * Fails loudly when `moto_server` is not on PATH: the S3 suite must never be
 * skipped silently. One server per test file: start it in `before()`, stop
 * it in `after()`.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** PID of the server process. */
  readonly pid: number;
  /** A bucket created at start. */
  readonly bucket: string;
  /** `storageOptions` for an ObjectStore talking to this server. */
  readonly storageOptions: Record<string, unknown>;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr !== null ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Spawns `moto_server -H 127.0.0.1 -p <free port>`, waits until it answers
 * HTTP (about 0.5 s; gives up after 20 s), and creates `bucket`.
 *
 * @throws Error when `moto_server` is missing, exits early or never answers.
 */
export async function startMoto(opts: { bucket?: string } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "ENOENT"
          ? new Error(
              "moto_server is not on PATH: install it with `pip install 'moto[server]'` (the S3 tests need it)",
            )
          : err,
      );
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`moto_server exited before answering (code ${code}, signal ${signal}):\n${stderr}`)),
    );
  });
  spawnError.catch(() => undefined);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);

  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      const ok = await Promise.race([
        fetch(endpoint).then(
          async (r) => {
            await r.body?.cancel();
            return true;
          },
          () => false,
        ),
        spawnError,
      ]);
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(`moto_server did not answer on ${endpoint} within 20 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    kill();
    process.removeListener("exit", kill);
    throw err;
  }

  const bucket = opts.bucket ?? "zcollection-test";
  const storageOptions = {
    endpoint,
    region: "us-east-1",
    accessKeyId: "testing",
    secretAccessKey: "testing",
    forcePathStyle: true,
  };
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    pid: child.pid as number,
    bucket,
    storageOptions,
    stop(): Promise<void> {
      stopping ??= (async () => {
        process.removeListener("exit", kill);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const done = exited(child);
        process.kill(child.pid as number, "SIGTERM");
        const timer = setTimeout(kill, 3000);
        await done;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
