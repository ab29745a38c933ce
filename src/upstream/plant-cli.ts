/**
 * `linegate plant …`: the plant store from the command line.
 *
 *   plant migrate                       create/migrate the plant schema (the sink also does it on first delivery)
 *   plant trace supplier-lot LOT [--supplier S] | lot ID | batch [LINE/]NUMBER
 *   plant serve [--host H] [--port P]   read-only JSON API of the same queries
 *
 * The database: `--postgres URL [--schema S]`, or `--config FILE` (its first `kind: postgres` sink:
 * URL, password, schema, TLS). `--json` prints the result as JSON. Exit 0 ok, 1 failure, 64 usage.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Config } from '../config/schema.js';
import type { PostgresSinkConfig } from '../config/upstream.js';
import { LgError, isLgError } from '../errors.js';
import { migrate, SCHEMA_VERSION } from './sinks/postgres-schema.js';
import { poolConfig } from './sinks/postgres.js';
import { PlantTrace, formatBackwardPlant, formatForward } from './plant-trace.js';

const USAGE = `usage: linegate plant migrate | trace supplier-lot LOT [--supplier S] | trace lot ID | trace batch [LINE/]NUMBER | serve [--host H] [--port P]
       (--postgres URL [--schema S] | --config FILE) [--site SITE] [--json]\n`;

export async function plantCommand(argv: string[], loadConfig: (file: string) => Readonly<Config>): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      postgres: { type: 'string' },
      pg: { type: 'string' },
      schema: { type: 'string' },
      config: { type: 'string', short: 'c' },
      site: { type: 'string' },
      supplier: { type: 'string' },
      json: { type: 'boolean', default: false },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8090' },
    },
    allowPositionals: true,
    strict: false,
  });
  const [sub, what, key] = positionals;
  if (sub !== 'migrate' && sub !== 'serve' && !(sub === 'trace' && key && ['supplier-lot', 'lot', 'batch'].includes(what ?? ''))) {
    process.stderr.write(USAGE);
    return 64;
  }
  let conn: Pick<PostgresSinkConfig, 'url' | 'password' | 'tls' | 'timeoutMs'> & { schema: string };
  const url = (values.postgres ?? values.pg) as string | undefined;
  if (url) conn = { url, timeoutMs: 15_000, schema: (values.schema as string | undefined) ?? 'linegate' };
  else if (values.config) {
    const cfg = loadConfig(values.config as string);
    const sink = cfg.upstream.sinks.find((s) => s.kind === 'postgres') as PostgresSinkConfig | undefined;
    if (!sink) {
      process.stderr.write(`${values.config as string} has no upstream sink of kind postgres; pass --postgres URL\n`);
      return 64;
    }
    conn = { ...sink, schema: (values.schema as string | undefined) ?? sink.schema ?? 'linegate' };
  } else {
    process.stderr.write(USAGE);
    return 64;
  }
  const pool = new pg.Pool(poolConfig({ ...conn, max: 4 }));
  pool.on('error', () => undefined);
  const site = (values.site as string | undefined) ?? null;
  const trace = new PlantTrace(pool, conn.schema, site);
  const json = values.json === true;
  try {
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      throw new LgError('LG_ERR_PLANT_STORE_UNREACHABLE', { detail: (err as Error).message }, { cause: err });
    }
    if (sub === 'migrate') {
      const client = await pool.connect();
      try {
        const applied = await migrate(client, conn.schema);
        process.stdout.write(json ? `${JSON.stringify({ schema: conn.schema, applied, version: SCHEMA_VERSION })}\n` : `plant schema ${conn.schema}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'} (version ${SCHEMA_VERSION})\n`);
      } finally {
        client.release();
      }
      return 0;
    }
    if (sub === 'serve') return await serve(trace, values.host as string, Number(values.port));
    if (what === 'batch') {
      let line: string | undefined;
      let number = key!;
      const slash = key!.indexOf('/');
      if (slash > 0) {
        line = key!.slice(0, slash);
        number = key!.slice(slash + 1);
      } else {
        const lines = await trace.linesOfBatch(number);
        if (lines.length === 0) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: number });
        if (lines.length > 1) {
          process.stderr.write(`batch ${number} exists on lines ${lines.join(', ')}: write LINE/${number}\n`);
          return 64;
        }
        line = lines[0]!;
      }
      const t = await trace.backwardFromBatch(line, number);
      process.stdout.write(json ? `${JSON.stringify(t)}\n` : formatBackwardPlant(t));
      return 0;
    }
    const t = what === 'lot' ? await trace.forwardFromLots([key!]) : await trace.supplierLot(key!, (values.supplier as string | undefined) ?? null);
    if (t.start.length === 0 || (what === 'lot' && t.lots.length === 0)) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: key });
    process.stdout.write(json ? `${JSON.stringify(t)}\n` : formatForward(t, `${what} ${key}`));
    return 0;
  } catch (err) {
    process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
    return 1;
  } finally {
    if (sub !== 'serve') await pool.end();
  }
}

/**
 * Read-only JSON API over the plant store:
 *   GET /trace/supplier-lot/:lot[?supplier=S]   GET /trace/lot/:id   GET /trace/batch/:line/:number
 * No authentication of its own: bind it to localhost or put it behind the plant's reverse proxy.
 */
export function plantServer(trace: PlantTrace): http.Server {
  return http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { code: 'LG_ERR_NOT_FOUND', message: 'read-only: GET only' });
    const u = new URL(req.url ?? '/', 'http://plant');
    const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const run = async (): Promise<unknown> => {
      if (parts[0] !== 'trace') return undefined;
      if (parts[1] === 'supplier-lot' && parts.length === 3) return trace.supplierLot(parts[2]!, u.searchParams.get('supplier'));
      if (parts[1] === 'lot' && parts.length === 3) return trace.forwardFromLots([parts[2]!]);
      if (parts[1] === 'batch' && parts.length === 4) return trace.backwardFromBatch(parts[2]!, parts[3]!);
      return undefined;
    };
    run().then(
      (r) => (r === undefined ? send(404, { code: 'LG_ERR_NOT_FOUND', message: `no such route: GET ${u.pathname}` }) : send(200, r)),
      (err: unknown) => send(503, { code: 'LG_ERR_PLANT_STORE_UNREACHABLE', message: (err as Error).message }),
    );
  });
}

async function serve(trace: PlantTrace, host: string, port: number): Promise<number> {
  const server = plantServer(trace);
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'plant API listening', url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}` })}\n`);
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
