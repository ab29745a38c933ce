import { expect, it } from 'vitest';
import { startTestGateway } from '../../helpers/gateway.js';

// Without forceCloseConnections the API would wait out the station page's SSE stream until its
// 3 s close bound; a graceful stop must not hang on a connected page.
it('stops without waiting for a connected station page (SSE)', async () => {
  const t = await startTestGateway();
  const res = await fetch(`${t.url}/stations/WEIGH-1/events`, { headers: { authorization: `Bearer ${t.adminToken}` } });
  const reader = res.body!.getReader();
  await reader.read();
  const t0 = Date.now();
  await t.stop();
  expect(Date.now() - t0).toBeLessThan(2500);
  expect(t.gw.state).toBe('stopped');
  // The stream ended (cleanly, or as a socket closed by the server).
  const ended = await reader.read().then((r) => r.done, () => true);
  expect(ended).toBe(true);
});
