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
      const ids = await page
        .locator('[data-testid^="entry-"]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-testid')!.slice(6))));
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

describe('a transfer waiting for approval', () => {
  it('390px: is explained on the account and its maker cancels it, releasing the hold', async () => {
    const meera = await loginApi('meera');
    const sav = ((await meera.get('/accounts')).body.items as Array<{ id: number; number: string; type: string }>).find(
      (a) => a.type === 'SAV',
    )!;
    expect((await teller.post('/deposits', { accountId: sav.id, amount: '300000.00', memo: 'Bonus' })).status).toBe(201);
    const ravi = ((await (await loginApi('ravi')).get('/accounts')).body.items as Array<{ number: string }>)[0];

    const page = await signedIn('meera', PHONE);
    await page.locator('.menu-toggle').click();
    await page.getByTestId('nav-transfer').click();
    await page.getByTestId('transfer-form').waitFor();
    await page.getByTestId('transfer-from').selectOption(String(sav.id));
    await page.getByTestId('transfer-to').fill(ravi.number);
    await page.getByTestId('transfer-amount').fill('2,50,000');
    await expect.poll(() => page.getByTestId('amount-input-preview').textContent()).toBe('₹2,50,000.00');
    await page.getByTestId('transfer-submit').click();
    await page.getByTestId('transfer-review').waitFor();
    await page.getByTestId('transfer-confirm').click();
    await expect.poll(() => page.getByTestId('transfer-result').getAttribute('data-status')).toBe('pending_approval');
    await shoot(page, 'transfer-pending');

    await page.goto(`/accounts/${sav.id}`);
    await page.getByTestId('pending-list').waitFor();
    expect(await page.getByTestId('hold-explained').textContent()).toContain('₹2,50,000.00 is held for a transfer');
    const bal = await page.getByTestId(`balance-${sav.number}`).getAttribute('data-amount');
    expect(await page.getByTestId(`available-${sav.number}`).getAttribute('data-amount')).not.toBe(bal);
    expect(await sideways(page)).toBe(0);
    await shoot(page, 'account-pending');

    const cancel = page.locator('[data-testid^="cancel-"]').first();
    await cancel.click();
    await expect.poll(() => page.getByTestId('confirm-dialog').textContent()).toContain('₹2,50,000.00');
    await shoot(page, 'cancel-confirm');
    await page.getByTestId('confirm-accept').click();
    await page.getByTestId('pending-list').waitFor({ state: 'detached', timeout: LIVE_MS });
    await expect.poll(() => page.getByTestId(`available-${sav.number}`).getAttribute('data-amount'), { timeout: LIVE_MS }).toBe(bal);
    expect(await page.getByTestId('hold-explained').count()).toBe(0);
    const pendingNow = (await meera.get(`/accounts/${sav.id}/pending`)).body.items;
    expect(pendingNow).toEqual([]);
  });
});

describe('staff: money and power move only after a confirmation that names who and what', () => {
  it('390px: a teller confirms a counter deposit naming the customer, and can back out', async () => {
    const page = await signedIn('tara', PHONE);
    await page.getByTestId('customer-search-input').fill('Asha');
    await page.getByTestId('customer-search-submit').click();
    await page.locator('[data-testid^="customer-row-"]', { hasText: 'Asha' }).first().click();
    await page.getByTestId('customer-detail').waitFor();
    expect(await sideways(page)).toBe(0);
    await shoot(page, 'staff-customer');
    const accountId = Number(await page.getByTestId('counter-account').inputValue());
    const before = (await teller.get(`/accounts/${accountId}`)).body.balance;

    await page.getByTestId('counter-deposit').check();
    await page.getByTestId('counter-amount').fill('50000000');
    await page.getByTestId('counter-submit').click();
    const dialog = page.getByTestId('confirm-dialog');
    await expect.poll(() => dialog.textContent()).toContain('₹5,00,00,000.00');
    expect(await dialog.textContent()).toContain('Asha Verma');
    await shoot(page, 'counter-confirm');
    await page.getByTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    expect((await teller.get(`/accounts/${accountId}`)).body.balance).toBe(before);

    await page.getByTestId('counter-amount').fill('100');
    await page.getByTestId('counter-submit').click();
    await page.getByTestId('confirm-accept').click();
    await expect.poll(() => page.getByTestId('counter-result').getAttribute('data-status')).toBe('posted');
    expect((await teller.get(`/accounts/${accountId}`)).body.balance).not.toBe(before);
  });

  it('1280px: the admin lands on the overview, and a role change waits for a confirmation', async () => {
    const page = await signedIn('admin', DESKTOP);
    await page.getByTestId('admin-overview').waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin');
    await shoot(page, 'admin-overview');

    const admin = await loginApi('admin');
    const tara = ((await admin.get('/users')).body.items as Array<{ id: number; username: string; role: string }>).find(
      (u) => u.username === 'tara',
    )!;
    await page.getByTestId('nav-users').click();
    const select = page.getByTestId(`user-role-${tara.id}`);
    await select.selectOption('manager');
    await expect.poll(() => page.getByTestId('confirm-dialog').textContent()).toContain('Teller to Manager');
    await shoot(page, 'role-confirm');
    await page.getByTestId('confirm-cancel').click();
    await expect.poll(() => select.inputValue()).toBe('teller');
    expect((await admin.get(`/users/${tara.id}`)).body.role).toBe('teller');

    await select.selectOption('manager');
    await page.getByTestId('confirm-accept').click();
    await expect.poll(async () => (await admin.get(`/users/${tara.id}`)).body.role).toBe('manager');
    expect((await admin.patch(`/users/${tara.id}`, { role: 'teller' })).status).toBe(200);
    // A role change signs the person out everywhere: the teller's API session starts again.
    teller = await loginApi('tara');
  });

  it('a manager must give a reason to reject, and sees whose money it is', async () => {
    const ravi = await loginApi('meera');
    const from = ((await ravi.get('/accounts')).body.items as Array<{ id: number; number: string; type: string }>).find(
      (a) => a.type === 'SAV',
    )!;
    expect((await teller.post('/deposits', { accountId: from.id, amount: '400000.00' })).status).toBe(201);
    const asha = ((await (await loginApi('asha')).get('/accounts')).body.items as Array<{ number: string }>)[0];
    const held = await ravi.post('/transfers', { fromAccountId: from.id, toAccountNumber: asha.number, amount: '250000.00' });
    expect(held.status, JSON.stringify(held.body)).toBe(202);

    const page = await signedIn('manoj', DESKTOP);
    await page.getByTestId('nav-approvals').click();
    await page.getByTestId(`approval-${held.body.id}`).waitFor();
    expect(await page.getByTestId(`approval-from-${held.body.id}`).textContent()).toContain('Meera Nair');
    await shoot(page, 'approvals');
    await page.getByTestId(`reject-${held.body.id}`).click();
    await expect.poll(() => page.getByTestId(`approval-error-${held.body.id}`).textContent()).toContain('reason');
    expect(await page.getByTestId('confirm-dialog').count()).toBe(0);
    await page.getByTestId(`approval-note-${held.body.id}`).fill('Please call the branch first');
    await page.getByTestId(`approval-error-${held.body.id}`).waitFor({ state: 'detached' });
    await page.getByTestId(`reject-${held.body.id}`).click();
    await page.getByTestId('confirm-accept').click();
    await page.getByTestId(`approval-${held.body.id}`).waitFor({ state: 'detached', timeout: LIVE_MS });
    expect((await ravi.get(`/transactions/${held.body.id}`)).body.status).toBe('rejected');
  });
});

describe('every main screen, at both sizes', () => {
  const SCREENS: Record<string, string[]> = {
    asha: ['/accounts', '/transfer', '/notifications', '/tickets', '/security'],
    manoj: [
      '/staff/customers',
      '/staff/tickets',
      '/staff/approvals',
      '/staff/branches',
      '/staff/products',
      '/staff/logins',
      '/staff/audit',
      '/staff/announcements',
    ],
    admin: ['/admin', '/admin/users', '/admin/operations'],
  };
  for (const size of [PHONE, DESKTOP]) {
    it(`${size.width}px: each opens, with no sideways page scroll on a phone`, async () => {
      const wide: string[] = [];
      for (const [user, paths] of Object.entries(SCREENS)) {
        const page = await signedIn(user, size);
        for (const path of paths) {
          await page.goto(path);
          await page.locator('main.content > *').first().waitFor();
          await page.waitForTimeout(400); // lists arrive
          expect(await page.getByTestId('not-found').count(), path).toBe(0);
          expect(await page.getByTestId('forbidden').count(), path).toBe(0);
          if (size.width < 600 && (await sideways(page)) > 0) wide.push(path);
          await shoot(page, `${user}${path.replace(/\//g, '-')}`);
        }
      }
      expect(wide).toEqual([]);
    });
  }
});

it('no page logged a console error or threw', () => {
  const dirty = pages.filter((p) => p.problems.console.length || p.problems.uncaught.length).map((p) => p.problems);
  expect(dirty, JSON.stringify(dirty, null, 2)).toEqual([]);
});
