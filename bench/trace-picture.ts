/**
 * The genealogy picture in the browser (issue 14; run from bench/trace-pages.ts): a running gateway
 * with a ~1,000-node trace written into its store (supplier lot → lot → 10 intermediate batches →
 * their lots → 92 batches → 9 pallets each → 40 deliveries → 15 customers), the office page in
 * Debian's chromium, signed in through the real form. Per run: navigation → SVG painted (the
 * page's requestAnimationFrame after the SVG is in the DOM), and the page's own layout and
 * layout-to-paint times (data-layout-ms, data-draw-ms on the <svg>). Median of 5 runs, ungrouped
 * (maxNodes=5000: every pallet drawn) and with the default grouping.
 * Peer in the same run: dagre (what small pictures use) on the same 1k-node graph in Node, CPU time.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import dagre from 'dagre';
import { chromium } from 'playwright-core';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { silentLogger } from '../src/util/log.js';
import { layoutGraph } from '../src/ui/app/office/trace/graph-layout.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The seeded trace's shape: `fg` finished batches over `intermediates` intermediate batches, `pallets` each. */
interface Shape {
  intermediates: number;
  fg: number;
  pallets: number;
  deliveries: number;
  customers: number;
}
const BENCH_SHAPE: Shape = { intermediates: 10, fg: 92, pallets: 9, deliveries: 40, customers: 15 };

function seed(gw: Gateway, shape: Shape = BENCH_SHAPE): void {
  const db = gw.db;
  const now = new Date().toISOString();
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      let seq = 1_000_000;
      db.prepare("INSERT INTO materials (code, name, unit, tracking, created_at, updated_at) VALUES ('RM-B', 'bench raw', 'kg', 'lot', ?, ?), ('INT-B', 'bench intermediate', 'kg', 'lot', ?, ?)").run(now, now, now, now);
      const lot = db.prepare("INSERT INTO lots (id, material, supplier, supplier_lot, status, quantity, unit, produced_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'released', '100', 'kg', ?, ?, ?)");
      const batch = db.prepare("INSERT INTO batches (number, product, planned_qty, unit, line, status, created_at, updated_at) VALUES (?, ?, '10', 'pcs', 'L1', 'released', ?, ?)");
      const cons = db.prepare("INSERT INTO consumptions (record_seq, batch, lot, material, quantity, unit, at) VALUES (?, ?, ?, ?, '1.000', 'kg', ?)");
      lot.run('LB-SUP', 'RM-B', 'BenchCo', 'SL-BENCH', null, now, now);
      for (let i = 0; i < shape.intermediates; i++) {
        batch.run(`BI-${i}`, 'INT-B', now, now);
        cons.run(seq++, `BI-${i}`, 'LB-SUP', 'RM-B', now);
        lot.run(`LB-INT-${i}`, 'INT-B', null, null, `BI-${i}`, now, now);
      }
      const cust = db.prepare("INSERT INTO customers (id, name, gln, created_at, updated_at) VALUES (?, ?, '9506000000001', ?, ?)");
      for (let c = 0; c < shape.customers; c++) cust.run(`CB-${c}`, `Bench customer ${c}`, now, now);
      const del = db.prepare("INSERT INTO deliveries (number, customer, ship_to_gln, planned, status, created_at, updated_at) VALUES (?, ?, '9506000000002', '[]', 'shipped', ?, ?)");
      for (let d = 0; d < shape.deliveries; d++) del.run(`DB-${d}`, `CB-${d % shape.customers}`, now, now);
      const pallet = db.prepare("INSERT INTO pallets (id, sscc, station, status, delivery, opened_at, opened_seq) VALUES (?, ?, 'PAL-1', 'shipped', ?, ?, 0)");
      const pc = db.prepare("INSERT INTO pallet_cases (serial, gtin, label_id, batch, pallet, packed_at, record_seq) VALUES (?, '09506000134352', ?, ?, ?, ?, 0)");
      let p = 0;
      for (let b = 0; b < shape.fg; b++) {
        batch.run(`BF-${b}`, 'FG-B', now, now);
        cons.run(seq++, `BF-${b}`, `LB-INT-${b % shape.intermediates}`, 'INT-B', now);
        for (let k = 0; k < shape.pallets; k++, p++) {
          pallet.run(`PB-${p}`, `3${String(p).padStart(17, '0')}`, `DB-${p % shape.deliveries}`, now);
          for (let c = 0; c < 4; c++) pc.run(`SB-${p}-${c}`, `lb-${p}-${c}`, `BF-${b}`, `PB-${p}`, now);
        }
      }
    })();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

/** A gateway with the seeded trace, chromium, and a supervisor signed in to the office pages. */
async function pictureSession(shape: Shape, viewport = { width: 1400, height: 900 }, deviceScaleFactor = 1) {
  mkdirSync(resolve('var'), { recursive: true });
  const dir = mkdtempSync(join(resolve('var'), 'bench-picture-'));
  const cfg = parseConfig(
    stringify({ site: { id: 'S', timezone: 'UTC' }, line: { id: 'L1' }, stations: [{ id: 'WEIGH-1', role: 'weighing' }], devices: [], api: { port: 0 }, storage: { stateDir: dir, synchronous: 'NORMAL' }, log: { level: 'silent' } }),
  );
  const gw = new Gateway(cfg, { logger: silentLogger() });
  await gw.start();
  const browser = await chromium.launch({
    executablePath: process.env.LINEGATE_CHROMIUM ?? '/usr/bin/chromium',
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-background-networking', '--disable-component-update'],
  });
  const close = async () => {
    await browser.close();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    seed(gw, shape);
    const url = gw.url!;
    const admin = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const call = async (method: string, path: string, body?: unknown, token = admin) => {
      const r = await fetch(url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const j = await r.json().catch(() => null);
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
      return j as any;
    };
    const sup = await call('POST', '/users', { id: 'bench-sup', name: 'Bench Supervisor', role: 'supervisor' });
    await call('PUT', '/me/signing-secret', { kind: 'password', secret: 'bench-secret-1' }, sup.token);
    const page = await browser.newPage({ viewport, deviceScaleFactor });
    await page.goto(`${url}/ui/office`);
    await page.locator('[data-testid=signin] input[name=userId]').fill('bench-sup');
    await page.locator('[data-testid=signin] input[name=secret]').fill('bench-secret-1');
    await page.locator('[data-testid=signin] button[type=submit]').click();
    await page.locator('[data-testid=who]').waitFor({ timeout: 30_000 });
    return { gw, url, call, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** README picture: docs/office-genealogy.png, a small trace drawn by the office page (called by bench/ui-screenshots.ts). */
export async function officeGenealogyScreenshot(root: string): Promise<string> {
  const s = await pictureSession({ intermediates: 2, fg: 4, pallets: 3, deliveries: 4, customers: 3 }, { width: 1640, height: 800 }, 0.75);
  try {
    await s.page.goto(`${s.url}/ui/office/genealogy?supplierLot=SL-BENCH&supplier=BenchCo`);
    await s.page.locator('[data-testid=genealogy-svg][data-drawn="1"]').waitFor({ timeout: 30_000 });
    // The whole picture, not the scroll box of the page.
    // (CSSOM from a script: the page's CSP refuses inline style elements.)
    await s.page.evaluate(`for (const [sel, k, v] of [['.page', 'maxWidth', 'none'], ['.genealogy-scroll', 'maxHeight', 'none'], ['.genealogy-scroll', 'overflow', 'visible'], ['.genealogy-scroll', 'display', 'inline-block']]) document.querySelector(sel).style[k] = v;`);
    const file = join(root, 'docs', 'office-genealogy.png');
    await s.page.screenshot({ path: file, fullPage: true });
    return file;
  } finally {
    await s.close();
  }
}

export async function benchGenealogyPicture(): Promise<Record<string, number>> {
  const s = await pictureSession(BENCH_SHAPE);
  const { url, call, page } = s;
  const out: Record<string, number> = {};
  try {
    const full = await call('GET', '/genealogy/graph?supplierLot=SL-BENCH&maxNodes=5000');
    out['picture trace nodes'] = full.nodes.length;
    out['picture trace edges'] = full.edges.length;
    const serverMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await call('GET', '/genealogy/graph?supplierLot=SL-BENCH&maxNodes=5000');
      serverMs.push(performance.now() - t);
    }
    out['picture graph API (1k nodes) ms'] = median(serverMs);

    for (const [name, q] of [['1k nodes ungrouped', 'maxNodes=5000'], ['grouped (default)', '']] as const) {
      const total: number[] = [];
      const draw: number[] = [];
      const layout: number[] = [];
      let drawn = 0;
      let engine = 0;
      for (let i = 0; i < 6; i++) {
        const t = Date.now();
        await page.goto(`${url}/ui/office/genealogy?supplierLot=SL-BENCH${q ? `&${q}` : ''}`);
        const svg = page.locator('[data-testid=genealogy-svg][data-drawn="1"]');
        await svg.waitFor({ timeout: 60_000 });
        const elapsed = Date.now() - t;
        if (i === 0) continue; // first load: bundle parse and the server's statement cache
        total.push(elapsed);
        draw.push(Number(await svg.getAttribute('data-draw-ms')));
        layout.push(Number(await svg.getAttribute('data-layout-ms')));
        drawn = await page.locator('[data-testid=genealogy-svg] [data-node-id]').count();
        engine = (await svg.getAttribute('data-engine')) === 'layered' ? 1 : 0;
      }
      out[`picture ${name}: nodes drawn`] = drawn;
      out[`picture ${name}: layered layout (1) / dagre (0)`] = engine;
      out[`picture ${name}: navigation → painted ms`] = median(total);
      out[`picture ${name}: layout ms (in page)`] = median(layout);
      out[`picture ${name}: layout → painted ms`] = median(draw);
    }
    out['picture 1k: painted / 1 s target'] = out['picture 1k nodes ungrouped: navigation → painted ms']! / 1000;

    // Layout engines on the same 1k-node graph in Node, wall and CPU time (CPU time is what a loaded
    // machine does not inflate): the layered layout the page uses for big pictures; the peer, dagre
    // (what small pictures use) forced onto it; and dagre with its default ranker (network-simplex).
    const time = (f: () => void) => {
      const c = process.cpuUsage();
      const t = performance.now();
      f();
      const u = process.cpuUsage(c);
      return { wall: performance.now() - t, cpu: (u.user + u.system) / 1000 };
    };
    const runs = (f: () => void, n: number) => Array.from({ length: n }, () => time(f));
    const layered = runs(() => layoutGraph(full, { engine: 'layered' }), 5);
    const dag = runs(() => layoutGraph(full, { engine: 'dagre' }), 2);
    const simplex = runs(() => {
      const d = new dagre.graphlib.Graph();
      d.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 56 });
      d.setDefaultEdgeLabel(() => ({}));
      for (const n of full.nodes) d.setNode(n.id, { width: 168, height: 42 });
      for (const e of full.edges) d.setEdge(e.from, e.to);
      dagre.layout(d);
    }, 1);
    out['layout 1k layered (Node) wall ms'] = median(layered.map((x) => x.wall));
    out['layout 1k layered (Node) cpu ms'] = median(layered.map((x) => x.cpu));
    out['peer layout 1k dagre tight-tree (Node) cpu ms'] = median(dag.map((x) => x.cpu));
    out['peer layout 1k dagre network-simplex (Node) cpu ms'] = median(simplex.map((x) => x.cpu));
    out['layout 1k layered / dagre (cpu)'] = out['layout 1k layered (Node) cpu ms']! / out['peer layout 1k dagre tight-tree (Node) cpu ms']!;
  } finally {
    await s.close();
  }
  return out;
}
