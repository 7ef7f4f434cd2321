// Transfers as the people see them (docs/protocol.md, "Transfers"): the
// picker lists only who can take the chat now, live; a transfer to an
// agent is an offer they accept or decline (the chat stays with the one
// who asked until then); a transfer to a queue puts the chat back in line
// there; a transfer to someone who just became unavailable is refused and
// changes nothing. Every test looks at the customer's widget and both
// desks.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import {
  accept,
  aliceHasAChat,
  available,
  done,
  holdTargets,
  newPerson,
  offerCard,
  pause,
  saveQueue,
  say,
  transfer,
} from './people.mjs';

const TIMEOUT = 10_000;
// The picker asks again every 5 s, and at once on staff.presence.
const LIVE = 15_000;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser();
  // Each test leaves its chats open: room enough for all of them.
  await saveQueue(server, 'demo', { capacity: 20 });
  await saveQueue(server, 'support', { name: 'Support', members: ['bob'], capacity: 20, show_agent_name: true });
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/** @typedef {import('./people.mjs').Person} Person */
/** @typedef {import('./people.mjs').Customer} Customer */

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * The transfer card in Bob's desk.
 * @param {Person} bob
 * @param {string} name the customer's
 */
function transferCard(bob, name) {
  return offerCard(bob.page, name).and(bob.page.locator('[data-kind="transfer"]'));
}

/**
 * The customer writes, and it reaches the desk given.
 * @param {Customer} c
 * @param {import('playwright-core').Page} desk
 * @param {string} text
 */
async function customerSays(c, desk, text) {
  await c.widget.locator('#parley-input').fill(text);
  await c.widget.locator('#parley-input').press('Enter');
  await desk.locator('#transcript .msg-customer', { hasText: text }).waitFor();
}

describe('transferring a chat', () => {
  test('to an agent, accepted: the new agent has it all, the old tab closes, the customer is told', () =>
    explain(server, async () => {
      const { alice, bob, customer } = await aliceHasAChat(person, 'Tara Transfer', { note: true });
      try {
        // The picker: Bob with his status and load, the queues with how many are free.
        await alice.page.locator('.chat-actions').getByRole('button', { name: 'Transfer', exact: true }).click();
        const dialog = alice.page.getByRole('dialog');
        await dialog.getByRole('radio', { name: /Bob Agent\s*Available · 0\/\d+ chats/ }).waitFor();
        await dialog.getByRole('radio', { name: /Queue Sales\s*1 available/ }).waitFor();
        assert.equal(await dialog.getByRole('radio', { name: /Alice Agent/ }).count(), 0, 'not to herself');
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'hidden' });

        await transfer(alice.page, /Bob Agent/);
        await waitForText(alice.page.locator('#team-pending .team-pending-text'), 'Transferring to Bob Agent…');
        await alice.page.locator('#team-pending').getByRole('button', { name: 'Cancel the transfer to Bob Agent' }).waitFor();

        const card = transferCard(bob, 'Tara Transfer');
        await card.getByText('Alice Agent transfers this chat to you').waitFor();
        await card.getByRole('button', { name: 'View chat so far' }).click();
        await card.locator('.offer-preview .msg-private', { hasText: 'a returning customer' }).waitFor();
        // Until Bob accepts, the chat is Alice's.
        await customerSays(customer, alice.page, 'Is anyone there?');
        await card.getByRole('button', { name: 'Accept' }).click();

        // Bob has it, with the whole history, the private note too.
        await bob.page.locator('#chat-tabs .chat-tab[aria-selected="true"]', { hasText: 'Tara Transfer' }).waitFor();
        for (const text of ['Hello, I am Tara Transfer', 'Is anyone there?']) await bob.page.locator('#transcript .msg-customer', { hasText: text }).waitFor();
        await bob.page.locator('#transcript .msg-private', { hasText: 'a returning customer' }).waitFor();
        await waitForText(bob.page.locator('#chat-agents'), 'Agents: Bob Agent');

        // Alice's tab closes with a notice.
        await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Tara Transfer' }).waitFor({ state: 'detached' });
        await alice.page.locator('#notices .notice-item', { hasText: 'Chat transferred to Bob Agent' }).waitFor();

        // The customer is told, and goes on with Bob; nothing was lost or doubled.
        await customer.widget.getByText('You are now chatting with Bob Agent').waitFor();
        await customerSays(customer, bob.page, 'Hi Bob');
        await say(bob.page, 'Hi Tara, Bob here.');
        await customer.widget.locator('#parley-transcript .msg-agent[data-author="Bob Agent"]', { hasText: 'Hi Tara, Bob here.' }).waitFor();
        assert.equal(await customer.widget.locator('#parley-transcript .msg-own', { hasText: 'Is anyone there?' }).count(), 1, 'shown once');
        assert.equal(await bob.page.locator('#transcript .msg-customer', { hasText: 'Is anyone there?' }).count(), 1, 'received once');
        assert.equal(await customer.widget.getByText('a returning customer').count(), 0, 'the private note stays with the agents');
      } finally {
        await done(alice, bob, customer);
      }
    }));

  test('to an agent, declined: the chat stays, and the one who asked is told', () =>
    explain(server, async () => {
      const { alice, bob, customer } = await aliceHasAChat(person, 'Rita Reject', { note: true });
      try {
        await transfer(alice.page, /Bob Agent/);
        await waitForText(alice.page.locator('#team-pending .team-pending-text'), 'Transferring to Bob Agent…');
        const card = transferCard(bob, 'Rita Reject');
        await card.getByRole('button', { name: 'Decline' }).click();
        await card.waitFor({ state: 'detached' });

        await alice.page.locator('#notices .notice-item', { hasText: 'Bob Agent declined the transfer of the chat with Rita Reject. The chat stays with you.' }).waitFor();
        await alice.page.locator('#team-pending').waitFor({ state: 'hidden' });
        await alice.page.locator('#transcript .system', { hasText: 'Bob Agent declined the transfer' }).waitFor();
        assert.equal(await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Rita Reject' }).count(), 1, 'the chat is still Alice’s');
        assert.equal(await bob.page.locator('#chat-tabs .chat-tab', { hasText: 'Rita Reject' }).count(), 0, 'and not Bob’s');

        await customerSays(customer, alice.page, 'Still here');
        await say(alice.page, 'I will keep helping you.');
        await customer.widget.locator('#parley-transcript .msg-agent[data-author="Alice Agent"]', { hasText: 'I will keep helping you.' }).waitFor();
        assert.equal(await customer.widget.getByText('You are now chatting with').count(), 0, 'the customer saw no transfer');
        assert.equal(await customer.widget.getByText('Bob Agent').count(), 0, 'nor any word of Bob');
      } finally {
        await done(alice, bob, customer);
      }
    }));

  test('to a queue: the tab closes, the customer waits at the head of that queue, its agent takes it', () =>
    explain(server, async () => {
      const { alice, bob, customer } = await aliceHasAChat(person, 'Quentin Queue', { note: true });
      try {
        await transfer(alice.page, /Queue Support/);
        await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Quentin Queue' }).waitFor({ state: 'detached' });
        await alice.page.locator('#notices .notice-item', { hasText: 'Chat transferred to Support' }).waitFor();

        await customer.widget.getByText('You have been transferred to Support; an agent will be with you shortly').waitFor();
        await customer.widget.locator('#parley-waiting').waitFor();

        // Bob, Support's agent, is offered it and takes it, with its history.
        const card = offerCard(bob.page, 'Quentin Queue');
        await card.locator('.tag', { hasText: 'Support' }).waitFor();
        await accept(bob.page, 'Quentin Queue');
        await bob.page.locator('#transcript .msg-customer', { hasText: 'Hello, I am Quentin Queue' }).waitFor();
        await bob.page.locator('#transcript .msg-private', { hasText: 'a returning customer' }).waitFor();
        await customer.widget.getByText('Bob Agent joined the chat').waitFor();
        await customer.widget.locator('#parley-waiting').waitFor({ state: 'hidden' });
        await customerSays(customer, bob.page, 'Thanks for taking over');
        assert.equal(await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Quentin Queue' }).count(), 0, 'Alice does not have it');
      } finally {
        await done(alice, bob, customer);
      }
    }));

  test('to a target that became unavailable: it leaves the list, and a transfer sent anyway is refused and changes nothing', () =>
    explain(server, async () => {
      const alicePerson = await person();
      const held = await holdTargets(alicePerson.page);
      const { alice, bob, customer } = await aliceHasAChat(person, 'Una Unavailable', { alice: alicePerson, note: true });
      try {
        await alice.page.locator('.chat-actions').getByRole('button', { name: 'Transfer', exact: true }).click();
        const dialog = alice.page.getByRole('dialog');
        const bobChoice = dialog.getByRole('radio', { name: /Bob Agent/ });
        await bobChoice.waitFor();

        // Bob pauses while the picker is open: he leaves the list, and so
        // do his queues (nobody else could take the chat there).
        await pause(bob);
        await bobChoice.waitFor({ state: 'detached', timeout: LIVE });
        await dialog.getByRole('radio', { name: /Queue Support/ }).waitFor({ state: 'detached', timeout: LIVE });
        await dialog.getByText('Nobody can take this chat right now').waitFor();
        // And comes back when he is available again.
        await available(bob);
        await bobChoice.waitFor({ timeout: LIVE });

        // Alice chooses Bob; the picker's news is held back while Bob
        // pauses again, so her click races his pause and loses.
        await bobChoice.check();
        held.hold();
        await pause(bob);
        await dialog.getByRole('button', { name: 'Transfer', exact: true }).click();
        await waitForText(dialog.getByRole('alert'), 'Bob Agent is not available now.');
        assert.ok(await dialog.isVisible(), 'the picker stays open to choose again');
        held.release();
        await bobChoice.waitFor({ state: 'detached', timeout: LIVE });
        await dialog.getByRole('button', { name: 'Cancel' }).click();

        // Nothing changed: the chat is Alice's, nobody was offered it, the customer saw nothing.
        assert.ok(await alice.page.locator('#team-pending').isHidden(), 'no transfer is pending');
        assert.equal(await alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Una Unavailable' }).count(), 1, 'the tab stays');
        assert.equal(await offerCard(bob.page, 'Una Unavailable').count(), 0, 'Bob got no offer');
        await customerSays(customer, alice.page, 'Hello again');
        await say(alice.page, 'Still with you.');
        await customer.widget.locator('#parley-transcript .msg-agent[data-author="Alice Agent"]', { hasText: 'Still with you.' }).waitFor();
        assert.equal(await customer.widget.getByText('transferred').count(), 0, 'no transfer for the customer');
        assert.equal(await customer.widget.getByText('You are now chatting with').count(), 0, 'no new agent either');
      } finally {
        await done(alice, bob, customer);
      }
    }));
});
