import type { Db } from './db.js';

/** Next value of a named counter (the `counters` table); call inside a journal transaction. */
export function nextCounter(db: Db, name: string): number {
  const cur = db.prepare('SELECT value FROM counters WHERE name = ?').get(name) as { value: number } | undefined;
  const n = (cur ? Number(cur.value) : 0) + 1;
  db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value').run(name, n);
  return n;
}
