/**
 * half-open — a blackhole TCP proxy (simulators/blackhole-proxy.ts) between the gateway and its MQTT
 * broker, and another between the gateway and the ERP; each in turn stops forwarding WITHOUT closing
 * (no FIN, no RST), while scans, loads and labels keep coming. Measured per link: when health first
 * says something is wrong and what, when the connection is declared dead (bounds: the scale's MQTT
 * keepalive, 15 s, and the HTTP sink's request timeout, `upstream.sinks[].timeoutMs`, default 10 s),
 * then the link is restored: when it is back, and that everything published or journaled meanwhile
 * arrives (nothing acknowledged lost, the ERP gets every record).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startBlackholeProxy, type BlackholeProxy } from '../../simulators/blackhole-proxy.js';
import { loadAvg, netOf, num, Rig, sleep, until, type Args, type Figures } from './rig.js';
import { check, drained, Traffic } from './traffic.js';

interface Snap {
  scale: string;
  scaleError: string;
  sink: string;
  sinkError: string;
  backlog: number;
}

export async function halfOpen(args: Args): Promise<Figures> {
  const holdS = num(args, 'hold-s', 60);
  const dir = mkdtempSync(join(resolve('var'), 'faults-half-open-'));
  let bhMqtt: BlackholeProxy | null = null;
  let bhErp: BlackholeProxy | null = null;
  const rig = new Rig({
    dir,
    broker: args.broker === 'aedes' ? 'aedes' : 'mosquitto',
    noMachine: true,
    brokerUrl: async (proxy) => {
      bhMqtt = await startBlackholeProxy(Number(new URL(proxy.url).port));
      return bhMqtt.url('mqtt');
    },
    erpUrl: async (erp) => {
      bhErp = await startBlackholeProxy(erp.port);
      return bhErp.url('http', '/events');
    },
  });
  const out: Figures = { started: new Date().toISOString(), load_at_start: loadAvg() };
  try {
    await rig.start();
    await rig.spawn();
    await rig.seed();
    await until(() => rig.devicesOnline(), 60_000, 'devices online', 200);
    const tr = new Traffic(rig, { scanGapMs: 200, scaleHz: 10, scaleCycle: 4, labelGapMs: 500, plcPerSecond: 0 });
    tr.setUp(true);
    tr.start();
    await sleep(5000);
    const snap = async (): Promise<Snap> => {
      const r = await rig.call('GET', '/health/ready', undefined, 3000);
      const d = (r.body?.subsystems?.drivers as Array<{ id: string; state: string; lastError?: { code: string } }>).find((x) => x.id === 'weigh.scale')!;
      const s = (r.body?.subsystems?.upstream?.sinks as Array<{ state: string; lastError?: { code: string } | null; backlog: number }>)[0]!;
      return { scale: d.state, scaleError: d.lastError?.code ?? '', sink: s.state, sinkError: s.lastError?.code ?? '', backlog: s.backlog };
    };
    const watch = async (what: (s: Snap) => string | null, ms: number): Promise<Array<{ atMs: number; event: string }>> => {
      const t0 = Date.now();
      const events: Array<{ atMs: number; event: string }> = [];
      let last = '';
      while (Date.now() - t0 < ms) {
        const s = await snap().catch(() => null);
        if (s) {
          const e = what(s);
          if (e && e !== last) {
            events.push({ atMs: Date.now() - t0, event: e });
            last = e;
          }
          if (e === 'DONE') break;
        }
        await sleep(100);
      }
      return events;
    };
    const fmt = (ev: Array<{ atMs: number; event: string }>): string => ev.map((e) => `${(e.atMs / 1000).toFixed(1)} s ${e.event}`).join('; ');

    // ── MQTT ────────────────────────────────────────────────────────────────
    const ackedBefore = rig.proxy.acked.length;
    bhMqtt!.blackhole();
    const mq = await watch((s) => (s.scale === 'offline' ? 'DONE' : `${s.scale}${s.scaleError ? ' ' + s.scaleError : ''}`), holdS * 1000);
    out.mqtt_health_after_blackhole = fmt(mq);
    out.mqtt_declared_offline_after_s = mq.find((e) => e.event === 'DONE') ? (mq.find((e) => e.event === 'DONE')!.atMs / 1000).toFixed(1) : `not within ${holdS} s`;
    out.mqtt_client_closed_half_open_socket_after_s = bhMqtt!.clientClosedAfterMs.map((m) => (m / 1000).toFixed(1)).join(' ') || 'never';
    out.mqtt_pubacks_through_blackhole = rig.proxy.acked.length - ackedBefore;
    await sleep(5000);
    bhMqtt!.restore();
    const tR = Date.now();
    await until(async () => (await snap().catch(() => null))?.scale === 'online', 120_000, 'scale online again', 100).catch(() => undefined);
    out.mqtt_online_after_restore_s = ((Date.now() - tR) / 1000).toFixed(1);
    const db = rig.journal();
    const journaledLoads = (): Set<string> => new Set((db.prepare(`SELECT json_extract(payload,'$.net') AS n FROM records WHERE type = 'material.consumed'`).all() as Array<{ n: string }>).map((r) => r.n));
    const pubNow = tr.loadsPublished;
    await until(
      () => {
        const have = journaledLoads();
        for (let i = 1; i <= pubNow; i++) if (!have.has(netOf(i))) return false;
        return true;
      },
      120_000,
      'loads of the outage journaled',
      250,
    )
      .then(() => (out.mqtt_loads_of_outage_journaled_after_restore_s = ((Date.now() - tR) / 1000).toFixed(1)))
      .catch((e: Error) => (out.mqtt_loads_of_outage = e.message));

    // ── ERP ─────────────────────────────────────────────────────────────────
    bhErp!.blackhole();
    const up = await watch((s) => (s.sink === 'backoff' ? 'DONE' : `${s.sink}${s.sinkError ? ' ' + s.sinkError : ''} backlog ${s.backlog > 0 ? '>0' : '0'}`), holdS * 1000);
    out.erp_health_after_blackhole = fmt(up);
    out.erp_backoff_after_s = up.find((e) => e.event === 'DONE') ? (up.find((e) => e.event === 'DONE')!.atMs / 1000).toFixed(1) : `not within ${holdS} s`;
    const s1 = await snap();
    out.erp_health_error = s1.sinkError;
    out.erp_client_closed_half_open_sockets_after_s = bhErp!.clientClosedAfterMs.map((m) => (m / 1000).toFixed(1)).join(' ') || 'never';
    await sleep(5000);
    out.erp_backlog_at_restore = (await snap()).backlog;
    bhErp!.restore();
    const tE = Date.now();
    const ok = await drained(rig, 120_000);
    out.erp_drained_after_restore_s = ok ? ((Date.now() - tE) / 1000).toFixed(1) : 'not within 120 s';
    db.close();
    await tr.stop();
    out.drained = String(await drained(rig, 60_000));
    Object.assign(out, check(rig, tr));
    out.load_at_end = loadAvg();
  } finally {
    await rig.close();
    await (bhMqtt as BlackholeProxy | null)?.close();
    await (bhErp as BlackholeProxy | null)?.close();
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
