// The app as people use it: a real server on the demo data, real Chromium, several users at once.
// Live updates must arrive WITHOUT reloading: every wait on another user's action is on the DOM.

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
  availableBalance: string;
}

let server: TestServer;
let browser: Browser;
const pages: Record<string, UserPage> = {};
let ashaSav: AccountDto;
let ravi: AccountDto;
let manager: ApiClient;

async function loginApi(username: string): Promise<ApiClient> {
  const res = await apiClient(server.url).post('/auth/login', { username, password: `${username}-demo-2026` });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return apiClient(server.url, res.body.token);
}

async function open(username: string): Promise<Page> {
  pages[username] = await openUserPage(browser, server.url, { ignore: EXPECTED_NOISE });
  return pages[username].page;
}

/** The decimal string a money element shows (data-amount), e.g. "85000.00". */
const amountOf = (page: Page, testid: string) => page.getByTestId(testid).getAttribute('data-amount');

/** Exact decimal-string sum in paise: plus('85000.00', '-500') → '84500.00'. */
const plus = (a: string, b: string) => {
  const paise = (s: string) => {
    const [int, frac = ''] = s.replace('-', '').split('.');
    const v = BigInt(int) * 100n + BigInt((frac + '00').slice(0, 2));
    return s.startsWith('-') ? -v : v;
  };
  const v = paise(a) + paise(b);
  const abs = (v < 0n ? -v : v).toString().padStart(3, '0');
  return `${v < 0n ? '-' : ''}${abs.slice(0, -2)}.${abs.slice(-2)}`;
};

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'client', 'dist', 'index.html'))) execSync('npm run build:client', { cwd: ROOT, stdio: 'inherit' });
  [server, browser] = await Promise.all([startTestServer({ env: { DEMO_DATA: '1' } }), launchBrowser()]);
  const asha = await loginApi('asha');
  const ravis = await loginApi('ravi');
  manager = await loginApi('manoj');
  const mine = (await asha.get('/accounts')).body.items as AccountDto[];
  ashaSav = mine.find((a) => a.type === 'SAV')!;
  ravi = ((await ravis.get('/accounts')).body.items as AccountDto[])[0];
  expect(ashaSav && ravi).toBeTruthy();
});

afterAll(async () => {
  for (const p of Object.values(pages)) await p.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

describe('banking hub in a real browser', () => {
  it('a customer signs in through the form and sees her accounts with balances', async () => {
    const page = await open('asha');
    await page.goto('/');
    await page.getByTestId('login-form').waitFor();
    await screenshot(page, 'e2e-login');
    await loginThroughForm(page, 'asha', 'asha-demo-2026');

    await expect.poll(() => page.getByTestId('current-user-role').textContent()).toBe('Customer');
    const list = page.getByTestId('accounts-list');
    await list.waitFor();
    await page.getByTestId(`account-${ashaSav.number}`).waitFor();
    // The figure on screen is the server's balance, formatted as rupees.
    expect(await amountOf(page, `balance-${ashaSav.number}`)).toBe(ashaSav.balance);
    const shown = await page.getByTestId(`balance-${ashaSav.number}`).textContent();
    expect(shown).toMatch(/^₹[\d,]+\.\d{2}$/);
    expect(shown!.replace(/[₹,]/g, '')).toBe(ashaSav.balance);
    expect(await page.locator('[data-testid^="balance-"]').count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.getByTestId('connection-status').getAttribute('data-state'), { timeout: LIVE_MS }).toBe('live');
    await screenshot(page, 'e2e-customer-dashboard');

    // Her account page charts six weeks of demo history and lists the entries behind it.
    await page
      .getByTestId(`account-${ashaSav.number}`)
      .getByRole('link', { name: /\d{4} \d{4} \d{4}/ })
      .click();
    await page.getByTestId('account-detail').waitFor();
    await page.locator('[data-testid="balance-chart"] canvas').waitFor();
    expect(Number(await page.getByTestId('balance-chart').getAttribute('data-points'))).toBeGreaterThan(20);
    await page.locator('[data-testid^="entry-"]').first().waitFor();
    await screenshot(page, 'e2e-account-detail');
    await page.getByTestId('nav-accounts').click();
    await page.getByTestId(`balance-${ashaSav.number}`).waitFor();
    await markPage(page);
  });

  it('a teller deposits at the counter and the customer sees it live; her transfer to ravi posts', async () => {
    const asha = pages.asha.page;
    const before = (await amountOf(asha, `balance-${ashaSav.number}`))!;

    const tara = await open('tara');
    await loginThroughForm(tara, 'tara', 'tara-demo-2026');
    await tara.getByTestId('customer-search-input').fill('Asha');
    await tara.getByTestId('customer-search-submit').click();
    await tara.locator('[data-testid^="customer-row-"]', { hasText: 'Asha' }).first().click();
    await tara.getByTestId('customer-detail').waitFor();
    await tara.getByTestId(`account-${ashaSav.number}`).waitFor();
    await tara.getByTestId('counter-deposit').check();
    await tara.getByTestId('counter-account').selectOption(String(ashaSav.id));
    await tara.getByTestId('counter-amount').fill('1234.56');
    await tara.getByTestId('counter-memo').fill('Cash at the counter');
    await tara.getByTestId('counter-submit').click();
    // Money at the counter moves only once the teller confirms who gets what.
    await expect.poll(() => tara.getByTestId('confirm-dialog').textContent()).toContain('₹1,234.56');
    await tara.getByTestId('confirm-accept').click();
    await expect.poll(() => tara.getByTestId('counter-result').getAttribute('data-status')).toBe('posted');
    await screenshot(tara, 'e2e-staff-customer-after-deposit');

    // Asha's screen was never reloaded: the socket pushed the new balance.
    const afterDeposit = plus(before, '1234.56');
    await expect.poll(() => amountOf(asha, `balance-${ashaSav.number}`), { timeout: LIVE_MS }).toBe(afterDeposit);
    expect(await notReloaded(asha)).toBe(true);

    await asha.getByTestId('nav-transfer').click();
    await asha.getByTestId('transfer-form').waitFor();
    await asha.getByTestId('transfer-from').selectOption(String(ashaSav.id));
    await asha.getByTestId('transfer-to').fill(ravi.number);
    // Confirmation of payee: whose account it is, before anything is sent.
    expect(await asha.getByTestId('transfer-payee-name').textContent()).toBe('R. Kumar');
    await asha.getByTestId('transfer-amount').fill('500.00');
    await asha.getByTestId('transfer-memo').fill('Concert tickets');
    await screenshot(asha, 'e2e-transfer-form');
    await asha.getByTestId('transfer-submit').click();
    expect(await asha.getByTestId('review-payee-name').textContent()).toBe('R. Kumar');
    await screenshot(asha, 'e2e-transfer-review');
    await asha.getByTestId('transfer-confirm').click();
    const result = asha.getByTestId('transfer-result');
    await result.waitFor();
    expect(await result.getAttribute('data-status')).toBe('posted');
    await asha.getByTestId('transfer-posted').waitFor();
    await screenshot(asha, 'e2e-transfer-result');

    await asha.getByTestId('nav-accounts').click();
    await expect.poll(() => amountOf(asha, `balance-${ashaSav.number}`), { timeout: LIVE_MS }).toBe(plus(afterDeposit, '-500.00'));
  });

  it('a ticket conversation flows both ways live', async () => {
    const asha = pages.asha.page;
    const tara = pages.tara.page;
    await tara.getByTestId('nav-ticket-desk').click();
    await tara.getByTestId('ticket-desk').waitFor();
    await markPage(tara);

    const subject = `Cheque book request ${Date.now()}`;
    await asha.getByTestId('nav-tickets').click();
    await asha.getByTestId('ticket-new').click();
    await asha.getByTestId('ticket-category').selectOption('account');
    await asha.getByTestId('ticket-subject').fill(subject);
    await asha.getByTestId('ticket-body').fill('Please send me a new cheque book for my savings account.');
    await asha.getByTestId('ticket-submit').click();
    await asha.getByTestId('ticket-view').waitFor();
    const ticketId = Number(/\/tickets\/(\d+)/.exec(asha.url())?.[1]);
    expect(ticketId).toBeGreaterThan(0);

    // The desk was open before the ticket existed: it appears by itself.
    const row = tara.getByTestId(`desk-ticket-${ticketId}`);
    await row.waitFor({ timeout: LIVE_MS });
    expect(await notReloaded(tara)).toBe(true);
    expect(await row.textContent()).toContain(subject);
    await screenshot(tara, 'e2e-ticket-desk');

    await row.getByRole('link', { name: subject }).click();
    await tara.getByTestId('ticket-view').waitFor();
    const reply = 'A new cheque book is on its way; it should reach you within five working days.';
    await tara.getByTestId('message-input').fill(reply);
    await tara.getByTestId('message-send').click();
    await tara.getByTestId('ticket-thread').getByText(reply).waitFor();
    await screenshot(tara, 'e2e-staff-ticket');

    await asha.getByTestId('ticket-thread').getByText(reply).waitFor({ timeout: LIVE_MS });
    expect(await notReloaded(asha)).toBe(true);
    await screenshot(asha, 'e2e-customer-ticket');
  });

  it('a manager approves the pending demo transfer and it leaves the queue', async () => {
    const pending = (await manager.get('/approvals?status=pending')).body.items as Array<{
      id: number;
      amount: string;
      toAccountNumber: string;
    }>;
    // The demo data leaves one large transfer from ravi to asha's savings waiting.
    const tx = pending.find((t) => t.toAccountNumber === ashaSav.number)!;
    expect(tx, JSON.stringify(pending)).toBeTruthy();

    const manoj = await open('manoj');
    await loginThroughForm(manoj, 'manoj', 'manoj-demo-2026');
    await manoj.getByTestId('nav-approvals').click();
    const item = manoj.getByTestId(`approval-${tx.id}`);
    await item.waitFor();
    await screenshot(manoj, 'e2e-approvals');

    // The payee's screen (asha, for the demo transfer) shows the credit live.
    const asha = pages.asha.page;
    await asha.getByTestId('nav-accounts').click();
    await asha.getByTestId(`balance-${ashaSav.number}`).waitFor();
    const before = (await amountOf(asha, `balance-${ashaSav.number}`))!;

    await manoj.getByTestId(`approval-note-${tx.id}`).fill('Checked with the branch');
    await manoj.getByTestId(`approve-${tx.id}`).click();
    await manoj.getByTestId('confirm-accept').click();
    await item.waitFor({ state: 'detached', timeout: LIVE_MS });
    if (pending.length === 1) await manoj.getByTestId('approvals-empty').waitFor();
    expect((await manager.get(`/transactions/${tx.id}`)).body.status).toBe('posted');

    await expect.poll(() => amountOf(asha, `balance-${ashaSav.number}`), { timeout: LIVE_MS }).toBe(plus(before, tx.amount));
    expect(await notReloaded(asha)).toBe(true);
    // She is the payee: she is told she received the money, not that "her" transfer was approved.
    await asha
      .getByTestId('toasts')
      .getByText(/You received ₹2,10,000\.00/)
      .waitFor({ timeout: LIVE_MS });
    await screenshot(asha, 'e2e-customer-after-approval', { fullPage: false });
  });

  it('signing out returns to the login screen, and stays there after a reload', async () => {
    const asha = pages.asha.page;
    await asha.getByTestId('logout-button').click();
    await asha.getByTestId('login-form').waitFor();
    expect(await asha.getByTestId('current-user').count()).toBe(0);
    await asha.reload();
    await asha.getByTestId('login-form').waitFor();
    expect(await asha.getByTestId('accounts-list').count()).toBe(0);
  });

  it('no page logged a console error or threw', () => {
    const problems = Object.fromEntries(Object.entries(pages).map(([user, p]) => [user, p.problems]));
    const dirty = Object.entries(problems).filter(([, p]) => p.console.length || p.uncaught.length);
    expect(dirty, JSON.stringify(problems, null, 2)).toEqual([]);
  });
});
