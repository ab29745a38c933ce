/**
 * disk-full — the state folder on a size-limited tmpfs (mount -t tmpfs -o size=8m; needs root).
 *   A scale streams loads over MQTT (aedes) through a packet-reading proxy; a filler file takes
 *   the free space; the journal's commits fail. Checked: every load the gateway acknowledged
 *   (PUBACK seen on the wire) is in the journal, health names LG_ERR_STORE_WRITE_FAILED; the
 *   filler is deleted and everything resumes: every published load ends up in the journal.
 *   (In-process gateway: the fault is the filesystem's, not the process's.)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { startEmbeddedBroker } from '../../src/broker/embedded.js';
import { silentLogger } from '../../src/util/log.js';
import { startMqttProxy } from '../../simulators/mqtt-proxy.js';

const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';
const load = (i: number): string => `{"weight":{"gross":${(1 + i / 1000).toFixed(3)},"unit":"kg","stable":true}}`;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function diskFull(): Promise<Record<string, number | string>> {
  const mnt = resolve('var', `faults-disk-full-${process.pid}`);
  mkdirSync(mnt, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const proxy = await startMqttProxy(broker.port);
  const topic = `faults/disk-full/${process.pid}`;
  let gw: Gateway | null = null;
  let db: Database.Database | null = null;
  const out: Record<string, number | string> = {};
  try {
    const stateDir = join(mnt, 'state');
    gw = new Gateway(
      parseConfig(
        stringify({
          site: { id: 'S', timezone: 'UTC' },
          line: { id: 'L1' },
          stations: [{ id: 'WEIGH-1', role: 'weighing' }],
          devices: [{ id: 'scale', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-generic', topic, broker: { url: proxy.url, clientId: `faults-gw-${process.pid}` } }],
          upstream: { sinks: [] },
          api: { host: '127.0.0.1', port: 0 },
          storage: { stateDir, synchronous: 'FULL' },
          log: { level: 'silent' },
        }),
      ),
      { logger: silentLogger() },
    );
    await gw.start();
    const drv = gw.drivers.get('scale')!;
    await until(() => drv.health().state === 'online', 20_000, 'scale online');
    db = new Database(join(stateDir, 'journal.sqlite'), { readonly: true });
    const rdb = db;
    const nets = (): Set<string> => new Set((rdb.prepare(`SELECT json_extract(payload,'$.net') AS n FROM records WHERE type = 'material.consumed'`).all() as Array<{ n: string }>).map((r) => r.n));
    const pub = await mqtt.connectAsync(broker.url, { clientId: `faults-pub-${process.pid}`, reconnectPeriod: 0 });
    let published = 0;
    const publishLoads = async (n: number): Promise<void> => {
      for (let k = 0; k < n; k++) {
        published++;
        await pub.publishAsync(topic, ZERO, { qos: 1 });
        await pub.publishAsync(topic, load(published), { qos: 1 });
      }
    };
    await publishLoads(50);
    await until(() => nets().size >= 50, 30_000, 'first 50 loads journaled');
    // Take the free space, leaving a few KB.
    const fs = statfsSync(mnt);
    const free = Number(fs.bavail) * Number(fs.bsize);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free - 16 * 1024)));
    const tFull = Date.now();
    const acksAtFull = proxy.acked.length;
    // Stream until the journal refuses, then some more.
    while (!(drv.health().lastError?.code === 'LG_ERR_STORE_WRITE_FAILED') && Date.now() - tFull < 60_000) await publishLoads(20);
    out.detected_after_ms = Date.now() - tFull;
    out.health_error = drv.health().lastError?.code ?? 'none';
    out.gateway_status = gw.health().status;
    await publishLoads(100);
    await new Promise((r) => setTimeout(r, 1000));
    const ackedLoads = proxy.acked.map((a) => /"gross":([\d.]+)/.exec(a.payload)?.[1]).filter((x): x is string => !!x && x !== '0').map((x) => Number(x).toFixed(3));
    const journaled = nets();
    out.published_loads = published;
    out.acknowledged_loads = new Set(ackedLoads).size;
    // Every PUBACK after the disk filled, zeros included (a zero produces no record and is acknowledged at once).
    out.pubacks_after_full_any_message = proxy.acked.length - acksAtFull;
    out.journaled_loads = journaled.size;
    out.acknowledged_not_journaled = ackedLoads.filter((n) => !journaled.has(n)).length;
    // Free the space: everything resumes.
    rmSync(join(mnt, 'filler'));
    const tFree = Date.now();
    const all = Array.from({ length: published }, (_, i) => (1 + (i + 1) / 1000).toFixed(3));
    await until(() => {
      const s = nets();
      return all.every((n) => s.has(n));
    }, 180_000, 'every published load journaled after the space was freed');
    out.resumed_all_after_ms = Date.now() - tFree;
    out.missing_after_resume = 0;
    out.journal_integrity = (rdb.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    await pub.endAsync();
  } catch (err) {
    out.error = (err as Error).message;
  } finally {
    db?.close();
    await gw?.stop().catch(() => undefined);
    await proxy.close();
    await broker.close();
    try {
      // Lazy: a file the stopped gateway still holds must not leave the mount behind.
      execFileSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    } catch (err) {
      out.umount = `failed: ${(err as Error).message}`;
    }
  }
  if (out.error) throw new Error(`${out.error} (figures so far: ${JSON.stringify(out)})`);
  return out;
}

