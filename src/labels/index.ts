/**
 * Labels: ZPL building with safe field escaping, templates (devices/labels), printer models
 * (devices/printers), `~HS` host status, printer transports and the durable print queue.
 * See queue.ts for the guarantees and the record types.
 */
export {
  MAX_FIELD_BYTES,
  DM_ESCAPE,
  escapeFieldData,
  unescapeFieldData,
  fieldData,
  checkFieldLength,
  byteLength,
  code128SymbolChars,
  code128WidthDots,
  dataMatrixModules,
  zplText,
  zplGs1_128,
  zplGs1DataMatrix,
  zplBox,
  zplLabel,
  mmToDots,
} from './zpl.js';
export {
  parseTemplate,
  loadTemplates,
  loadPrinterModels,
  encodeFields,
  renderLabel,
  renderLabelDetailed,
  type FieldValue,
  type LabelFields,
  type RenderOptions,
  type RenderedLabel,
  type LabelTemplate,
  type PrinterModel,
} from './template.js';
export {
  extractFrames,
  parseHostStatus,
  formatHostStatus,
  healthyStatus,
  readiness,
  isIdle,
  type HostStatus,
  type PrinterCondition,
  type Readiness,
} from './host-status.js';
export {
  TcpPrinterTransport,
  DeviceFilePrinterTransport,
  ConnectionLostError,
  type PrinterTransport,
  type PrinterConnection,
  type WriteResult,
} from './transport.js';
export {
  LabelService,
  nextCounter,
  type LabelServiceOptions,
  type LabelRequest,
  type QueuedLabel,
  type PrintJobView,
  type PrinterStatusView,
  type PrinterSetup,
  type JobState,
  type OperatorDecision,
  type LabelView,
} from './queue.js';
export { printerSetupFromConfig, transportFromConfig } from './setup.js';
