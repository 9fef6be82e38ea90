// The app as a bank's customers and staff use it, on a phone (390×844) and a desktop (1280×800):
// money screens readable without sideways scrolling, newest first with live entries on top, a
// pending transfer explained and cancelled, staff money and power moves confirmed first.
// Screenshots of every main screen at both sizes land in .tmp/screens/app-*.png.

import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import { launchBrowser, loginThroughForm, openUserPage, screenshot, type UserPage } from '../helpers/browser.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LIVE_MS = 10_000;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const EXPECTED_NOISE = [/status of 401.*\/api\/v1\/auth\/me/, /status of 422/];

let server: TestServer;
let browser: Browser;
const pages: UserPage[] = [];
let teller: ApiClient;

async function loginApi(username: string): Promise<ApiClient> {
  const res = await apiClient(server.url).post('/auth/login', { username, password: `${username}-demo-2026` });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return apiClient(server.url, res.body.token);
}

async function signedIn(username: string, size: { width: number; height: number }): Promise<Page> {
  const p = await openUserPage(browser, server.url, { ignore: EXPECTED_NOISE });
  pages.push(p);
  await p.page.setViewportSize(size);
  await loginThroughForm(p.page, username, `${username}-demo-2026`);
  return p.page;
}

/** How far the page scrolls sideways (0 = none). */
const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

async function shoot(page: Page, name: string) {
  const size = page.viewportSize()!;
  await screenshot(page, `app-${name}-${size.width < 600 ? 'phone' : 'desktop'}`);
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'client', 'dist', 'index.html'))) execSync('npm run build:client', { cwd: ROOT, stdio: 'inherit' });
  [server, browser] = await Promise.all([startTestServer({ env: { DEMO_DATA: '1' } }), launchBrowser()]);
  teller = await loginApi('tara');
});

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

describe('money screens at phone and desktop size', () => {
  for (const size of [PHONE, DESKTOP]) {
    it(`${size.width}px: accounts and the feed fit, newest first, and a live deposit lands on top`, async () => {
      const page = await signedIn('meera', size);
      await page.getByTestId('accounts-list').waitFor();
      expect(await sideways(page)).toBe(0);
      await shoot(page, 'accounts');

      await page.locator('[data-testid^="account-"] a').first().click();
      await page.getByTestId('account-detail').waitFor();
      await page.locator('[data-testid^="entry-"]').first().waitFor();
      expect(await sideways(page)).toBe(0);
      const ids = await page.locator('[data-testid^="entry-"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-testid')!.slice(6))));
      expect(ids.length).toBeGreaterThan(3);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      await shoot(page, 'account-detail');

      // A teller's deposit appears at the top of the open feed, without a reload.
      const accountId = Number(new URL(page.url()).pathname.split('/').pop());
      const memo = `Live cash ${size.width}`;
      const dep = await teller.post('/deposits', { accountId, amount: '777.00', memo });
      expect(dep.status).toBe(201);
      await expect.poll(() => page.locator('[data-testid^="entry-"]').first().textContent(), { timeout: LIVE_MS }).toContain(memo);
      expect(await page.locator('[data-testid^="entry-"]').first().textContent()).toContain('+₹777.00');

      // The entry opens its receipt.
      await page.locator('[data-testid^="entry-"]').first().click();
      await page.getByTestId('transaction-view').waitFor();
      await expect.poll(() => page.getByTestId('receipt-amount').textContent()).toBe('+₹777.00');
      expect(await sideways(page)).toBe(0);
      await shoot(page, 'receipt');
    });
  }
});
