/**
 * Config schema of a ZPL label printer (`kind: zpl-printer`), and the schemas of the DATA files
 * it refers to: printer models in `devices/printers/*.yaml` and label templates in
 * `devices/labels/*.yaml`.
 *
 * Split (as for scanners): the MODEL says what a printer can do (resolution, widest print, whether
 * it answers `~HS`); the TEMPLATE says what a label looks like and which fields / GS1 AIs it
 * carries; the CONFIG says where one physical printer is and how patient to be with it.
 */
import { Type, type Static } from '@sinclair/typebox';

// ── printer models: devices/printers/<name>.yaml ───────────────────────────────────────────────

export const PrinterModelSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'Model name; must equal the file name without .yaml.' }),
    description: Type.String({ minLength: 1, description: 'Which printer(s) this describes.' }),
    vendor: Type.Optional(Type.String()),
    dpi: Type.Union([Type.Literal(152), Type.Literal(203), Type.Literal(300), Type.Literal(600)], {
      description: 'Print head resolution in dots per inch (8, 12 or 24 dots/mm).',
    }),
    maxPrintWidthDots: Type.Integer({ minimum: 100, maximum: 10_000, description: 'Widest printable line in dots (head width); ^PW is capped to it.' }),
    hostStatus: Type.Boolean({
      description: 'Whether the printer answers ~HS. Without it a job cannot be checked before sending or confirmed after, and ends in state `sent`.',
    }),
    source: Type.Optional(Type.String({ description: 'Where the figures come from (data sheet).' })),
  },
  { additionalProperties: false, description: 'A printer model: resolution, print width and host-status support.' },
);
export type PrinterModel = Static<typeof PrinterModelSchema>;

// ── label templates: devices/labels/<name>.yaml ────────────────────────────────────────────────

const Mm = (description: string) => Type.Number({ minimum: 0, maximum: 2000, description });
const FieldName = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' });

export const TemplateFieldSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('text'), Type.Literal('gs1'), Type.Literal('date'), Type.Literal('measure')], {
      description:
        'text: free text (printed escaped). gs1: the raw value of a GS1 AI. date: an ISO date (YYYY-MM-DD) or YYMMDD, encoded YYMMDD for its AI. measure: an exact decimal ("3.25"), encoded as the AI family `ai` (e.g. 310n) with n = decimals.',
    }),
    ai: Type.Optional(
      Type.String({ pattern: '^[0-9]{2,3}[0-9n]{0,2}$', description: 'GS1 Application Identifier (gs1/date), or an AI family ending in n for measures (310n = net weight kg).' }),
    ),
    decimals: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, description: 'measure: fixed number of decimals (the n of 310n). Default: the decimals of the value given.' })),
    required: Type.Optional(Type.Boolean({ default: false, description: 'Refuse to print without this field (LG_ERR_LABEL_FIELD_MISSING).' })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 3072, default: 3072, description: 'Longest value in UTF-8 bytes (LG_ERR_LABEL_FIELD_TOO_LONG beyond).' })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type TemplateField = Static<typeof TemplateFieldSchema>;

const Pos = {
  xMm: Mm('Left edge, mm from the label\'s left edge.'),
  yMm: Mm('Top edge, mm from the label\'s top edge.'),
};

export const TextElementSchema = Type.Object(
  {
    type: Type.Literal('text'),
    ...Pos,
    heightMm: Mm('Character height (scalable font ^A0).'),
    widthMm: Type.Optional(Mm('Character width; default = height.')),
    value: Type.String({ description: 'Text with {field} placeholders, e.g. "Batch {batch}". Placeholders print the value as given.' }),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 3072, default: 3072, description: 'Longest expanded text in UTF-8 bytes.' })),
    blockWidthMm: Type.Optional(Mm('Wrap the text in a block this wide (^FB).')),
    lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Lines of the block (^FB); text beyond is not printed.' })),
  },
  { additionalProperties: false, description: 'Plain text.' },
);

export const BarcodeElementSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('gs1-128'), Type.Literal('gs1-datamatrix'), Type.Literal('gs1-hri')], {
      description: 'gs1-128: GS1-128 (^BC mode D, interpretation line with AIs in parentheses). gs1-datamatrix: GS1 DataMatrix (^BX ECC 200). gs1-hri: the element string as text with AIs in parentheses.',
    }),
    ...Pos,
    fields: Type.Array(FieldName, { minItems: 1, description: 'Fields with an AI, in symbol order (put fixed-length AIs first).' }),
    heightMm: Type.Optional(Mm('gs1-128: bar height. gs1-hri: character height.')),
    moduleMm: Type.Optional(Mm('Narrow bar / cell size in mm (rounded to whole dots, at least 1). GS1 logistic labels: 0.495–1.016 mm for GS1-128.')),
    hri: Type.Optional(Type.Boolean({ default: true, description: 'gs1-128: print the interpretation line.' })),
  },
  { additionalProperties: false, description: 'A GS1 symbol or its human-readable text.' },
);

export const BoxElementSchema = Type.Object(
  {
    type: Type.Literal('box'),
    ...Pos,
    wMm: Mm('Width.'),
    hMm: Mm('Height.'),
    thicknessMm: Mm('Line thickness.'),
  },
  { additionalProperties: false, description: 'A frame or rule (^GB).' },
);

export const ReprintElementSchema = Type.Object(
  {
    type: Type.Literal('reprint'),
    ...Pos,
    heightMm: Mm('Character height.'),
  },
  { additionalProperties: false, description: 'Where the reprint mark (config labels.reprintMark) goes; printed on reprints only.' },
);

export const LabelTemplateSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'Template name; must equal the file name without .yaml.' }),
    kind: Type.Union([Type.Literal('case'), Type.Literal('batch'), Type.Literal('pallet')], { description: 'What the label is for.' }),
    description: Type.String({ minLength: 1 }),
    widthMm: Mm('Label width.'),
    heightMm: Mm('Label length.'),
    identity: Type.Union([Type.Literal('serial'), Type.Literal('sscc'), Type.Literal('none')], {
      description: 'What the print service allocates for each label: a serial (into the field with AI 21), an SSCC (into the field with AI 00), or nothing (the label is identified by its id only).',
    }),
    fields: Type.Record(FieldName, TemplateFieldSchema, { description: 'Named fields the label takes.' }),
    elements: Type.Array(Type.Union([TextElementSchema, BarcodeElementSchema, BoxElementSchema, ReprintElementSchema]), { minItems: 1 }),
  },
  { additionalProperties: false, description: 'A label template.' },
);
export type LabelTemplate = Static<typeof LabelTemplateSchema>;
export type LabelElement = LabelTemplate['elements'][number];

// ── device config: `devices:` entry with kind zpl-printer ──────────────────────────────────────

export const PrinterTcpTransportConfig = Type.Object(
  {
    type: Type.Literal('tcp', { description: 'Raw TCP to the printer (Zebra "port 9100").' }),
    host: Type.String({ minLength: 1, description: 'Printer host name or IP address.' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 9100, description: 'Raw print port.' })),
  },
  { additionalProperties: false },
);

export const PrinterFileTransportConfig = Type.Object(
  {
    type: Type.Literal('file', { description: 'A device file: USB printer class (/dev/usb/lp0) or a serial port configured by udev/stty. One-way: jobs end in `sent`.' }),
    path: Type.String({ minLength: 1, description: 'Device path; use a stable udev name (/dev/linegate/printer-pack1).' }),
  },
  { additionalProperties: false },
);

export const PrinterTimingConfig = Type.Object(
  {
    connectTimeoutMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 3000, description: 'Connecting to the printer.' }),
    statusTimeoutMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 1500, description: 'Waiting for the ~HS answer; silence beyond = not ready.' }),
    writeTimeoutMs: Type.Integer({ minimum: 50, maximum: 120_000, default: 10_000, description: 'Writing one job.' }),
    confirmTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 15_000,
      description: 'After sending: how long the printer may stay silent (or busy while ready) before the job goes to needs_confirmation. While it reports a fault the wait goes on.',
    }),
    pollIntervalMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 500, description: 'Re-asking ~HS while a job is held or being confirmed.' }),
    idleStatusMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 5000, description: 'Asking ~HS with nothing to print, so health shows paper out before the next label. 0 = never.' }),
    retryMaxMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000, description: 'Longest wait between reconnect attempts (exponential backoff with jitter).' }),
  },
  { additionalProperties: false, default: {} },
);
export type PrinterTiming = Static<typeof PrinterTimingConfig>;

export const ZplPrinterConfig = Type.Object(
  {
    kind: Type.Literal('zpl-printer', { description: 'Device kind: a ZPL label printer.' }),
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$', description: 'Printer id, unique in the gateway ("line1.pack.printer").' }),
    station: Type.String({ minLength: 1, description: 'Station the printer serves (its status appears on that station\'s live stream).' }),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    model: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', default: 'zebra-203dpi-4in', description: 'Printer model: devices/printers/<model>.yaml.' })),
    transport: Type.Union([PrinterTcpTransportConfig, PrinterFileTransportConfig]),
    templates: Type.Optional(
      Type.Record(Type.String({ pattern: '^(case|batch|pallet)$' }), Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' }), {
        description: 'Template per label kind for this printer, e.g. {case: case-4x6, pallet: pallet-4x6}. Default: the template named like the kind plus -4x6.',
      }),
    ),
    timing: PrinterTimingConfig,
  },
  { additionalProperties: false, description: 'A ZPL label printer on raw TCP or a device file.' },
);
export type ZplPrinterConfig = Static<typeof ZplPrinterConfig>;
