import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpcuaLineSimulator } from '../../../simulators/opcua-line/line.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';

/** Issue 5: an untrusted SignAndEncrypt server is refused until a person trusts it over the API. */
describe('OPC UA server certificate trust through the running gateway', () => {
  let line: OpcuaLineSimulator;
  let t: TestGateway;
  const pki = tempDir('linegate-simpki-');
  const DEV = 'secure.plc';

  beforeAll(async () => {
    line = new OpcuaLineSimulator({ port: 0, pkiDir: pki.path, opc30050: false, machine: 'FILL1', securityModes: ['SignAndEncrypt'] });
    const endpoint = await line.start();
    t = await startTestGateway({
      devices: [{ id: DEV, kind: 'opcua-machine', station: 'FILL-1', endpoint, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', nodeMap: 'packml-generic' }],
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await line?.stop();
    pki.cleanup();
  });

  it('refuses the unknown certificate with LG_ERR_OPCUA_CERT_UNTRUSTED, connects once an admin trusts its thumbprint', async () => {
    const err = await waitFor(() => {
      const h = t.gw.drivers.get(DEV)!.health();
      return h.lastError?.code === 'LG_ERR_OPCUA_CERT_UNTRUSTED' ? h : null;
    }, 30_000, 100, 'certificate refused');
    expect(err.state).not.toBe('online');
    const certs = await waitFor(async () => {
      const r = await t.call('GET', '/opcua/certificates');
      return r.body.items.find((c: any) => c.status === 'rejected');
    }, 10_000, 100, 'rejected certificate listed');
    // An operator may not trust certificates.
    const op = await t.call('POST', '/users', { id: 'op', name: 'Op', role: 'operator' });
    expect((await t.call('POST', '/opcua/certificates/trust', { thumbprint: certs.thumbprint }, op.body.token)).status).toBe(403);
    const trusted = await t.call('POST', '/opcua/certificates/trust', { thumbprint: certs.thumbprint.slice(0, 12) });
    expect(trusted.status).toBe(200);
    expect(trusted.body).toMatchObject({ status: 'trusted', thumbprint: certs.thumbprint });
    await waitFor(() => t.gw.drivers.get(DEV)!.health().state === 'online', 30_000, 100, 'online after trust');
  }, 90_000);
});
