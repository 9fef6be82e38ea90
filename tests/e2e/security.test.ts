// The Security screen in Chromium: signed-in devices (and signing one out), two-step
// verification end to end (QR code, turning it on, recovery codes, turning it off).

import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../bank/access/totp.js';
import { createCustomer, seedReference, TEST_PASSWORD, userWithSession } from '../helpers/fixtures.js';
import { launchBrowser, loginThroughForm, openUserPage, screenshot, type UserPage } from '../helpers/browser.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXPECTED_NOISE = [/status of 401.*\/api\/v1\/auth\/me/, /status of 401.*\/api\/v1\/auth\/totp\/enable/]; // the wrong code is a 401 by design

let server: TestServer;
let browser: Browser;
let user: UserPage | null = null;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'client', 'dist', 'index.html'))) execSync('npm run build:client', { cwd: ROOT, stdio: 'inherit' });
  [server, browser] = await Promise.all([startTestServer({ env: { DEMO_DATA: '0' } }), launchBrowser()]);
  await seedReference(server.running.bank.db);
});

afterAll(async () => {
  await user?.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

describe('the Security screen in a real browser', () => {
  it('lists signed-in devices and signs one out; sets up two-step verification with a QR code, makes recovery codes, turns it off', async () => {
    const bank = server.running.bank;
    const cid = await createCustomer(bank.db, 'Secure');
    const { user: u } = await userWithSession(bank, 'customer', { customerId: cid });
    // Another device signed in already.
    const phone = await apiClient(server.url).post(
      '/auth/login',
      { username: u.username, password: TEST_PASSWORD },
      { 'User-Agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1' },
    );
    expect(phone.status).toBe(200);

    user = await openUserPage(browser, server.url, { ignore: EXPECTED_NOISE });
    const { page } = user;
    await loginThroughForm(page, u.username, TEST_PASSWORD);
    await page.getByTestId('nav-security').first().click();

    // Devices: this one, and the phone (with a sign-out button).
    const devices = page.getByTestId('device');
    await expect.poll(() => devices.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3); // the fixture's session too
    await expect.poll(() => page.getByTestId('device-current').count()).toBe(1);
    const phoneRow = devices.filter({ hasText: 'Safari on iOS' });
    await expect.poll(() => phoneRow.count()).toBe(1);
    await screenshot(page, 'security-devices-1280');
    await phoneRow.getByTestId('device-signout').click();
    await expect.poll(() => devices.filter({ hasText: 'Safari on iOS' }).count()).toBe(0);
    expect((await apiClient(server.url, phone.body.token).get('/auth/me')).status).toBe(401);

    // Two-step verification: the QR code renders.
    await page.getByTestId('totp-setup').click();
    const qr = page.getByTestId('totp-qr');
    await qr.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(100);
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await screenshot(page, 'security-totp-setup-1280');

    // A wrong code: plain words, not the server's message.
    await page.getByTestId('totp-otp').fill('000000');
    await page.getByTestId('totp-enable').click();
    await expect.poll(() => page.getByTestId('totp-error').textContent()).toContain('That code did not work');

    await page.getByTestId('totp-otp').fill(await totpCode(secret, new Date(Date.now() - 30_000)));
    await page.getByTestId('totp-enable').click();
    await page.getByTestId('totp-enabled').waitFor({ state: 'visible' });

    // Recovery codes, shown once with copy and download.
    await page.getByTestId('recovery-otp').fill(await totpCode(secret));
    await page.getByTestId('recovery-make').click();
    await page.getByTestId('recovery-codes').waitFor({ state: 'visible' });
    const codes = (await page.getByTestId('recovery-code').allTextContents()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    expect(await page.getByTestId('recovery-download').getAttribute('download')).toBe('banking-hub-recovery-codes.txt');
    expect(decodeURIComponent((await page.getByTestId('recovery-download').getAttribute('href'))!)).toContain(codes[0]);
    await screenshot(page, 'security-recovery-codes-1280');

    // Phone size: the screen fits 390 px without scrolling sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'security-recovery-codes-390');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByTestId('recovery-done').click();

    // Turn it off with the password and a recovery code.
    await page.getByTestId('totp-off-open').click();
    await page.getByTestId('totp-off-password').fill(TEST_PASSWORD);
    await page.getByTestId('totp-off-code').fill(codes[0]);
    await page.getByTestId('totp-off').click();
    await page.getByTestId('totp-setup').waitFor({ state: 'visible' });
    expect((await bank.db('users').where({ id: u.id }).first()).totp_enabled).toBeFalsy();

    expect(user.problems).toEqual({ console: [], uncaught: [] });
  });
});
