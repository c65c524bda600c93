/**
 * Confinement of the local store (./local.ts) to its root directory: keys
 * whose directory resolves (`realpath`) outside the real root through a
 * symbolic link are refused, and a key that is itself a link is opened only
 * when its target lies inside. Directories found inside are remembered.
 *
 * @module
 */

import type * as FsPromises from "node:fs/promises";
import { StoreError } from "../errors.js";
import { code, type Fs, failure, IS_LINK, keyPath, loadFs, MISSING, readNoFollow } from "./local-fs.js";

/** At most this many verified directories are remembered (then the memory starts afresh). */
const MAX_VERIFIED_DIRS = 10_000;

/**
 * The symbolic-link checks of one local store: `root` is its directory as
 * given, `rootUri` names it in messages. Not atomic with the operations
 * they guard (see {@link RootConfinement.confine}).
 */
export class RootConfinement {
  readonly #root: string;
  readonly #rootUri: string;
  /** Keys of the directories known to resolve inside the root (forgotten by {@link RootConfinement.forget}). */
  readonly #inside = new Set<string>();
  /** Real path of the root, once it exists. */
  #realRoot: string | undefined;

  /**
   * @param root The store's root directory as given.
   * @param rootUri The store's URI, for messages.
   */
  constructor(root: string, rootUri: string) {
    this.#root = root;
    this.#rootUri = rootUri;
  }

  /** Forgets the directories verified so far (after deletes of prefixes and renames). */
  forget(): void {
    this.#inside.clear();
  }

  #path(key: string): string {
    return keyPath(this.#root, key);
  }

  /** Real path of the root (cached once the root exists), or `undefined` while it does not exist. */
  async #realRootPath(fs: Fs): Promise<string | undefined> {
    if (this.#realRoot === undefined) {
      try {
        this.#realRoot = await fs.realpath(this.#root);
      } catch (err) {
        if (MISSING.has(code(err) ?? "")) return undefined; // nothing below it can be a link yet
        throw err;
      }
    }
    return this.#realRoot;
  }

  /** Whether the real path `real` is the real root or below it. */
  #isInside(real: string, root: string): boolean {
    if (real === root) return true;
    const sep = root.includes("\\") && !root.includes("/") ? "\\" : "/";
    return real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
  }

  /**
   * Refuses a key whose directory resolves, through a symbolic link,
   * outside the root: the real path (`realpath`) of the nearest existing
   * ancestor of the key's directory must lie inside the real path of the
   * root. Directories found inside are remembered, so that the many keys of
   * one directory cost one `realpath`; deletes of prefixes and renames forget
   * them. (The check is not atomic with the operation: a link planted in
   * place of a directory this instance already verified goes unnoticed
   * until the directory is forgotten.)
   *
   * @throws StoreError naming the key and the link.
   */
  confine(k: string, op: string): Promise<void> | undefined {
    if (!k.includes("/")) return undefined; // directly in the root
    return this.confineDir(k.slice(0, k.lastIndexOf("/")), op, k);
  }

  /** {@link RootConfinement.confine} for the directory `dirKey` itself (`k`: the key named in the error). */
  async confineDir(dirKey: string, op: string, k = dirKey): Promise<void> {
    if (dirKey === "" || this.#inside.has(dirKey)) return;
    const fs = await loadFs();
    let real: string | undefined;
    let probe = dirKey;
    try {
      const root = await this.#realRootPath(fs);
      if (root === undefined) return;
      for (;;) {
        try {
          real = await fs.realpath(this.#path(probe));
          break;
        } catch (err) {
          if (!MISSING.has(code(err) ?? "")) throw err;
          if (probe === "") {
            this.#realRoot = undefined; // the root was removed: nothing below it can be a link
            return;
          }
          // Missing (or a dangling link): what exists above decides.
          probe = probe.includes("/") ? probe.slice(0, probe.lastIndexOf("/")) : "";
        }
      }
      if (this.#isInside(real, root)) {
        if (probe === dirKey) {
          if (this.#inside.size >= MAX_VERIFIED_DIRS) this.#inside.clear();
          this.#inside.add(dirKey);
        }
        return;
      }
    } catch (err) {
      return failure(this.#rootUri, this.#path(k), op, k, err);
    }
    throw await this.#outside(fs, k, op, real);
  }

  /** The StoreError for `k`, which resolves to `real` outside the root; names the first link on its path. */
  async #outside(fs: Fs, k: string, op: string, real: string): Promise<StoreError> {
    let link = "";
    const parts = k.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join("/");
      try {
        if ((await fs.lstat(this.#path(sub))).isSymbolicLink()) {
          link = ` ('${sub}' -> '${await fs.readlink(this.#path(sub))}')`;
          break;
        }
      } catch {
        break;
      }
    }
    return new StoreError(
      `cannot ${op} '${k}' in ${this.#rootUri}: '${k}' resolves outside the store root (to ${real}) ` +
        `through a symbolic link${link}; refused`,
      { key: this.#path(k) },
    );
  }

  /**
   * Opens the file of `k` for reading without following a symbolic link
   * out of the root: a key that is itself a link is opened only when its
   * real path lies inside the root.
   *
   * @returns the handle, or `undefined` when there is no such file.
   * @throws StoreError naming the key otherwise.
   */
  async openForRead(fs: Fs, k: string): Promise<FsPromises.FileHandle | undefined> {
    const file = this.#path(k);
    try {
      return await fs.open(file, readNoFollow(fs));
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return undefined;
      if (!IS_LINK.has(code(err) ?? "")) return failure(this.#rootUri, file, "read", k, err);
    }
    let real: string;
    try {
      real = await fs.realpath(file);
      const root = await this.#realRootPath(fs);
      if (root !== undefined && !this.#isInside(real, root)) throw await this.#outside(fs, k, "read", real);
      return await fs.open(real, "r");
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if (MISSING.has(code(err) ?? "")) return undefined; // a dangling link
      return failure(this.#rootUri, file, "read", k, err);
    }
  }
}
