/**
 * The `executor` option of the operations that fan out over partitions.
 *
 * @module
 */

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
  const { BullMQExecutor } = await import("./bullmq.js");
  return { executor: await BullMQExecutor.connect(option), owned: true };
}
