import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { createLogger } from '../../../src/util/log.js';
import { runCli } from '../../helpers/daemon.js';
import { baseConfig, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 11 item 3: trusting an OPC UA server certificate is a person's decision in the audit chain. */
describe('11.3 OPC UA certificate trust is audited and logged', () => {
  let line: OpcuaLineSimulator;
  let other: OpcuaLineSimulator;
  let t: TestGateway;
  const pki = tempDir('linegate-simpki-');
  const pki2 = tempDir('linegate-simpki2-');
  const state = tempDir('linegate-trust-');
  const DEV = 'secure.plc';
  const logs: string[] = [];

  beforeAll(async () => {
    line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', securityModes: ['SignAndEncrypt'] });
    const endpoint = await line.start();
    // A second PLC whose certificate file an engineer brought on a stick (trusted by FILE).
    other = new OpcuaLineSimulator({ port: 0, pkiDir: pki2.path, opc30050: false, machine: 'FILL2', securityModes: ['SignAndEncrypt'] });
    await other.start();
    await other.stop();
    const dest = new Writable({
      write(chunk, _e, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    t = await startTestGateway(
      { devices: [{ id: DEV, kind: 'opcua-machine', station: 'FILL-1', endpoint, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', nodeMap: 'packml-generic' }] },
      { logger: createLogger({ level: 'info', destination: dest }), stateDir: state.path },
    );
  }, 90_000);
  afterAll(async () => {
    await t?.stop();
    await line?.stop();
    pki.cleanup();
    pki2.cleanup();
    state.cleanup();
  });

  it('11.3 a trust over the API and one from the CLI each leave an audit entry naming the person, and a log line', async () => {
    const rejected = await waitFor(async () => (await t.call('GET', '/opcua/certificates')).body.items.find((c: any) => c.status === 'rejected'), 30_000, 100, 'rejected certificate');
    const eva = await t.call('POST', '/users', { id: 'eva', name: 'Eva Admin', role: 'admin' });
    const r = await t.call('POST', '/opcua/certificates/trust', { thumbprint: rejected.thumbprint }, eva.body.token);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ thumbprint: rejected.thumbprint, status: 'trusted', alreadyTrusted: false });
    // Trusting again changes nothing and adds no entry.
    expect((await t.call('POST', '/opcua/certificates/trust', { thumbprint: rejected.thumbprint }, eva.body.token)).body.alreadyTrusted).toBe(true);

    const certDir = join(pki2.path, 'server', 'own', 'certs');
    const file = join(certDir, readdirSync(certDir).find((f) => f.endsWith('.pem'))!);
    const cfgFile = join(state.path, 'cli.yaml');
    writeFileSync(cfgFile, stringify(baseConfig(state.path)));
    const cli = await runCli(['opcua', 'trust', file, '--config', cfgFile], { SUDO_USER: 'maria' });
    expect([cli.code, cli.stderr]).toEqual([0, '']);
    expect(cli.stdout).toContain('audited as cli:maria');

    const audit = (await t.call('GET', '/audit?entity=opcua_certificate')).body.items;
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ actor: 'eva', action: 'opcua.certificate_trusted', entityId: rejected.thumbprint });
    expect(audit[0].oldValue ?? audit[0].old).toMatchObject({ status: 'rejected' });
    expect(audit[1]).toMatchObject({ actor: 'cli:maria', action: 'opcua.certificate_trusted' });
    expect(audit[1].entityId).not.toBe(rejected.thumbprint);
    expect((await t.call('GET', '/audit/verify')).body.ok).toBe(true);
    const line = logs.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l: any) => l.msg === 'OPC UA server certificate trusted by a person');
    expect(line).toMatchObject({ thumbprint: rejected.thumbprint, by: 'eva', via: 'api', source: '127.0.0.1' });
    // (That the driver then connects is test/integration/gateway/opcua-trust.test.ts.)
  }, 120_000);
});
