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

export type Reading = ScanReading | WeightReading | MachineReading;
