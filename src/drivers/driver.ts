import { EventEmitter } from 'node:events';
import type { ErrorCode } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Reading } from '../readings/reading.js';

/**
 * The contract every device driver implements (modelled on homebridge's plugin interface and
 * zigbee2mqtt's data-driven definitions). A driver turns a device's bytes or values into
 * `Reading`s; it never decides what a reading means for a batch (that is the binder's job) and
 * never blocks start-up on absent hardware.
 */
export type DriverState = 'stopped' | 'connecting' | 'online' | 'degraded' | 'offline' | 'stopping';

export interface DriverError {
  code: ErrorCode;
  message: string;
  at: string;
}

export interface DriverHealth {
  id: string;
  kind: string;
  state: DriverState;
  /** ISO time the state was entered. */
  since: string;
  lastReadingAt: string | null;
  lastError: DriverError | null;
  /** Driver-specific facts (port path, endpoint, printer status…). */
  details: Record<string, unknown>;
}

/** Readings are the contract between drivers and binders: defined in src/readings/reading.ts. */
export type { MachineReading, Reading, ReadingBase, ScanReading, WeightReading } from '../readings/reading.js';

export interface DeviceDriver<R extends Reading = Reading> {
  readonly id: string;
  readonly kind: string;
  /** Begins the connect loop and returns; never blocks on absent hardware. */
  start(signal: AbortSignal): Promise<void>;
  /** Idempotent and bounded in time. */
  stop(): Promise<void>;
  health(): DriverHealth;
  on(e: 'reading', cb: (r: R) => void): this;
  on(e: 'state', cb: (h: DriverHealth) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(e: 'reading' | 'state', cb: (...args: any[]) => void): this;
  /**
   * Optional feedback to the device after the verdict (e.g. good/bad beep on a scanner).
   * Must never throw; a device that cannot take feedback ignores it.
   */
  feedback?(verdict: { accepted: boolean; code?: string | null }): void;
}

export interface DriverContext {
  logger: Logger;
  clock?: Clock;
}

/**
 * Base class holding the one state variable and its bookkeeping. Subclasses call `setState`,
 * `setError` and `emitReading`; nothing else changes the state.
 */
export abstract class BaseDriver<R extends Reading = Reading> extends EventEmitter implements DeviceDriver<R> {
  private _state: DriverState = 'stopped';
  private _since: Date;
  private _lastReadingAt: Date | null = null;
  private _lastError: DriverError | null = null;
  protected readonly clock: Clock;
  protected readonly logger: Logger;

  constructor(
    readonly id: string,
    readonly kind: string,
    ctx: DriverContext,
  ) {
    super();
    this.clock = ctx.clock ?? systemClock;
    this.logger = ctx.logger.child({ component: 'driver', deviceId: id, kind });
    this._since = this.clock.now();
  }

  abstract start(signal: AbortSignal): Promise<void>;
  abstract stop(): Promise<void>;

  get state(): DriverState {
    return this._state;
  }

  protected setState(next: DriverState): void {
    if (next === this._state) return;
    const prev = this._state;
    this._state = next;
    this._since = this.clock.now();
    const level = next === 'offline' || next === 'degraded' ? 'warn' : 'info';
    this.logger[level]({ from: prev, to: next }, `${this.kind} ${this.id} is ${next}`);
    this.emit('state', this.health());
  }

  protected setError(code: ErrorCode, message: string): void {
    this._lastError = { code, message, at: this.clock.now().toISOString() };
  }

  protected emitReading(r: R): void {
    this._lastReadingAt = r.receivedAt;
    this.emit('reading', r);
  }

  /** Driver-specific facts for health(); override to add. */
  protected details(): Record<string, unknown> {
    return {};
  }

  health(): DriverHealth {
    return {
      id: this.id,
      kind: this.kind,
      state: this._state,
      since: this._since.toISOString(),
      lastReadingAt: this._lastReadingAt ? this._lastReadingAt.toISOString() : null,
      lastError: this._lastError,
      details: this.details(),
    };
  }
}
