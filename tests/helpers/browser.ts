import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's chromium: Playwright's own browser download does not work on this host. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots land in .tmp/screens/ (gitignored) unless SCREENS_DIR says otherwise. */
export const SCREENS_DIR = resolve(process.env.SCREENS_DIR ?? join(import.meta.dirname, '..', '..', '.tmp', 'screens'));

export const VIEWPORT = { width: 1280, height: 800 } as const;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** What went wrong inside a page: console errors and uncaught exceptions. */
export interface PageProblems {
  console: string[];
  uncaught: string[];
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  close(): Promise<void>;
}

/**
 * A fresh context (its own cookies and storage, so one user per context) with one page on `baseURL`.
 * Console errors and page errors are collected rather than thrown, so a test can assert there were none.
 * `ignore` drops expected noise (a refused login is a 401 in the console by design).
 */
export async function openUserPage(browser: Browser, baseURL: string, opts: { ignore?: RegExp[] } = {}): Promise<UserPage> {
  const context = await browser.newContext({ baseURL, viewport: VIEWPORT, locale: 'en-IN', timezoneId: 'Asia/Kolkata' });
  const page = await context.newPage();
  const problems: PageProblems = { console: [], uncaught: [] };
  const ignored = (text: string) => (opts.ignore ?? []).some((re) => re.test(text));
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    const text = `${msg.text()}${loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`;
    if (!ignored(text)) problems.console.push(text);
  });
  page.on('pageerror', (err) => {
    const text = err.stack ?? String(err);
    if (!ignored(text)) problems.uncaught.push(text);
  });
  return { context, page, problems, close: () => context.close() };
}

/** Sign in through the login form and wait for the signed-in shell. */
export async function loginThroughForm(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('current-user').waitFor({ state: 'visible', timeout: 15_000 });
}

/**
 * Full-page PNG under SCREENS_DIR; returns its path. Scrolled to the top first: sticky bars
 * (top bar, sidebar) of a scrolled page land mid-picture in a full-page capture.
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  const path = join(SCREENS_DIR, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  if (opts.fullPage ?? true) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  return path;
}

/** How long a live update may take to reach another user's screen. */
export const LIVE_MS = 10_000;

/** The only console error expected: the first GET /auth/me of a signed-out page answers 401 by design. */
export const EXPECTED_NOISE = [/status of 401.*\/api\/v1\/auth\/me/];

/** Marks the page's JS world; a reload (or a full navigation) would wipe the mark. */
export const markPage = (page: Page) => page.evaluate(() => ((window as unknown as { e2eMark?: boolean }).e2eMark = true));
export const notReloaded = (page: Page) => page.evaluate(() => (window as unknown as { e2eMark?: boolean }).e2eMark === true);
