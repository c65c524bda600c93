/**
 * Group and variable path helpers shared by the schema and the data model
 * (docs/behaviour.md §4.4, §4.8).
 *
 * A group path is `/`-separated; empty segments are ignored, so `"/a/b"`,
 * `"a/b"` and `"a//b/"` name the same group and `""`, `"/"`, `null` and
 * `undefined` name the root.
 *
 * @module
 */

/** The segments of a group path, empty segments dropped (`"a//b/"` → `["a", "b"]`). */
export function splitPath(path: string | null | undefined): string[] {
  if (path === null || path === undefined) return [];
  return path.split("/").filter((s) => s.length > 0);
}

/** The canonical absolute form of a group path: `"/"` for the root, else `"/a/b"`. */
export function normalizeGroupPath(path: string | null | undefined): string {
  return `/${splitPath(path).join("/")}`;
}

/**
 * The key of a variable in `allVariables()` maps: the short name for a root
 * variable, `grp/sub/name` for a nested one (docs/behaviour.md §4.4).
 *
 * @param groupSegments segments of the variable's group path (empty for the root).
 */
export function variableKey(groupSegments: readonly string[], name: string): string {
  return groupSegments.length === 0 ? name : `${groupSegments.join("/")}/${name}`;
}
