/**
 * A throw-away Redis server for the BullMQ tests: `redis-server` on a free
 * 127.0.0.1 port, persistence off, stopped by PID. And `zcollection worker`
 * processes on it, run from the built package (`dist/`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { join } from "node:path";
import { freePort } from "./moto.js";

/** A running server. */
export interface RedisServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      socket.destroy();
      resolve(String(d).startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts `redis-server` (Debian's `redis-server` package; `.ci/run` installs it).
 *
 * @throws Error when it is not installed or does not answer within 10 s.
 */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "no",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let failed: Error | undefined;
  child.once("error", (err: NodeJS.ErrnoException) => {
    failed =
      err.code === "ENOENT" ? new Error("redis-server is not installed (apt-get install redis-server)") : err;
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (failed) throw failed;
    if (Date.now() > deadline) {
      kill();
      throw new Error(`redis-server did not answer on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      process.removeListener("exit", kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      kill();
    },
  };
}

const CLI = join(import.meta.dirname, "../../dist/cli/main.js");

/** A `zcollection worker` process and the tasks it reported. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Lines it printed on stderr (`completed <kind> <partition>` …). */
  readonly log: string[];
  stop(): Promise<void>;
}

/** Starts `node dist/cli/main.js worker <url> --verbose`, resolved once it is ready. */
export async function startWorkerProcess(url: string, concurrency = 2): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [CLI, "worker", url, "--concurrency", String(concurrency), "--verbose"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const log: string[] = [];
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
    const lines = stderr.split("\n");
    stderr = lines.pop() ?? "";
    log.push(...lines);
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      if (out.includes(" ready on ")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker exited (${code}): ${log.join("\n")}${stderr}`)));
  });
  return {
    child,
    pid: child.pid as number,
    log,
    async stop() {
      process.removeListener("exit", kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 12_000))]);
      kill();
    },
  };
}
