import { X509Certificate, randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { loadConfigFile, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { isLgError } from '../errors.js';
import { systemClock } from '../util/clock.js';
import { runningDaemon } from './backup.js';

/**
 * `linegate doctor`: what an engineer checks first, one line per check with what to do.
 * A check is ok, warn (works, but look at it) or fail (linegate will not work as configured).
 * Read-only apart from one probe file in the state folder; it never talks to devices beyond
 * opening a TCP connection to sinks and OPC UA endpoints.
 */

export type Verdict = 'ok' | 'warn' | 'fail';
export interface Check {
  check: string;
  verdict: Verdict;
  detail: string;
  /** What to do when not ok. */
  action?: string;
}

const GB = 1024 ** 3;

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.end();
      resolve(null);
    });
    s.once('error', (err) => {
      clearTimeout(t);
      resolve((err as NodeJS.ErrnoException).code ?? err.message);
    });
  });
}

function portFree(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}

function hostPort(url: string, defaults: Record<string, number>): { host: string; port: number } | null {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : defaults[u.protocol.replace(':', '')];
    return port ? { host: u.hostname.replace(/^\[|\]$/g, ''), port } : null;
  } catch {
    return null;
  }
}

export async function runDoctor(file: string, opts: { timeoutMs?: number; now?: Date } = {}): Promise<Check[]> {
  const out: Check[] = [];
  const timeoutMs = opts.timeoutMs ?? 3000;
  const now = opts.now ?? new Date();
  let cfg: Readonly<Config>;
  try {
    cfg = loadConfigFile(file);
    out.push({ check: 'config', verdict: 'ok', detail: `${file} is valid (${cfg.stations.length} stations, ${cfg.devices.length} devices, ${cfg.upstream.sinks.length} sinks)` });
  } catch (err) {
    const detail = err instanceof ConfigError ? `${err.issues.length} error(s): ${err.issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; ')}` : isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message;
    out.push({ check: 'config', verdict: 'fail', detail, action: `run linegate check-config ${file} for every error; nothing else can be checked until it is valid` });
    return out;
  }

  // State folder: writable, and free space.
  const stateDir = cfg.storage.stateDir;
  try {
    mkdirSync(stateDir, { recursive: true });
    const probe = join(stateDir, `.doctor-${randomUUID()}`);
    writeFileSync(probe, 'probe');
    rmSync(probe);
    out.push({ check: 'state folder', verdict: 'ok', detail: `${stateDir} is writable` });
  } catch (err) {
    out.push({ check: 'state folder', verdict: 'fail', detail: `${stateDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, action: 'run as the service user (sudo -u linegate) and give it the folder (StateDirectory= in the unit)' });
  }
  try {
    const fs = statfsSync(stateDir);
    const free = fs.bavail * fs.bsize;
    const journal = join(stateDir, 'journal.sqlite');
    const size = existsSync(journal) ? statSync(journal).size : 0;
    const detail = `${(free / GB).toFixed(1)} GB free for ${stateDir} (journal ${(size / GB).toFixed(2)} GB)`;
    if (free < 0.2 * GB) out.push({ check: 'free space', verdict: 'fail', detail, action: 'free space now: the journal refuses readings when the disk is full (LG_ERR_STORE_WRITE_FAILED)' });
    else if (free < 2 * GB || free < 2 * size) out.push({ check: 'free space', verdict: 'warn', detail, action: 'plan more space, or upstream.retention to purge delivered records' });
    else out.push({ check: 'free space', verdict: 'ok', detail });
  } catch (err) {
    out.push({ check: 'free space', verdict: 'warn', detail: `could not be read: ${(err as Error).message}` });
  }

  // Serial scanners: path exists and is readable and writable by this user.
  for (const d of cfg.devices) {
    const t = (d as { transport?: { type?: string; path?: string; host?: string; port?: number } }).transport;
    if (d.kind !== 'serial-scanner' || !t) continue;
    if (t.type === 'serial' && t.path) {
      if (!existsSync(t.path)) {
        out.push({ check: `serial ${d.id}`, verdict: 'fail', detail: `${t.path} does not exist`, action: 'plug the scanner in; check ls -l /dev/serial/by-id/ and the udev rule (systemd/99-linegate-scanners.rules)' });
        continue;
      }
      try {
        accessSync(t.path, constants.R_OK | constants.W_OK);
        out.push({ check: `serial ${d.id}`, verdict: 'ok', detail: `${t.path} is readable and writable` });
      } catch {
        out.push({ check: `serial ${d.id}`, verdict: 'fail', detail: `${t.path}: permission denied for this user`, action: 'add the service user to group dialout (SupplementaryGroups=dialout) or fix the udev rule\'s GROUP/MODE' });
      }
    } else if (t.type === 'tcp' && t.host && t.port) {
      const e = await tcpReachable(t.host, t.port, timeoutMs);
      out.push(e ? { check: `serial ${d.id}`, verdict: 'fail', detail: `device server ${t.host}:${t.port}: ${e}`, action: 'check the device server\'s power, address and port' } : { check: `serial ${d.id}`, verdict: 'ok', detail: `device server ${t.host}:${t.port} answers` });
    }
  }

  // Ports: free, unless linegate itself holds them.
  const running = runningDaemon(stateDir);
  const ports: Array<{ what: string; host: string; port: number }> = [{ what: 'API', host: cfg.api.host, port: cfg.api.port }];
  if (cfg.ops?.metrics.enabled) ports.push({ what: 'metrics', host: cfg.ops.metrics.host, port: cfg.ops.metrics.port });
  if (cfg.broker.embedded.enabled) ports.push({ what: 'embedded broker', host: cfg.broker.embedded.host, port: cfg.broker.embedded.port });
  for (const p of ports) {
    if (p.port === 0) {
      out.push({ check: `port ${p.what}`, verdict: 'ok', detail: 'port 0: any free port' });
      continue;
    }
    const e = await portFree(p.host, p.port);
    if (!e) out.push({ check: `port ${p.what}`, verdict: 'ok', detail: `${p.host}:${p.port} is free` });
    else if (running) out.push({ check: `port ${p.what}`, verdict: 'ok', detail: `${p.host}:${p.port} in use — linegate is running (pid ${running.pid})` });
    else out.push({ check: `port ${p.what}`, verdict: 'fail', detail: `${p.host}:${p.port}: ${e}`, action: `find who holds it (ss -ltnp 'sport = :${p.port}') or choose another port` });
  }

  // Clock.
  out.push(
    systemClock.synced()
      ? { check: 'clock', verdict: 'ok', detail: 'synchronised (NTP)' }
      : { check: 'clock', verdict: 'warn', detail: 'not known to be synchronised: records get clockSynced=false', action: 'enable NTP (timedatectl set-ntp true), or set LINEGATE_CLOCK_SYNCED=1 when chrony keeps time' },
  );

  // OPC UA: the gateway's own certificate and the trusted server certificates, by expiry.
  const pki = join(stateDir, 'pki', 'opcua');
  const certs: Array<{ what: string; file: string }> = [];
  for (const [what, sub] of [['own', join('own', 'certs')], ['trusted', join('trusted', 'certs')]] as const) {
    const dir = join(pki, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((x) => /\.(pem|der|crt)$/i.test(x))) certs.push({ what, file: join(dir, f) });
  }
  if (cfg.devices.some((d) => d.kind === 'opcua-machine') && certs.length === 0) {
    out.push({ check: 'opcua certificates', verdict: 'ok', detail: 'none yet: the gateway creates its own at the first connect' });
  }
  for (const c of certs) {
    try {
      const raw = readFileSync(c.file);
      const x = new X509Certificate(raw);
      const days = Math.floor((Date.parse(x.validTo) - now.getTime()) / 86_400_000);
      const detail = `${c.what} ${x.subject.split('\n').find((l) => l.startsWith('CN=')) ?? c.file}: valid until ${new Date(x.validTo).toISOString().slice(0, 10)} (${days} days)`;
      if (days < 0) out.push({ check: 'opcua certificate', verdict: 'fail', detail, action: c.what === 'own' ? 'delete pki/opcua/own and restart: a new one is made, then trust it on the PLC' : 'renew it on the PLC, then linegate opcua trust the new one' });
      else if (days < 30) out.push({ check: 'opcua certificate', verdict: 'warn', detail, action: 'renew it before it expires' });
      else out.push({ check: 'opcua certificate', verdict: 'ok', detail });
    } catch (err) {
      out.push({ check: 'opcua certificate', verdict: 'warn', detail: `${c.file}: unreadable (${(err as Error).message})` });
    }
  }
  for (const d of cfg.devices) {
    const ep = (d as { endpoint?: string }).endpoint;
    if (d.kind !== 'opcua-machine' || !ep) continue;
    const hp = hostPort(ep, { 'opc.tcp': 4840 });
    if (!hp) continue;
    const e = await tcpReachable(hp.host, hp.port, timeoutMs);
    out.push(e ? { check: `opcua ${d.id}`, verdict: 'fail', detail: `${ep}: ${e}`, action: 'check the PLC\'s network, its OPC UA server and the endpoint URL' } : { check: `opcua ${d.id}`, verdict: 'ok', detail: `${ep} answers` });
  }

  // Sinks: TCP reachability of each receiver.
  for (const s of cfg.upstream.sinks) {
    const hp = hostPort(s.url, { http: 80, https: 443, mqtt: 1883, mqtts: 8883, tcp: 1883, ssl: 8883, ws: 80, wss: 443 });
    if (!hp) {
      out.push({ check: `sink ${s.id}`, verdict: 'fail', detail: `cannot read host and port from ${s.url}` });
      continue;
    }
    const e = await tcpReachable(hp.host, hp.port, timeoutMs);
    out.push(e ? { check: `sink ${s.id}`, verdict: 'fail', detail: `${hp.host}:${hp.port}: ${e}`, action: 'check the receiver and the network; records wait in the outbox meanwhile' } : { check: `sink ${s.id}`, verdict: 'ok', detail: `${hp.host}:${hp.port} answers` });
  }
  return out;
}

export function formatCheck(c: Check): string {
  return `${c.verdict.toUpperCase().padEnd(4)} ${c.check}: ${c.detail}${c.action ? ` — ${c.action}` : ''}\n`;
}
