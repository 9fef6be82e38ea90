// Everyday banking in a real browser on the demo data: a payee confirmed by name, a monthly
// payment scheduled and seen to run live (the job is started by the test), a freeze, and a
// reversal made by a teller and approved by a manager. Nothing is reloaded to see changes.

import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type ApiClient, type TestServer } from '../helpers/server.js';
import {
  EXPECTED_NOISE,
  LIVE_MS,
  launchBrowser,
  loginThroughForm,
  markPage,
  notReloaded,
  openUserPage,
  screenshot,
  type UserPage,
} from '../helpers/browser.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface AccountDto {
  id: number;
  number: string;
  type: string;
  balance: string;
}

let server: TestServer;
let browser: Browser;
const pages: UserPage[] = [];
let admin: ApiClient;
let teller: ApiClient;
let ashaApi: ApiClient;
let ashaAccounts: AccountDto[];
let raviAccount: AccountDto;

async function loginApi(username: string): Promise<ApiClient> {
  const res = await apiClient(server.url).post('/auth/login', { username, password: `${username}-demo-2026` });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return apiClient(server.url, res.body.token);
}

async function signIn(username: string, viewport?: { width: number; height: number }): Promise<Page> {
  const p = await openUserPage(browser, server.url, { ignore: EXPECTED_NOISE });
  pages.push(p);
  if (viewport) await p.page.setViewportSize(viewport);
  await loginThroughForm(p.page, username, `${username}-demo-2026`);
  return p.page;
}

const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'client', 'dist', 'index.html'))) execSync('npm run build:client', { cwd: ROOT, stdio: 'inherit' });
  [server, browser] = await Promise.all([startTestServer({ env: { DEMO_DATA: '1' } }), launchBrowser()]);
  admin = await loginApi('admin');
  teller = await loginApi('tara');
  ashaApi = await loginApi('asha');
  ashaAccounts = (await ashaApi.get('/accounts')).body.items;
  raviAccount = ((await (await loginApi('ravi')).get('/accounts')).body.items as AccountDto[])[0];
});

afterAll(async () => {
  for (const p of pages) {
    expect(p.problems.uncaught, 'uncaught errors in the page').toEqual([]);
    await p.close().catch(() => undefined);
  }
  await browser?.close();
  await server?.close();
});

describe('everyday banking in a real browser', () => {
  it('a customer saves a payee, sees the confirmed name, schedules a monthly payment and sees it run live', async () => {
    const page = await signIn('asha');
    const from = ashaAccounts.find((a) => a.type === 'SAV')!;

    // The demo gave her a payee already; she adds Ravi by number and sees whose account it is.
    await page.getByTestId('nav-payees').click();
    await page.getByTestId('payee-form').waitFor();
    await page.locator('[data-testid^="payee-"][data-testid$="-pay"]').first().waitFor();
    await page.getByTestId('payee-number').fill(raviAccount.number);
    expect(await page.getByTestId('payee-confirmed').textContent()).toContain('R. Kumar');
    await page.getByTestId('payee-nickname').fill('Ravi (cricket club)');
    await page.getByTestId('payee-save').click();
    const row = page.locator('[data-testid^="payee-"]', { hasText: 'Ravi (cricket club)' });
    await row.waitFor();
    await screenshot(page, 'e2e-payees');

    // Pay the saved payee on a schedule: monthly, from today.
    await row.getByRole('link', { name: 'Pay' }).click();
    await page.getByTestId('transfer-form').waitFor();
    expect(await page.getByTestId('transfer-payee-name').textContent()).toBe('R. Kumar');
    await page.getByTestId('transfer-from').selectOption(String(from.id));
    await page.getByTestId('transfer-amount').fill('750.00');
    await page.getByTestId('transfer-memo').fill('Club fees');
    await page.getByTestId('transfer-when-schedule').check();
    await page.getByTestId('transfer-frequency').selectOption('monthly');
    await page.getByTestId('transfer-start').fill(today());
    await screenshot(page, 'e2e-schedule-form');
    await page.getByTestId('transfer-submit').click();
    await page.getByTestId('transfer-review').waitFor();
    expect(await page.getByTestId('review-payee-name').textContent()).toBe('R. Kumar');
    expect(await page.getByTestId('review-when').textContent()).toContain('Every month');
    await screenshot(page, 'e2e-schedule-review');
    await page.getByTestId('transfer-confirm').click();
    const done = page.getByTestId('transfer-scheduled');
    await done.waitFor();
    const orderId = Number(await done.getAttribute('data-order'));
    await page.getByTestId('transfer-scheduled-link').click();
    const order = page.getByTestId(`order-${orderId}`);
    await order.waitFor();
    expect(await order.getAttribute('data-status')).toBe('active');
    // Opened from the confirmation, so its detail and (empty) run history show.
    await page.getByTestId('order-runs').waitFor();
    await markPage(page);

    // The job runs (as the scheduler would); the order's row and its history change on screen.
    const before = (await ashaApi.get(`/accounts/${from.id}`)).body.balance as string;
    const run = await admin.post('/jobs/standing-orders/run');
    expect(run.body.result.posted).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.getByTestId(`order-${orderId}-last`).getAttribute('data-run-status'), { timeout: LIVE_MS }).toBe('posted');
    await expect.poll(() => page.getByTestId(`run-${today()}`).getAttribute('data-status'), { timeout: LIVE_MS }).toBe('posted');
    expect(await notReloaded(page)).toBe(true);
    const after = (await ashaApi.get(`/accounts/${from.id}`)).body.balance as string;
    expect(Math.round(Number(before) * 100) - Math.round(Number(after) * 100)).toBe(75_000);
    await screenshot(page, 'e2e-standing-order-ran');

    // Pause it from the same screen.
    await page.getByTestId('order-pause').click();
    await expect.poll(() => order.getAttribute('data-status')).toBe('paused');
  });

  it('the account page shows freezes, alerts and statements; the phone layout does not scroll sideways', async () => {
    const page = await signIn('asha', { width: 390, height: 844 });
    const acct = ashaAccounts[1];
    await page.goto(`/#/accounts/${acct.id}`);
    await page.getByTestId('account-detail').waitFor();
    await page.getByTestId('alerts-card').waitFor();
    await page.locator('[data-testid^="alert-"][data-testid$="-delete"]').first().waitFor();
    await page.getByTestId('freeze-button').click();
    await page.getByTestId('frozen-note').waitFor();
    expect(await page.getByTestId(`freeze-${acct.number}`).getAttribute('data-frozen-by')).toBe('customer');
    await screenshot(page, 'e2e-account-frozen-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // The bank's statement as a PDF.
    const href = await page.getByTestId('statement-pdf-link').getAttribute('href');
    const pdf = await page.evaluate(async (url) => {
      const r = await fetch(url!, { credentials: 'same-origin' });
      return { type: r.headers.get('content-type'), head: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)) };
    }, href);
    expect(pdf).toEqual({ type: 'application/pdf', head: '%PDF-' });
    await page.getByTestId('unfreeze-button').click();
    await expect.poll(() => page.getByTestId(`freeze-${acct.number}`).getAttribute('data-frozen-by')).toBe('');
  });

  it('a teller asks for a reversal, a manager approves it, and both transactions link to each other', async () => {
    const target = ashaAccounts[0];
    const dep = (await teller.post('/deposits', { accountId: target.id, amount: '321.00', memo: 'Wrong account' })).body;
    const tara = await signIn('tara');
    await tara.goto(`/#/transactions/${dep.id}`);
    await tara.getByTestId('reverse-form').waitFor();
    await tara.getByTestId('reverse-reason').fill('Deposited to the wrong account');
    await tara.getByTestId('reverse-submit').click();
    await tara.getByTestId('reverse-requested').waitFor();
    await screenshot(tara, 'e2e-reversal-requested');
    const reversalId = Number((await tara.getByTestId('reverse-requested').getByRole('link').textContent())!.replace('#', ''));

    const manoj = await signIn('manoj');
    await manoj.getByTestId('nav-approvals').click();
    await manoj.getByTestId(`approval-${reversalId}`).waitFor();
    await screenshot(manoj, 'e2e-reversal-approval');
    await manoj.getByTestId(`approve-${reversalId}`).click();
    // Money moves only once the manager confirms what it does.
    await expect.poll(() => manoj.getByTestId('confirm-dialog').textContent()).toContain(`reverses transaction #${dep.id}`);
    await manoj.getByTestId('confirm-accept').click();
    await manoj.getByTestId(`approval-${reversalId}`).waitFor({ state: 'detached', timeout: LIVE_MS });

    const asha = await signIn('asha');
    await asha.goto(`/#/transactions/${dep.id}`);
    await asha.getByTestId('tx-reversed-by').click();
    await asha.getByTestId('tx-reversal-of').waitFor();
    expect(await asha.getByTestId('tx-reversal-of').textContent()).toContain(`#${dep.id}`);
    expect(await asha.getByTestId('reverse-form').count()).toBe(0);
    await screenshot(asha, 'e2e-reversal-customer');
  });
});
