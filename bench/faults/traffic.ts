/**
 * Mixed line traffic against the rig, and the end-of-run checks shared by the fault scripts:
 * scans over the pty, loads over MQTT, labels over the API, the PLC's counters running. Each source
 * keeps what it sent and what the gateway acknowledged (see rig.ts for the definitions).
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { ackedLoads, countBeeps, loadOf, MAIN, netOf, ROOT, sleep, ZERO, type Figures, type Rig } from './rig.js';

export interface Rates {
  /** Pause between scans (each waits for its beep first), ms. */
  scanGapMs: number;
  /** Messages per second on the scale topic (a zero, then loads). */
  scaleHz: number;
  /** Messages per placement: zeros then loads, e.g. 10 at 10 Hz = one capture a second. */
  scaleCycle: number;
  /** Pause between label requests, ms. */
  labelGapMs: number;
  /** PLC good units per second. */
  plcPerSecond: number;
  /** Scale payloads carry the scale's own timestamp (`ts`); default true. */
  scaleTimestamps?: boolean;
}

export class Traffic {
  running = false;
  scansSent = 0;
  scansAcked = new Set<number>();
  /** When each scan got its beep (ms epoch). */
  scanAnsweredAt = new Map<number, number>();
  scansUnanswered = 0;
  loadsPublished = 0;
  labelsAsked = 0;
  labelsAcked: string[] = [];
  labelErrors = 0;
  private beepsSeen = 0;
  private loops: Promise<void>[] = [];
  private up = false;

  constructor(readonly rig: Rig, readonly rates: Rates) {}

  /** Whether the gateway is up (the harness says so; loops pause while it is down). */
  setUp(up: boolean): void {
    this.up = up;
  }

  start(): void {
    this.running = true;
    this.rig.line?.run(this.rates.plcPerSecond);
    this.loops = [this.scanLoop(), this.scaleLoop(), this.labelLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.rig.line?.run(0);
    await Promise.all(this.loops);
  }

  private async waitUp(): Promise<void> {
    while (this.running && !this.up) await sleep(20);
  }

  private beeps(): number {
    return countBeeps(this.rig.scanner.received());
  }

  private async scanLoop(): Promise<void> {
    while (this.running) {
      await this.waitUp();
      if (!this.running) break;
      const n = ++this.scansSent;
      const before = this.beeps();
      try {
        await this.rig.scanner.scan(`FLT-${n}`, { suffix: 'CRLF' });
      } catch {
        await sleep(100);
        continue;
      }
      const end = Date.now() + 5000;
      while (this.beeps() <= before && Date.now() < end && this.running) await sleep(5);
      if (this.beeps() > before) {
        this.scansAcked.add(n);
        this.scanAnsweredAt.set(n, Date.now());
        this.beepsSeen = this.beeps();
      } else {
        // No answer (killed?): wait until the gateway is back and settled, then any late beep is this scan's.
        this.scansUnanswered++;
        while (this.running && !this.up) await sleep(20);
        await sleep(3000);
        if (this.beeps() > before) {
          this.scansAcked.add(n);
          this.scanAnsweredAt.set(n, Date.now());
        }
        this.beepsSeen = this.beeps();
      }
      if (this.rates.scanGapMs) await sleep(this.rates.scanGapMs);
    }
  }

  private async scaleLoop(): Promise<void> {
    const gap = 1000 / this.rates.scaleHz;
    const zeros = Math.max(1, Math.floor(this.rates.scaleCycle / 2));
    let k = 0;
    let next = Date.now();
    while (this.running) {
      const phase = k % this.rates.scaleCycle;
      if (phase === zeros) this.loadsPublished++;
      // With the scale's own timestamp (`ts`, as json-generic scales send it) unless --scale-ts=0:
      // a redelivered message older than the state is then known as a replay (mqtt-scale driver).
      const bare = phase < zeros ? ZERO : loadOf(this.loadsPublished);
      const msg = this.rates.scaleTimestamps === false ? bare : `{"ts":"${new Date().toISOString()}",${bare.slice(1)}`;
      // The broker lives in this process: publishing goes on while the gateway is down (queued for its session).
      await this.rig.pub.publishAsync(this.rig.topic, msg, { qos: 1 }).catch(() => undefined);
      k++;
      next += gap;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  }

  private async labelLoop(): Promise<void> {
    while (this.running) {
      await this.waitUp();
      if (!this.running) break;
      this.labelsAsked++;
      try {
        const r = await this.rig.call('POST', '/stations/PACK-1/labels', { kind: 'case', netWeight: '6.000' }, 5000);
        if (r.status === 201 && r.body?.serial) this.labelsAcked.push(r.body.serial as string);
        else this.labelErrors++;
      } catch {
        this.labelErrors++;
      }
      await sleep(this.rates.labelGapMs);
    }
  }
}

/** Wait until the ERP has everything the journal owes it (outbox empty) — gateway running. */
export async function drained(rig: Rig, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  const db = rig.journal();
  try {
    while (Date.now() < end) {
      const p = (db.prepare(`SELECT count(*) AS n FROM outbox WHERE sink = 'erp' AND state <> 'delivered'`).get() as { n: number }).n;
      if (p === 0) return true;
      await sleep(250);
    }
    return false;
  } finally {
    db.close();
  }
}

/**
 * The checks at the end of a run (gateway stopped or running): acknowledged ⊆ journaled per source,
 * duplicates, ERP completeness by id, journal integrity, audit chain.
 */
export function check(rig: Rig, tr: Traffic): Figures {
  const out: Figures = {};
  const db: Database.Database = rig.journal();
  try {
    const scanRows = db.prepare(`SELECT payload FROM records WHERE device = 'weigh.scanner'`).all() as Array<{ payload: string }>;
    const scanCount = new Map<number, number>();
    for (const r of scanRows) {
      const m = /FLT-(\d+)/.exec(r.payload);
      if (m) scanCount.set(Number(m[1]), (scanCount.get(Number(m[1])) ?? 0) + 1);
    }
    out.scans_sent = tr.scansSent;
    out.scans_acknowledged = tr.scansAcked.size;
    out.scans_journaled = scanCount.size;
    out.scans_acknowledged_not_journaled = [...tr.scansAcked].filter((n) => !scanCount.has(n)).length;
    out.scans_journaled_twice = [...scanCount.values()].filter((c) => c > 1).length;

    const loadRows = db.prepare(`SELECT json_extract(payload,'$.net') AS n FROM records WHERE type = 'material.consumed'`).all() as Array<{ n: string | null }>;
    const loadCount = new Map<string, number>();
    for (const r of loadRows) if (r.n) loadCount.set(r.n, (loadCount.get(r.n) ?? 0) + 1);
    const acked = ackedLoads(rig.proxy);
    out.loads_published = tr.loadsPublished;
    out.loads_acknowledged = acked.size;
    out.loads_journaled = loadCount.size;
    out.loads_acknowledged_not_journaled = [...acked].filter((n) => !loadCount.has(n)).length;
    out.loads_journaled_twice = [...loadCount.values()].filter((c) => c > 1).length;
    // Loads the broker delivered (first time) after a later one: the order the placement logic sees.
    let maxSeen = 0;
    let reordered = 0;
    const seenOnce = new Set<string>();
    for (const d of rig.proxy.delivered) {
      const g = /"gross":([\d.]+)/.exec(d.payload)?.[1];
      if (!g || Number(g) === 0 || seenOnce.has(g)) continue;
      seenOnce.add(g);
      const i = Math.round((Number(g) - 1) * 1000);
      if (i < maxSeen) reordered++;
      maxSeen = Math.max(maxSeen, i);
    }
    out.loads_delivered_out_of_order = reordered;
    const lost = [...acked].filter((n) => !loadCount.has(n));
    if (lost.length) out.loads_acknowledged_not_journaled_first = lost.slice(0, 10).join(' ');
    // A load starts a placement only after a zero: a load delivered right after another load on the
    // same connection (the broker dropped the zero between them: Mosquitto's max_queued_messages)
    // is, by the placement rules, the same placement — acknowledged without a record by design.
    const afterZero = new Set<string>();
    const prevOnConn = new Map<number, string>();
    for (const d of rig.proxy.delivered) {
      const g = /"gross":([\d.]+)/.exec(d.payload)?.[1];
      const prev = prevOnConn.get(d.conn ?? 0);
      if (g && Number(g) !== 0 && (prev === undefined || prev === '0' || d.dup)) afterZero.add(Number(g).toFixed(3));
      if (g) prevOnConn.set(d.conn ?? 0, Number(g) === 0 ? '0' : g);
    }
    out.loads_acknowledged_not_journaled_after_a_zero = lost.filter((n) => afterZero.has(n)).length;
    out.loads_acknowledged_without_a_zero_before = lost.filter((n) => !afterZero.has(n)).length;
    const delivered = new Set(rig.proxy.delivered.map((d) => /"gross":([\d.]+)/.exec(d.payload)?.[1]).filter((g): g is string => !!g && Number(g) !== 0).map((g) => Number(g).toFixed(3)));
    out.loads_never_delivered_by_broker = Array.from({ length: tr.loadsPublished }, (_, i) => netOf(i + 1)).filter((n) => !delivered.has(n)).length;
    const all = Array.from({ length: tr.loadsPublished }, (_, i) => netOf(i + 1));
    out.loads_published_not_journaled = all.filter((n) => !loadCount.has(n)).length;

    const labelRows = new Set((db.prepare(`SELECT serial FROM labels`).all() as Array<{ serial: string }>).map((r) => r.serial));
    out.labels_asked = tr.labelsAsked;
    out.labels_acknowledged = tr.labelsAcked.length;
    out.labels_acknowledged_not_journaled = tr.labelsAcked.filter((s) => !labelRows.has(s)).length;
    const printedBySerial = new Map<string, number>();
    for (const j of rig.printer.jobs) {
      const m = /L1-\d+/.exec(j.zpl);
      if (m) printedBySerial.set(m[0], (printedBySerial.get(m[0]) ?? 0) + 1);
    }
    out.labels_acknowledged_not_printed = tr.labelsAcked.filter((s) => !printedBySerial.has(s)).length;
    out.labels_printed_twice = [...printedBySerial.values()].filter((c) => c > 1).length;
    const jobStates = db.prepare(`SELECT state, count(*) AS n FROM print_jobs GROUP BY state`).all() as Array<{ state: string; n: number }>;
    out.print_job_states = jobStates.map((s) => `${s.state}=${s.n}`).join(' ');

    if (rig.line) {
      const b = db.prepare(`SELECT produced_qty AS p FROM batches WHERE number = ?`).get(rig.batch) as { p: string } | undefined;
      const first = db.prepare(`SELECT json_extract(payload,'$.value') AS v FROM records WHERE type = 'counter.updated' AND json_extract(payload,'$.counter') = 'good' ORDER BY seq LIMIT 1`).get() as { v: string } | undefined;
      const disc = (db.prepare(`SELECT count(*) AS n FROM records WHERE type = 'counter.discontinuity'`).get() as { n: number }).n;
      out.plc_good_counter = rig.line.good;
      out.plc_first_value_recorded = first?.v ?? 'none';
      out.batch_produced_qty = b?.p ?? 'none';
      out.plc_advance_minus_produced = first && b ? rig.line.good - Number(first.v) - Number(b.p) : 'n/a';
      out.counter_discontinuities = disc;
    }

    const owed = db.prepare(`SELECT r.id FROM outbox o JOIN records r ON r.seq = o.seq WHERE o.sink = 'erp'`).all() as Array<{ id: string }>;
    const ids = new Set(owed.map((r) => r.id));
    const rep = rig.erp.report();
    const erpIds = new Set(rig.erp.events({ limit: 10_000_000 }).map((e) => e.id));
    out.records_journaled = (db.prepare(`SELECT count(*) AS n FROM records`).get() as { n: number }).n;
    out.records_owed_to_erp = ids.size;
    out.records_missing_at_erp = [...ids].filter((i) => !erpIds.has(i)).length;
    out.erp_ids_not_in_journal = [...erpIds].filter((i) => !ids.has(i)).length;
    out.erp_unique = rep.unique;
    out.erp_resends_deduplicated = rep.duplicates;
    out.erp_order_violations = rep.orderViolations;
    out.journal_integrity = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
  const v = spawnSync(process.execPath, [MAIN, 'audit', 'verify', '--config', rig.configFile], { cwd: ROOT, encoding: 'utf8' });
  out.audit_verify = `exit ${v.status}: ${(v.stdout + v.stderr).trim().split('\n').slice(-1)[0]}`;
  return out;
}
