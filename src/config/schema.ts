import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DEVICE_KINDS } from './devices/index.js';
import { UpstreamConfigSchema } from './upstream-schema.js';
import { UpstreamConfig } from './upstream.js';
import { StationUiSchema } from '../ui/config.js';
import { OpsSchema } from '../service/config.js';

/**
 * The configuration schema: one TypeBox source for the TypeScript types, the validation and the
 * JSON Schema committed as config/linegate.schema.json (`linegate schema`). Every field carries a
 * description: it is the reference documentation of the YAML file.
 *
 * Runtime state (active batch, lots, operators) is NOT configuration: it lives in the journal.
 */

const Id = (description: string) =>
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', description });

export const SiteSchema = Type.Object(
  {
    id: Id('Site identifier, unique in the company (goes into every record and the CloudEvents source).'),
    name: Type.Optional(Type.String({ description: 'Human name of the plant.' })),
    timezone: Type.String({
      default: 'UTC',
      description: 'IANA time zone of the site (e.g. Europe/Berlin). Batch numbers and production dates use the local date.',
    }),
    gs1CompanyPrefix: Type.Optional(
      Type.String({ pattern: '^[0-9]{6,12}$', description: 'GS1 company prefix, for SSCCs and serials on labels.' }),
    ),
    gln: Type.Optional(Type.String({ pattern: '^[0-9]{13}$', description: 'GLN of the site (EPCIS readPoint/bizLocation and shipping source, issue 15).' })),
  },
  { additionalProperties: false, description: 'The plant this gateway belongs to.' },
);

export const LineSchema = Type.Object(
  {
    id: Id('Line identifier (one gateway per line).'),
    name: Type.Optional(Type.String({ description: 'Human name of the line.' })),
  },
  { additionalProperties: false },
);

export const StationRoleSchema = Type.Union(
  [Type.Literal('weighing'), Type.Literal('filling'), Type.Literal('packing'), Type.Literal('generic'), Type.Literal('palletising'), Type.Literal('dispatch')],
  { description: 'What the station does: decides how its readings bind (weighing consumes lots, packing labels cases…).' },
);

export const StationPoliciesSchema = Type.Object(
  {
    unknownLot: Type.Union([Type.Literal('refuse'), Type.Literal('quarantine')], {
      default: 'refuse',
      description: 'A scanned lot not in the lot master: refuse it, or register it in quarantine (still refused until QA releases it).',
    }),
    tolerance: Type.Union([Type.Literal('refuse'), Type.Literal('flag')], {
      default: 'refuse',
      description: 'A weighed addition outside the bill-of-materials tolerance: refuse it, or accept it flagged for QA review.',
    }),
    duplicateWindowMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 300,
      description: 'The same code from the same scanner within this window counts once (the repeat becomes a rejected duplicate record).',
    }),
    requireOperator: Type.Boolean({
      default: false,
      description: 'Refuse lot scans and weights while nobody is signed in at the station.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const StationSchema = Type.Object(
  {
    id: Id('Station identifier (e.g. WEIGH-1).'),
    name: Type.Optional(Type.String({ description: 'Human name shown on the station page.' })),
    role: StationRoleSchema,
    policies: StationPoliciesSchema,
    commands: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Union([Type.Literal('clear_lots'), Type.Literal('sign_out'), Type.Literal('clear_batch')]), {
        description: 'Barcodes that act as commands at this station, e.g. {"CMD-CLEAR": "clear_lots"}.',
      }),
    ),
    ui: Type.Optional(StationUiSchema),
  },
  { additionalProperties: false },
);

export const NumberingSchema = Type.Object(
  {
    batch: Type.String({
      default: '{YYYY}{MM}{DD}-{seq:3}',
      description:
        'Batch number pattern. Tokens: {YYYY} {YY} {MM} {DD} (site-local date), {line}, {site}, {seq:N} (counter, zero-padded to N). ' +
        'The counter restarts whenever the rendered text around it changes (e.g. the next day). Example with a line prefix: "{line}-{YYYY}{MM}{DD}-{seq:3}".',
    }),
    badgePattern: Type.String({
      default: '^EMP-[0-9A-Za-z]{1,16}$',
      description: 'Regular expression a scan must match to be taken as an operator badge.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const ApiSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address the HTTP API listens on. Keep 127.0.0.1 unless a reverse proxy or TLS is set up.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port of the HTTP API (0 = any free port).' }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 262_144, description: 'Largest accepted request body.' }),
  },
  { additionalProperties: false, default: {} },
);

export const SecuritySchema = Type.Object(
  {
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({ description: 'Path to the PEM certificate (chain).' }),
          key: Type.String({ description: 'Path to the PEM private key.' }),
        },
        { additionalProperties: false, description: 'Serve the API over HTTPS.' },
      ),
    ),
    adminTokenFile: Type.Optional(
      Type.String({ description: 'Where the first-start admin token is written (mode 0600). Default: <stateDir>/admin.token.' }),
    ),
    failedAuthLimit: Type.Object(
      {
        maxFailures: Type.Integer({ minimum: 1, default: 10, description: 'Failed authentications (unknown, disabled or malformed token) one source address may make within the window.' }),
        windowSeconds: Type.Integer({ minimum: 1, default: 60, description: 'Sliding window; once a source reaches maxFailures, every request from it that needs a token answers 429 until its oldest failure leaves the window.' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const StorageSchema = Type.Object(
  {
    stateDir: Type.String({
      default: '/var/lib/linegate',
      description: 'Folder for the journal (SQLite), settings, PKI and tokens. Under systemd use ${env:STATE_DIRECTORY}.',
    }),
    synchronous: Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL'), Type.Literal('EXTRA')], {
      default: 'FULL',
      description:
        'SQLite synchronous level. FULL (default) fsyncs every commit: an acknowledged record survives a power cut. NORMAL survives a crash of linegate but may lose the last commits on power loss.',
    }),
    auditCheckpointS: Type.Integer({
      minimum: 5,
      default: 300,
      description:
        'Every this many seconds (when the audit trail moved) the gateway signs a checkpoint of its head with its Ed25519 key, appends it to audit-checkpoints.jsonl and sends it upstream; also on every signature and at stop. `linegate audit verify` then detects a truncation of the newest entries.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const SigningSchema = Type.Object(
  {
    maxFailedAttempts: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'Failed signing attempts in a row that lock a user\'s signing (an admin unlocks it with their own signature).' }),
    passwordMinLength: Type.Integer({ minimum: 8, default: 10, description: 'Shortest signing password.' }),
    pinMinLength: Type.Integer({ minimum: 4, default: 6, description: 'Shortest signing PIN (digits only; no repeated digit or run).' }),
    maxAgeDays: Type.Integer({ minimum: 1, default: 180, description: 'A signing secret expires this many days after it was set; it must then be changed before the next signature.' }),
  },
  { additionalProperties: false, default: {}, description: 'Electronic signatures (21 CFR Part 11): policy for the signing secrets (argon2id), independent of API tokens.' },
);

export const ReconciliationSchema = Type.Object(
  {
    yieldLowerPct: Type.Number({ minimum: 0, maximum: 1000, default: 95, description: 'Yield (good ÷ planned) below this percentage is an exception QA acknowledges before release.' }),
    yieldUpperPct: Type.Number({ minimum: 0, maximum: 1000, default: 105, description: 'Yield above this percentage is an exception too (a count error is as suspect as a loss).' }),
  },
  { additionalProperties: false, default: {}, description: 'Batch reconciliation (SOP 5.4).' },
);

export const DeviationsSchema = Type.Object(
  {
    auto: Type.Object(
      {
        override: Type.Boolean({ default: true, description: 'A supervisor override of a refused lot raises a deviation.' }),
        toleranceAccepted: Type.Boolean({ default: true, description: "A weighing accepted over tolerance (station policy 'flag') raises a deviation for that material." }),
        counterDiscontinuity: Type.Boolean({ default: true, description: 'A counter discontinuity (preset or jump not booked as production) raises a deviation.' }),
        linkGapInExecute: Type.Boolean({ default: true, description: 'A machine link gap while the machine was in Execute raises a deviation.' }),
        reprint: Type.Boolean({ default: true, description: 'A label reprint raises a deviation.' }),
      },
      { additionalProperties: false, default: {}, description: 'Events that are deviations by nature and raise one by themselves.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Deviations (SOP 5.2.2).' },
);

export const BrokerSchema = Type.Object(
  {
    embedded: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Run an MQTT 3.1.1 broker (aedes) inside the gateway — for the demo or a line without a plant broker.' }),
        host: Type.String({ default: '127.0.0.1', description: 'Listen address of the embedded broker.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 1884, description: 'Listen port of the embedded broker (1883 is often taken by a plant broker).' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const LabelsSchema = Type.Object(
  {
    reprintMark: Type.String({ default: 'REPRINT', maxLength: 32, description: 'Text printed on a reprinted label.' }),
    ssccExtension: Type.String({ pattern: '^[0-9]$', default: '0', description: 'SSCC extension digit.' }),
    serialPrefix: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9-]{0,8}$',
        description: 'Prefix of every case serial (AI 21). Serials must be unique per GTIN company-wide: give each line its own. Default: "<line id>-".',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const LogSchema = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'pino log level. debug logs every raw reading.' },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const ProfilesSchema = Type.Object(
  {
    siteDir: Type.String({
      default: '/etc/linegate/devices',
      description:
        "The site's own device files, searched before the ones shipped with linegate: scanners/, scales/, machines/, printers/, labels/ as in the package's devices/. A file here wins over the packaged one of the same name; an upgrade never touches this folder. A missing folder is fine.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Where scanner and scale profiles, node maps, printer models and label templates are found.' },
);

/** Every device has these; the rest depends on `kind` (src/config/devices/). */
export const DeviceBaseSchema = Type.Object(
  {
    id: Id('Device identifier, e.g. line1.pack.scanner.'),
    kind: Type.String({ description: `Device kind: one of ${Object.keys(DEVICE_KINDS).join(', ')}.` }),
    station: Type.String({ description: 'Station the device belongs to (its readings bind to that station).' }),
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Set false to keep a device in the file without running it.' })),
  },
  { additionalProperties: true },
);

function configSchema<D extends TSchema, U extends TSchema>(devices: D, upstream: U) {
  return Type.Object(
    {
      $schema: Type.Optional(Type.String({ description: 'Path or URL of this schema, for editors.' })),
      site: SiteSchema,
      line: LineSchema,
      stations: Type.Array(StationSchema, { minItems: 1, description: 'The stations of the line.' }),
      devices: Type.Array(devices, { default: [], description: 'Scanners, scales, machines and printers; see devices/ for profiles.' }),
      profiles: ProfilesSchema,
      upstream,
      numbering: NumberingSchema,
      api: ApiSchema,
      security: SecuritySchema,
      storage: StorageSchema,
      signatures: SigningSchema,
      deviations: DeviationsSchema,
      reconciliation: ReconciliationSchema,
      broker: BrokerSchema,
      labels: LabelsSchema,
      log: LogSchema,
      ops: OpsSchema,
    },
    { additionalProperties: false, title: 'linegate configuration' },
  );
}

/** Used for validation: devices are checked by kind in a second pass, for readable errors. */
export const ConfigSchema = configSchema(DeviceBaseSchema, UpstreamConfigSchema);

/** Published JSON Schema: devices as a union of their kinds, so editors complete every field. */
export function publishedSchema(): TSchema {
  const kinds = Object.values(DEVICE_KINDS);
  return configSchema(kinds.length ? Type.Union(kinds) : DeviceBaseSchema, UpstreamConfig as TSchema);
}

export type SiteConfig = Static<typeof SiteSchema>;
export type StationConfig = Static<typeof StationSchema>;
export type DeviceConfig = Static<typeof DeviceBaseSchema> & Record<string, unknown>;
export type Config = Omit<Static<typeof ConfigSchema>, 'devices' | 'upstream'> & { devices: DeviceConfig[]; upstream: Static<typeof UpstreamConfig> };
