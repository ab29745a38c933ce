import { Type, type Static } from '@sinclair/typebox';

/**
 * `ops:` in the config file — metrics, scheduled backups (issue 17). The watchdog needs no
 * setting: it follows systemd's WatchdogSec= through $WATCHDOG_USEC and $NOTIFY_SOCKET.
 */
export const OpsSchema = Type.Object(
  {
    metrics: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Serve Prometheus metrics at /metrics on their own listen address (not on the API port).' }),
        host: Type.String({ default: '127.0.0.1', description: 'Listen address of /metrics. Beyond localhost a token is required.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9464, description: 'Listen port of /metrics (0 = any free port).' }),
        token: Type.Optional(
          Type.String({ minLength: 16, description: 'Bearer token Prometheus must send (authorization.credentials in the scrape config); use ${env:NAME} or ${cred:NAME}. Required when host is not a loopback address.' }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    backup: Type.Object(
      {
        dir: Type.Optional(Type.String({ description: 'Take scheduled online backups of the journal into this folder (off when absent).' })),
        intervalH: Type.Number({ minimum: 0.0001, default: 24, description: 'Hours between scheduled backups (the first one this long after start).' }),
        keep: Type.Integer({ minimum: 1, default: 7, description: 'Scheduled backup files kept; older ones are deleted after a verified new one.' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type OpsConfig = Static<typeof OpsSchema>;
