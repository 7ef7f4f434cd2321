// The desk against the real server's websocket.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, available, done, holdAnswer, newPerson, offerCard, openDesk, pause, saveQueue, startQueueChat } from './people.mjs';

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

describe('offers while the desk loads', () => {
  const person = () => newPerson(browser, server);

  test('an offer that comes before the waiting list read without it stays on the desk, and Accept takes the chat', () =>
    explain(server, async () => {
      await saveQueue(server, 'race', { name: 'Race', members: ['alice'], capacity: 4 });
      // Alice is paused: nothing is offered to her while her desk reads the waiting list.
      const earlier = await person();
      await openDesk(earlier, 'alice');
      await pause(earlier);
      await done(earlier);
      const rita = await startQueueChat(await person(), 'race', 'Rita Race');

      const alice = await person();
      const list = await holdAnswer(alice.page, 'queue.waiting');
      const login = await alice.context.request.post('/api/login', { data: { username: 'alice', password: 'demo' } });
      assert.equal(login.status(), 200, 'alice signs in');
      await alice.page.goto('/desk');
      await list.asked; // read with Rita's chat queued: agent.status, below, is handled after it
      await available(alice);
      await offerCard(alice.page, 'Rita Race').waitFor();
      list.release(); // the list, read before the offer, comes after it
      await alice.page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0))); // the answer is handled
      assert.equal(await offerCard(alice.page, 'Rita Race').count(), 1, 'the card stays');
      await accept(alice.page, 'Rita Race');
      await done(alice, rita);
    }));

  test('an offer that ended before the pending offers read with it came back is not shown again', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const vic = await startQueueChat(await person(), 'race', 'Vic Vanish');
      await offerCard(alice.page, 'Vic Vanish').waitFor();

      // A reload: the card comes back from the tab's storage, and the
      // pending offers (Vic's among them) are read and held back.
      const state = await holdAnswer(alice.page, 'agent.state');
      await alice.page.reload();
      await state.asked;
      await offerCard(alice.page, 'Vic Vanish').waitFor();
      // queue.waiting is answered after agent.state was read.
      await alice.page.locator('#waiting', { hasText: 'Vic Vanish' }).waitFor();

      await vic.page.getByRole('button', { name: 'End chat' }).click();
      await vic.page.locator('#parley-confirm-end').click();
      await offerCard(alice.page, 'Vic Vanish').waitFor({ state: 'detached' });
      state.release(); // still lists Vic's offer
      await alice.page.locator('#agent-status:enabled').waitFor(); // the answer is handled
      assert.equal(await offerCard(alice.page, 'Vic Vanish').count(), 0, 'the ended offer stays ended');
      await done(alice, vic);
    }));
});
