import { existsSync } from 'node:fs';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (installed by .ci/run when missing); playwright-core never downloads one. */
export const CHROMIUM = process.env.LINEGATE_CHROMIUM ?? '/usr/bin/chromium';

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-background-networking',
      '--disable-component-update',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-dev-shm-usage',
    ],
    timeout: 30_000,
  });
}

/**
 * A TCP proxy between the browser and the gateway: `cut()` drops every connection and refuses
 * new ones (a network blip, or the gateway being away), `restore()` accepts again; `target` can
 * change (the gateway restarted on another port) while the browser keeps its URL.
 */
export class BlipProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(public target: { host: string; port: number }) {}

  async start(port = 0): Promise<number> {
    const srv = createServer((client) => {
      const up = connect(this.target.port, this.target.host);
      this.sockets.add(client).add(up);
      const drop = (): void => {
        client.destroy();
        up.destroy();
        this.sockets.delete(client);
        this.sockets.delete(up);
      };
      client.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      client.pipe(up);
      up.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = srv;
    this.port = (srv.address() as AddressInfo).port;
    return this.port;
  }

  async cut(): Promise<void> {
    const srv = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
