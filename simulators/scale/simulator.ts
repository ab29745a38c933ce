/**
 * A scale publishing realistic streams over MQTT: it publishes its display continuously at
 * `rateHz` (10 Hz like real indicators; tests use more), with a damped settle curve and noise
 * while a load settles, a stable flag once it has settled, tare, overload above capacity, and
 * malformed payloads on demand. Scriptable (`place`, `remove`, `tare`, `sendRaw`) for tests and
 * run in a loop by main.ts for the demo.
 *
 * Formats: `json` (devices/scales/json-generic.yaml), `value` (json-value.yaml, no stable flag),
 * `ascii` (ascii-st-gs.yaml: "ST,GS,+0001.250kg", "US,NT,-0000.015kg", "OL,GS,+          ").
 * Weights are integers of display divisions internally (no float drift in what is published).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { mulberry32 } from '../../src/util/random.js';

export type ScaleFormat = 'json' | 'value' | 'ascii';

export interface ScaleSimulatorOptions {
  url: string;
  topic: string;
  format?: ScaleFormat;
  rateHz?: number;
  qos?: 0 | 1;
  clientId?: string;
  /** Display decimals in kg (3 → 1 g divisions). */
  decimals?: number;
  /** Capacity in kg; above it the scale reports overload. */
  capacityKg?: number;
  /** Peak noise while unstable, in divisions. */
  noiseDivisions?: number;
  /** Seed for the noise (deterministic streams). */
  seed?: number;
  /** Publish continuously (true) or only while something changes (false: only on scripted events). */
  continuous?: boolean;
  reconnectPeriodMs?: number;
}

interface Motion {
  from: number; // divisions
  to: number;
  start: number; // ms
  settleMs: number;
}

export class ScaleSimulator {
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private gross = 0; // divisions
  private tareDiv = 0;
  private motion: Motion | null = null;
  private rng: () => number;
  private readonly div: number;
  readonly format: ScaleFormat;
  published = 0;

  constructor(private readonly o: ScaleSimulatorOptions) {
    this.format = o.format ?? 'json';
    this.div = 10 ** (o.decimals ?? 3);
    this.rng = mulberry32(o.seed ?? 12345);
  }

  async start(): Promise<void> {
    if (this.client) return;
    const c = mqtt.connect(this.o.url, {
      clientId: this.o.clientId ?? `scale-sim-${process.pid}-${Math.floor(this.rng() * 1e9)}`,
      reconnectPeriod: this.o.reconnectPeriodMs ?? 1000,
      connectTimeout: 5000,
    });
    this.client = c;
    c.on('error', () => undefined); // reconnects by itself; errors are expected while a broker restarts
    await new Promise<void>((resolve) => c.once('connect', () => resolve()));
    if (this.o.continuous !== false) {
      this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / (this.o.rateHz ?? 10))));
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    if (!c) return;
    // A clean DISCONNECT when connected; forced when the broker is gone (end() would wait for it).
    await new Promise<void>((r) => {
      const t = setTimeout(() => c.end(true, {}, () => r()), c.connected ? 1000 : 0);
      c.end(!c.connected, {}, () => {
        clearTimeout(t);
        r();
      });
    });
  }

  /** Put a load on the platform (gross, kg); resolves once it has been stable for `holdMs`. */
  async place(weightKg: number | string, opts: { settleMs?: number; holdMs?: number } = {}): Promise<void> {
    const to = Math.round(Number(weightKg) * this.div);
    await this.moveTo(to, opts.settleMs ?? 1200, opts.holdMs ?? 500);
  }

  /** Take everything off (gross 0). */
  async remove(opts: { settleMs?: number; holdMs?: number } = {}): Promise<void> {
    await this.moveTo(0, opts.settleMs ?? 600, opts.holdMs ?? 300);
  }

  /** Tare: the current gross becomes the tare (net 0). */
  tare(): void {
    this.tareDiv = this.gross;
  }

  clearTare(): void {
    this.tareDiv = 0;
  }

  /** Publish any payload as is (malformed JSON, huge payloads, NaN…). */
  async sendRaw(payload: string | Buffer, qos: 0 | 1 = this.o.qos ?? 1): Promise<void> {
    await this.publish(payload, qos);
  }

  /** The payload the scale would publish for a display state (exported for tests and bench). */
  render(grossDiv: number, tareDiv: number, stable: boolean): string {
    const d = this.o.decimals ?? 3;
    const fmt = (v: number): string => {
      const neg = v < 0;
      const s = Math.abs(v).toString().padStart(d + 1, '0');
      return (neg ? '-' : '') + (d > 0 ? `${s.slice(0, s.length - d)}.${s.slice(s.length - d)}` : s);
    };
    const over = this.o.capacityKg !== undefined && grossDiv > this.o.capacityKg * this.div;
    const net = grossDiv - tareDiv;
    if (this.format === 'ascii') {
      if (over) return 'OL,GS,+          \r\n';
      const v = tareDiv !== 0 ? net : grossDiv;
      const body = fmt(Math.abs(v)).padStart(8, '0');
      return `${stable ? 'ST' : 'US'},${tareDiv !== 0 ? 'NT' : 'GS'},${v < 0 ? '-' : '+'}${body}kg\r\n`;
    }
    if (this.format === 'value') return `{"value":${fmt(grossDiv)},"unit":"kg","ts":${Date.now()}}`;
    return `{"ts":"${new Date().toISOString()}","weight":{"gross":${fmt(grossDiv)},"tare":${fmt(tareDiv)},"net":${fmt(net)},"unit":"kg","stable":${stable}},"status":{"overload":${over},"underload":false}}`;
  }

  /** Publish the current display once (used when not continuous). */
  async publishNow(): Promise<void> {
    const { gross, stable } = this.display(Date.now());
    await this.publish(this.render(gross, this.tareDiv, stable), this.o.qos ?? 1);
  }

  private async moveTo(to: number, settleMs: number, holdMs: number): Promise<void> {
    this.motion = { from: this.gross, to, start: Date.now(), settleMs };
    await sleep(settleMs + holdMs);
  }

  private display(now: number): { gross: number; stable: boolean } {
    const m = this.motion;
    if (!m) return { gross: this.gross, stable: true };
    const t = now - m.start;
    if (t >= m.settleMs) {
      this.gross = m.to;
      this.motion = null;
      return { gross: m.to, stable: true };
    }
    // Damped oscillation around the target (overshoot ~20 %), plus noise.
    const x = t / m.settleMs;
    const span = m.to - m.from;
    const curve = m.to - span * Math.exp(-4 * x) * Math.cos(3 * Math.PI * x);
    const noise = (this.rng() - 0.5) * 2 * (this.o.noiseDivisions ?? 3);
    this.gross = Math.round(curve + noise);
    return { gross: this.gross, stable: false };
  }

  private tick(): void {
    const { gross, stable } = this.display(Date.now());
    void this.publish(this.render(gross, this.tareDiv, stable), this.o.qos ?? 1).catch(() => undefined);
  }

  private publish(payload: string | Buffer, qos: 0 | 1): Promise<void> {
    const c = this.client;
    if (!c) return Promise.reject(new Error('simulator not started'));
    this.published++;
    return new Promise<void>((resolve, reject) => c.publish(this.o.topic, payload, { qos }, (err) => (err ? reject(err) : resolve())));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
