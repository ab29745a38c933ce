import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpSink } from '../../../src/upstream/sinks/http.js';
import { ErpSimulator } from '../../../simulators/erp/erp.js';
import { makeRecords } from '../../unit/upstream/sink-contract.js';
import { httpSinkConfig, killChild, spawnErp } from './harness.js';

describe('ERP simulator', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  function tmp(): string {
    const dir = mkdtempSync(join(tmpdir(), 'lg-erp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it('runs as a child process; keeps what it accepted in its own SQLite across kill -9; obeys /_control', async () => {
    const db = join(tmp(), 'erp.sqlite');
    let erp = await spawnErp(['--db', db]);
    cleanups.push(() => killChild(erp.child));
    const sink = new HttpSink(httpSinkConfig(erp.url));
    cleanups.push(() => sink.close());
    const recs = makeRecords(10);
    expect(await sink.send(recs, new AbortController().signal)).toEqual({ kind: 'all', outcome: 'delivered' });
    await killChild(erp.child, 'SIGKILL');
    erp = await spawnErp(['--db', db]);
    cleanups.push(() => killChild(erp.child));
    const sink2 = new HttpSink(httpSinkConfig(erp.url));
    cleanups.push(() => sink2.close());
    const ctl = await fetch(erp.url.replace('/events', '/_control'), { method: 'POST', body: JSON.stringify({ refuseIds: [recs[2]!.id] }) });
    expect(ctl.status).toBe(200);
    const again = await sink2.send(recs.slice(0, 4), new AbortController().signal);
    expect(again.kind === 'each' && again.results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'refused', 'delivered']);
    const rep = (await (await fetch(erp.url.replace('/events', '/_report'))).json()) as { unique: number; duplicates: number; faults: { refused: number } };
    expect(rep.unique).toBe(10);
    expect(rep.duplicates).toBe(3);
    expect(rep.faults.refused).toBe(1);
  });

  it('CLI fault flags: --fail-rate 1 answers 500, nothing stored', async () => {
    const erp = await spawnErp(['--fail-rate', '1']);
    cleanups.push(() => killChild(erp.child));
    const sink = new HttpSink(httpSinkConfig(erp.url));
    cleanups.push(() => sink.close());
    expect(await sink.send(makeRecords(2), new AbortController().signal)).toMatchObject({ kind: 'all', outcome: 'retry', status: 500 });
  });

  it('HTTPS with a client certificate (mutual TLS): the right certificate gets in, a rogue one does not', async () => {
    const dir = tmp();
    const ossl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    for (const who of ['server', 'client']) {
      ossl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
      ossl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '1', ...(who === 'server' ? ['-extfile', 'san.ext'] : []));
    }
    ossl('req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '1', '-subj', '/CN=rogue');
    const f = (n: string): Buffer => readFileSync(join(dir, n));
    const erp = new ErpSimulator({ tls: { cert: f('server.crt'), key: f('server.key'), ca: f('ca.crt'), requireClientCert: true } });
    await erp.start();
    cleanups.push(() => erp.close());
    expect(erp.url).toMatch(/^https:/);
    const good = new HttpSink(httpSinkConfig(erp.url, { clientCert: { cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), ca: join(dir, 'ca.crt') } }));
    const rogue = new HttpSink(httpSinkConfig(erp.url, { clientCert: { cert: join(dir, 'rogue.crt'), key: join(dir, 'rogue.key'), ca: join(dir, 'ca.crt') } }));
    cleanups.push(() => good.close());
    cleanups.push(() => rogue.close());
    const recs = makeRecords(3);
    expect(await good.send(recs, new AbortController().signal)).toEqual({ kind: 'all', outcome: 'delivered' });
    expect(await rogue.send(makeRecords(1), new AbortController().signal)).toMatchObject({ kind: 'all', outcome: 'retry' });
    expect(erp.report().unique).toBe(3);
  });

  it('bearer token and extra headers are sent; a wrong token is retried, never quarantined', async () => {
    const erp = new ErpSimulator({ token: 's3cret' });
    await erp.start();
    cleanups.push(() => erp.close());
    const ok = new HttpSink(httpSinkConfig(erp.url, { token: 's3cret', headers: { 'x-plant': 'p1' } }));
    const bad = new HttpSink(httpSinkConfig(erp.url, { token: 'nope' }));
    cleanups.push(() => ok.close());
    cleanups.push(() => bad.close());
    expect(await ok.send(makeRecords(2), new AbortController().signal)).toEqual({ kind: 'all', outcome: 'delivered' });
    expect(await bad.send(makeRecords(2), new AbortController().signal)).toMatchObject({ kind: 'all', outcome: 'retry', status: 401 });
  });
});
