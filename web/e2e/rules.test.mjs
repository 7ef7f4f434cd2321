// The rules a queue enforces, in Chromium against the real server
// (docs/protocol.md, chat.start's queue_closed and queue_full, and the
// closed event's reason): a full queue turns the next customer away at
// once with its "not available" message; a chat that waits past the
// queue's maximum ends with that message; a queue an admin disabled shows
// its offline message in place of the pre-chat form; a customer who
// closes the tab and does not come back has the chat closed by the
// system, which the agent's desk says. Each test has a queue of its own,
// set through the admin API as an admin would; the customer opens the
// widget's page (/widget/{key}, what the loader frames on a company's
// site). The rules themselves, by role and state and across a restart,
// are proven by the Go tests (cmd/parley/rules_test.go, chat/routing,
// chat/conversation).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, openDesk, saveQueue, wrapUp } from './people.mjs';

const TIMEOUT = 10_000;
const FULL = 'Sorry, everyone is busy right now. Please try again soon.';
const CLOSED = 'We are closed today. Leave us a note and we will write back.';

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
 * The person opens the queue's widget page and the chat window.
 * @param {import('./people.mjs').Person} p
 * @param {string} key
 */
async function openWidget(p, key) {
  await p.page.goto(`/widget/${key}`);
  await p.page.getByRole('button', { name: 'Open chat' }).click();
  return p.page;
}

/**
 * The person fills the pre-chat form of the queue's widget and starts.
 * @param {import('./people.mjs').Person} p
 * @param {string} key
 * @param {string} name
 */
async function startChat(p, key, name) {
  const w = await openWidget(p, key);
  await w.locator('form#parley-prechat').waitFor();
  await w.getByLabel('Name').fill(name);
  await w.getByRole('button', { name: 'Start chat' }).click();
  return w;
}

describe('queue rules', () => {
  test('a queue with one waiting chat turns the next customer away at once with its message', () =>
    explain(server, async () => {
      await saveQueue(server, 'rules-full', { name: 'Full house', members: [], max_waiting: 1, unavailable_message: FULL });
      const first = await person();
      const w1 = await startChat(first, 'rules-full', 'Fiona First');
      await w1.getByText("You're in the queue").waitFor();

      const second = await person();
      const w2 = await startChat(second, 'rules-full', 'Sam Second');
      const asked = Date.now();
      const panel = w2.locator('#parley-offline');
      await panel.getByText(FULL).waitFor({ timeout: 3000 });
      assert.ok(Date.now() - asked < 3000, 'the refusal comes at once, not after a wait');
      assert.equal(await w2.locator('#parley-prechat').isHidden(), true, 'the pre-chat form gives way to the panel');
      assert.equal(await w2.locator('#parley-chat').isHidden(), true, 'no chat was started');
      assert.equal(await w2.locator('#parley-offline-message').getAttribute('role'), 'status', 'the message is announced');
      // The first customer still waits.
      assert.equal(await w1.getByText("You're in the queue").isVisible(), true, 'the first customer still waits');
      await done(first, second);
    }));

  test('a chat that waits past the queue maximum ends with its message', () =>
    explain(server, async () => {
      await saveQueue(server, 'rules-wait', { name: 'Slow lane', members: [], max_wait_seconds: 10, unavailable_message: FULL });
      const wendy = await person();
      const w = await startChat(wendy, 'rules-wait', 'Wendy Waits');
      await w.getByText("You're in the queue").waitFor();
      // Ten seconds, and the router looks once a second.
      await w.locator('#parley-transcript .system', { hasText: FULL }).waitFor({ timeout: 20_000 });
      await w.locator('#parley-offline').getByText(FULL).waitFor();
      assert.equal(await w.locator('#parley-waiting').isHidden(), true, 'no longer in the queue');
      assert.equal(await w.locator('#parley-compose').isHidden(), true, 'nothing more can be written');
      await done(wendy);
    }));

  test('a queue disabled through the admin API shows its offline message instead of the form', () =>
    explain(server, async () => {
      await saveQueue(server, 'rules-off', { name: 'Night shift', members: ['alice'], offline_message: CLOSED });
      const olga = await person();
      let w = await openWidget(olga, 'rules-off');
      await w.locator('form#parley-prechat').waitFor();
      assert.equal(await w.locator('#parley-offline').isHidden(), true, 'an open queue shows no offline panel');

      await saveQueue(server, 'rules-off', { disabled: true });
      await olga.page.reload(); // the window stays open across a reload
      await waitForText(w.locator('#parley-offline p').first(), CLOSED);
      assert.equal(await w.locator('#parley-prechat').isHidden(), true, 'no pre-chat form while disabled');

      // Enabled again, the form is back.
      await saveQueue(server, 'rules-off', { disabled: false });
      await olga.page.reload(); // the window stays open across a reload
      await w.locator('form#parley-prechat').waitFor();
      assert.equal(await w.locator('#parley-offline').isHidden(), true, 'the panel is gone');
      await done(olga);
    }));

  test('a customer who closes the tab has the chat closed by the system, which the agent sees', () =>
    explain(server, async () => {
      await saveQueue(server, 'rules-away', {
        name: 'Away desk', members: ['alice'], auto_finish_seconds: 10, statuses: ['Resolved', 'No answer'],
      });
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const ada = await person();
      const w = await startChat(ada, 'rules-away', 'Ada Away');
      await accept(desk, 'Ada Away');
      await w.getByText('Away desk joined the chat').waitFor(); // the queue's name: agent names are hidden

      await ada.page.close(); // the customer closes the tab
      await desk
        .locator('#transcript .events .system', { hasText: 'Ended by the system: the customer left and did not come back within 10 s' })
        .waitFor({ timeout: 25_000 });
      await desk.getByRole('button', { name: 'Wrap up…' }).waitFor();
      await wrapUp(desk, 'Ada Away', 'No answer');
      await done(alice, ada);
    }));
});
