/**
 * {@link ViewReference}: how a view names the collection it extends
 * (docs/behaviour.md §11.6, docs/format.md §10).
 *
 * @module
 */

import { SchemaError } from "../errors.js";

/** JSON form of a reference (`{"uri": "..."}`, docs/format.md §10). */
export interface ViewReferenceJSON {
  uri: string;
}

/**
 * The base collection of a view, as recorded in `_zcollection_view.json`.
 * The URI is free-form (Python records whatever the caller gave: an
 * absolute URL, or a path relative to the view's root such as
 * `../date_nested`); {@link ViewReference.resolve} turns it into a URL the
 * store layer opens.
 */
export class ViewReference {
  /** The base collection's URI as recorded. */
  readonly uri: string;

  /** @throws SchemaError when `uri` is empty. */
  constructor(uri: string) {
    if (typeof uri !== "string" || uri.length === 0) {
      throw new SchemaError("a view reference needs a non-empty 'uri'");
    }
    this.uri = uri;
    Object.freeze(this);
  }

  /** `{"uri": ...}` (docs/format.md §10). */
  toJSON(): ViewReferenceJSON {
    return { uri: this.uri };
  }

  /**
   * Reads `{"uri": ...}`; a non-string `uri` is stringified (docs/behaviour.md §11.6).
   *
   * @throws SchemaError when `json` is not an object with a `uri`.
   */
  static fromJSON(json: unknown): ViewReference {
    if (typeof json !== "object" || json === null || Array.isArray(json) || !("uri" in json)) {
      throw new SchemaError("a view reference must be an object with a 'uri' key");
    }
    const uri = (json as { uri: unknown }).uri;
    return new ViewReference(typeof uri === "string" ? uri : JSON.stringify(uri));
  }

  /**
   * The base's URL: the URI itself when it has a scheme (`s3://…`,
   * `https://…`, `file://…`) or is an absolute path; otherwise the URI
   * resolved against the view's root URL (`../base` next to `file:///v/view`
   * is `file:///v/base`).
   *
   * @param viewRootUri the view store's root URL (`Store.rootUri`).
   */
  resolve(viewRootUri: string): string {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(this.uri) || this.uri.startsWith("/")) return this.uri;
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)(\/.*)?$/i.exec(viewRootUri);
    const origin = m?.[1] ?? "";
    const rootPath = m ? (m[2] ?? "/") : viewRootUri;
    const segments = rootPath.split("/").filter((s) => s !== "");
    for (const part of this.uri.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") segments.pop();
      else segments.push(part);
    }
    return `${origin}/${segments.join("/")}`;
  }

  /** `<ViewReference uri>`. */
  toString(): string {
    return `<ViewReference ${this.uri}>`;
  }
}
