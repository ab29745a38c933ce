import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { defaultDevicesDir } from '../../../src/util/paths.js';
import { runCli } from '../../helpers/daemon.js';
import { baseConfig, startTestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import type { SerialScannerDriver } from '../../../src/drivers/serial/driver.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.path;
}

const scanner = (extra: Record<string, unknown> = {}) => ({
  id: 'line1.pack.scanner',
  kind: 'serial-scanner',
  station: 'PACK-1',
  profile: 'generic-usb-cdc',
  transport: { type: 'tcp', host: '127.0.0.1', port: 7101 },
  ...extra,
});

/** Issues the loader reports for a config (with `devices` and anything else), [] when valid. */
function issuesOf(extra: Record<string, unknown>, env: Record<string, string> = {}, opts: { allowMissingSecrets?: boolean } = {}): Array<{ path: string; message: string }> {
  try {
    parseConfig(stringify(baseConfig('/tmp/unused-state', extra)), 'test.yaml', { env, ...opts });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

function writeCfg(extra: Record<string, unknown>): string {
  const file = join(tmp(), 'linegate.yaml');
  writeFileSync(file, stringify(baseConfig('/tmp/unused-state', extra)));
  return file;
}

describe('10.12 configuration that silently did the wrong thing is a config error', () => {
  it('10.12 check-config refuses a mistyped scanner profile (honeywell-190): exit 78, `path: message`', async () => {
    const file = writeCfg({ devices: [scanner({ profile: 'honeywell-190' })] });
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/devices\[0\]\.profile: unknown scanner profile "honeywell-190" \(known: [^)]*honeywell-1900/);
    const run = await runCli(['run', '--config', file]);
    expect(run.code).toBe(78);
  });

  it('10.12 unknown scale profile, node map, printer model and label template each name their path', () => {
    const issues = issuesOf({
      devices: [
        { id: 'sc', kind: 'mqtt-scale', station: 'WEIGH-1', profile: 'json-genric', broker: { url: 'mqtt://127.0.0.1:1884' } },
        { id: 'plc', kind: 'opcua-machine', station: 'FILL-1', endpoint: 'opc.tcp://127.0.0.1:4840', nodeMap: 'packml-generik' },
        { id: 'pr', kind: 'zpl-printer', station: 'PACK-1', model: 'zebra-203dpi-4inch', transport: { type: 'tcp', host: '127.0.0.1' } },
        { id: 'pr2', kind: 'zpl-printer', station: 'PACK-1', templates: { case: 'case-4x8' }, transport: { type: 'tcp', host: '127.0.0.2' } },
      ],
    });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath).sort()).toEqual(['devices[0].profile', 'devices[1].nodeMap', 'devices[2].model', 'devices[3].templates.case']);
    expect(byPath['devices[0].profile']).toContain('unknown scale profile "json-genric"');
    expect(byPath['devices[1].nodeMap']).toContain('unknown node map "packml-generik"');
    expect(byPath['devices[2].model']).toContain('unknown printer model "zebra-203dpi-4inch"');
    expect(byPath['devices[3].templates.case']).toContain('unknown label template "case-4x8"');
  });

  it('10.12 terminator none without interCharTimeoutMs is refused at the config, in the overrides', () => {
    expect(issuesOf({ devices: [scanner({ overrides: { terminator: 'none' } })] })).toEqual([
      { path: 'devices[0].overrides.interCharTimeoutMs', message: expect.stringContaining('terminator none needs interCharTimeoutMs') },
    ]);
    expect(issuesOf({ devices: [scanner({ overrides: { terminator: 'none', interCharTimeoutMs: 50 } })] })).toEqual([]);
  });

  it('10.12 two devices on one serial path are refused (the second one names the first)', () => {
    const issues = issuesOf({
      devices: [
        scanner({ id: 'a', transport: { type: 'serial', path: '/dev/linegate/scanner-pack1' } }),
        scanner({ id: 'b', station: 'WEIGH-1', transport: { type: 'serial', path: '/dev/linegate/scanner-pack1' } }),
      ],
    });
    expect(issues).toEqual([{ path: 'devices[1].transport.path', message: expect.stringContaining('already used by devices[0] (a)') }]);
  });

  it('10.12 malformed ${env:…} references are errors; well-formed ones, defaults and $${ escapes are not', () => {
    for (const bad of ['${env:ERP_TOKEN', '${env:}', '${ENV:ERP_TOKEN}', '${secret:ERP_TOKEN}', 'Bearer ${env:ERP TOKEN}']) {
      const issues = issuesOf({ upstream: { sinks: [{ id: 'erp', kind: 'http', url: 'http://127.0.0.1:8099/events', token: bad }] } }, { ERP_TOKEN: 't' });
      expect(issues, bad).toEqual([{ path: 'upstream.sinks[0].token', message: expect.stringContaining('malformed reference') }]);
    }
    const ok = parseConfig(
      stringify(baseConfig('/tmp/unused-state', { upstream: { sinks: [{ id: 'erp', kind: 'http', url: 'http://127.0.0.1:${env:P:-8099}/events', token: 'a$${b}${env:ERP_TOKEN}' }] } })),
      'test.yaml',
      { env: { ERP_TOKEN: '${x' } },
    );
    expect(ok.upstream.sinks[0]).toMatchObject({ url: 'http://127.0.0.1:8099/events', token: 'a${b}${x' });
  });

  it('10.12 via the CLI: a malformed reference exits 78 with its path', async () => {
    const file = writeCfg({ upstream: { sinks: [{ id: 'erp', kind: 'http', url: 'http://127.0.0.1:8099/events', token: '${env:ERP_TOKEN' }] } });
    const r = await runCli(['check-config', file], { ERP_TOKEN: 'x' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('upstream.sinks[0].token: malformed reference');
  });

  it('10.12 the gateway never reports ready with a configured device absent (profile gone after the check)', async () => {
    // Valid against the packaged devices/, but the gateway is pointed at a folder without it.
    const empty = tmp();
    mkdirSync(join(empty, 'scanners'));
    mkdirSync(join(empty, 'printers'));
    mkdirSync(join(empty, 'labels'));
    const t = await startTestGateway({ devices: [scanner({ transport: { type: 'tcp', host: '127.0.0.1', port: 1 } })] }, { devicesDir: empty });
    cleanups.push(() => t.stop());
    const h = t.gw.health();
    expect(h.status).toBe('degraded');
    expect(h.subsystems.drivers).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'line1.pack.scanner', state: 'failed', lastError: expect.objectContaining({ code: 'LG_ERR_DEVICE_PROFILE' }) })]),
    );
  });
});

describe('10.13 a site devices folder, searched before the packaged one', () => {
  function siteWithScanner(maxFrameBytes: number, name = 'generic-usb-cdc'): string {
    const site = tmp();
    mkdirSync(join(site, 'scanners'));
    const packaged = readFileSync(join(defaultDevicesDir(), 'scanners', 'generic-usb-cdc.yaml'), 'utf8');
    writeFileSync(
      join(site, 'scanners', `${name}.yaml`),
      packaged.replace(/^name: .*$/m, `name: ${name}`).replace(/^maxFrameBytes: .*$/m, `maxFrameBytes: ${maxFrameBytes}`),
    );
    return site;
  }

  it('10.13 a site profile wins over the packaged one of the same name (the driver runs it)', async () => {
    const site = siteWithScanner(777);
    const t = await startTestGateway({ profiles: { siteDir: site }, devices: [scanner({ transport: { type: 'tcp', host: '127.0.0.1', port: 1 } })] });
    cleanups.push(() => t.stop());
    const d = await waitFor(() => t.gw.drivers.get('line1.pack.scanner') as SerialScannerDriver | undefined, 5000, 10, 'driver');
    expect(d.profile.maxFrameBytes).toBe(777);
  });

  it('10.13 a profile that exists only in the site folder is accepted by check-config; without the folder it is unknown', async () => {
    const site = siteWithScanner(512, 'acme-site-scanner');
    const ok = await runCli(['check-config', writeCfg({ profiles: { siteDir: site }, devices: [scanner({ profile: 'acme-site-scanner' })] })]);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    const bad = await runCli(['check-config', writeCfg({ devices: [scanner({ profile: 'acme-site-scanner' })] })]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain('devices[0].profile: unknown scanner profile "acme-site-scanner"');
  });

  it('10.13 a missing site folder is fine (default /etc/linegate/devices, or any path that does not exist)', () => {
    expect(issuesOf({ devices: [scanner()] })).toEqual([]);
    expect(issuesOf({ profiles: { siteDir: join(tmp(), 'not-there') }, devices: [scanner()] })).toEqual([]);
    const cfg = parseConfig(stringify(baseConfig('/tmp/unused-state')), 'test.yaml', { env: {} });
    expect(cfg.profiles.siteDir).toBe('/etc/linegate/devices');
  });
});

describe('10.14 check-config --no-secrets', () => {
  // Only what this process has; the shipped example references these and must be checked without them.
  const unset = { ERP_TOKEN: '', LINEGATE_OPCUA_PASSWORD: '', SCALE_MQTT_PASSWORD: '' };

  it('10.14 validates the shipped example without its secrets set; without the flag the missing secrets are errors', async () => {
    const withFlag = await runCli(['check-config', 'config/linegate.example.yaml', '--no-secrets'], unset);
    expect([withFlag.code, withFlag.stderr]).toEqual([0, '']);
    expect(withFlag.stdout).toContain('secrets not checked');
    const without = await runCli(['check-config', 'config/linegate.example.yaml'], unset);
    expect(without.code).toBe(78);
    expect(without.stderr).toContain('environment variable ERP_TOKEN is not set');
  });

  it('10.14 --no-secrets still reports every other error (a secret-free file is not waved through)', async () => {
    const file = writeCfg({ api: { port: 99999 }, upstream: { sinks: [{ id: 'erp', kind: 'http', url: 'http://127.0.0.1:8099/events', token: '${env:ERP_TOKEN}' }] } });
    const r = await runCli(['check-config', file, '--no-secrets'], unset);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('api.port');
    expect(r.stderr).not.toContain('ERP_TOKEN');
  });

  it('10.14 --no-secrets does not hide a malformed reference', () => {
    const issues = issuesOf({ upstream: { sinks: [{ id: 'erp', kind: 'http', url: 'http://127.0.0.1:8099/events', token: '${env:ERP_TOKEN' }] } }, {}, { allowMissingSecrets: true });
    expect(issues.map((i) => i.path)).toEqual(['upstream.sinks[0].token']);
  });
});
