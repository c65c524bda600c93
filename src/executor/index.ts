/**
 * Executors: where the tasks of an operation that fans out over partitions
 * run — in this process, or on BullMQ workers (see ./api.ts).
 *
 * @module
 */

export {
  type Executor,
  type ExecutorOption,
  type ExecutorProgress,
  type FunctionRef,
  type Json,
  type RunOptions,
  registerTaskHandler,
  type TaskHandler,
  type TaskOutcome,
  type TaskSpec,
  taskHandler,
} from "./api.js";
export { InProcessExecutor } from "./in-process.js";
export { resolveExecutor } from "./resolve.js";
