import { createRequire } from 'node:module';
import type { Journal } from '../store/journal.js';
import type { Logger } from '../util/log.js';

/**
 * sd_notify(3) without libsystemd: datagrams to $NOTIFY_SOCKET.
 *
 * Node's dgram has no AF_UNIX and `net` is stream-only, and systemd reads the notify socket as
 * SOCK_DGRAM only. Decision: the `unix-dgram` package (a small native addon, pinned 2.0.7, built
 * by node-gyp at `npm ci` like better-sqlite3 and serialport; it built offline here). A native
 * dependency was the price: there is no pure-JS way to send an AF_UNIX datagram from Node 20. No child process
 * (`systemd-notify` is racy: systemd may not attribute its message to our PID), no socat.
 * If the addon cannot be loaded, or $NOTIFY_SOCKET is an abstract name (`@…`, which the addon does
 * not support; systemd uses the path /run/systemd/notify), linegate logs an error: under
 * `Type=notify` systemd then fails the start after TimeoutStartSec, visibly, rather than run blind.
 *
 * Messages: READY=1 once the journal and the API are up; WATCHDOG=1 every WATCHDOG_USEC/2 while
 * the event loop turns AND a no-op journal group commits (BEGIN IMMEDIATE … COMMIT: it takes the
 * write lock, so a journal that cannot commit stops the pings and systemd restarts us);
 * STOPPING=1 when a graceful stop begins.
 */

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: unknown) => void): void;
  on(ev: 'error', cb: (err: Error) => void): void;
  close(): void;
}

export class SdNotify {
  private sock: UnixDgramSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pinging = false;
  readonly path: string | null;
  readonly watchdogMs: number | null;
  sent = 0;

  constructor(
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.path = env.NOTIFY_SOCKET || null;
    const usec = Number(env.WATCHDOG_USEC);
    // WATCHDOG_PID, when set, names the process the watchdog is for.
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
    this.watchdogMs = Number.isFinite(usec) && usec > 0 && forUs ? usec / 1000 : null;
    if (!this.path) return;
    if (this.path.startsWith('@')) {
      log.error({ socket: this.path }, 'NOTIFY_SOCKET is an abstract socket name, which linegate cannot write to: no READY/WATCHDOG notifications');
      return;
    }
    try {
      const require = createRequire(import.meta.url);
      const ud = require('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };
      this.sock = ud.createSocket('unix_dgram');
      this.sock.on('error', (err) => log.warn({ err, socket: this.path }, 'sd_notify: send failed'));
    } catch (err) {
      log.error({ err, socket: this.path }, 'sd_notify: the unix-dgram addon could not be loaded (rebuild with npm ci): no READY/WATCHDOG notifications');
    }
  }

  get enabled(): boolean {
    return this.sock !== null;
  }

  notify(state: string): void {
    if (!this.sock || !this.path) return;
    const buf = Buffer.from(state);
    try {
      this.sock.send(buf, 0, buf.length, this.path, (err?: unknown) => {
        if (err) this.log.warn({ err, state: state.split('\n')[0] }, 'sd_notify: send failed');
      });
      this.sent++;
    } catch (err) {
      this.log.warn({ err, state }, 'sd_notify: send failed');
    }
  }

  ready(status: string): void {
    this.notify(`READY=1\nSTATUS=${status}\nMAINPID=${process.pid}`);
  }

  /** Ping at half the watchdog interval, each ping after a journal commit proved it alive. */
  startWatchdog(journal: Journal): void {
    if (!this.sock || !this.watchdogMs || this.timer) return;
    const every = Math.max(50, Math.floor(this.watchdogMs / 2));
    this.timer = setInterval(() => {
      if (this.pinging) return; // the previous probe has not come back: the journal is stuck
      this.pinging = true;
      // Measured, not a timer: a commit blocked in SQLite's busy wait blocks the timers too.
      const t0 = performance.now();
      journal
        .submit(() => true)
        .then(
          () => {
            if (performance.now() - t0 <= every) this.notify('WATCHDOG=1');
            else this.log.warn('watchdog: the journal answered late; ping skipped');
          },
          (err: unknown) => this.log.error({ err }, 'watchdog: the journal cannot commit; no ping (systemd restarts linegate when WatchdogSec= passes)'),
        )
        .finally(() => {
          this.pinging = false;
        });
    }, every);
    this.timer.unref();
  }

  stopping(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.notify('STOPPING=1');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      this.sock?.close();
    } catch {
      /* closed already */
    }
    this.sock = null;
  }
}
