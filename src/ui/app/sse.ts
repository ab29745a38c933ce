/**
 * Server-Sent Events over fetch (EventSource cannot send the kiosk's Authorization header).
 * Keeps the id of the last `record` event and sends it as Last-Event-ID on every reconnect, so
 * the gateway replays what was missed. Reconnects with backoff (0.5 s doubling to 4 s) forever;
 * reports the connection state so the page can say "unreachable" at once.
 */
export type ConnState = 'connecting' | 'live' | 'down';

export interface StreamOptions {
  url: string;
  token: string;
  lastEventId: number;
  onEvent(event: string, data: any, id: number | null): void;
  onState(state: ConnState, detail?: string): void;
  /** The page treats a stream silent for longer than this as down (the gateway pings every 15 s). */
  silenceMs?: number;
}

export function openStream(o: StreamOptions): { close(): void; lastId(): number } {
  let lastId = o.lastEventId;
  let closed = false;
  let ctrl: AbortController | null = null;
  let delay = 500;
  let watchdog: ReturnType<typeof setTimeout> | null = null;
  const silenceMs = o.silenceMs ?? 40_000;

  const arm = (): void => {
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(() => ctrl?.abort(), silenceMs);
  };

  const run = async (): Promise<void> => {
    while (!closed) {
      ctrl = new AbortController();
      o.onState('connecting');
      try {
        const res = await fetch(o.url, { headers: { authorization: `Bearer ${o.token}`, accept: 'text/event-stream', ...(lastId > 0 ? { 'last-event-id': String(lastId) } : {}) }, signal: ctrl.signal, cache: 'no-store' });
        if (!res.ok || !res.body) {
          const body = await res.text().catch(() => '');
          o.onState('down', `${res.status} ${body.slice(0, 200)}`);
          if (res.status === 401 || res.status === 403) o.onEvent('unauthorized', safeJson(body), null);
        } else {
          arm();
          o.onState('live');
          delay = 500;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            arm();
            buf += value;
            let i: number;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              let event = 'message';
              let data = '';
              let id: number | null = null;
              for (const line of block.split('\n')) {
                if (line.startsWith(':')) continue;
                const c = line.indexOf(':');
                const field = c < 0 ? line : line.slice(0, c);
                const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
                if (field === 'event') event = val;
                else if (field === 'data') data += (data ? '\n' : '') + val;
                else if (field === 'id' && /^\d+$/.test(val)) id = Number(val);
              }
              if (!data) continue;
              if (id !== null && id > lastId) lastId = id;
              o.onEvent(event, safeJson(data), id);
            }
          }
          if (!closed) o.onState('down', 'stream ended');
        }
      } catch (err) {
        if (!closed) o.onState('down', String((err as Error)?.message ?? err));
      }
      if (watchdog) clearTimeout(watchdog);
      if (closed) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 4000);
    }
  };
  void run();
  return {
    close() {
      closed = true;
      ctrl?.abort();
      if (watchdog) clearTimeout(watchdog);
    },
    lastId: () => lastId,
  };
}

function safeJson(s: string): any {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
