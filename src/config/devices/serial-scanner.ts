/**
 * Config schema of a barcode scanner on a serial line (`kind: serial-scanner`), and the schema of
 * the scanner profiles in `devices/scanners/*.yaml`.
 *
 * Split of responsibilities (zigbee2mqtt-style "definitions as data"):
 * - the PROFILE says how a scanner model frames its data (baud rate, suffix, max length, beep
 *   commands); supporting a new model is a new YAML file, no code;
 * - the CONFIG says where one physical scanner is (station, device path or device server) and may
 *   override profile fields for that one unit (e.g. a scanner someone reprogrammed to 9600 baud).
 * Precedence for the line settings: `transport.baudRate…` > `overrides.baudRate…` > profile.
 */
import { Type, type Static } from '@sinclair/typebox';

export const ScannerTerminator = Type.Union(
  [Type.Literal('CR'), Type.Literal('LF'), Type.Literal('CRLF'), Type.Literal('none')],
  {
    description:
      'Suffix that ends every scan: CR (0x0D), LF (0x0A), CRLF (0x0D 0x0A) or none. With `none` a scan ends when the line is silent for `interCharTimeoutMs`.',
  },
);
export type ScannerTerminator = Static<typeof ScannerTerminator>;

export const ScannerParity = Type.Union(
  [Type.Literal('none'), Type.Literal('even'), Type.Literal('odd'), Type.Literal('mark'), Type.Literal('space')],
  { description: 'Parity bit of the serial line.' },
);

const BaudRate = Type.Integer({
  minimum: 50,
  maximum: 4_000_000,
  description: 'Serial line speed in bit/s (ignored by USB-CDC virtual ports, which run at USB speed, but must still be a valid value).',
});
const DataBits = Type.Union([Type.Literal(5), Type.Literal(6), Type.Literal(7), Type.Literal(8)], {
  description: 'Data bits per character (scanners sending GS1 data need 8, or 7 with parity for 7-bit ASCII hosts).',
});
const StopBits = Type.Union([Type.Literal(1), Type.Literal(1.5), Type.Literal(2)], { description: 'Stop bits per character.' });

/** Hex bytes as written in a profile: "1B 37 2C", "07", "1b372c". */
const HexBytes = (description: string) =>
  Type.String({ pattern: '^\\s*([0-9A-Fa-f]{2}\\s*)+$', description });

export const ScannerFeedback = Type.Object(
  {
    good: Type.Optional(HexBytes('Bytes written to the scanner when a scan is accepted (hex, e.g. "1B 37 2C"). Leave out when the model has no host-commanded beep.')),
    bad: Type.Optional(HexBytes('Bytes written to the scanner when a scan is refused (hex). Leave out when the model has no host-commanded error tone.')),
  },
  { additionalProperties: false, description: 'Host commands for good/bad beeps. Written only while the port is open; never queued while the scanner is offline.' },
);

/** The framing and line fields a profile defines and a device config may override. */
const settingsProperties = {
  baudRate: BaudRate,
  dataBits: DataBits,
  parity: ScannerParity,
  stopBits: StopBits,
  terminator: ScannerTerminator,
  interCharTimeoutMs: Type.Optional(
    Type.Integer({
      minimum: 5,
      maximum: 10_000,
      description:
        'Only with terminator `none` (and then required): a scan ends after this many ms without a byte. Pick it above the scanner\'s inter-character gap and below the time between two scans (e.g. 50). A profile file may not set it together with a terminator; when a device override switches to a terminator it is ignored.',
    }),
  ),
  staleFrameMs: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 1000,
    description:
      'Only with a terminator: bytes that sat this many ms without their terminator are delivered as one rejected scan (LG_ERR_SCAN_UNPARSEABLE, "incomplete") so the next scan starts clean. 0 = never (the stale bytes are then prefixed to the next scan, which will be rejected).',
  }),
  maxFrameBytes: Type.Integer({
    minimum: 16,
    maximum: 1_048_576,
    default: 4096,
    description:
      'Longest scan accepted, in bytes without the terminator. A longer one becomes ONE rejected scan (LG_ERR_SCAN_TOO_LONG, keeping its first bytes) and the driver resynchronises at the next terminator.',
  }),
  fnc1Substitute: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 1,
      description:
        'Character the scanner sends in place of FNC1/GS (0x1D) when it cannot send GS (some keyboard-style configurations use e.g. "~" or "|"). Passed to the GS1 parser; the driver never rewrites bytes.',
    }),
  ),
  aimIds: Type.Boolean({
    default: false,
    description: 'Whether the scanner is programmed to prefix every scan with its AIM symbology identifier (]C1, ]d2, ]Q3…). Recommended for GS1: without it GS1 data cannot be told from plain text reliably.',
  }),
  feedback: Type.Optional(ScannerFeedback),
};

export const ScannerProfileSettings = Type.Object(settingsProperties, { additionalProperties: false });
export type ScannerProfileSettings = Static<typeof ScannerProfileSettings>;

/** A file devices/scanners/<name>.yaml. */
export const ScannerProfileSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'Profile name; must equal the file name without .yaml.' }),
    description: Type.String({ minLength: 1, description: 'What scanner (and which programming of it) this profile describes.' }),
    vendor: Type.Optional(Type.String({ description: 'Manufacturer.' })),
    models: Type.Optional(Type.Array(Type.String(), { description: 'Models known to work with this profile.' })),
    source: Type.Optional(Type.String({ description: 'Where the settings come from (manual, page) so the next engineer can check them.' })),
    setup: Type.Optional(Type.String({ description: 'How to program the scanner to match this profile (human instructions, shown in docs).' })),
    ...settingsProperties,
  },
  { additionalProperties: false, description: 'A scanner profile: how one scanner model frames and terminates its data.' },
);
export type ScannerProfileFile = Static<typeof ScannerProfileSchema>;

/**
 * Per-device overrides: any profile setting, each optional. `feedback` replaces the profile's object wholesale.
 * The fields carry NO defaults (issue 10.11): a default here would be filled in by the config loader and
 * win over the profile (every profile's beeps and `aimIds: true` were lost). Only what the user wrote
 * overrides; the defaults apply to the profile file, where they belong.
 */
export const ScannerProfileOverrides = Type.Partial(
  Type.Object(
    Object.fromEntries(
      Object.entries(settingsProperties).map(([k, v]) => {
        // Object rest keeps TypeBox's symbol keys (Kind, Optional): only `default` goes.
        const { default: _dropped, ...rest } = v as typeof v & { default?: unknown };
        return [k, rest];
      }),
    ) as unknown as typeof settingsProperties,
    { additionalProperties: false },
  ),
  {
    additionalProperties: false,
    description: 'Profile settings to override for this one scanner (e.g. { terminator: CR, maxFrameBytes: 512 }).',
  },
);
export type ScannerProfileOverrides = Static<typeof ScannerProfileOverrides>;

export const SerialTransportConfig = Type.Object(
  {
    type: Type.Literal('serial', { description: 'A local serial port (RS-232 adapter or USB-CDC virtual COM port).' }),
    path: Type.String({
      minLength: 1,
      description:
        'Device path. Use a stable name: /dev/serial/by-id/usb-… or a udev symlink such as /dev/linegate/scanner-pack1 (see systemd/99-linegate-scanners.rules), never /dev/ttyACM0, whose number changes with plug order.',
    }),
    baudRate: Type.Optional(BaudRate),
    dataBits: Type.Optional(DataBits),
    parity: Type.Optional(ScannerParity),
    stopBits: Type.Optional(StopBits),
  },
  { additionalProperties: false, description: 'Serial port transport. Line settings left out come from the profile (then overrides).' },
);

export const TcpTransportConfig = Type.Object(
  {
    type: Type.Literal('tcp', { description: 'A serial device server (Moxa NPort, Lantronix…) in TCP server / raw socket mode; linegate connects as the client.' }),
    host: Type.String({ minLength: 1, description: 'Host name or IP address of the device server.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port of the serial channel on the device server (Moxa default 4001 for port 1).' }),
  },
  { additionalProperties: false, description: 'Raw TCP transport to a serial device server. Baud rate and parity are set on the device server, not here.' },
);

export const SerialScannerConfig = Type.Object(
  {
    kind: Type.Literal('serial-scanner', { description: 'Device kind: a barcode scanner on a serial line (local port or device server).' }),
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$', description: 'Device id, unique in the gateway ("line1.pack.scanner"); appears in every record and log line.' }),
    station: Type.String({ minLength: 1, description: 'Station this scanner belongs to (WEIGH-1, PACK-1); decides how its scans are classified and bound.' }),
    profile: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[a-z0-9][a-z0-9._-]*$',
        default: 'generic-usb-cdc',
        description: 'Scanner profile: the name of a file devices/scanners/<profile>.yaml (framing, suffix, beep commands). Default generic-usb-cdc.',
      }),
    ),
    transport: Type.Union([SerialTransportConfig, TcpTransportConfig], { description: 'Where the scanner is connected.' }),
    overrides: Type.Optional(ScannerProfileOverrides),
  },
  { additionalProperties: false, description: 'A barcode scanner on a serial port or behind a serial device server.' },
);
export type SerialScannerConfig = Static<typeof SerialScannerConfig>;
