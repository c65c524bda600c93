/**
 * The command line speaks in its own terms: library messages are rewritten
 * at the CLI boundary (errors, warnings, printed URIs) so that they name
 * command-line flags rather than library options, and show store locations
 * the way the user gave them. The library's own messages stay as they are
 * for library users.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Library option names, as library messages spell them, and the flag that
 * sets them on the command line. Longer spellings first: each is replaced
 * once, before the shorter ones could match inside it.
 */
const OPTION_FLAGS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(insert option fillMissing: true, CLI --fill-missing\)/g, "(--fill-missing)"],
  [/\binsert option fillMissing: true\b/g, "--fill-missing"],
  [/`?\bfillMissing(?:: true)?\b`?/g, "--fill-missing"],
  [/`?\bcatalogEnabled(?:: true)?\b`?/g, "--catalog"],
  [/`?\bexcludeDimensions\b`?/g, "--exclude-dimension"],
  [/`?\bkeepPacked(?:: true)?\b`?/g, "--keep-packed"],
  [/`axis`/g, "--axis"],
  [/`group`/g, "--group"],
  [/`variables`/g, "--variables"],
];

/** `file://` followed by a relative path (LocalStore's URI of a relative root): not a URL. */
const RELATIVE_FILE_URI = /\bfile:\/\/(?=[^/\s'"`)]|$)/g;

/**
 * A store URI as the user gave it: `file://cols/x` (the URI a local store
 * has for the relative path `cols/x`, which no URL parser reads as that
 * path) becomes `cols/x`; every other URI is returned unchanged.
 */
export function displayUrl(uri: string): string {
  return uri.replace(RELATIVE_FILE_URI, "");
}

/**
 * A store URI that is a valid absolute URL: `file://cols/x` becomes
 * `file:///<working directory>/cols/x`; every other URI is returned
 * unchanged.
 */
export function absoluteUri(uri: string): string {
  const m = /^file:\/\/([^/].*)?$/.exec(uri);
  if (m === null) return uri;
  return pathToFileURL(resolve(m[1] ?? ".")).href;
}

/**
 * A library message in the terms of the command line: relative store
 * paths shown as given (see {@link displayUrl}) and library options
 * replaced by their flags (`excludeDimensions` → `--exclude-dimension`,
 * `catalogEnabled: true` → `--catalog`, `fillMissing` → `--fill-missing`,
 * `` `axis` `` → `--axis`...).
 */
export function cliMessage(message: string): string {
  let text = displayUrl(message);
  for (const [pattern, flag] of OPTION_FLAGS) text = text.replace(pattern, flag);
  return text;
}
