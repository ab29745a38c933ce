import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DriverHealth } from '../../drivers/driver.js';
import { LgError } from '../../errors.js';
import { NOT_AT_STATION, verdictOf, type LiveEvents } from '../../events.js';
import type { Ops } from '../../ops.js';
import type { Journal } from '../../store/journal.js';
import type { Repo } from '../../store/repo.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { packageRoot } from '../../util/paths.js';
import { sub, toString as decToString } from '../../domain/decimal.js';
import { streamStation } from '../../api/sse.js';
import { stationUi } from '../config.js';
import { Kiosks, type Kiosk } from './kiosks.js';
import { IdleSignOut } from './idle.js';
import { Pins } from './pins.js';
import { labelPng } from './label-images.js';
import type { LabelService } from '../../labels/index.js';

/**
 * The station pages (issue 12): a thin client of the gateway, served by the gateway itself.
 *
 * Auth, route by route (declared here, explicitly):
 * - public: the page shell and its assets (/ui, /ui/stations/:id, /ui/assets/*) — they hold no
 *   data; the station list for the index (ids, names, roles only); redeeming a pairing code.
 * - admin (user bearer token): creating pairing codes, listing and revoking kiosks.
 * - kiosk (the panel's station-bound credential, checked by this plugin's own hook, see
 *   kiosks.ts): /ui/api/kiosk/stations/:id/… for its own station only. A kiosk credential is not
 *   a user token, so no other API route accepts it.
 * Routes marked `public: true` are public to the user-token check in app.ts; the kiosk routes
 * are public to it too and authenticated by this plugin (`kiosk: true`).
 */

export interface UiDeps {
  ops: Ops;
  repo: Repo;
  journal: Journal;
  events: LiveEvents;
  clock: Clock;
  logger: Logger;
  /** Health of the devices bound to a station (scanner, scale, machine). */
  devices(station: string): DriverHealth[];
  /** Printers of a station. */
  printers(station: string): unknown[];
  /** The label service (packing: jobs to confirm, label pictures). */
  labels?: () => LabelService | null;
  /** Folder of the built page (default: <package>/dist/ui). */
  assetsDir?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No user token needed (the page shell, its assets, the station list, pairing). */
    public?: boolean;
    /** Only the kiosk credential of the station in `:id`. */
    kiosk?: boolean;
  }
  interface FastifyRequest {
    kiosk?: Kiosk;
  }
}

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ScanBody = Type.Object(
  {
    data: Type.String({ minLength: 1, maxLength: 4096, description: 'What the keyboard-wedge scanner typed (FNC1 substitute already replaced by the page, or left for the gateway)' }),
    source: Type.Optional(Type.Union([Type.Literal('wedge'), Type.Literal('manual')], { default: 'wedge' })),
  },
  { additionalProperties: false },
);

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8', '.wav': 'audio/wav', '.png': 'image/png', '.json': 'application/json' };

/** The built page, read once into memory (a few tens of kB; served with an ETag). */
export function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const ext = f.slice(f.lastIndexOf('.'));
    if (!TYPES[ext]) continue;
    const body = readFileSync(join(dir, f));
    out.set(f, { body, type: TYPES[ext]!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return out;
}

export function uiRoutes(deps: UiDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    const kiosks = new Kiosks(deps.repo.db, deps.journal, deps.clock);
    const pins = new Pins(deps.repo.db, deps.journal);
    const idle = new IdleSignOut(deps);
    idle.start();
    app.addHook('onClose', async () => idle.stop());
    const assets = loadAssets(deps.assetsDir ?? join(packageRoot(), 'dist', 'ui'));
    if (!assets.has('index.html')) deps.logger.warn({ dir: deps.assetsDir ?? 'dist/ui' }, 'station pages are not built: run npm run build');

    // The kiosk check: only for routes marked `kiosk`, scoped to this plugin.
    app.addHook('onRequest', async (req) => {
      if (!req.routeOptions.config?.kiosk) return;
      const h = req.headers.authorization;
      if (!h || !/^Bearer\s+\S+$/i.test(h)) throw new LgError('LG_ERR_AUTH_REQUIRED');
      const token = h.replace(/^Bearer\s+/i, '').trim();
      const k = kiosks.byToken(token);
      if (!k) {
        // A person's valid token is known but not allowed here (only a paired panel is): 403, like any role refusal.
        const user = deps.repo.userByToken(token);
        if (user) throw new LgError('LG_ERR_FORBIDDEN', { role: user.role, action: `${req.method} ${req.routeOptions.url}`, allowed: 'a paired station panel (kiosk credential)' });
        throw new LgError('LG_ERR_AUTH_INVALID');
      }
      const station = (req.params as { id?: string }).id;
      if (station !== k.station) throw new LgError('LG_ERR_KIOSK_WRONG_STATION', { paired: k.station, station: station ?? '?' });
      req.kiosk = k;
    });

    const sendAsset = (req: FastifyRequest, reply: FastifyReply, name: string): FastifyReply => {
      const a = assets.get(name);
      if (!a) {
        return reply.code(503).type('text/plain; charset=utf-8').send('The station pages are not built. Run `npm run build` (or `npm ci`) and restart linegate.');
      }
      reply.header('etag', a.etag).header('cache-control', name === 'index.html' ? 'no-cache' : 'public, max-age=300');
      reply.header('x-content-type-options', 'nosniff');
      if (name === 'index.html') reply.header('content-security-policy', "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; media-src 'self' data: blob:");
      if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.type(a.type).send(a.body);
    };

    const pub = { public: true } as const;
    const shell = async (req: FastifyRequest, reply: FastifyReply) => sendAsset(req, reply, 'index.html');
    app.get('/ui', { config: pub, schema: { hide: true } }, shell);
    app.get('/ui/', { config: pub, schema: { hide: true } }, shell);
    app.get('/ui/pair', { config: pub, schema: { hide: true } }, shell);
    app.get('/ui/stations/:id', { config: pub, schema: { hide: true } }, shell);
    app.get<{ Params: { file: string } }>('/ui/assets/:file', { config: pub, schema: { hide: true } }, async (req, reply) => {
      if (!/^[\w.-]+$/.test(req.params.file) || req.params.file.endsWith('.html')) throw new LgError('LG_ERR_NOT_FOUND', { method: 'GET', url: req.url });
      if (!assets.has(req.params.file)) throw new LgError('LG_ERR_NOT_FOUND', { method: 'GET', url: req.url });
      return sendAsset(req, reply, req.params.file);
    });

    app.get('/ui/api/stations', { config: pub, schema: { tags: ['ui'], security: [], description: 'Station ids, names and roles, for the index page (public: no context, no devices).' } }, async () => ({
      items: deps.ops.cfg.stations.map((s) => ({ id: s.id, name: s.name ?? s.id, role: s.role, lang: stationUi(s).lang })),
    }));

    // ── pairing ──────────────────────────────────────────────────────────────
    app.post<{ Body: { station: string; name?: string } }>(
      '/ui/api/pairings',
      {
        config: { roles: ['admin'] },
        schema: {
          tags: ['ui'],
          description: 'An admin creates a one-time pairing code (valid 10 minutes) for a station; typed once at the panel, it gives the panel a credential bound to that station only.',
          body: Type.Object({ station: Type.String({ maxLength: 64 }), name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })) }, { additionalProperties: false }),
        },
      },
      async (req, reply) => {
        deps.ops.station(req.body.station);
        const p = await kiosks.createPairing(req.body.station, req.body.name ?? `${req.body.station} panel`, req.user!.id);
        return reply.code(201).send(p);
      },
    );
    app.post<{ Body: { code: string } }>(
      '/ui/api/pair',
      {
        config: pub,
        schema: { tags: ['ui'], security: [], description: 'The panel redeems a pairing code for its station-bound kiosk credential (single use).', body: Type.Object({ code: Type.String({ minLength: 6, maxLength: 20 }) }, { additionalProperties: false }) },
      },
      async (req, reply) => {
        const r = await kiosks.redeem(req.body.code);
        deps.logger.info({ kiosk: r.kiosk.id, station: r.kiosk.station, pairedBy: r.kiosk.pairedBy }, 'kiosk panel paired');
        return reply.code(201).send({ token: r.token, kiosk: r.kiosk });
      },
    );
    app.get('/ui/api/kiosks', { config: { roles: ['admin'] }, schema: { tags: ['ui'] } }, async () => ({ items: kiosks.list() }));
    app.delete<{ Params: { id: string } }>('/ui/api/kiosks/:id', { config: { roles: ['admin'] }, schema: { tags: ['ui'], params: Params } }, async (req) => kiosks.revoke(req.params.id, req.user!.id));

    // ── what the panel of one station may do ─────────────────────────────────
    const kio = { kiosk: true, public: true } as const;
    app.get<{ Params: { id: string } }>('/ui/api/kiosk/stations/:id/view', { config: kio, schema: { tags: ['ui'], params: Params } }, async (req) => stationView(deps, req.params.id, req.kiosk!));

    app.get<{ Params: { id: string } }>('/ui/api/kiosk/stations/:id/events', { config: kio, schema: { tags: ['ui'], params: Params } }, async (req, reply) =>
      streamStation(deps, req.params.id, req, reply, () => [{ event: 'hello', data: { station: req.params.id, kiosk: req.kiosk!.id, serverTime: deps.clock.now().toISOString() } }]),
    );

    app.post<{ Params: { id: string }; Body: Static<typeof ScanBody> }>(
      '/ui/api/kiosk/stations/:id/scans',
      { config: kio, schema: { tags: ['ui'], params: Params, body: ScanBody } },
      async (req, reply) => {
        const st = deps.ops.station(req.params.id);
        const by = signedIn(deps, req.params.id);
        idle.touch(req.params.id);
        const ui = stationUi(st);
        const record = await deps.ops.ingestScan(
          req.params.id,
          { raw: Buffer.from(req.body.data, 'utf8'), device: `${req.kiosk!.id}:${req.body.source ?? 'wedge'}`, ...(ui.wedge.fnc1Substitute ? { fnc1Substitute: ui.wedge.fnc1Substitute } : {}) },
          by ?? undefined,
        );
        return reply.code(201).send({ record: verdictOf(record).data });
      },
    );

    app.post<{ Params: { id: string } }>('/ui/api/kiosk/stations/:id/sign-out', { config: kio, schema: { tags: ['ui'], params: Params } }, async (req) => {
      const by = signedIn(deps, req.params.id);
      if (!by) return { records: [] };
      const records = await deps.ops.setStationContext(req.params.id, { operator: null }, by, `signed out at panel ${req.kiosk!.id} (button)`);
      return { records: records.map((r) => verdictOf(r).data) };
    });

    // ── packing: label pictures and the operator's decision on jobs the printer could not confirm ──
    const stationJob = (station: string, jobId: string) => {
      const labels = deps.labels?.();
      const job = labels?.getJob(jobId);
      const printers = new Set((labels?.printerStatuses() ?? []).filter((p) => p.station === station).map((p) => p.printer));
      if (!labels || !job || !printers.has(job.printer)) throw new LgError('LG_ERR_PRINT_JOB_NOT_FOUND', { job: jobId });
      return { labels, job };
    };
    app.get<{ Params: { id: string; job: string } }>(
      '/ui/api/kiosk/stations/:id/print-jobs/:job/image',
      { config: kio, schema: { tags: ['ui'], params: Type.Object({ id: Type.String(), job: Type.String({ maxLength: 64 }) }), description: 'The job\'s label as PNG (rendered from its ZPL on first request, then cached).' } },
      async (req, reply) => {
        stationJob(req.params.id, req.params.job);
        const row = deps.repo.db.prepare('SELECT zpl FROM print_jobs WHERE id = ?').get(req.params.job) as { zpl: string };
        const png = await labelPng(req.params.job, row.zpl);
        return reply.type('image/png').header('cache-control', 'private, max-age=86400').send(png);
      },
    );
    app.post<{ Params: { id: string; job: string }; Body: { decision: 'printed' | 'reprint'; reason?: string } }>(
      '/ui/api/kiosk/stations/:id/print-jobs/:job/decision',
      {
        config: kio,
        schema: {
          tags: ['ui'],
          description: 'The signed-in operator resolves a job the printer could not confirm: the same decision as POST /print-jobs/:id/decision, audited under the operator.',
          params: Type.Object({ id: Type.String(), job: Type.String({ maxLength: 64 }) }),
          body: Type.Object({ decision: Type.Union([Type.Literal('printed'), Type.Literal('reprint')]), reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false }),
        },
      },
      async (req) => {
        const by = signedIn(deps, req.params.id);
        if (!by) throw new LgError('LG_ERR_NO_OPERATOR', { station: req.params.id });
        const { labels } = stationJob(req.params.id, req.params.job);
        if (req.body.decision === 'reprint' && !req.body.reason?.trim()) throw new LgError('LG_ERR_REASON_REQUIRED', { action: 'reprint a label' });
        idle.touch(req.params.id);
        return labels.decide(req.params.job, req.body.decision, { actor: by.id, reason: req.body.reason ?? `confirmed at panel ${req.kiosk!.id}` });
      },
    );

    // ── supervisor at the station: badge + PIN ───────────────────────────────
    app.put<{ Params: { id: string }; Body: { pin: string } }>(
      '/ui/api/users/:id/pin',
      {
        config: { roles: ['admin'] },
        schema: { tags: ['ui'], description: 'Set the station PIN of a supervisor/QA user (scrypt-hashed; the PIN is never stored or logged).', params: Params, body: Type.Object({ pin: Type.String({ pattern: '^[0-9]{4,12}$' }) }, { additionalProperties: false }) },
      },
      async (req) => {
        const u = deps.repo.userById(req.params.id);
        if (!u || u.disabled) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: req.params.id });
        await pins.set(u.id, req.body.pin, req.user!.id);
        return { user: u.id, pinSet: true };
      },
    );
    app.post<{ Params: { id: string }; Body: { record: string; badge: string; pin: string; reason: string } }>(
      '/ui/api/kiosk/stations/:id/override',
      {
        config: kio,
        schema: {
          tags: ['ui'],
          description: 'A supervisor overrides a refused lot scan at the panel: their badge and PIN sign it; the operator signed in is who asked (the override record carries both, and the reason).',
          params: Params,
          body: Type.Object(
            { record: Type.String({ maxLength: 64 }), badge: Type.String({ minLength: 1, maxLength: 64 }), pin: Type.String({ minLength: 1, maxLength: 12 }), reason: Type.String({ minLength: 1, maxLength: 500 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (req, reply) => {
        const sup = deps.repo.userByBadge(req.body.badge.trim());
        const ok = !!sup && ['supervisor', 'qa', 'admin'].includes(sup.role) && (await pins.verify(sup.id, req.body.pin, deps.clock.now().getTime()));
        if (!ok) {
          deps.logger.warn({ station: req.params.id, kiosk: req.kiosk!.id, badgeKnown: !!sup }, 'supervisor override at a panel refused: badge or PIN not valid');
          throw new LgError('LG_ERR_SUPERVISOR_PIN_INVALID');
        }
        const r = deps.repo.record(req.body.record);
        if (!r || r.station !== req.params.id) throw new LgError('LG_ERR_RECORD_NOT_FOUND', { id: req.body.record });
        const asked = deps.ops.stationContext(req.params.id).operator;
        const rec = await deps.ops.overrideScan(r.id, `${req.body.reason} (at panel ${req.kiosk!.id}; asked by ${asked ?? 'nobody signed in'})`, { id: sup!.id, role: sup!.role });
        idle.touch(req.params.id);
        return reply.code(201).send({ record: verdictOf(rec).data });
      },
    );

    app.post<{ Params: { id: string } }>('/ui/api/kiosk/stations/:id/activity', { config: kio, schema: { tags: ['ui'], params: Params, description: 'A touch at the panel: restarts the idle sign-out timer.' } }, async (req) => {
      idle.touch(req.params.id);
      return { ok: true };
    });
  };
}

/** The operator signed in at the station, as the actor of what is done at its panel. */
function signedIn(deps: UiDeps, station: string): { id: string; role: 'operator' | 'supervisor' | 'qa' | 'admin' | 'erp' } | null {
  const ctx = deps.ops.stationContext(station);
  if (!ctx.operator) return null;
  const u = deps.repo.userById(ctx.operator);
  return u && !u.disabled ? { id: u.id, role: u.role } : null;
}

/** Everything the station page shows, in one answer; the stream keeps it current. */
export function stationView(deps: UiDeps, id: string, kiosk: Kiosk): Record<string, unknown> {
  const st = deps.ops.station(id);
  const ui = stationUi(st);
  const ctx = deps.ops.stationContext(id);
  const lastSeq = Number((deps.repo.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM records').get() as { s: number }).s);
  const op = ctx.operator ? deps.repo.userById(ctx.operator) : undefined;
  const b = ctx.batch ? deps.repo.batch(ctx.batch) : undefined;
  const recent = deps.repo.listRecords({ station: id, notType: NOT_AT_STATION, limit: 12, order: 'desc' }).items.map((r) => verdictOf(r).data);
  return {
    station: { id: st.id, name: st.name ?? st.id, role: st.role, ui, signOutCode: Object.entries(st.commands ?? {}).find(([, c]) => c === 'sign_out')?.[0] ?? null },
    kiosk: { id: kiosk.id, name: kiosk.name },
    serverTime: deps.clock.now().toISOString(),
    lastSeq,
    operator: op ? { id: op.id, name: op.name, role: op.role } : ctx.operator ? { id: ctx.operator, name: ctx.operator, role: null } : null,
    batch: b
      ? {
          number: b.number,
          product: b.product,
          productName: b.productName,
          status: b.status,
          plannedQty: b.plannedQty,
          producedQty: b.producedQty,
          rejectedQty: b.rejectedQty,
          unit: b.unit,
          bom: b.bom.map((l) => {
            const consumed = deps.repo.consumed(b.number, l.material);
            return { ...l, name: deps.repo.masterData().material(l.material)?.name ?? null, consumed, remaining: decToString(sub(l.quantity, consumed)) };
          }),
        }
      : null,
    lots: Object.entries(ctx.lots).map(([material, lotId]) => {
      const l = deps.repo.lot(lotId);
      return l ? { id: l.id, material: l.material, supplier: l.supplier, supplierLot: l.supplierLot, expiry: l.expiry, status: l.status, quantity: l.quantity, unit: l.unit } : { id: lotId, material };
    }),
    devices: deps.devices(id),
    printers: deps.printers(id),
    recent,
    ...(st.role === 'filling' ? { machine: machineView(deps, id) } : {}),
    ...(st.role === 'packing' ? { packing: packingView(deps, id, b?.number ?? null) } : {}),
  };
}

type Rec = { payload: string; received_at: string };
const json = (r: Rec | undefined): Record<string, unknown> => (r ? (JSON.parse(r.payload) as Record<string, unknown>) : {});

/** Filling / machine station: PackML state and time in it, counters, rate, the link and its last gap. */
function machineView(deps: UiDeps, station: string): Record<string, unknown> {
  const db = deps.repo.db;
  const last = (types: string[]): Rec | undefined =>
    db.prepare(`SELECT payload, received_at FROM records WHERE station = ? AND type IN (${types.map(() => '?').join(',')}) ORDER BY seq DESC LIMIT 1`).get(station, ...types) as Rec | undefined;
  const state = last(['machine.state_changed', 'machine.state_confirmed']);
  const sp = json(state);
  const counter = (kind: string): string | null => {
    const rows = db.prepare(`SELECT payload FROM records WHERE station = ? AND type = 'counter.updated' ORDER BY seq DESC LIMIT 20`).all(station) as Rec[];
    for (const r of rows) {
      const p = JSON.parse(r.payload) as { counter?: string; value?: string };
      if (p.counter === kind) return p.value ?? null;
    }
    return null;
  };
  // Rate: good units counted in the last 60 s (from the counter deltas), per minute.
  const since = new Date(deps.clock.now().getTime() - 60_000).toISOString();
  const deltas = db.prepare(`SELECT payload FROM records WHERE station = ? AND type = 'counter.updated' AND status = 'accepted' AND received_at >= ? ORDER BY seq DESC LIMIT 5000`).all(station, since) as Rec[];
  let good = 0n;
  for (const r of deltas) {
    const p = JSON.parse(r.payload) as { counter?: string; delta?: string };
    if (p.counter === 'good' && p.delta && /^\d+$/.test(p.delta)) good += BigInt(p.delta);
  }
  const gap = json(last(['machine.link_restored']));
  const lost = last(['machine.link_lost', 'machine.link_restored']);
  const machines = deps.devices(station).filter((d) => d.kind === 'opcua-machine');
  return {
    state: (sp.to ?? sp.state ?? null) as string | null,
    enteredAt: (sp.enteredAt ?? state?.received_at ?? null) as string | null,
    good: counter('good'),
    rejected: counter('rejected'),
    ratePerMin: good.toString(),
    link: machines[0]?.state ?? null,
    linkLost: lost ? JSON.parse(lost.payload).since ?? null : null,
    lastGapMs: (gap.gapMs ?? null) as number | null,
    lastGapAt: (gap.since ?? null) as string | null,
  };
}

/** Packing station: cases of the batch, the last label, jobs waiting for the operator. */
function packingView(deps: UiDeps, station: string, batch: string | null): Record<string, unknown> {
  const labels = deps.labels?.();
  const printers = (labels?.printerStatuses() ?? []).filter((p) => p.station === station).map((p) => p.printer);
  const cases = batch ? Number((deps.repo.db.prepare(`SELECT COUNT(*) AS n FROM labels WHERE batch = ? AND kind = 'case'`).get(batch) as { n: number }).n) : 0;
  const q = printers.length ? printers.map(() => '?').join(',') : "''";
  const lastJob = deps.repo.db.prepare(`SELECT id FROM print_jobs WHERE printer IN (${q}) ORDER BY seq DESC LIMIT 1`).get(...printers) as { id: string } | undefined;
  const toConfirm = (deps.repo.db.prepare(`SELECT id FROM print_jobs WHERE printer IN (${q}) AND state = 'needs_confirmation' ORDER BY seq`).all(...printers) as Array<{ id: string }>).map((j) => labels!.getJob(j.id)).filter(Boolean);
  return { cases, lastJob: lastJob ? labels!.getJob(lastJob.id) ?? null : null, toConfirm };
}
