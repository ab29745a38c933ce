import type { FastifyReply, FastifyRequest } from 'fastify';
import { NOT_AT_STATION, verdictOf, type LiveEvent, type LiveEvents } from '../events.js';
import type { Repo } from '../store/repo.js';

/** Replay at most this many missed records; more than that and the page reloads its view instead. */
export const REPLAY_LIMIT = 1000;

/**
 * The station's Server-Sent Events stream, with replay by event id.
 *
 * Every `record` event carries `id: <journal seq>`. A client that reconnects sends the last id it
 * saw (`Last-Event-ID` header, as EventSource does, or `?lastEventId=`); the records of this
 * station committed after it are replayed from the journal first, then the live stream follows —
 * so a network blip or a gateway restart loses no verdict. The order of operations matters:
 * subscribe first (live events are held back), read the journal, send the replay, then flush
 * the held-back events that the replay did not already contain (seq > last replayed).
 * When more than REPLAY_LIMIT records were missed, a `reset` event tells the page to reload its
 * view from the API (it then shows the newest ones; the journal still has them all).
 * Process values (`NOT_AT_STATION`) are neither streamed nor replayed: a burst of them at a
 * station must not flood the page nor count towards the replay limit.
 */
export function streamStation(
  deps: { repo: Repo; events: LiveEvents },
  station: string,
  req: FastifyRequest,
  reply: FastifyReply,
  first: () => LiveEvent[],
): FastifyReply {
  const lastId = parseLastEventId(req);
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const write = (e: LiveEvent): void => {
    const id = e.event === 'record' && typeof e.data.seq === 'number' ? `id: ${e.data.seq}\n` : '';
    reply.raw.write(`${id}event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
  };
  let held: LiveEvent[] | null = [];
  let maxSent = lastId ?? 0;
  const live = (e: LiveEvent): void => {
    if (e.event === 'record' && e.data.type === NOT_AT_STATION) return; // process values: never on a station page
    if (held) return void held.push(e);
    if (e.event === 'record' && typeof e.data.seq === 'number') {
      if (e.data.seq <= maxSent) return;
      maxSent = e.data.seq;
    }
    write(e);
  };
  const unsub = deps.events.subscribe(station, live);
  // retry: how long EventSource waits before reconnecting (the page's own client uses its own backoff).
  reply.raw.write('retry: 1000\n\n');
  for (const e of first()) write(e);
  if (lastId !== null) {
    const { items, next } = deps.repo.listRecords({ station, notType: NOT_AT_STATION, after: lastId, limit: REPLAY_LIMIT, order: 'asc' });
    if (next !== null) {
      write({ event: 'reset', data: { reason: 'too many missed records to replay', after: lastId } });
    } else {
      for (const r of items) {
        const v = verdictOf(r);
        write({ event: 'record', data: { ...v.data, replayed: true } });
        maxSent = Math.max(maxSent, r.seq);
      }
    }
  }
  const pending = held;
  held = null;
  for (const e of pending) live(e);
  const ping = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
  req.raw.on('close', () => {
    clearInterval(ping);
    unsub();
  });
  return reply;
}

function parseLastEventId(req: FastifyRequest): number | null {
  const h = req.headers['last-event-id'];
  const q = (req.query as { lastEventId?: string } | undefined)?.lastEventId;
  const v = (Array.isArray(h) ? h[0] : h) ?? q;
  if (v === undefined || v === '') return null;
  return /^\d{1,15}$/.test(String(v)) ? Number(v) : null;
}
