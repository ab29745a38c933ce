/** Lazy, log-routed loading of node-opcua (shared by the driver, the PKI helpers and the bench). */
import { createRequire } from 'node:module';
import { format } from 'node:util';
import type * as OpcuaNs from 'node-opcua';
import type { Logger } from '../../util/log.js';
import { opcuaAdvice } from '../../service/console-log.js';

export type Opcua = typeof OpcuaNs;
let opcuaModule: Promise<Opcua> | undefined;
let nodeOpcuaLogger: Logger | null = null;

/**
 * node-opcua takes ~1.3 s to load: only pay for it when a machine is configured. Its own
 * diagnostics go to console.log (multi-line, colored, whole certificates in base64), which would
 * corrupt the JSON log stream journald keeps: route them into pino first (node-opcua warnings at
 * debug — the driver logs what matters itself —, its errors at warn).
 */
export function loadOpcua(logger?: Logger): Promise<Opcua> {
  if (logger && !nodeOpcuaLogger) nodeOpcuaLogger = logger.child({ component: 'node-opcua' });
  opcuaModule ??= (async () => {
    routeNodeOpcuaLogs();
    const m = await import('node-opcua');
    return (m as unknown as { default?: Opcua }).default ?? (m as unknown as Opcua);
  })();
  return opcuaModule;
}

function routeNodeOpcuaLogs(): void {
  try {
    // node-opcua-debug is node-opcua's own dependency: resolve it from there, not from our root.
    const req = createRequire(createRequire(import.meta.url).resolve('node-opcua'));
    const dbg = req('node-opcua-debug') as { setWarningLogger(f: unknown): void; setErrorLogger(f: unknown): void };
    const fwd =
      (level: 'debug' | 'warn') =>
      (ctx: { filename?: string } | undefined, ...args: unknown[]): void => {
        const l = nodeOpcuaLogger;
        if (!l) return;
        let msg = format(...args);
        // Never pass on node-opcua's advice to re-enable PKCS#1 v1.5 padding (issue 17): say what it means.
        const advice = opcuaAdvice(msg);
        if (advice === null) return;
        if (advice) return l.warn({ src: ctx?.filename }, advice);
        if (msg.length > 400) msg = `${msg.slice(0, 400)}…`;
        l[level]({ src: ctx?.filename }, msg);
      };
    dbg.setWarningLogger(fwd('debug'));
    dbg.setErrorLogger(fwd('warn'));
  } catch {
    // Logging is a convenience: never fail a connect over it.
  }
}

