/**
 * GS1 module: scan parsing (AIM identifiers, FNC1/GS, Digital Link, HRI text) and element-string
 * encoding for labels, both driven by the AI table generated from the GS1 Barcode Syntax
 * Dictionary (vendor/gs1/). Pure code: no I/O.
 */
export type { AiComponent, AiDefinition, Cset } from './types.js';
export { aiDefinition, allAiDefinitions, aiMatchesPattern, checkPairings } from './table.js';
export { DICTIONARY_RELEASE } from './ai-table.generated.js';
export {
  gs1CheckDigit,
  isValidCheckDigit,
  resolveCentury,
  yymmddToIso,
  CSET82,
  CSET39,
  CSET64,
  UNCHECKED_LINTERS,
  IMPLEMENTED_LINTERS,
  csumAlphaPair,
  type Gs1Typed,
  type Gs1ErrorCode,
} from './validate.js';
export {
  GS,
  GS1_128_MAX_DATA,
  encodeElements,
  orderForEncoding,
  validateElements,
  makeSscc,
  formatDigitalLink,
  zplDataMatrixData,
  type Gs1Element,
  type EncodedElements,
} from './encode.js';
export {
  parseScan,
  type ScanData,
  type ScanOk,
  type ScanError,
  type ScanErrorCode,
  type ScanElement,
  type ScanForm,
  type Symbology,
  type ParseScanOptions,
} from './parse.js';
