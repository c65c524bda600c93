/**
 * The `executor` option of the operations that fan out over partitions.
 *
 * @module
 */

import { importNodeOnly } from "../util/node-only.js";
import type { Executor, ExecutorOption } from "./api.js";
import { InProcessExecutor } from "./in-process.js";

export type { ExecutorOption } from "./api.js";

/**
 * The executor an option names, and whether the caller owns it (must close
 * it when done: executors opened from a URL here).
 *
 * @throws TypeError for an unknown scheme.
 */
export async function resolveExecutor(
  option: ExecutorOption,
): Promise<{ executor: Executor; owned: boolean }> {
  if (typeof option !== "string") return { executor: option, owned: false };
  if (option === "in-process") return { executor: new InProcessExecutor(), owned: true };
  // Node only (BullMQ, ioredis): hidden from bundlers so that browser builds do not carry it.
  const { BullMQExecutor } = await importNodeOnly<typeof import("./bullmq.js")>(
    new URL("./bullmq.js", import.meta.url).href,
  );
  return { executor: await BullMQExecutor.connect(option), owned: true };
}
