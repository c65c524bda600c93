/**
 * Who this process is, and whether another process on the same host is
 * still alive: what writer leases and the operation journal record about
 * their owner, so that a crashed writer's lease can be taken over at once
 * on its own host instead of after its expiry.
 *
 * Browser-safe: without Node's `process`, the host is `"browser"`, the pid
 * 0, and liveness is unknown (leases then expire by time only).
 *
 * @module
 */

interface NodeProcess {
  pid?: number;
  kill?: (pid: number, signal: number) => boolean;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}

/** The identity of the running process, as recorded in leases and journal records. */
export interface ProcessIdentity {
  /** Host name (`os.hostname()`), `"browser"` outside Node. */
  readonly host: string;
  /** Process id, 0 outside Node. */
  readonly pid: number;
  /** Random per-process token: tells this process from an earlier one that had the same pid. */
  readonly token: string;
}

let identity: ProcessIdentity | undefined;

/** This process's identity (computed once). */
export function processIdentity(): ProcessIdentity {
  if (identity === undefined) {
    const proc = nodeProcess();
    const os = proc?.getBuiltinModule?.("node:os") as { hostname?: () => string } | undefined;
    identity = {
      host: os?.hostname?.() ?? "browser",
      pid: typeof proc?.pid === "number" ? proc.pid : 0,
      token: randomToken(),
    };
  }
  return identity;
}

/**
 * Whether the process `pid` of *this* host is alive (`kill(pid, 0)`):
 * `false` when it does not exist, `true` when it does or when that cannot
 * be told (no permission, not Node).
 */
export function isProcessAlive(pid: number): boolean {
  const proc = nodeProcess();
  if (proc?.kill === undefined || !Number.isInteger(pid) || pid <= 0) return true;
  try {
    proc.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code !== "ESRCH";
  }
}

/**
 * Whether the owner recorded as (`host`, `pid`, `token`) is certainly gone:
 * a process of this host that no longer runs, or this host's pid reused by
 * another process (the token differs). Owners on other hosts are never
 * "certainly gone": their records expire by time.
 */
export function isOwnerGone(owner: { host: string; pid: number; token: string }): boolean {
  const me = processIdentity();
  if (owner.host !== me.host || me.pid === 0) return false;
  if (owner.pid === me.pid) return owner.token !== me.token;
  return !isProcessAlive(owner.pid);
}

function randomToken(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
