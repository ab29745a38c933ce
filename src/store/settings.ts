import { Low, type Adapter } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { randomUUID } from 'node:crypto';
import { chmod, open, rename } from 'node:fs/promises';
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
  const db = new Low<SettingsDoc>(new PrivateJSONFile<SettingsDoc>(join(stateDir, 'settings.json')), {
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

/**
 * lowdb's JSONFile, but the file is owner-only (0600) whatever the umask: each write goes to a
 * temporary file created 0600, fsynced, then renamed over the old one (lowdb's own writer leaves
 * the mode to the umask, i.e. usually 0644). Writes are serialised.
 */
export class PrivateJSONFile<T> implements Adapter<T> {
  private readonly reader: JSONFile<T>;
  private queue: Promise<void> = Promise.resolve();
  constructor(private readonly file: string) {
    this.reader = new JSONFile<T>(file);
  }
  read(): Promise<T | null> {
    return this.reader.read();
  }
  write(data: T): Promise<void> {
    const run = async (): Promise<void> => {
      const tmp = `${this.file}.${process.pid}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.chmod(0o600);
        await fh.writeFile(JSON.stringify(data, null, 2));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
      await chmod(this.file, 0o600);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
