/**
 * A throw-away PostgreSQL server for the tests of BullMQ's PostgreSQL
 * backend: a cluster made by `initdb` in a temporary directory, `postgres`
 * on a free 127.0.0.1 port with its Unix socket in that directory, fsync
 * off, stopped by PID, the directory deleted.
 *
 * The binaries are looked up on PATH, then under
 * `/usr/lib/postgresql/<major>/bin` (Debian's `postgresql` package, which
 * `.ci/run` installs, puts them there, off PATH). PostgreSQL refuses to run
 * as root: when this process is root, the server runs as the `postgres`
 * user, or `nobody` when there is none.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, readdirSync, readFileSync, rmSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./moto.js";

/** A running server. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, no password). */
  readonly url: string;
  readonly port: number;
  /** PID of the postmaster. */
  readonly pid: number;
  /** Stops the server (fast shutdown, then SIGKILL after 5 s) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directory holding both `initdb` and `postgres`: a PATH entry, else
 * the newest `/usr/lib/postgresql/<major>/bin`.
 *
 * @throws Error naming the package to install when there is none.
 */
export function postgresBinDir(): string {
  const onPath = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  let versions: string[] = [];
  try {
    versions = readdirSync("/usr/lib/postgresql")
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // No Debian layout.
  }
  const candidates = [...onPath, ...versions.map((v) => join("/usr/lib/postgresql", v, "bin"))];
  const dir = candidates.find((d) => executable(join(d, "initdb")) && executable(join(d, "postgres")));
  if (dir === undefined) {
    throw new Error(
      "PostgreSQL is not installed: no initdb and postgres on PATH nor under /usr/lib/postgresql/*/bin " +
        "(apt-get install postgresql)",
    );
  }
  return dir;
}

/** The uid and gid to run the server as: none when not root. */
function unprivileged(): { uid: number; gid: number; user: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = new Map<string, { uid: number; gid: number }>();
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user && uid && gid) users.set(user, { uid: Number(uid), gid: Number(gid) });
  }
  for (const user of ["postgres", "nobody"]) {
    const ids = users.get(user);
    if (ids !== undefined) return { ...ids, user };
  }
  throw new Error("running as root and there is no 'postgres' nor 'nobody' user to run PostgreSQL as");
}

/** Runs `cmd` to its end; rejects with its output when it fails. */
function runToEnd(cmd: string, args: string[], opts: Parameters<typeof spawn>[2]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.stderr?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code ?? signal}):\n${out}`)),
    );
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Makes a cluster and starts PostgreSQL on it.
 *
 * @throws Error when PostgreSQL is not installed (see {@link postgresBinDir}),
 *   when `initdb` fails, or when the server does not accept connections
 *   within 20 s (with its log).
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const as = unprivileged();
  const dir = await mkdtemp(join(tmpdir(), "zc-pg-"));
  const data = join(dir, "data");
  await mkdir(data, { mode: 0o700 });
  if (as !== undefined) {
    await chown(dir, as.uid, as.gid);
    await chown(data, as.uid, as.gid);
  }
  const spawnOpts = {
    cwd: dir,
    env: { ...process.env, LC_ALL: "C", LANG: "C", HOME: dir },
    ...(as === undefined ? {} : { uid: as.uid, gid: as.gid }),
  };
  let child: ChildProcess | undefined;
  const kill = () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", kill);
  try {
    await runToEnd(
      join(bin, "initdb"),
      [
        "-D",
        data,
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
        "--no-instructions",
      ],
      spawnOpts,
    );
    const port = await freePort();
    const server = spawn(
      join(bin, "postgres"),
      [
        "-D",
        data,
        "-p",
        String(port),
        "-h",
        "127.0.0.1",
        "-k",
        dir,
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ],
      { ...spawnOpts, stdio: ["ignore", "ignore", "pipe"] },
    );
    child = server;
    let log = "";
    let ready = false;
    let failed: Error | undefined;
    server.stderr?.setEncoding("utf8").on("data", (s: string) => {
      if (log.length < 20_000) log += s;
      if (log.includes("ready to accept connections")) ready = true;
    });
    server.once("error", (err) => {
      failed = err;
    });
    server.once("exit", (code, signal) => {
      failed ??= new Error(`postgres exited (${code ?? signal}):\n${log}`);
    });
    const deadline = Date.now() + 20_000;
    while (!(ready && (await accepts(port)))) {
      if (failed) throw failed;
      if (Date.now() > deadline) throw new Error(`postgres did not start on port ${port}:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      pid: server.pid as number,
      async stop() {
        process.removeListener("exit", kill);
        if (server.exitCode === null && server.signalCode === null) {
          const exited = new Promise((r) => server.once("exit", r));
          // SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for every client to disconnect).
          server.kill("SIGINT");
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
          if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    process.removeListener("exit", kill);
    kill();
    throw err;
  }
}
