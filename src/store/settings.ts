import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/**
 * Small documents people may read or edit by hand: the gateway's identity (generated on first
 * start) and runtime settings changed from the UI. lowdb rewrites the whole file on each write and
 * does not fsync, so NOTHING that grows with production goes here — records live in the journal.
 */
export interface SettingsDoc {
  gatewayId: string;
  createdAt: string;
  runtime: Record<string, unknown>;
}

export async function openSettings(stateDir: string, now: Date): Promise<Low<SettingsDoc>> {
  const db = new Low<SettingsDoc>(new JSONFile<SettingsDoc>(join(stateDir, 'settings.json')), {
    gatewayId: randomUUID(),
    createdAt: now.toISOString(),
    runtime: {},
  });
  await db.read();
  // First start: persist the generated identity so it never changes afterwards.
  if (!db.data.gatewayId) db.data.gatewayId = randomUUID();
  db.data.runtime ??= {};
  await db.write();
  return db;
}
