/**
 * TLS to the broker: our own Mosquitto with a throw-away CA (openssl), the driver on mqtts:// with
 * `tls.ca` as a file path; and the same driver without the CA refuses the broker certificate.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { MqttScaleDriver, loadScaleProfile } from '../../../src/drivers/mqtt-scale/index.js';
import type { WeightReading } from '../../../src/drivers/driver.js';
import { silentLogger } from '../../../src/util/log.js';
import { freePort, waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { MOSQUITTO } from './brokers.js';
import mqtt from 'mqtt';

const devicesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'devices');
const hasTools = existsSync(MOSQUITTO) && spawnSync('openssl', ['version']).status === 0;
if (!hasTools) console.warn('[scale] mosquitto or openssl missing: the TLS test is skipped');

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

describe.skipIf(!hasTools)('MQTT scale over TLS (own Mosquitto)', () => {
  it('connects with the CA given as a file path, and refuses an unknown CA', async () => {
    const dir = tempDir('lg-scale-tls-');
    const port = await freePort();
    const p = dir.path;
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=linegate test CA', '-keyout', 'ca.key', '-out', 'ca.pem'], p);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], p);
    writeFileSync(join(p, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem'], p);
    writeFileSync(join(p, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\ncafile ${join(p, 'ca.pem')}\ncertfile ${join(p, 'server.pem')}\nkeyfile ${join(p, 'server.key')}\n`);
    // Started as root, mosquitto drops to its own user: it must be able to read the temp folder.
    for (const f of ['ca.pem', 'server.pem', 'server.key', 'm.conf']) chmodSync(join(p, f), 0o644);
    chmodSync(p, 0o755);
    const proc = spawn(MOSQUITTO, ['-c', join(p, 'm.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const drivers: MqttScaleDriver[] = [];
    try {
      await waitFor(() => new Promise<boolean>((res) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), res(true)));
        s.once('error', () => res(false));
      }), 10_000, 25, `tls mosquitto (${stderr})`);
      const make = (tls: Record<string, unknown>, id: string) => {
        const config = { kind: 'mqtt-scale' as const, id, station: 'WEIGH-1', profile: 'json-generic', broker: { url: `mqtts://127.0.0.1:${port}`, tls } };
        const d = new MqttScaleDriver({ config, profile: loadScaleProfile(devicesDir, 'json-generic'), logger: silentLogger(), backoff: { baseMs: 50, maxMs: 200 } });
        drivers.push(d);
        return d;
      };
      const good = make({ ca: join(p, 'ca.pem') }, 'tls.good');
      const readings: WeightReading[] = [];
      good.on('reading', (r) => readings.push(r));
      await good.start(new AbortController().signal);
      await waitFor(() => good.state === 'online', 10_000, 20, 'online over TLS');

      const pub = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { ca: [readFileSync(join(p, 'ca.pem'))], reconnectPeriod: 0 });
      await pub.publishAsync(good.topic, '{"weight":{"gross":0,"unit":"kg","stable":true}}', { qos: 1 });
      await pub.publishAsync(good.topic, '{"weight":{"gross":3.210,"unit":"kg","stable":true}}', { qos: 1 });
      await waitFor(() => readings.length === 1, 5000, 10, 'capture over TLS');
      expect(readings[0]!.value!.net).toBe('3.210');
      await pub.endAsync();

      const bad = make({}, 'tls.bad'); // no CA: the self-made CA is not trusted
      await bad.start(new AbortController().signal);
      await waitFor(() => bad.health().lastError !== null, 5000, 20, 'tls refusal');
      expect(bad.state).not.toBe('online');
      expect(bad.health().lastError!.message).toMatch(/certificate|self.signed|issuer/i);
    } finally {
      for (const d of drivers) await d.stop();
      proc.kill('SIGTERM');
      dir.cleanup();
    }
  });
});
