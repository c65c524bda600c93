/**
 * Node's `ExperimentalWarning: WASI is an experimental feature…`, printed
 * when `@earthmover/icechunk` falls back to its WebAssembly build, replaced
 * by one note in our words, at most once per process.
 *
 * The package prefers its native binding, which needs glibc ≥ 2.38; where
 * that binding cannot load, it instantiates its WASI build, and loading
 * `node:wasi` makes Node print the warning, in the main thread and in each
 * WASI worker thread the build starts (at load time and later, on demand).
 * {@link importWithWasiNote} wraps the import of the Icechunk backend:
 * during the import the WASI warning is swallowed, and once the import is
 * done, if the WASI build was loaded, one process warning of type
 * {@link WASI_NOTE_TYPE} and code {@link WASI_NOTE_CODE} says what it
 * means. Nothing is printed when the native binding loads or when Icechunk
 * is never loaded.
 *
 * The WASI worker threads take their Node flags from `process.execArgv`
 * when they start: where Node knows `--disable-warning` (≥ 20.11), that
 * array gets `--disable-warning=ExperimentalWarning` for the import, and
 * keeps it once the WASI build is loaded, so that the threads started
 * later stay quiet too. Side effect: worker threads and child processes
 * started later from `process.execArgv` (`child_process.fork`) do not
 * print experimental-feature warnings either.
 *
 * Safe to import in a browser (it only touches `process` when it exists).
 *
 * @module
 */

/** The `name` of the process warning that replaces Node's WASI warning. */
export const WASI_NOTE_TYPE = "IcechunkNote";

/** The `code` of that warning (`node --disable-warning=ZCOLLECTION_ICECHUNK_WASI` silences it). */
export const WASI_NOTE_CODE = "ZCOLLECTION_ICECHUNK_WASI";

/** The text of the note. */
export const WASI_NOTE =
  "Icechunk uses its WebAssembly (WASI) build, which is slower: " +
  "its native binding needs glibc >= 2.38 and could not be loaded here";

/** Process-wide flag (shared by every copy of this module), set once the note was emitted. */
const NOTED = Symbol.for("zcollection.icechunkWasiNoted");

/** The Node `process` object, when there is one. */
function nodeProcess(): NodeJS.Process | undefined {
  const p = (globalThis as { process?: NodeJS.Process }).process;
  return typeof p?.emitWarning === "function" ? p : undefined;
}

/** Whether `args` (the arguments of `process.emitWarning`) are Node's WASI ExperimentalWarning. */
export function isWasiWarning(args: readonly unknown[]): boolean {
  const [warning, typeOrOptions] = args;
  const type =
    warning instanceof Error
      ? warning.name
      : typeof typeOrOptions === "string"
        ? typeOrOptions
        : typeof typeOrOptions === "object" && typeOrOptions !== null
          ? (typeOrOptions as { type?: unknown }).type
          : undefined;
  const message = warning instanceof Error ? warning.message : String(warning);
  return type === "ExperimentalWarning" && message.startsWith("WASI");
}

/** Imports in flight under {@link importWithWasiNote}, and what they saw. */
let active = 0;
let sawWasi = false;
let restore: (() => void) | undefined;

function install(p: NodeJS.Process): () => void {
  const original = p.emitWarning;
  const wrapper = function (this: unknown, ...args: unknown[]) {
    if (isWasiWarning(args)) {
      sawWasi = true;
      return;
    }
    return (original as (...a: unknown[]) => void).apply(this, args);
  } as typeof p.emitWarning;
  p.emitWarning = wrapper;
  // WASI worker threads take their flags from process.execArgv when they start.
  const flag = "--disable-warning=ExperimentalWarning";
  const addFlag = p.allowedNodeEnvironmentFlags?.has("--disable-warning") === true;
  if (addFlag) p.execArgv.push(flag);
  return () => {
    if (p.emitWarning === wrapper) p.emitWarning = original;
    // Kept once the WASI build is loaded: it starts more worker threads later.
    if (addFlag && !sawWasi) {
      const i = p.execArgv.lastIndexOf(flag);
      if (i >= 0) p.execArgv.splice(i, 1);
    }
  };
}

/**
 * Emits the note, unless it was already emitted in this process.
 *
 * @returns whether it was emitted now.
 */
export function emitWasiNote(): boolean {
  const p = nodeProcess();
  if (p === undefined) return false;
  const flags = p as unknown as Record<symbol, boolean | undefined>;
  if (flags[NOTED] === true) return false;
  flags[NOTED] = true;
  p.emitWarning(WASI_NOTE, { type: WASI_NOTE_TYPE, code: WASI_NOTE_CODE });
  return true;
}

/**
 * Runs `load` (the dynamic import of the Icechunk backend) with Node's WASI
 * warning replaced by {@link WASI_NOTE} (see the module documentation).
 * Concurrent calls share one interception; the note follows the first
 * import that loaded the WASI build.
 */
export async function importWithWasiNote<T>(load: () => Promise<T>): Promise<T> {
  const p = nodeProcess();
  if (p === undefined) return load();
  if (active === 0) {
    sawWasi = false;
    restore = install(p);
  }
  active += 1;
  try {
    return await load();
  } finally {
    active -= 1;
    if (active === 0) {
      restore?.();
      restore = undefined;
      if (sawWasi) emitWasiNote();
    }
  }
}
