/**
 * Readings: what a device said, with its timestamps — the contract between drivers and binders.
 * Drivers (src/drivers/) produce them; the pure binders (src/binding/) consume them. They live in
 * the core, with the pure conversions on them (units.ts, packml.ts), so that binding never
 * depends on drivers (ARCHITECTURE.md, "Readings are the contract").
 */
import type { ErrorCode } from '../errors.js';

/** What every reading carries. `kind` says which payload shape follows. */
export interface ReadingBase {
  /** Config id of the device ("line1.pack.scanner"). */
  deviceId: string;
  /** Gateway receive time. */
  receivedAt: Date;
  /** The device's own timestamp, when it sends one. */
  sourceTime?: Date | null;
  /**
   * A driver-level fault in this reading (overlong frame, unparseable payload…). The reading is
   * still delivered so that it becomes a rejected record: nothing a device said is dropped.
   */
  error?: { code: ErrorCode; message: string; details?: Record<string, unknown> } | null;
}

/** A barcode scan: the frame's bytes exactly as received, without the terminator. */
export interface ScanReading extends ReadingBase {
  kind: 'scan';
  raw: Buffer;
}

/** A scale capture (one per placement) or a refused weight; quantities as exact decimal strings. */
export interface WeightReading extends ReadingBase {
  kind: 'weight';
  value: {
    net: string;
    tare: string;
    gross: string;
    unit: string;
    stable: boolean;
  } | null;
  raw?: string;
}

/** A value from a machine (OPC UA): PackML state, counters, speed, stop reason, link events. */
export interface MachineReading extends ReadingBase {
  kind: 'machine';
  /** Logical field from the node map: 'state', 'goodCount', 'rejectCount', 'speed', 'stopReason', 'unitMode', 'link'. */
  field: string;
  value: unknown;
  serverTime?: Date | null;
  /** Extra facts (node id, status code, skew ms, link gap…). */
  meta?: Record<string, unknown>;
}

/**
 * A declared process value (issue 18) the driver's filter (src/domain/process-value.ts) decided to
 * record: a change beyond the deadband, a heartbeat, the first sample — or garbage, as `error`.
 */
export interface ValueReading extends ReadingBase {
  kind: 'value';
  /** Declared name ("jacket_temp"), unique per device. */
  name: string;
  /** The number, or null when the sample was garbage (then `error` says why). */
  value: number | null;
  unit: string;
  quality: 'good' | 'uncertain' | 'bad';
  /** Why it was recorded: first | change | heartbeat | trailing. */
  reason: string | null;
  /** Where it came from: the MQTT topic or the OPC UA node id, and the source's quality text. */
  source: { topic?: string; nodeId?: string; quality?: string };
  /** The payload as received (truncated), for rejected samples. */
  raw?: string;
  /**
   * The MQTT message whose sample this records (packet id, payload hash, applied at ms): journaled
   * with the value's state, so redelivered messages up to it are not recorded a second time after
   * a crash (src/drivers/redelivery-window.ts).
   */
  through?: { id: number; hash: string; at: number } | null;
}

export type Reading = ScanReading | WeightReading | MachineReading | ValueReading;
