// The desk against the real server's websocket.

import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';

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

describe('desk', () => {
  test('says Reconnecting… while the server restarts, then Connected again', () =>
    explain(server, async () => {
      const context = await browser.newContext({ baseURL: server.url });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const res = await context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      if (res.status() !== 200) throw new Error(`sign-in answered ${res.status()}: ${await res.text()}`);
      await page.goto('/desk');
      const state = page.locator('#conn-state');
      await waitForText(state, 'Connected');
      await page.locator('#whoami').getByText('Sam Supervisor', { exact: true }).waitFor();
      await page.locator('#whoami').getByText('supervisor', { exact: true }).waitFor();

      // The server tells the desk to come back in retry_ms, so the desk is
      // still waiting when the new server is up.
      await Promise.all([waitForText(state, 'Reconnecting…'), server.restart()]);
      await waitForText(state, 'Connected', 15_000);
      await context.close();
    }));
});

describe('desk session', () => {
  test('goes to sign-in when its session was ended elsewhere and the socket drops', () =>
    explain(server, async () => {
      const context = await browser.newContext({ baseURL: server.url });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const res = await context.request.post('/api/login', { data: { username: 'bob', password: 'demo' } });
      if (res.status() !== 200) throw new Error(`sign-in answered ${res.status()}: ${await res.text()}`);
      const { token } = await res.json();
      await page.goto('/desk');
      await waitForText(page.locator('#conn-state'), 'Connected');

      // Signed out from somewhere else: the open socket lives on until it drops.
      const out = await fetch(`${server.url}/api/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
      if (out.status !== 204) throw new Error(`logout answered ${out.status}`);
      await server.restart();

      await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/desk');
      await context.close();
    }));
});
