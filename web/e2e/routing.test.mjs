// Routing as the people see it: a chat the only agent on duty rejects or
// misses is offered to that agent again after the cool-down while the
// customer keeps waiting; a supervisor sees an alert of a chat waiting
// past its queue's threshold until it is answered; a chat the customer
// ends stays with its agent until the agent wraps it up with a status.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, available, done, newPerson, offerCard, signIn, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
// The server's cool-down (--reject-cooldown; 15 s by default) made short
// for these tests; it stays longer than the 5 s wait alert, so the alert
// still comes first. Offers come back well within the deadline.
const COOLDOWN_MS = 6_000;
const COOLDOWN_DEADLINE = COOLDOWN_MS + 30_000;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser({ env: { PARLEY_REJECT_COOLDOWN: `${COOLDOWN_MS}ms` } });
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/** @typedef {import('./people.mjs').Person} Person */

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * A user signs in on the sign-in page and lands in the desk, Available.
 * @param {string} username
 */
async function desk(username) {
  const p = await person();
  await signIn(p, username);
  return p;
}

/**
 * The admin changes settings of the demo queue through the admin API.
 * @param {Record<string, unknown>} settings
 */
async function setDemoQueue(settings) {
  const login = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ada', password: 'demo' }),
  });
  assert.equal(login.status, 200, 'ada signs in');
  const { token } = await login.json();
  const auth = { Authorization: `Bearer ${token}` };
  const list = await (await fetch(`${server.url}/api/admin/queues`, { headers: auth })).json();
  const demo = list.queues.find((/** @type {{key: string}} */ q) => q.key === 'demo');
  const res = await fetch(`${server.url}/api/admin/queues/demo`, {
    method: 'PUT',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...demo, ...settings }),
  });
  const saved = await res.json();
  assert.equal(res.status, 200, JSON.stringify(saved));
  for (const [k, v] of Object.entries(settings)) assert.equal(saved[k], v, `the queue's ${k} is saved`);
}

/**
 * The customer's widget shows it is still waiting for an agent.
 * @param {import('./people.mjs').Customer} c
 */
async function stillWaiting(c) {
  await c.widget.locator('#parley-waiting').waitFor();
  assert.ok(await c.widget.locator('#parley-waiting').isVisible(), 'the customer is still waiting');
}

describe('a chat the customer ends is wrapped up', () => {
  test('the desk says the customer left and asks for a status; the chat stays, counted, until the agent wraps it up', () =>
    explain(server, async () => {
      const alice = await desk('alice');
      const wendy = await startDemoChat(await person(), 'Wendy Wrap');
      const page = alice.page;
      try {
        await offerCard(page, 'Wendy Wrap').waitFor();
        await accept(page, 'Wendy Wrap');
        await wendy.widget.getByText('Alice Agent joined the chat').waitFor();
        await waitForText(page.locator('#my-queues'), 'Sales · 1 of 3 chats open');

        // The customer ends it: her side shows it ended at once.
        await wendy.widget.locator('#parley-end').click();
        await wendy.widget.locator('#parley-confirm').getByRole('button', { name: 'End chat' }).click();
        await wendy.widget.locator('#parley-transcript .system').getByText('You ended the chat.', { exact: true }).waitFor();
        await wendy.widget.getByRole('button', { name: 'Start a new chat' }).waitFor();

        // The agent's side: she left, a status is asked for, the chat still counts.
        await page.locator('#transcript .system', { hasText: 'Wendy Wrap ended the chat' }).waitFor();
        await waitForText(page.locator('#chat-closed-detail'), '· Wendy Wrap left the chat. Choose a status to wrap it up.');
        await page.locator('#chat-tabs .chat-tab', { hasText: 'Wrap up' }).waitFor();
        assert.ok(await page.getByRole('button', { name: 'Dismiss' }).isHidden(), 'no dismissing before the wrap-up');
        assert.ok(await page.locator('#compose').isHidden(), 'no more writing');
        await waitForText(page.locator('#my-queues'), 'Sales · 1 of 3 chats open');

        // A reload keeps it in the list, still owed a status.
        await page.reload();
        await available(alice);
        await page.locator('#chat-tabs .chat-tab', { hasText: 'Wrap up' }).waitFor();
        await waitForText(page.locator('#chat-closed-detail'), '· Wendy Wrap left the chat. Choose a status to wrap it up.');
        await waitForText(page.locator('#my-queues'), 'Sales · 1 of 3 chats open');

        // The server refuses a wrap-up without a status.
        const refused = await page.evaluate(async (id) => {
          const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
          /** @type {Map<string, (answer: any) => void>} */
          const waiting = new Map();
          ws.onmessage = (m) => {
            const env = JSON.parse(String(m.data));
            waiting.get(env.re)?.(env);
          };
          await new Promise((resolve) => (ws.onopen = resolve));
          /** @param {{type: string, id: string, data: object}} env */
          const ask = (env) =>
            new Promise((resolve) => {
              waiting.set(env.id, resolve);
              ws.send(JSON.stringify(env));
            });
          await ask({ type: 'session.hello', id: '1', data: { version: 1, client: 'e2e' } });
          const answer = await ask({ type: 'chat.close', id: '2', data: { conversation_id: id, status: '' } });
          ws.close();
          return answer;
        }, Number(await page.locator('#chat-tabs .chat-tab', { hasText: 'Wendy Wrap' }).getAttribute('data-conversation')));
        assert.equal(refused.type, 'error', JSON.stringify(refused));
        assert.equal(refused.error.code, 'bad_request');
        assert.match(refused.error.message, /^status: choose one of Resolved, Follow-up needed, Spam$/);

        // The same status choice as closing; a status is required.
        await page.getByRole('button', { name: 'Wrap up…' }).click();
        const dialog = page.getByRole('dialog');
        await waitForText(dialog.locator('#close-title'), 'Wrap up the chat with Wendy Wrap');
        assert.deepEqual(
          await dialog.getByRole('radio').evaluateAll((nodes) => nodes.map((n) => /** @type {HTMLInputElement} */ (n).value)),
          ['Resolved', 'Follow-up needed', 'Spam'],
        );
        assert.ok(await dialog.locator('#close-warning').isHidden(), 'no warning: the customer has gone');
        await dialog.getByRole('button', { name: 'Wrap up' }).click();
        await waitForText(dialog.getByRole('alert'), 'Choose how the chat ended.');
        await dialog.getByLabel('Resolved').check();
        await dialog.getByRole('button', { name: 'Wrap up' }).click();
        await dialog.waitFor({ state: 'hidden' });

        await page.locator('#transcript .system', { hasText: 'Alice Agent wrapped up the chat — Resolved' }).waitFor();
        await waitForText(page.locator('#chat-closed-detail'), '· Resolved');
        await waitForText(page.locator('#my-queues'), 'Sales · 0 of 3 chats open');
        assert.equal(
          await wendy.widget.locator('#parley-transcript').getByText('Resolved').count(),
          0,
          'the customer never sees the status',
        );
        await page.getByRole('button', { name: 'Dismiss' }).click();
        await page.getByText('No open chats').waitFor();
        await page.reload();
        await available(alice);
        await page.getByText('No open chats').waitFor();
      } finally {
        await done(alice, wendy);
      }
    }));
});

describe('a waiting chat is never stranded', () => {
  test('the only agent rejects a chat and is offered it again after the cool-down; a supervisor sees it waiting too long until it is answered', () =>
    explain(server, async () => {
      await setDemoQueue({ wait_alert_seconds: 5 });
      const alice = await desk('alice');
      const sam = await desk('sam');
      const rita = await startDemoChat(await person(), 'Rita Reject');
      try {
        const card = offerCard(alice.page, 'Rita Reject');
        const rejected = Date.now(); // the server rejects after this
        await card.getByRole('button', { name: 'Reject' }).click();
        await card.waitFor({ state: 'detached' });
        // When it is offered again, timed from the reject while the
        // alert is awaited.
        const reoffered = card.waitFor({ timeout: COOLDOWN_DEADLINE }).then(() => Date.now() - rejected);
        reoffered.catch(() => {}); // awaited below, after the alert
        await stillWaiting(rita);

        // Past the queue's 5 s, the supervisor's desk raises the alert.
        const alert = sam.page.locator('#wait-alerts .wait-alert', { hasText: 'Rita Reject' });
        await alert.waitFor({ timeout: COOLDOWN_DEADLINE });
        assert.ok(await sam.page.locator('#wait-alerts').isVisible(), 'the alert shows');
        await sam.page.locator('#waiting .waiting-item-late', { hasText: 'Rita Reject' }).waitFor();

        // After the cool-down the same agent is offered it again.
        const back = await reoffered;
        assert.ok(back >= COOLDOWN_MS, `offered again ${back} ms after the reject, within the ${COOLDOWN_MS} ms cool-down`);
        await stillWaiting(rita);
        await accept(alice.page, 'Rita Reject');
        await rita.widget.getByText('Alice Agent joined the chat').waitFor();

        // Answered: the alert goes.
        await alert.waitFor({ state: 'detached' });
        assert.ok(await sam.page.locator('#wait-alerts').isHidden(), 'no alert is left');
      } finally {
        await done(alice, sam, rita);
      }
    }));

  test('the only agent misses a chat, stays available, and is offered it again after the cool-down', () =>
    explain(server, async () => {
      await setDemoQueue({ answer_seconds: 4 });
      const alice = await desk('alice');
      const milo = await startDemoChat(await person(), 'Milo Missed');
      try {
        const card = offerCard(alice.page, 'Milo Missed');
        await card.waitFor();
        // Alice lets the offer run out.
        await card.waitFor({ state: 'detached', timeout: 20_000 });
        await stillWaiting(milo);
        assert.equal(await alice.page.locator('#agent-status').inputValue(), 'available', 'one missed offer does not pause');

        await card.waitFor({ timeout: COOLDOWN_DEADLINE });
        await stillWaiting(milo);
        await accept(alice.page, 'Milo Missed');
        await milo.widget.getByText('Alice Agent joined the chat').waitFor();
        assert.equal(await alice.page.locator('#agent-status').inputValue(), 'available');
      } finally {
        await done(alice, milo);
      }
    }));
});
