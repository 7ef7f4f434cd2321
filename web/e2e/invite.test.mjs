// Invites as the people see them (docs/protocol.md, "Invites", "Leaving"):
// an agent brings a colleague into a chat (by name, or any available agent
// of a queue); the colleague sees an invitation card with the chat so far
// and accepts or declines; after joining both chat with the customer, or
// the one who invited leaves the chat to the other. Every test looks at
// the customer's widget and both desks.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { aliceHasAChat, done, invite, newPerson, offerCard, saveQueue, say } from './people.mjs';

const TIMEOUT = 10_000;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser();
  // Each test leaves its chats open: room enough for all of them.
  await saveQueue(server, 'demo', { capacity: 20 });
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/** @typedef {import('./people.mjs').Person} Person */
/** @typedef {import('./people.mjs').Customer} Customer */

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * The invitation card in Bob's desk.
 * @param {Person} bob
 * @param {string} name the customer's
 */
function invitation(bob, name) {
  return offerCard(bob.page, name).and(bob.page.locator('[data-kind="invite"]'));
}

/**
 * A message an agent wrote, as the customer's widget shows it.
 * @param {Customer} c
 * @param {string} text
 */
function agentMessage(c, text) {
  return c.widget.locator('#parley-transcript .msg-agent', { has: c.widget.locator('.bubble', { hasText: text }) });
}

/**
 * The author the widget shows for an agent's message (the name is shown
 * once per run of the same author).
 * @param {Customer} c
 * @param {string} text
 */
async function authorOf(c, text) {
  const msg = agentMessage(c, text);
  await msg.waitFor();
  return msg.getAttribute('data-author');
}

describe('inviting a colleague', () => {
  test('invite and stay: both agents chat with the customer; a private note is for the agents only', () =>
    explain(server, async () => {
      const { alice, bob, customer } = await aliceHasAChat(person, 'Ivy Invite');
      try {
        await invite(alice.page, 'Bob Agent', 'Bob Agent');
        assert.ok(await alice.page.getByRole('button', { name: 'Invite', exact: true }).isDisabled(), 'one invitation at a time');

        // Bob's card: who invites, the customer, the queue, the chat so far.
        const card = invitation(bob, 'Ivy Invite');
        await card.getByText('Alice Agent invites you to this chat').waitFor();
        await card.locator('.tag', { hasText: 'Sales' }).waitFor();
        await card.locator('.offer-left', { hasText: / s left$/ }).waitFor();
        await card.getByRole('button', { name: 'View chat so far' }).click();
        await card.locator('.offer-preview .msg-customer', { hasText: 'Hello, I am Ivy Invite' }).waitFor();
        await card.getByRole('button', { name: 'Accept' }).click();
        await card.waitFor({ state: 'detached' });

        // Bob has the chat, with all of it; Alice is told and stays.
        await bob.page.locator('#chat-tabs .chat-tab[aria-selected="true"]', { hasText: 'Ivy Invite' }).waitFor();
        await bob.page.locator('#transcript .msg-customer', { hasText: 'Hello, I am Ivy Invite' }).waitFor();
        const joined = alice.page.locator('#notices .notice-item', { hasText: 'Bob Agent joined the chat with Ivy Invite' });
        await joined.getByRole('button', { name: 'Leave chat to Bob Agent' }).waitFor();
        await joined.getByRole('button', { name: 'Stay' }).click();
        await joined.waitFor({ state: 'detached' });
        assert.ok(await alice.page.locator('#team-pending').isHidden(), 'nothing is pending any more');
        for (const agent of [alice, bob]) {
          await waitForText(agent.page.locator('#chat-agents'), 'Agents: Alice Agent, Bob Agent');
          await agent.page.getByRole('button', { name: 'Leave chat' }).waitFor();
          await agent.page.locator('#transcript .system', { hasText: 'Bob Agent joined the chat' }).waitFor();
        }
        await customer.widget.getByText('Bob Agent joined the chat').waitFor();

        // Both agents write; the customer sees each with the author's name.
        await say(alice.page, 'Alice here, Bob will help with billing.');
        await say(bob.page, 'Bob here: your invoice is on its way.');
        assert.equal(await authorOf(customer, 'Alice here'), 'Alice Agent');
        assert.equal(await authorOf(customer, 'Bob here'), 'Bob Agent');
        await bob.page.locator('#transcript .msg-agent', { hasText: 'Alice here' }).waitFor();
        await alice.page.locator('#transcript .msg-agent', { hasText: 'Bob here' }).waitFor();

        // The customer's message reaches both.
        await customer.widget.locator('#parley-input').fill('Thank you both');
        await customer.widget.locator('#parley-input').press('Enter');
        for (const agent of [alice, bob]) await agent.page.locator('#transcript .msg-customer', { hasText: 'Thank you both' }).waitFor();

        // Bob's private note: both agents see it marked; the customer never does.
        await say(bob.page, 'Note: she paid twice.', { private: true });
        await alice.page.locator('#transcript .msg-private', { hasText: 'Note: she paid twice.' }).waitFor();
        await bob.page.locator('#transcript .msg-private', { hasText: 'Note: she paid twice.' }).waitFor();
        await say(bob.page, 'Refund sent.');
        await agentMessage(customer, 'Refund sent.').waitFor();
        assert.equal(await customer.widget.getByText('she paid twice').count(), 0, 'the private note is not on the customer page');
        const page = await customer.frame().content();
        assert.ok(!page.includes('she paid twice'), 'nor anywhere in the widget');
        assert.equal(await customer.widget.getByText('invited').count(), 0, 'the customer sees nothing of the invitation itself');
      } finally {
        await done(alice, bob, customer);
      }
    }));

  test('invite and leave: the one who invited leaves the chat to the colleague, who goes on alone', () =>
    explain(server, async () => {
      const { alice, bob, customer } = await aliceHasAChat(person, 'Leo Leave');
      try {
        await invite(alice.page, 'Bob Agent', 'Bob Agent');
        const card = invitation(bob, 'Leo Leave');
        await card.getByRole('button', { name: 'Accept' }).click();
        await bob.page.locator('#chat-tabs .chat-tab[aria-selected="true"]', { hasText: 'Leo Leave' }).waitFor();
        await customer.widget.getByText('Bob Agent joined the chat').waitFor();

        const joined = alice.page.locator('#notices .notice-item', { hasText: 'Bob Agent joined the chat with Leo Leave' });
        await joined.getByRole('button', { name: 'Leave chat to Bob Agent' }).click();

        // Alice's tab goes, with a word; Bob is alone in it.
        await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Leo Leave' }).waitFor({ state: 'detached' });
        await alice.page.locator('#notices .notice-item', { hasText: 'You left the chat with Leo Leave.' }).waitFor();
        await customer.widget.getByText('An agent left the chat').waitFor();
        await bob.page.locator('#transcript .system', { hasText: 'Alice Agent left the chat' }).waitFor();
        await waitForText(bob.page.locator('#chat-agents'), 'Agents: Bob Agent');
        await bob.page.getByRole('button', { name: 'Leave chat' }).waitFor({ state: 'hidden' });

        // The chat goes on between the customer and Bob.
        await customer.widget.locator('#parley-input').fill('Are you still there?');
        await customer.widget.locator('#parley-input').press('Enter');
        await bob.page.locator('#transcript .msg-customer', { hasText: 'Are you still there?' }).waitFor();
        await say(bob.page, 'Yes, Bob is here.');
        assert.equal(await authorOf(customer, 'Yes, Bob is here.'), 'Bob Agent');
        assert.ok(await customer.widget.locator('#parley-input').isEditable(), 'the chat is open for the customer');
        assert.equal(await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Leo Leave' }).count(), 0, 'Alice does not get it back');
      } finally {
        await done(alice, bob, customer);
      }
    }));

  test('invite declined: the one who invited is told, and nothing changes for the customer', () =>
    explain(server, async () => {
      const { alice, bob, customer } = await aliceHasAChat(person, 'Dora Decline');
      try {
        await invite(alice.page, 'Bob Agent', 'Bob Agent');
        const card = invitation(bob, 'Dora Decline');
        await card.getByRole('button', { name: 'Decline' }).click();
        await card.waitFor({ state: 'detached' });

        await alice.page.locator('#notices .notice-item', { hasText: 'Bob Agent declined to join the chat with Dora Decline.' }).waitFor();
        await alice.page.locator('#team-pending').waitFor({ state: 'hidden' });
        await alice.page.locator('#transcript .system', { hasText: 'Bob Agent declined the invitation' }).waitFor();
        assert.ok(await alice.page.getByRole('button', { name: 'Invite', exact: true }).isEnabled(), 'she may invite again');
        await waitForText(alice.page.locator('#chat-agents'), 'Agents: Alice Agent');
        assert.equal(await bob.page.locator('#chat-tabs .chat-tab', { hasText: 'Dora Decline' }).count(), 0, 'Bob has no tab of it');

        // The customer saw nothing of it, and still chats with Alice.
        await say(alice.page, 'Let me look into it myself.');
        assert.equal(await authorOf(customer, 'Let me look into it myself.'), 'Alice Agent');
        assert.equal(await customer.widget.getByText('Bob Agent').count(), 0, 'no word of Bob on the customer page');
        assert.equal(await customer.widget.getByText('joined the chat').count(), 1, 'only Alice joined');
      } finally {
        await done(alice, bob, customer);
      }
    }));

  test('an invitation nobody answers: the one who invited is told, and the colleague is not paused for it', () =>
    explain(server, async () => {
      const { alice, bob, customer } = await aliceHasAChat(person, 'Tim Timeout');
      // A short answer time for the invitations (the chat's queue's).
      await saveQueue(server, 'demo', { answer_seconds: 4 });
      try {
        // Twice in a row: two missed route offers would pause Bob; invitations do not.
        for (let round = 1; round <= 2; round++) {
          await invite(alice.page, 'Bob Agent', 'Bob Agent');
          await invitation(bob, 'Tim Timeout').waitFor();
          await alice.page.locator('#notices .notice-item', { hasText: 'Nobody answered: Bob Agent did not answer the invitation to the chat with Tim Timeout.' }).waitFor();
          await alice.page.locator('#team-pending').waitFor({ state: 'hidden' });
          await invitation(bob, 'Tim Timeout').waitFor({ state: 'detached' });
          await alice.page.locator('#notices .notice-item .notice-dismiss').last().click();
        }
        assert.equal(await alice.page.locator('#transcript .system', { hasText: 'Bob Agent did not answer the invitation' }).count(), 2);
        assert.equal(await bob.page.locator('#status-control').getAttribute('data-status'), 'available', 'Bob is still available');
        assert.equal(await bob.page.locator('#chat-tabs .chat-tab', { hasText: 'Tim Timeout' }).count(), 0, 'Bob has no tab of it');
        assert.equal(await customer.widget.getByText('Bob Agent').count(), 0, 'the customer saw nothing of it');
      } finally {
        await saveQueue(server, 'demo', { answer_seconds: 30 });
        await done(alice, bob, customer);
      }
    }));

  test('invite any available agent of a queue: the server picks one, who joins', () =>
    explain(server, async () => {
      await saveQueue(server, 'support', { name: 'Support', members: ['bob'], capacity: 20 });
      const { alice, bob, customer } = await aliceHasAChat(person, 'Quinn Queue');
      try {
        await invite(alice.page, /Any available agent of Support/, 'Bob Agent');
        const card = invitation(bob, 'Quinn Queue');
        await card.getByText('Alice Agent invites you to this chat').waitFor();
        await card.getByRole('button', { name: 'Accept' }).click();
        await bob.page.locator('#chat-tabs .chat-tab[aria-selected="true"]', { hasText: 'Quinn Queue' }).waitFor();
        await bob.page.locator('#transcript .msg-customer', { hasText: 'Hello, I am Quinn Queue' }).waitFor();

        await alice.page.locator('#notices .notice-item', { hasText: 'Bob Agent joined the chat with Quinn Queue' }).waitFor();
        await waitForText(alice.page.locator('#chat-agents'), 'Agents: Alice Agent, Bob Agent');
        await waitForText(bob.page.locator('#chat-agents'), 'Agents: Alice Agent, Bob Agent');
        await customer.widget.getByText('Bob Agent joined the chat').waitFor();
        await say(bob.page, 'Support here.');
        assert.equal(await authorOf(customer, 'Support here.'), 'Bob Agent');
      } finally {
        await done(alice, bob, customer);
      }
    }));
});
