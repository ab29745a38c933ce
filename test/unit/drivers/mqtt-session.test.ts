import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mqttValuesKind } from '../../../src/drivers/mqtt-values/index.js';
import { sessionOptions, readTlsMaterial } from '../../../src/drivers/mqtt-session.js';
import { silentLogger } from '../../../src/util/log.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Scales and process values connect through one session builder (src/drivers/mqtt-session.ts).
 * The process-values driver used to pass `broker.tls.ca|cert|key` to MQTT.js as given — a file
 * path where MQTT.js wants the PEM text — so a CA configured by path failed only at the handshake,
 * reconnecting for ever; now, as for scales, a path is read at construction and a wrong one is a
 * configuration error at start.
 */
const devicesDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'devices');
const valuesConfig = (tls: Record<string, string>): never =>
  ({ id: 'reactor.sensors', kind: 'mqtt-values', station: 'FILL-1', profile: 'plain-number', broker: { url: 'mqtts://127.0.0.1:1', tls }, values: [{ name: 't', unit: '°C', topic: 't/{id}' }] }) as never;

describe('MQTT session options shared by scales and process values', () => {
  it('a TLS file path is read (PEM text to MQTT.js); a missing file is LG_ERR_CONFIG_INVALID at construction of a process-values device', () => {
    const dir = tempDir('lg-mqtt-tls-');
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      const ca = join(dir.path, 'ca.pem');
      writeFileSync(ca, pem);
      const tls = readTlsMaterial({ url: 'mqtts://x', tls: { ca } } as never, 'd1');
      expect(tls.ca).toBe(pem);
      expect(sessionOptions({ url: 'mqtts://x', tls: { ca } } as never, 'c1', tls, 10).ca).toBe(pem);
      const ctx = { logger: silentLogger(), stateDir: dir.path, devicesDir };
      expect(() => mqttValuesKind.create(valuesConfig({ ca }), ctx)).not.toThrow();
      expect(() => mqttValuesKind.create(valuesConfig({ ca: join(dir.path, 'missing.pem') }), ctx)).toThrow(/broker\.tls\.ca/);
    } finally {
      dir.cleanup();
    }
  });

  it('MQTT 5 keeps the session and announces the commit window as Receive Maximum; 3.1.1 sends no properties', () => {
    const none = { ca: undefined, cert: undefined, key: undefined };
    expect(sessionOptions({ url: 'mqtt://x', protocolVersion: 5 } as never, 'c', none, 250)).toMatchObject({ clean: false, protocolVersion: 5, properties: { receiveMaximum: 250, sessionExpiryInterval: 604800 } });
    expect(sessionOptions({ url: 'mqtt://x' } as never, 'c', none, 250).properties).toBeUndefined();
  });
});
