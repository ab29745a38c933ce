import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../util/log.js';
import { backupJournal, JOURNAL_FILE, pruneBackups, scheduledName, writeLock } from './backup.js';
import { Metrics } from './metrics.js';
import { SdNotify } from './notify.js';

/** What the gateway runs for operations: state lock, metrics, sd_notify watchdog, scheduled backups. */
export interface OpsServices {
  metrics: Metrics | null;
  notify: SdNotify;
  /** Last scheduled backup (for tests and health). */
  lastBackup: { at: string; file: string; ok: boolean; error?: string } | null;
  /** A graceful stop begins (STOPPING=1). */
  stopping(): void;
  stop(): Promise<void>;
  /** After the journal is closed: give the state folder free. */
  releaseLock(): void;
}

export async function startOps(gw: Gateway, log: Logger): Promise<OpsServices> {
  // Configs built in code (not parsed) may lack `ops`: the defaults are off.
  const cfg = gw.cfg.ops ?? { metrics: { enabled: false, host: '127.0.0.1', port: 9464 }, backup: { intervalH: 24, keep: 7 } };
  const releaseLock = writeLock(gw.stateDir);
  let metrics: Metrics | null = null;
  if (cfg.metrics.enabled) {
    metrics = new Metrics({
      journal: gw.journal,
      db: gw.db,
      drivers: () => gw.drivers.values(),
      sinks: () => gw.dispatcher?.stats() ?? [],
      apiServers: () => [gw.api.server],
      logger: log,
    });
    for (const d of gw.drivers.values()) metrics.watchDriver(d);
    try {
      const url = await metrics.listen(cfg.metrics);
      log.info({ url }, 'Prometheus metrics listening');
    } catch (err) {
      await metrics.close();
      releaseLock();
      throw err;
    }
  }
  const notify = new SdNotify(log);
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const svc: OpsServices = {
    metrics,
    notify,
    lastBackup: null,
    stopping: () => notify.stopping(),
    stop: async () => {
      if (timer) clearInterval(timer);
      notify.stopping();
      await running;
      await metrics?.close();
      notify.close();
    },
    releaseLock,
  };
  if (cfg.backup.dir) {
    const dir = cfg.backup.dir;
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    const take = async (): Promise<void> => {
      const at = new Date();
      const file = join(dir, scheduledName(at));
      try {
        const r = await backupJournal(join(gw.stateDir, JOURNAL_FILE), file);
        const pruned = pruneBackups(dir, cfg.backup.keep);
        svc.lastBackup = { at: at.toISOString(), file, ok: true };
        log.info({ file, bytes: r.bytes, records: r.records, ms: r.ms, pruned }, 'scheduled backup taken and verified');
      } catch (err) {
        svc.lastBackup = { at: at.toISOString(), file, ok: false, error: (err as Error).message };
        log.error({ err, file }, 'scheduled backup FAILED (older backups are kept)');
      }
    };
    timer = setInterval(() => {
      if (!running) running = take().finally(() => (running = null));
    }, cfg.backup.intervalH * 3_600_000);
    timer.unref();
    gw.addHealth('backup', () => ({ state: svc.lastBackup && !svc.lastBackup.ok ? 'degraded' : 'online', last: svc.lastBackup }));
  }
  notify.ready(`running: ${gw.drivers.size} devices`);
  notify.startWatchdog(gw.journal);
  if (notify.watchdogMs) log.info({ watchdogMs: notify.watchdogMs }, 'systemd watchdog: pinging at half the interval while the journal commits');
  return svc;
}
