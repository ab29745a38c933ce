import type { Page } from 'playwright-core';
import type { TestGateway } from './gateway.js';

/**
 * Helpers for the supervisor/QA pages (src/ui/app/office) in e2e tests.
 *
 * `officeUser` creates a user and sets their signing secret (what they sign in and sign with);
 * `officeSignIn` signs in through the real sign-in form and waits for the navigation.
 */
export async function officeUser(t: TestGateway, id: string, name: string, role: 'operator' | 'supervisor' | 'qa' | 'admin', secret: string): Promise<{ id: string; token: string; secret: string }> {
  const u = await t.call('POST', '/users', { id, name, role });
  if (u.status !== 201) throw new Error(`user ${id}: ${u.status} ${JSON.stringify(u.body)}`);
  const kind = /^\d+$/.test(secret) ? 'pin' : 'password';
  const s = await t.call('PUT', '/me/signing-secret', { kind, secret }, u.body.token);
  if (s.status !== 200) throw new Error(`signing secret of ${id}: ${s.status} ${JSON.stringify(s.body)}`);
  return { id, token: u.body.token as string, secret };
}

/** Open `path` (default the office home), sign in with the form, wait until the shell shows the user. */
export async function officeSignIn(page: Page, base: string, userId: string, secret: string, path = '/ui/office'): Promise<void> {
  await page.goto(base + path);
  await page.locator('[data-testid=signin] input[name=userId]').fill(userId);
  await page.locator('[data-testid=signin] input[name=secret]').fill(secret);
  await page.locator('[data-testid=signin] button[type=submit]').click();
  const who = page.locator('[data-testid=who]').filter({ hasText: userId });
  const refused = page.locator('[data-testid=signin] [data-testid=error]');
  await who.or(refused).first().waitFor({ timeout: 20_000 }).catch(async (e) => {
    throw new Error(`sign-in of ${userId}: ${(e as Error).message}; page: ${(await page.content()).slice(0, 1500)}`);
  });
  if (await refused.isVisible()) throw new Error(`sign-in of ${userId} refused: ${await refused.textContent()}`);
}

/** The page session's bearer token (sessionStorage), to call the API as the page does. */
export async function officeToken(page: Page): Promise<string> {
  return page.evaluate(() => JSON.parse((globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('linegate.office.session') ?? '{}').token as string);
}
