// The support desk in real Chromium: a teller answers with a canned reply (inserted with a few
// keystrokes, the customer's first name filled in) and writes an internal note; the customer,
// watching the same ticket, sees the reply live, signed with the teller's name, and never the note.

import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { launchBrowser, loginThroughForm, openUserPage, screenshot, type UserPage } from '../helpers/browser.js';

const LIVE_MS = 10_000;
const ROOT = join(import.meta.dirname, '..', '..');
const EXPECTED_NOISE = [/status of 401.*\/api\/v1\/auth\/me/];
const NOTE = 'Internal: card flagged by fraud ops on Monday, cleared today';

let server: TestServer;
let browser: Browser;
const pages: UserPage[] = [];
let ticketId: number;

const markPage = (page: Page) => page.evaluate(() => ((window as unknown as { e2eMark?: boolean }).e2eMark = true));
const notReloaded = (page: Page) => page.evaluate(() => (window as unknown as { e2eMark?: boolean }).e2eMark === true);

async function signIn(username: string, size?: { width: number; height: number }): Promise<Page> {
  const p = await openUserPage(browser, server.url, { ignore: EXPECTED_NOISE });
  pages.push(p);
  if (size) await p.page.setViewportSize(size);
  await loginThroughForm(p.page, username, `${username}-demo-2026`);
  return p.page;
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'client', 'dist', 'index.html'))) execSync('npm run build:client', { cwd: ROOT, stdio: 'inherit' });
  [server, browser] = await Promise.all([startTestServer({ env: { DEMO_DATA: '1' } }), launchBrowser()]);
  const login = await apiClient(server.url).post('/auth/login', { username: 'asha', password: 'asha-demo-2026' });
  const asha = apiClient(server.url, login.body.token);
  ticketId = (
    await asha.post('/tickets', {
      category: 'card',
      subject: 'Card declined at the pharmacy',
      body: 'My debit card was declined this morning.',
      priority: 'urgent',
    })
  ).body.id;
});

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

describe('the support desk in a real browser', () => {
  it('a teller inserts a canned reply and writes an internal note; the customer sees only the reply, live', async () => {
    const asha = await signIn('asha');
    await asha.goto(`/#/tickets/${ticketId}`);
    await asha.getByTestId('ticket-view').waitFor();
    await markPage(asha);

    const tara = await signIn('tara');
    await tara.getByTestId('nav-ticket-desk').click();
    const row = tara.getByTestId(`desk-ticket-${ticketId}`);
    await row.waitFor();
    // Urgent and unanswered: right after the overdue ones (the demo's), counting down its 15 minutes.
    const firstNotOverdue = () =>
      tara
        .locator('[data-testid^="desk-ticket-"]')
        .evaluateAll((rows) =>
          rows
            .find((r) => r.querySelector('[data-testid="sla-countdown"]')?.getAttribute('data-state') !== 'breached')
            ?.getAttribute('data-testid'),
        );
    await expect.poll(firstNotOverdue).toBe(`desk-ticket-${ticketId}`);
    expect(await row.getByTestId('sla-countdown').textContent()).toMatch(/Reply in 1[45]m/);
    await row.getByRole('link', { name: 'Card declined at the pharmacy' }).click();
    await tara.getByTestId('ticket-view').waitFor();
    await tara.getByTestId('customer-panel').getByText('Asha Verma').waitFor();
    await markPage(tara);

    // The internal note first.
    await tara.getByTestId('compose-note').click();
    await tara.getByTestId('message-input').fill(NOTE);
    await tara.getByTestId('message-send').click();
    const note = tara.locator('[data-internal="true"]').filter({ hasText: NOTE });
    await note.waitFor();
    expect(await note.textContent()).toContain('Internal note');

    // Then the reply: "/card" and Enter inserts the canned text with her first name.
    await tara.getByTestId('compose-reply').click();
    const input = tara.getByTestId('message-input');
    await input.click();
    await input.pressSequentially('/card');
    await tara.getByTestId('canned-suggestions').waitFor();
    await input.press('Enter');
    const inserted = await input.inputValue();
    expect(inserted).toMatch(/^Hello Asha, your card is unblocked/);
    await screenshot(tara, 'e2e-desk-staff-ticket');
    await input.press('Enter');
    await tara.getByTestId('ticket-thread').getByText('your card is unblocked').waitFor();
    // The live push may show the reply before the POST answers; the box clears once it has.
    await expect.poll(() => input.inputValue(), { timeout: 10_000 }).toBe('');

    // Asha, on the ticket all along: the reply arrives by itself, signed by Tara; the note never does.
    const reply = asha.getByTestId('ticket-thread').getByText('Hello Asha, your card is unblocked');
    await reply.waitFor({ timeout: LIVE_MS });
    expect(await notReloaded(asha)).toBe(true);
    const bubble = asha.locator('.message').filter({ hasText: 'your card is unblocked' });
    expect(await bubble.locator('.message-meta strong').textContent()).toBe('Tara Iyer (teller)');
    await asha.waitForTimeout(500);
    expect(await asha.getByTestId('ticket-thread').textContent()).not.toContain('fraud ops');
    expect(await asha.locator('[data-internal="true"]').count()).toBe(0);
    await screenshot(asha, 'e2e-desk-customer-ticket');

    // A reload on her side (REST and sync) still shows no note.
    await asha.reload();
    await asha.getByTestId('ticket-thread').getByText('your card is unblocked').waitFor();
    expect(await asha.content()).not.toContain('fraud ops');

    // The reply took the ticket for Tara and stopped the first-response clock.
    await tara.getByTestId('ticket-assignee').getByText('Assigned to you').waitFor();
    await expect.poll(() => tara.getByTestId('sla-countdown').first().textContent()).toMatch(/^Resolve in 3h/);
    expect(await notReloaded(tara)).toBe(true);
  });

  it('works at phone size without sideways scrolling', async () => {
    const tara = await signIn('tara', { width: 390, height: 844 });
    await tara.goto(`/#/staff/tickets/${ticketId}`);
    await tara.getByTestId('customer-panel').getByText('Asha Verma').waitFor();
    expect(await tara.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(tara, 'e2e-desk-staff-ticket-phone');
    await tara.goto('/#/staff/tickets');
    await tara.getByTestId(`desk-ticket-${ticketId}`).waitFor();
    expect(await tara.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  });

  it('no page logged a console error or threw', () => {
    for (const p of pages) expect(p.problems).toEqual({ console: [], uncaught: [] });
  });
});
