import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/daemon.js';
import { startTestGateway, seedReferenceLine } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

describe('linegate CLI', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('check-config lists every error with its path and exits 78; run refuses the same file with 78', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'site: { id: "PLANT 1", timezone: Mars/Olympus }',
        'line: { id: L1 }',
        'stations:',
        '  - { id: WEIGH-1, role: mixing }',
        'devices:',
        '  - { id: s1, kind: serial-scanner, station: NOPE, profile: generic-usb-cdc, transport: { type: serial, path: /dev/ttyUSB0 } }',
        'api: { port: 99999, colour: blue }',
        'upstream: { sinks: [ { id: erp, kind: http, url: "${env:ERP_URL}" } ] }',
      ].join('\n'),
    );
    const r = await runCli(['check-config', bad], { ERP_URL: '' });
    expect(r.code).toBe(78);
    for (const path of ['site.id', 'stations[0].role', 'api.port', 'api.colour', 'upstream.sinks[0]']) {
      expect(r.stderr, path).toContain(path);
    }
    const run = await runCli(['run', '--config', bad]);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('LG_ERR_CONFIG_INVALID');
  });

  it('check-config accepts the committed example and demo configurations', async () => {
    for (const f of ['config/linegate.example.yaml', 'config/demo.yaml']) {
      const r = await runCli(['check-config', f], { ERP_TOKEN: 'x', LINEGATE_OPCUA_PASSWORD: 'x', SCALE_MQTT_PASSWORD: 'x' });
      expect([f, r.code, r.stderr]).toEqual([f, 0, '']);
    }
  });

  it('audit verify passes on an intact trail and names the first edited entry', async () => {
    const t = await startTestGateway();
    await seedReferenceLine(t);
    const dbFile = join(t.stateDir, 'journal.sqlite');
    await t.gw.stop();
    cleanups.push(() => t.stop());
    const ok = await runCli(['audit', 'verify', '--db', dbFile]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/intact: \d+ entries/);

    // Tamper as an attacker with file access would: drop the guard trigger, edit one row.
    const db = new Database(dbFile);
    db.exec('DROP TRIGGER audit_no_update');
    const victim = db.prepare(`SELECT seq FROM audit WHERE action = 'lot.created' ORDER BY seq LIMIT 1`).get() as { seq: number };
    db.prepare(`UPDATE audit SET new_value = json_set(new_value, '$.quantity', '5000.000') WHERE seq = ?`).run(victim.seq);
    db.close();
    const broken = await runCli(['audit', 'verify', '--db', dbFile]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`entry ${victim.seq}`);
    expect(broken.stdout).toContain('edited');
  });
});

describe('generated JSON Schema', () => {
  it('config/linegate.schema.json is the one the TypeBox source generates (run `npm run schema`)', async () => {
    const { readFileSync } = await import('node:fs');
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync('config/linegate.schema.json', 'utf8')));
  });
});
