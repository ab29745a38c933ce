import { afterEach, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, ROOT, demoEnv } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { METRIC_NAMES } from '../../../src/service/metrics.js';

/** Parse the Prometheus text format into name → [{labels, value}]. */
function parse(text: string): Map<string, Array<{ labels: Record<string, string>; value: number }>> {
  const out = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const list = out.get(m[1]!) ?? [];
    list.push({ labels, value: Number(m[4]) });
    out.set(m[1]!, list);
  }
  return out;
}

let proc: ChildProcess | null = null;
const dirs: Array<() => void> = [];
afterEach(() => {
  proc?.kill('SIGKILL');
  dirs.splice(0).forEach((c) => c());
});

it('17 metrics: /metrics during a demo shift has every metric with a plausible value; Grafana dashboard uses exactly these names', async () => {
  const dir = tempDir('linegate-metrics-');
  dirs.push(dir.cleanup);
  const env = await demoEnv(join(dir.path, 'state'));
  proc = spawn(process.execPath, [MAIN, 'demo', '--config', 'config/demo.yaml'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc!.on('exit', (c) => r(c)));
  const api = `http://127.0.0.1:${env.LINEGATE_PORT}`;
  const metricsUrl = `http://127.0.0.1:${env.LINEGATE_DEMO_METRICS_PORT}/metrics`;

  await waitFor(async () => (await fetch(`${api}/health/live`).catch(() => null))?.ok, 45_000, 250, `API up\n${out}`);
  // A refused authentication, so that the counter has something to count.
  expect((await fetch(`${api}/records`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
  // Not on the API port.
  expect((await fetch(`${api}/metrics`)).status).toBe(404);

  const token = readFileSync(join(dir.path, 'state', 'admin.token'), 'utf8').trim();
  const get = async (path: string) => (await (await fetch(api + path, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: any[] };
  // The shift: a refused lot scan, a weighed consumption, produced counts and a delivered record.
  await waitFor(async () => (await get('/records?type=material.consumed')).items[0], 60_000, 250, 'a weighed consumption');

  let m = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  const sum = (name: string, f: (l: Record<string, string>) => boolean = () => true) => (m.get(name) ?? []).filter((s) => f(s.labels)).reduce((a, s) => a + s.value, 0);
  await waitFor(async () => {
    const r = await fetch(metricsUrl);
    expect(r.headers.get('content-type')).toContain('text/plain');
    m = parse(await r.text());
    return sum('linegate_deliveries_total') > 0 && sum('linegate_scan_verdicts_total', (l) => l.code === 'LG_ERR_LOT_ON_HOLD') > 0 && sum('linegate_driver_state', (l) => l.state === 'online') === 5;
  }, 60_000, 500, 'deliveries, a refused scan and five devices online in /metrics');

  for (const name of METRIC_NAMES) {
    const present = m.has(name) || m.has(`${name}_bucket`) || m.has(`${name}_count`);
    expect(present, `${name} in /metrics`).toBe(true);
  }
  expect(m.get('linegate_build_info')![0]!.labels.version).toMatch(/^\d+\.\d+\.\d+/);
  // Journal: commits happened, latency between 0 and 10 s, groups of at least one item.
  const commits = sum('linegate_journal_commit_seconds_count');
  expect(commits).toBeGreaterThan(0);
  const latency = sum('linegate_journal_commit_seconds_sum') / commits;
  expect(latency).toBeGreaterThan(0);
  expect(latency).toBeLessThan(10);
  expect(sum('linegate_journal_group_size_sum')).toBeGreaterThanOrEqual(sum('linegate_journal_group_size_count'));
  expect(sum('linegate_journal_commit_failures_total')).toBe(0);
  // Records by type and status: what the REST API shows is counted.
  expect(sum('linegate_records_total', (l) => l.type === 'lot.scanned' && l.status === 'rejected')).toBeGreaterThan(0);
  expect(sum('linegate_records_total', (l) => l.type === 'material.consumed' && l.status === 'accepted')).toBeGreaterThan(0);
  // Upstream: one sink (the demo ERP), depth and age are non-negative, nothing quarantined.
  const erp = (name: string) => m.get(name)!.filter((s) => s.labels.sink === 'erp');
  expect(erp('linegate_outbox_depth')).toHaveLength(1);
  expect(erp('linegate_outbox_depth')[0]!.value).toBeGreaterThanOrEqual(0);
  expect(erp('linegate_outbox_oldest_undelivered_seconds')[0]!.value).toBeGreaterThanOrEqual(0);
  expect(erp('linegate_outbox_oldest_undelivered_seconds')[0]!.value).toBeLessThan(600);
  expect(erp('linegate_deliveries_total')[0]!.value).toBeGreaterThan(0);
  expect(erp('linegate_delivery_retries_total')[0]!.value).toBeGreaterThanOrEqual(0);
  expect(erp('linegate_quarantine_size')[0]!.value).toBe(0);
  // Drivers: each of the five devices is in exactly one state.
  const devices = new Set(m.get('linegate_driver_state')!.map((s) => s.labels.device));
  expect(devices.size).toBe(5);
  for (const d of devices) expect(sum('linegate_driver_state', (l) => l.device === d)).toBe(1);
  expect(new Set(m.get('linegate_driver_reconnects_total')!.map((s) => s.labels.device))).toEqual(devices);
  // Scans: accepted ones and the refused held lot; scale captures at WEIGH-1.
  expect(sum('linegate_scan_verdicts_total', (l) => l.code === 'accepted')).toBeGreaterThan(0);
  expect(sum('linegate_scale_captures_total', (l) => l.station === 'WEIGH-1' && l.status === 'accepted')).toBeGreaterThan(0);
  // Print jobs: every state reported, none negative.
  expect(m.get('linegate_print_jobs')!.map((s) => s.labels.state).sort()).toEqual(['confirmed', 'failed', 'needs_confirmation', 'queued', 'sending', 'sent']);
  for (const s of m.get('linegate_print_jobs')!) expect(s.value).toBeGreaterThanOrEqual(0);
  // OPC UA: the filler's PLC has a series (no gap in a healthy demo).
  expect(m.get('linegate_opcua_link_gaps_total')!.map((s) => s.labels.device)).toEqual(['line1.fill.plc']);
  expect(sum('linegate_auth_failures_total', (l) => l.status === '401')).toBeGreaterThanOrEqual(1);
  // Process: lag within [0, 5 s], RSS between 20 MB and 4 GB.
  const lag = m.get('linegate_event_loop_lag_seconds')!.find((s) => s.labels.quantile === '0.99')!.value;
  expect(lag).toBeGreaterThanOrEqual(0);
  expect(lag).toBeLessThan(5);
  expect(sum('linegate_process_rss_bytes')).toBeGreaterThan(20e6);
  expect(sum('linegate_process_rss_bytes')).toBeLessThan(4e9);
  expect(sum('linegate_process_heap_used_bytes')).toBeGreaterThan(5e6);
  expect(sum('linegate_process_heap_used_bytes')).toBeLessThan(sum('linegate_process_rss_bytes'));

  // The dashboard queries exactly these metrics (no others, none missing).
  const dash = readFileSync(join(ROOT, 'docs', 'grafana-linegate.json'), 'utf8');
  const used = new Set([...dash.matchAll(/\blinegate_[a-z_]+/g)].map((x) => x[0].replace(/_(bucket|sum|count)$/, '')));
  expect([...used].sort()).toEqual([...METRIC_NAMES].sort());

  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  proc = null;
}, 180_000);
