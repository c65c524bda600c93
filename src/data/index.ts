/**
 * The in-memory data model: {@link Variable}, {@link Group}, {@link Dataset},
 * lazy arrays, row operations along a dimension, the repr helpers and the
 * Apache Arrow bridge (docs/behaviour.md §5, §9.2).
 *
 * @module
 */

export { type ArrowParts, arrowToParts, groupToArrow } from "./arrow.js";
export { type ArraysInput, Dataset, type DatasetOptions, rebuildDataset } from "./dataset.js";
export { entriesOf, Group, type GroupsInput, type VariablesInput } from "./group.js";
export { DerivedLazyArray, isLazyArray, type LazyArray } from "./lazy.js";
export {
  alignedLines,
  attributeLines,
  attrText,
  cutLine,
  DISPLAY_DIGITS,
  float32Text,
  float64Text,
  formatBytes,
  formatDimensions,
  fractionDigits,
  gridDecimals,
  MAX_LINE,
  type Precision,
  packingDecimals,
  previewValues,
  type StyleOptions,
  type ValueStyle,
  valueJson,
  valueStyle,
  valueText,
} from "./repr.js";
export { concatAlong, concatRows, sliceAlong, sliceRows, takeAlong, takeRows } from "./rows.js";
export { Variable, type VariableData, type VariableInput } from "./variable.js";
