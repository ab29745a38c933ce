import { readFileSync } from 'node:fs';
import type { Static } from '@sinclair/typebox';
import type { IClientOptions } from 'mqtt';
import { LgError } from '../errors.js';
import type { MqttScaleBrokerConfig } from '../config/devices/mqtt-scale.js';

/**
 * The MQTT session of a device whose PUBACKs wait for the journal (scales, process values): one
 * persistent session (clean: false), no automatic reconnect or resubscribe (the driver does both,
 * with backoff), and on MQTT 5 a session kept after disconnect with the commit window announced as
 * Receive Maximum. Shared, so both drivers connect alike.
 */
export interface TlsMaterial {
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
}

/**
 * TLS material: PEM text as is, anything else is a file path, read now so that a wrong path is a
 * configuration error at start-up rather than an endless reconnect loop.
 */
export function readTlsMaterial(broker: Static<typeof MqttScaleBrokerConfig>, device: string): TlsMaterial {
  const pem = (v: string | undefined, field: string): string | undefined => {
    if (!v) return undefined;
    if (v.includes('-----BEGIN')) return v;
    try {
      return readFileSync(v, 'utf8');
    } catch (err) {
      throw new LgError('LG_ERR_CONFIG_INVALID', { file: 'config', detail: `devices[${device}].broker.tls.${field}: ${(err as Error).message}` });
    }
  };
  return { ca: pem(broker.tls?.ca, 'ca'), cert: pem(broker.tls?.cert, 'cert'), key: pem(broker.tls?.key, 'key') };
}

export function sessionOptions(broker: Static<typeof MqttScaleBrokerConfig>, clientId: string, tls: TlsMaterial, maxInFlight: number): IClientOptions {
  return {
    clientId,
    clean: false,
    protocolVersion: broker.protocolVersion ?? 4,
    reconnectPeriod: 0,
    resubscribe: false,
    connectTimeout: 5000,
    keepalive: 15,
    ...(broker.username !== undefined ? { username: broker.username } : {}),
    ...(broker.password !== undefined ? { password: broker.password } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(broker.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: broker.tls.rejectUnauthorized } : {}),
    // MQTT 5: ask the broker to keep the session after disconnect (clean:false alone means 0 s in v5).
    // Receive Maximum: the broker keeps at most our commit window in flight.
    ...(broker.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 7 * 24 * 3600, receiveMaximum: maxInFlight } } : {}),
  };
}
