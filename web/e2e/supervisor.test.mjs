// The supervisor's live floor as the people see it: a supervisor watches
// /supervisor while a customer starts a chat (it appears under Waiting,
// the queue figures change and the longest wait ticks) and an agent takes
// it (it moves under the agent, answered today becomes 1); the agent's
// summary, the Closed and Tickets lists (supervisor-tickets.test.mjs has
// the tickets); and an agent who opens /supervisor is sent to the desk.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, saveQueue, startDemoChat } from './people.mjs';

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

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * Signs in on the sign-in page, with no next=.
 * @param {import('playwright-core').Page} page
 * @param {string} username
 */
async function signInHere(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * A cell of the queue figures: the row of the queue (or "Total"), the
 * column by its data-col.
 * @param {import('playwright-core').Page} page
 * @param {string} queue
 * @param {string} col
 */
function figure(page, queue, col) {
  return page.locator(`#queue-figures td[data-queue="${queue}"][data-col="${col}"]`);
}

describe('the supervisor console, live', () => {
  test('a new chat appears under Waiting and in the figures, then under the agent who takes it', () =>
    explain(server, async () => {
      // Short chat-time limits, so a chat turns amber after 2 s and red
      // after 4 s, and an agent without a chat is idle after 4 s.
      await saveQueue(server, 'demo', { chat_time_limits: [2, 4] });
      const sam = await person();
      await sam.page.goto('/login');
      await signInHere(sam.page, 'sam');
      // A supervisor lands on the console.
      await sam.page.waitForURL((url) => url.pathname === '/supervisor');
      await waitForText(sam.page.locator('#conn-state'), 'Connected');
      await waitForText(figure(sam.page, 'Total', 'waiting'), '0');
      await waitForText(figure(sam.page, 'Total', 'answered'), '0');
      await waitForText(sam.page.locator('#list-chats-panel [data-group="waiting"] .sup-count'), '0');

      // Nobody is on duty: the customer waits.
      const carol = await startDemoChat(await person(), 'Carol Customer', 'carol@example.com');
      const waiting = sam.page.locator('#list-chats-panel [data-group="waiting"]');
      await waiting.locator('.sup-chip', { hasText: 'Carol Customer' }).waitFor();
      await waitForText(waiting.locator('.sup-count'), '1');
      await waitForText(figure(sam.page, 'Sales', 'waiting'), '1');
      await waitForText(sam.page.locator('#floor-status[role="status"]'), '1 customer waiting');
      await waitForText(figure(sam.page, 'Total', 'waiting'), '1');
      const row = sam.page.locator('#waiting-customers tr', { hasText: 'Carol Customer' });
      await waitForText(row.locator('td').nth(1), 'carol@example.com');
      // The longest wait ticks on the page.
      const longest = figure(sam.page, 'Total', 'longest');
      const first = await longest.textContent();
      assert.match(first ?? '', /^\d+:\d\d$/, 'the longest wait is a time');
      await sam.page.waitForFunction(
        ([sel, was]) => document.querySelector(sel)?.textContent !== was,
        [`#queue-figures td[data-queue="Total"][data-col="longest"]`, first], { timeout: TIMEOUT });

      // Alice comes on duty and takes it.
      const alice = await person();
      await openDesk(alice, 'alice');
      await offerCard(alice.page, 'Carol Customer').waitFor();
      await accept(alice.page, 'Carol Customer');

      await waitForText(waiting.locator('.sup-count'), '0');
      await waiting.locator('.sup-chip').waitFor({ state: 'detached' });
      const alicesGroup = sam.page.locator('#list-chats-panel .sup-group', { hasText: 'Alice Agent' });
      await alicesGroup.locator('.sup-chip', { hasText: 'Carol Customer' }).waitFor();
      await waitForText(alicesGroup.locator('.sup-count'), '1');
      await waitForText(figure(sam.page, 'Total', 'waiting'), '0');
      await waitForText(figure(sam.page, 'Total', 'answered'), '1');
      await waitForText(sam.page.locator('#floor-status'), 'Nobody is waiting');
      await waitForText(figure(sam.page, 'Sales', 'answered'), '1');
      await waitForText(figure(sam.page, 'Total', 'longest'), '—');

      // The agents table: Alice available, one chat of three, its chip
      // turning amber, then red with the chat's age; her desk's tab too.
      const aliceRow = sam.page.locator('#agents-table tr', { hasText: 'Alice Agent' });
      await waitForText(aliceRow.locator('td[data-col="load"]'), '1 / 3');
      await waitForText(aliceRow.locator('td[data-col="status"]'), 'Available');
      const chip = aliceRow.locator('.sup-chip', { hasText: 'Carol Customer' });
      await chip.and(sam.page.locator('[data-level="amber"]')).waitFor();
      await chip.and(sam.page.locator('[data-level="red"]')).waitFor();
      assert.match((await chip.textContent() ?? '').replace(/\s+/g, ' '), /Carol Customer \d:\d\d \(too long\)/, 'the chip says its age and level');
      await alice.page.locator('#chat-tabs .chat-tab[data-level="red"]', { hasText: 'Carol Customer' }).waitFor();
      assert.equal(await aliceRow.locator('.sup-idle').isVisible(), false, 'an agent with a chat is not idle');

      // Choosing Alice shows her summary: answered today 1, the chat.
      await aliceRow.getByRole('button', { name: 'Alice Agent' }).click();
      const pane = sam.page.locator('#agent-pane');
      await waitForText(pane.locator('h2'), 'Alice Agent');
      await waitForText(pane.locator('[data-col="answered-today"]'), '1');
      await pane.locator('.sup-chip', { hasText: 'Carol Customer' }).waitFor();
      await pane.getByRole('button', { name: 'Screen' }).waitFor();

      // Closed: nothing closed today yet.
      const today = new Date().toISOString().slice(0, 10); // the server's day is UTC's
      await sam.page.getByRole('button', { name: 'Closed' }).click();
      await waitForText(sam.page.locator('#closed-list'), `No chats closed on ${today}.`);

      // Alice closes the chat: it leaves her open chats and is closed today.
      await alice.page.getByRole('button', { name: 'Close chat' }).click();
      const dialog = alice.page.getByRole('dialog');
      await dialog.getByLabel('Resolved').check();
      await dialog.getByRole('button', { name: 'Close chat' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await waitForText(aliceRow.locator('td[data-col="load"]'), '0 / 3');
      // Without a chat for longer than the last limit, Alice is idle.
      await aliceRow.locator('.sup-idle').waitFor({ state: 'visible' });
      await sam.page.getByRole('button', { name: 'Chats' }).click();
      await alicesGroup.waitFor({ state: 'detached' });
      assert.match(await figure(sam.page, 'Total', 'average-handling').innerText(), /^\d+:\d\d$/,
        'the average handling time of today');
      await sam.page.getByRole('button', { name: 'Closed' }).click();
      const closedByAlice = sam.page.locator('#closed-list .sup-group', { hasText: 'Alice Agent' });
      await waitForText(closedByAlice.locator('.sup-count'), '1');
      await closedByAlice.locator('.sup-chip', { hasText: 'Carol Customer' }).waitFor();
      // The day before: nothing.
      await sam.page.getByRole('button', { name: 'Earlier day' }).click();
      await sam.page.locator('#closed-list', { hasText: 'No chats closed on' }).waitFor();

      // Tickets: none (supervisor-tickets.test.mjs has them).
      await sam.page.getByRole('button', { name: 'Tickets', exact: true }).click();
      await sam.page.locator('#list-tickets-panel', { hasText: 'No unassigned tickets.' }).waitFor();

      await done(sam, carol, alice);
    }));

  test('an agent who opens /supervisor signs in and is sent to the desk', () =>
    explain(server, async () => {
      const bob = await person();
      await bob.page.goto('/supervisor');
      await bob.page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/supervisor');
      await signInHere(bob.page, 'bob');
      await bob.page.waitForURL((url) => url.pathname === '/desk');
      await waitForText(bob.page.locator('#conn-state'), 'Connected');
      await bob.page.goto('/supervisor');
      await bob.page.waitForURL((url) => url.pathname === '/desk');
      await done(bob);
    }));
});
