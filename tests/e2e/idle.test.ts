// Sessions in a real browser: signing out says the right thing, and before the idle limit the
// app asks "still there?" with a countdown; a half-typed transfer survives signing in again.
// The idle limit is 15 s here (SESSION_IDLE_MINUTES=0.25) so the test stays short.

import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchBrowser, loginThroughForm, openUserPage, screenshot, type UserPage } from '../helpers/browser.js';

const ROOT = join(import.meta.dirname, '..', '..');
let server: TestServer;
let browser: Browser;
let user: UserPage;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'client', 'dist', 'index.html'))) execSync('npm run build:client', { cwd: ROOT, stdio: 'inherit' });
  [server, browser] = await Promise.all([
    startTestServer({ env: { DEMO_DATA: '1', SESSION_IDLE_MINUTES: '0.25', SESSION_IDLE_WARNING_SECONDS: '8' } }),
    launchBrowser(),
  ]);
  user = await openUserPage(browser, server.url, { ignore: [/status of 401/] });
  await user.page.setViewportSize({ width: 390, height: 844 });
});

afterAll(async () => {
  await user?.close();
  await browser?.close();
  await server?.close();
});

describe('sessions', () => {
  it('signing out in this window does not claim it happened in another one', async () => {
    const { page } = user;
    await loginThroughForm(page, 'asha', 'asha-demo-2026');
    await page.getByTestId('logout-button').click();
    await page.getByTestId('login-form').waitFor();
    await page.waitForTimeout(500); // the session.revoked push, if any, has arrived
    expect(await page.getByTestId('login-notice').count()).toBe(0);
  });

  it('warns with a countdown before the idle limit, signs out, and keeps the half-typed transfer', async () => {
    const { page } = user;
    await loginThroughForm(page, 'asha', 'asha-demo-2026');
    await page.goto('/transfer');
    await page.getByTestId('transfer-form').waitFor();
    await page.getByTestId('transfer-to').fill('123456789012');
    await page.getByTestId('transfer-amount').fill('1234.50');
    await page.getByTestId('transfer-memo').fill('Half-typed rent');
    const typedAt = Date.now();

    // Nothing more is typed: 15 s limit, warned 8 s before.
    const warning = page.getByTestId('idle-warning');
    await warning.waitFor({ timeout: 12_000 });
    const warnedAfter = (Date.now() - typedAt) / 1000;
    expect(warnedAfter).toBeLessThan(15);
    expect(await page.getByTestId('idle-countdown').textContent()).toMatch(/^\d+ seconds?$/);
    expect(await page.getByTestId('current-user').count()).toBe(1); // still signed in while warned
    await screenshot(page, 'app-idle-warning-phone');

    await page.getByTestId('login-form').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('login-notice').textContent()).toMatch(/signed out after 15 seconds without activity/);
    await screenshot(page, 'app-idle-signed-out-phone');

    await page.getByTestId('login-username').fill('asha');
    await page.getByTestId('login-password').fill('asha-demo-2026');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('current-user').waitFor();
    await page.goto('/transfer');
    await page.getByTestId('transfer-draft-restored').waitFor();
    expect(await page.getByTestId('transfer-to').inputValue()).toBe('123456789012');
    expect(await page.getByTestId('transfer-amount').inputValue()).toBe('1234.50');
    expect(await page.getByTestId('transfer-memo').inputValue()).toBe('Half-typed rent');
  });

  it('"Stay signed in" keeps the session', async () => {
    const { page } = user;
    await page.getByTestId('idle-warning').waitFor({ timeout: 12_000 });
    await page.getByTestId('idle-stay').click();
    await page.getByTestId('idle-warning').waitFor({ state: 'hidden' });
    expect(await page.getByTestId('current-user').count()).toBe(1);
    expect(user.problems.uncaught).toEqual([]);
  });
});
