import { format } from 'node:util';
import { setDebugLogger, setErrorLogger, setTraceLogger, setWarningLogger } from 'node-opcua-debug';
import type { Logger } from '../util/log.js';

/**
 * Everything on stdout is JSON (pino). node-opcua prints its own coloured lines through
 * node-opcua-debug; libraries may call console.*. Imported first by src/main.ts, this module
 * replaces node-opcua's loggers at once (node-opcua checks RSA PKCS#1 v1.5 when it loads) and
 * holds what comes before the daemon's logger exists; `routeConsoleToLogger` then sends all of it,
 * and console.*, through pino at the matching level (component "opcua" / "console").
 *
 * node-opcua's W27 advises starting Node with --security-revert=CVE-2023-46809, i.e. re-enabling
 * a padding oracle. linegate never passes that on: it logs what it means instead (the deprecated
 * Basic128Rsa15 policy cannot work; use a current policy).
 */

type Level = 'error' | 'warn' | 'debug' | 'trace' | 'info';
interface Ctx {
  filename?: string;
  callerline?: number;
}

const PENDING_MAX = 200;
let pending: Array<{ level: Level; component: string; source: string | null; msg: string }> = [];
let target: Logger | null = null;
let advised = false;

export const PKCS1_ADVICE =
  'RSA PKCS#1 v1.5 decryption is disabled in this Node.js (CVE-2023-46809): OPC UA servers on the deprecated Basic128Rsa15 security policy cannot be used — configure the PLC for Basic256Sha256 or Aes128_Sha256_RsaOaep (do not re-enable the old padding)';

/**
 * A node-opcua line as linegate passes it on: '' = unchanged, null = drop it, else the text to log
 * at warn instead (the PKCS#1 advice, once per process).
 */
export function opcuaAdvice(msg: string): string | null {
  if (/security-revert|CVE-2023-46809/i.test(msg)) {
    if (advised) return null;
    advised = true;
    return PKCS1_ADVICE;
  }
  if (/^\[NODE-OPCUA-W27\] node version/.test(msg)) return null; // the first half of the same warning
  return '';
}

function emit(level: Level, component: string, source: string | null, msg: string): void {
  const advice = opcuaAdvice(msg);
  if (advice === null) return;
  if (advice) {
    level = 'warn';
    msg = advice;
  }
  if (!target) {
    if (pending.length < PENDING_MAX) pending.push({ level, component, source, msg });
    return;
  }
  target[level]({ component, ...(source ? { source } : {}) }, msg);
}

const fromOpcua =
  (level: Level) =>
  (data: unknown, ...args: unknown[]): void => {
    const ctx = (data ?? {}) as Ctx;
    emit(level, 'opcua', ctx?.filename ? `${ctx.filename}:${ctx.callerline ?? '?'}` : null, format(...args).replace(/\u001b\[[0-9;]*m/g, ''));
  };

// Same levels as src/drivers/opcua/load.ts: node-opcua's warnings at debug (the driver logs what
// matters itself), its errors at warn.
setWarningLogger(fromOpcua('debug'));
setErrorLogger(fromOpcua('warn'));
setDebugLogger(fromOpcua('debug'));
setTraceLogger(fromOpcua('trace'));

/** From now on node-opcua's and console output go through `logger` (held lines first). */
export function routeConsoleToLogger(logger: Logger): void {
  target = logger;
  const held = pending;
  pending = [];
  for (const p of held) emit(p.level, p.component, p.source, p.msg);
  const to =
    (level: Level) =>
    (...args: unknown[]): void =>
      emit(level, 'console', null, format(...args));
  console.log = to('info');
  console.info = to('info');
  console.warn = to('warn');
  console.error = to('error');
  console.debug = to('debug');
  console.trace = to('trace');
}
