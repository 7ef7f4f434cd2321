// Signing in and out of the desk, in Chromium, as a person would.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';

const TIMEOUT = 10_000;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser();
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/**
 * Runs a test in a fresh browser context (no cookies), failing it on any
 * uncaught error in the page, and printing the server's output on failure.
 * @param {(page: import('playwright-core').Page) => Promise<void>} fn
 */
function inBrowser(fn) {
  return () =>
    explain(server, async () => {
      const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(TIMEOUT);
      const page = await context.newPage();
      /** @type {Error[]} */
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(err));
      try {
        await fn(page);
        assert.deepEqual(pageErrors.map(String), [], 'the page threw');
      } finally {
        await context.close();
      }
    });
}

/**
 * Fills the sign-in form and presses its button.
 * @param {import('playwright-core').Page} page
 * @param {string} username
 * @param {string} password
 */
async function signIn(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** @param {string} path */
const at = (path) => (/** @type {URL} */ url) => url.pathname === path;

describe('sign-in', () => {
  test('the demo agent signs in and the desk shows who and that it is connected', inBrowser(async (page) => {
    await page.goto('/desk');
    await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/desk');

    await signIn(page, 'alice', 'demo');

    await page.waitForURL(at('/desk'));
    const whoami = page.locator('#whoami');
    await whoami.getByText('Alice Agent', { exact: true }).waitFor();
    await whoami.getByText('agent', { exact: true }).waitFor();
    await waitForText(page.locator('#conn-state'), 'Connected');
  }));

  test('a wrong password says so and stays on the sign-in page', inBrowser(async (page) => {
    await page.goto('/login');

    await signIn(page, 'alice', 'not-the-password');

    const alert = page.getByRole('alert');
    await waitForText(alert, 'Wrong username or password.');
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.getByLabel('Password').inputValue(), 'not-the-password', 'the form keeps what was typed');
  }));

  test('sign out returns to sign-in, and the desk then asks to sign in again', inBrowser(async (page) => {
    await page.goto('/login');
    await signIn(page, 'alice', 'demo');
    await page.waitForURL(at('/desk'));
    await waitForText(page.locator('#conn-state'), 'Connected');
    const session = (await page.context().cookies()).find((c) => c.name === 'parley_session');
    assert.ok(session, 'signing in set the parley_session cookie');

    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.waitForURL(at('/login'));
    await page.goto('/desk');
    await page.waitForURL(at('/login'));
    await page.getByRole('button', { name: 'Sign in' }).waitFor();

    // Signing out ended the session on the server, not just in this browser.
    const me = await fetch(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${session.value}` } });
    assert.equal(me.status, 401, 'the signed-out token still works');
  }));

  test('after signing in, an off-site next= is ignored and the desk opens', inBrowser(async (page) => {
    await page.goto('/login?next=' + encodeURIComponent('//example.com/desk'));
    await signIn(page, 'alice', 'demo');
    await page.waitForURL((url) => url.origin === server.url && url.pathname === '/desk');
  }));

  test('refusals other than a wrong password show what the server said', inBrowser(async (page) => {
    /** @type {(route: import('playwright-core').Route) => Promise<void>} */
    let answer = (route) => route.continue();
    await page.route('**/api/login', (route) => answer(route));
    await page.goto('/login');
    const alert = page.getByRole('alert');
    /** @param {number} status @param {string} code @param {string} message */
    const refuse = (status, code, message) => (/** @type {import('playwright-core').Route} */ route) =>
      route.fulfill({ status, contentType: 'application/json', body: JSON.stringify({ error: { code, message } }) });

    answer = refuse(429, 'rate_limited', 'Too many sign-in attempts from your address. Try again in 6 seconds.');
    await signIn(page, 'alice', 'demo');
    await waitForText(alert, 'Too many sign-in attempts from your address. Try again in 6 seconds.');

    answer = (route) => route.fulfill({ status: 503, contentType: 'text/plain', body: 'down' });
    await signIn(page, 'alice', 'demo');
    await waitForText(alert, 'Parley cannot reach its database right now. Try again in a moment.');

    answer = refuse(503, 'unavailable', 'The database is not answering; try again in a moment.');
    await signIn(page, 'alice', 'demo');
    await waitForText(alert, 'The database is not answering; try again in a moment.');

    answer = (route) => route.abort('connectionrefused');
    await signIn(page, 'alice', 'demo');
    await waitForText(alert, 'Parley cannot reach its database right now. Try again in a moment.');
    assert.equal(new URL(page.url()).pathname, '/login');
  }));
});
