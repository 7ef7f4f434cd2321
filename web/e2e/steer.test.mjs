// A supervisor steers the floor, as the people see it (docs/protocol.md,
// "Transfers": chat.assign; "Supervisor actions"): Sam reassigns Alice's
// chat to Bob (both desks and the customer's widget show it), pauses Bob
// (Bob's desk says who and why), writes to him, and signs Alice out (her desk lands on
// the sign-in page, which says who did).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { aliceHasAChat, done, newPerson, saveQueue } from './people.mjs';

const TIMEOUT = 10_000;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser();
  await saveQueue(server, 'demo', { capacity: 20 });
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/** @typedef {import('./people.mjs').Person} Person */

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * The demo users' ids, by username, as the admin API lists them.
 * @returns {Promise<Record<string, number>>}
 */
async function userIds() {
  const login = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ada', password: 'demo' }),
  });
  const { token } = await login.json();
  const res = await fetch(`${server.url}/api/admin/users`, { headers: { Authorization: `Bearer ${token}` } });
  const { users } = await res.json();
  return Object.fromEntries(users.map((/** @type {{username: string, id: number}} */ u) => [u.username, u.id]));
}

/**
 * Sam's console, signed in, connected.
 * @returns {Promise<Person>}
 */
async function samsConsole() {
  const sam = await person();
  const res = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
  assert.equal(res.status(), 200, 'sam signs in');
  await sam.page.goto('/supervisor');
  await waitForText(sam.page.locator('#conn-state'), 'Connected');
  return sam;
}

/**
 * Sam chooses an agent in the console's agents table: the agent's summary
 * opens with the actions.
 * @param {Person} sam
 * @param {{id: number, name: string}} agent
 */
async function chooseAgent(sam, agent) {
  await sam.page.locator(`#agents-table tr[data-agent-id="${agent.id}"]`).getByRole('button', { name: agent.name }).click();
  await sam.page.locator(`#agent-pane .agent-actions[data-agent="${agent.id}"] .agent-actions-status`).filter({ hasNotText: 'Loading' }).waitFor();
}

describe('a supervisor steers', () => {
  test('reassigns a chat from Alice to Bob, pauses Bob, signs Alice out', () =>
    explain(server, async () => {
      const ids = await userIds();
      const { alice, bob, customer } = await aliceHasAChat(person, 'Ann Assign');
      const sam = await samsConsole();
      try {
        // Alice's chats, each with Assign: Sam gives Ann's to Bob.
        await chooseAgent(sam, { id: ids.alice, name: 'Alice Agent' });
        const pane = sam.page.locator('#agent-pane');
        await waitForText(pane.locator('.agent-actions-status'), 'Available');
        const row = pane.locator('.agent-actions-chat', { hasText: 'Ann Assign' });
        await row.getByRole('button', { name: 'Assign the chat with Ann Assign' }).click();
        const picker = sam.page.getByRole('dialog', { name: 'Assign the chat' });
        await picker.getByRole('radio', { name: /Bob Agent\s*Available · 0\/\d+ chats/ }).check();
        assert.equal(await picker.getByRole('radio', { name: /Alice Agent/ }).count(), 0, 'not to the agent who has it');
        await picker.getByRole('button', { name: 'Assign' }).click();
        await picker.waitFor({ state: 'hidden' });
        await sam.page.locator('#notices', { hasText: 'The chat with Ann Assign went to Bob Agent.' }).waitFor();

        // Bob has it at once, and is told who gave it to him.
        await bob.page.locator('#chat-tabs .chat-tab', { hasText: 'Ann Assign' }).waitFor();
        await bob.page.locator('#notices .notice-item', { hasText: 'Sam Supervisor gave you the chat with Ann Assign.' }).waitFor();
        await bob.page.locator('#chat-tabs .chat-tab', { hasText: 'Ann Assign' }).click();
        await bob.page.locator('#transcript .msg-customer', { hasText: 'Hello, I am Ann Assign' }).waitFor();
        // Alice's tab closes with a notice.
        await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Ann Assign' }).waitFor({ state: 'detached' });
        await alice.page.locator('#notices .notice-item', { hasText: 'The chat with Ann Assign was transferred.' }).waitFor();
        // The customer is told, and chats with Bob.
        await customer.widget.getByText('You are now chatting with Bob Agent').waitFor();
        await customer.widget.locator('#parley-input').fill('Hi Bob');
        await customer.widget.locator('#parley-input').press('Enter');
        await bob.page.locator('#transcript .msg-customer', { hasText: 'Hi Bob' }).waitFor();

        // Sam pauses Bob: Bob's desk says who and why.
        await chooseAgent(sam, { id: ids.bob, name: 'Bob Agent' });
        await pane.locator('.agent-actions-chat', { hasText: 'Ann Assign' }).waitFor();
        await pane.getByRole('button', { name: 'Pause', exact: true }).click();
        const pause = sam.page.getByRole('dialog', { name: 'Pause Bob Agent' });
        await pause.getByLabel('Why').fill('Coaching');
        await pause.getByRole('button', { name: 'Pause' }).click();
        await pause.waitFor({ state: 'detached' });
        await waitForText(pane.locator('.agent-actions-status'), 'Paused by Sam Supervisor: Coaching');
        await bob.page.locator('#notices .notice-item', { hasText: 'Paused by Sam Supervisor: Coaching' }).waitFor();
        await bob.page.locator('#status-control[data-status="paused"]').waitFor();
        assert.equal(await bob.page.locator('#chat-tabs .chat-tab', { hasText: 'Ann Assign' }).count(), 1, 'Bob keeps his chat');

        // Sam writes to Bob in their staff thread; Bob's desk counts it.
        await pane.getByRole('button', { name: 'Message' }).click();
        const thread = sam.page.getByRole('dialog', { name: 'Message Bob Agent' });
        await thread.getByLabel('Message', { exact: true }).fill('Take a breath, then back to Ann.');
        await thread.getByRole('button', { name: 'Send' }).click();
        await thread.locator('.agent-thread-message', { hasText: 'Sam Supervisor: Take a breath, then back to Ann.' }).waitFor();
        await waitForText(bob.page.locator('#team-unread'), '1');
        await thread.getByRole('button', { name: 'Close' }).click();
        await thread.waitFor({ state: 'detached' });

        // Sam signs Alice out: her desk goes to the sign-in page, which says who did.
        await chooseAgent(sam, { id: ids.alice, name: 'Alice Agent' });
        await pane.getByRole('button', { name: 'Log out' }).click();
        const logout = sam.page.getByRole('dialog', { name: 'Log Alice Agent out' });
        await logout.getByText('They have no chat now.').waitFor();
        await logout.getByRole('button', { name: 'Log out' }).click();
        await logout.waitFor({ state: 'detached' });
        await alice.page.waitForURL((url) => url.pathname === '/login');
        await waitForText(alice.page.locator('#login-error'), 'Sam Supervisor signed you out.');
        await waitForText(pane.locator('.agent-actions-status'), 'Offline');
        // Her session is over: the desk sends her back to sign in.
        await alice.page.goto('/desk');
        await alice.page.waitForURL((url) => url.pathname === '/login');
      } finally {
        await done(alice, bob, customer, sam);
      }
    }));
});
