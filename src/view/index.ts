/**
 * Views: variables added on top of a collection one may only read
 * (docs/behaviour.md §11, docs/format.md §10).
 *
 * @module
 */

export { buildViewSchema, isView, readViewConfig, VIEW_CONFIG_KEY, type ViewConfig } from "./config.js";
export { type OverlayValues, routeVariables } from "./overlay.js";
export { ViewReference, type ViewReferenceJSON } from "./reference.js";
export { View, type ViewCreateOptions, type ViewOpenOptions, type ViewUpdateFunction } from "./view.js";
