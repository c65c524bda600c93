/**
 * What every bench script shares: running its `main` when the script is
 * the process's entry, and its integer options.
 *
 * @module
 */

import { shutdownCodecPool } from "../zarr/compression/index.js";

/**
 * Runs `main` with the command-line arguments when `bench/<name>.js` (or
 * `.ts`) is the script Node started, then stops the codec pool and exits:
 * 0 on success, 2 with `error: <message>` on stderr on failure.
 */
export function runWhenInvoked(name: string, main: (argv: string[]) => Promise<void>): void {
  const invoked = process.argv[1] ?? "";
  if (!invoked.endsWith(`bench/${name}.js`) && !invoked.endsWith(`bench/${name}.ts`)) return;
  main(process.argv.slice(2))
    .then(async () => {
      await shutdownCodecPool();
      process.exit(0);
    })
    .catch(async (err: unknown) => {
      console.error(err instanceof Error ? `error: ${err.message}` : err);
      await shutdownCodecPool();
      process.exit(2);
    });
}

/**
 * A positive integer option (`undefined` when not given).
 *
 * @throws RangeError naming the option when `value` is not a positive integer.
 */
export function positiveIntegerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new RangeError(`${name} must be a positive integer; got '${value}'`);
  return n;
}
