/**
 * {@link InProcessExecutor}: runs an operation's tasks in this process.
 *
 * @module
 */

import { mapConcurrent } from "../util/concurrency.js";
import {
  type Executor,
  type Json,
  type RunOptions,
  type TaskOutcome,
  type TaskSpec,
  taskHandler,
  workerName,
} from "./api.js";
import { taskError } from "./errors.js";

/**
 * Runs tasks here, a few at once, through the same handlers as the
 * workers — results go through JSON as they would over the wire, so that
 * an operation behaves the same on either executor.
 */
export class InProcessExecutor implements Executor {
  readonly description = "in-process";

  /** @see Executor.run */
  async run(tasks: readonly TaskSpec[], opts: RunOptions = {}): Promise<TaskOutcome[]> {
    let done = 0;
    const worker = workerName();
    return mapConcurrent(
      tasks,
      opts.concurrency ?? 4,
      async (task, _i, signal) => {
        const handler = taskHandler(task.kind);
        let result: Json;
        try {
          result = JSON.parse(JSON.stringify((await handler(task, { signal })) ?? null)) as Json;
        } catch (err) {
          throw taskError(err, task);
        }
        done += 1;
        opts.onProgress?.({ done, total: tasks.length, partition: task.partition, worker });
        return { task, result, worker };
      },
      opts.signal,
    );
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}
