// Routed webchat from both ends, in Chromium, against the real server: a
// customer in the widget on /demo and agents in the desk (/desk), each in a
// browser context of their own, clicking and typing as people do.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, offerCard, signIn, startDemoChat, wrapUp } from './people.mjs';

const TIMEOUT = 10_000;
const XSS = '<img src=x onerror=alert(1)>';

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

/** @typedef {import('./people.mjs').Person} Person */

/** A fresh browser context and page. */
const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * An agent signs in on the sign-in page and lands in the desk, Available.
 * @param {string} username
 */
async function agentDesk(username) {
  const p = await person();
  await signIn(p, username);
  return p;
}

/**
 * A customer on the demo company's page opens the chat and starts one.
 * @param {string} name
 * @param {string} [email]
 */
async function customerChat(name, email) {
  return startDemoChat(await person(), name, email);
}

/**
 * Types into a compose box and presses Enter.
 * @param {import('playwright-core').Locator} box
 * @param {string} text
 */
async function typeAndEnter(box, text) {
  await box.fill(text);
  await box.press('Enter');
}

/**
 * The customer ends the chat from the widget's header.
 * @param {import('playwright-core').FrameLocator} widget
 */
async function endFromWidget(widget) {
  await widget.locator('#parley-end').click();
  await widget.locator('#parley-confirm').getByRole('button', { name: 'End chat' }).click();
  await widget.locator('#parley-transcript .system').getByText('You ended the chat.', { exact: true }).waitFor();
}

/** Texts of the messages, in the order shown. */
const widgetMessages = (/** @type {import('playwright-core').FrameLocator} */ widget) =>
  widget.locator('#parley-transcript .msg .bubble').allTextContents();
const deskMessages = (/** @type {import('playwright-core').Page} */ desk) =>
  desk.locator('#transcript .msg .msg-text').allTextContents();

describe('routed chat', () => {
  test('a customer starts a chat, the agent accepts the offer, they write ten messages each way, the customer ends it, and both saw the same', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const vera = await customerChat('Vera Visitor', 'vera@example.com');
      const desk = alice.page;
      try {
        // The offer: who, which queue, how long waited, how long left.
        const card = offerCard(desk, 'Vera Visitor');
        await card.waitFor();
        await waitForText(card.locator('.tag'), 'Sales');
        await waitForText(card.locator('.offer-email'), 'vera@example.com');
        assert.match((await card.locator('.offer-waited').textContent()) ?? '', /^Waiting \d+:\d\d$/);
        assert.match((await card.locator('.offer-since').textContent()) ?? '', /^Offered \d+:\d\d ago$/);
        assert.match((await card.locator('.offer-left').textContent()) ?? '', /^\d+ s left$/);
        assert.ok(await card.getAttribute('data-conversation'), 'the card names its conversation');

        await accept(desk, 'Vera Visitor');
        await vera.widget.getByText('Alice Agent joined the chat').waitFor();
        await waitForText(desk.locator('#chat-presence'), 'Online');

        // Ten messages each way, typed as they come, Enter sends.
        const compose = desk.getByPlaceholder('Write a reply…');
        const input = vera.widget.getByLabel('Message', { exact: true });
        for (let i = 1; i <= 10; i++) {
          await typeAndEnter(compose, `Agent message ${i}`);
          await typeAndEnter(input, `Customer message ${i}`);
        }
        // Everything stored (nothing pending) and arrived on the other side.
        await desk.locator('#transcript .msg-customer').nth(9).waitFor();
        await vera.widget.locator('#parley-transcript .msg-agent .bubble').getByText('Agent message 10', { exact: true }).waitFor();
        await desk.locator('#transcript .msg.pending').first().waitFor({ state: 'detached' });
        await vera.widget.locator('#parley-transcript .msg.pending').first().waitFor({ state: 'detached' });

        await endFromWidget(vera.widget);
        const ended = desk.locator('#transcript .system', { hasText: 'Vera Visitor ended the chat' });
        await ended.waitFor();
        await waitForText(desk.locator('#chat-closed .chat-closed-text'), 'Chat closed');
        assert.ok(await desk.locator('#compose').isHidden(), 'no more writing into a closed chat');
        await desk.locator('#chat-tabs .chat-tab', { hasText: 'Wrap up' }).waitFor();

        const shownToCustomer = await widgetMessages(vera.widget);
        const shownToAgent = await deskMessages(desk);
        assert.equal(shownToAgent.length, 21, 'the greeting and twenty messages');
        assert.deepEqual(shownToAgent, shownToCustomer, 'the same messages in the same order on both sides');
        for (let i = 1; i <= 10; i++) {
          assert.ok(shownToAgent.includes(`Agent message ${i}`) && shownToAgent.includes(`Customer message ${i}`));
        }
        const seqs = await desk.locator('#transcript .events [data-seq]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event once, in seq order, without gaps');

        // Wrapped up with a status, Dismiss takes the tab away.
        await wrapUp(desk, 'Vera Visitor');
        await desk.getByRole('button', { name: 'Dismiss' }).click();
        await desk.locator('#chat-tabs .chat-tab').first().waitFor({ state: 'detached' });
        await desk.getByText('No open chats').waitFor();
      } finally {
        await done(alice, vera);
      }
    }));

  test('markup in a message is shown as text on both sides, never as an element', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const mallory = await customerChat('<b>Mallory</b>');
      const desk = alice.page;
      try {
        await offerCard(desk, '<b>Mallory</b>').waitFor();
        assert.equal(await desk.locator('#offers b').count(), 0, 'the name is text on the offer card');
        await accept(desk, '<b>Mallory</b>');

        await typeAndEnter(mallory.widget.getByLabel('Message', { exact: true }), XSS);
        await typeAndEnter(desk.locator('#compose'), XSS);

        const deskXss = desk.locator('#transcript .msg .msg-text').getByText(XSS, { exact: true });
        await deskXss.nth(1).waitFor();
        const widgetXss = mallory.widget.locator('#parley-transcript .msg .bubble').getByText(XSS, { exact: true });
        await widgetXss.nth(1).waitFor();
        await desk.locator('#transcript .msg.pending').first().waitFor({ state: 'detached' });

        assert.equal(await desk.locator('#transcript img').count(), 0, 'no <img> in the desk transcript');
        assert.equal(await desk.locator('img').count(), 0, 'no <img> anywhere in the desk');
        assert.equal(await mallory.widget.locator('#parley-transcript img').count(), 0, 'no <img> in the widget transcript');
        assert.equal(await desk.locator('#chat-tabs b, #chat-name b').count(), 0, 'the name is text in the tab and header');
        await waitForText(desk.locator('#chat-name'), '<b>Mallory</b>');

        await endFromWidget(mallory.widget);
        await desk.locator('#transcript .system', { hasText: 'ended the chat' }).waitFor();
        await wrapUp(desk, 'Mallory');
      } finally {
        await done(alice, mallory);
      }
    }));

  test('an agent who rejects an offer frees it for the other agent', () =>
    explain(server, async () => {
      const [alice, bob] = await Promise.all([agentDesk('alice'), agentDesk('bob')]);
      const rita = await customerChat('Rita Reject');
      try {
        const aliceCard = offerCard(alice.page, 'Rita Reject');
        const bobCard = offerCard(bob.page, 'Rita Reject');
        const first = await Promise.any([
          aliceCard.waitFor().then(() => ({ rejecter: alice, rejected: aliceCard, other: bob, otherCard: bobCard })),
          bobCard.waitFor().then(() => ({ rejecter: bob, rejected: bobCard, other: alice, otherCard: aliceCard })),
        ]);
        assert.equal(await first.otherCard.count(), 0, 'one agent is offered the chat at a time');

        await first.rejected.getByRole('button', { name: 'Reject' }).click();
        await first.rejected.waitFor({ state: 'detached' });
        await first.otherCard.waitFor();
        assert.equal(await first.rejected.count(), 0, 'the rejected offer stays gone');

        await accept(first.other.page, 'Rita Reject');
        await rita.widget.getByText(/joined the chat$/).waitFor();
        // The agent who rejected sees it leave the waiting list too.
        await first.rejecter.page.locator('#waiting .waiting-item').first().waitFor({ state: 'detached' });
        await endFromWidget(rita.widget);
        await first.other.page.locator('#transcript .system', { hasText: 'Rita Reject ended the chat' }).waitFor();
        await wrapUp(first.other.page, 'Rita Reject');
      } finally {
        await done(alice, bob, rita);
      }
    }));

  test('Shift+Enter makes a new line in the reply and does not send it; Enter then sends both lines', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const sid = await customerChat('Sid Shift');
      const desk = alice.page;
      try {
        await offerCard(desk, 'Sid Shift').waitFor();
        await accept(desk, 'Sid Shift');
        const messages = desk.locator('#transcript .msg');
        await messages.first().waitFor(); // the greeting
        const before = await messages.count();

        const compose = desk.locator('#compose');
        await compose.click();
        await compose.pressSequentially('first line');
        await compose.press('Shift+Enter');
        await compose.pressSequentially('second line');
        assert.equal(await compose.inputValue(), 'first line\nsecond line');
        assert.equal(await messages.count(), before, 'nothing was sent');

        await compose.press('Enter');
        await messages.nth(before).waitFor();
        assert.equal(await compose.inputValue(), '', 'the box is empty after sending');
        assert.equal(await messages.nth(before).locator('.msg-text').textContent(), 'first line\nsecond line');
        await sid.widget.locator('#parley-transcript .msg-agent .bubble').getByText(/^first line\s+second line$/).waitFor();

        await endFromWidget(sid.widget);
        await desk.locator('#transcript .system', { hasText: 'Sid Shift ended the chat' }).waitFor();
        await wrapUp(desk, 'Sid Shift');
      } finally {
        await done(alice, sid);
      }
    }));

  test('closing asks for a status and warns that the customer is still connected', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const cleo = await customerChat('Cleo Close');
      const desk = alice.page;
      try {
        await offerCard(desk, 'Cleo Close').waitFor();
        await accept(desk, 'Cleo Close');
        await waitForText(desk.locator('#chat-presence'), 'Online');

        await desk.getByRole('button', { name: 'Close chat' }).click();
        const dialog = desk.getByRole('dialog');
        await dialog.waitFor();
        assert.deepEqual(
          (await dialog.getByRole('radio').evaluateAll((nodes) => nodes.map((n) => /** @type {HTMLInputElement} */ (n).value))),
          ['Resolved', 'Follow-up needed', 'Spam'],
          "the statuses of the chat's queue",
        );
        await waitForText(dialog.locator('#close-warning'), 'The customer is still connected and will see that the chat has ended.');

        // Without a status it does not close.
        await dialog.getByRole('button', { name: 'Close chat' }).click();
        await waitForText(dialog.getByRole('alert'), 'Choose how the chat ended.');
        assert.ok(await dialog.isVisible(), 'the dialog stays');
        assert.ok(await desk.locator('#compose').isVisible(), 'the chat is still open');

        await dialog.getByLabel('Follow-up needed').check();
        await dialog.getByRole('button', { name: 'Close chat' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await desk.locator('#transcript .system', { hasText: 'Alice Agent closed the chat — Follow-up needed' }).waitFor();
        await waitForText(desk.locator('#chat-closed .chat-closed-text'), 'Chat closed');
        await cleo.widget.locator('#parley-transcript .system').getByText('The agent ended the chat.', { exact: true }).waitFor();
        await cleo.widget.getByRole('button', { name: 'Start a new chat' }).waitFor();

        await desk.getByRole('button', { name: 'Dismiss' }).click();
        await desk.getByText('No open chats').waitFor();
      } finally {
        await done(alice, cleo);
      }
    }));

  test('a live event lost on the way is fetched again with chat.resume, and each message shows once, in order', () =>
    explain(server, async () => {
      const alice = await person();
      // Between the desk and the server: loses the first live event of the
      // message "lost on the way", and notes the desk's chat.resume requests.
      /** @type {{type: string, data?: any}[]} */
      const resumes = [];
      let lost = 0;
      await alice.context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
        const upstream = ws.connectToServer();
        ws.onMessage((message) => {
          const env = JSON.parse(String(message));
          if (env.type === 'chat.resume') resumes.push(env);
          upstream.send(message);
        });
        upstream.onMessage((message) => {
          const env = JSON.parse(String(message));
          if (env.type === 'chat.event' && env.data?.text === 'lost on the way' && lost === 0) {
            lost++;
            return;
          }
          ws.send(message);
        });
      });
      await signIn(alice, 'alice');
      const gina = await customerChat('Gina Gap');
      const desk = alice.page;
      try {
        await offerCard(desk, 'Gina Gap').waitFor();
        await accept(desk, 'Gina Gap');
        const input = gina.widget.getByLabel('Message', { exact: true });
        await typeAndEnter(input, 'before');
        await desk.locator('#transcript .msg-text').getByText('before', { exact: true }).waitFor();
        const resumesBefore = resumes.length;

        await typeAndEnter(input, 'lost on the way');
        await gina.widget.locator('#parley-transcript .msg-own:not(.pending)').nth(1).waitFor();
        await waitUntil(() => lost === 1, 'the proxy to lose the live event');
        await typeAndEnter(input, 'after the gap');

        await desk.locator('#transcript .msg-text').getByText('after the gap', { exact: true }).waitFor();
        const shown = await deskMessages(desk);
        assert.deepEqual(shown.slice(-3), ['before', 'lost on the way', 'after the gap']);
        assert.equal(shown.filter((t) => t === 'lost on the way').length, 1, 'shown once');
        assert.ok(resumes.length > resumesBefore, 'the gap was filled with chat.resume');
        const seqs = await desk.locator('#transcript .events [data-seq]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event once, in seq order');

        await endFromWidget(gina.widget);
        await desk.locator('#transcript .system', { hasText: 'Gina Gap ended the chat' }).waitFor();
        await wrapUp(desk, 'Gina Gap');
      } finally {
        await done(alice, gina);
      }
    }));

  test('a reply written while the server restarts is sent once it is back, once', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const remy = await customerChat('Remy Restart');
      const desk = alice.page;
      try {
        await offerCard(desk, 'Remy Restart').waitFor();
        await accept(desk, 'Remy Restart');
        await typeAndEnter(desk.locator('#compose'), 'before the restart');
        await desk.locator('#transcript .msg:not(.pending) .msg-text').getByText('before the restart', { exact: true }).waitFor();

        const restarted = server.restart();
        await waitForText(desk.locator('#conn-state'), 'Reconnecting…', 15_000);
        await typeAndEnter(desk.locator('#compose'), 'written while away');
        await waitForText(desk.locator('#transcript .msg.pending .msg-text'), 'written while away');
        await restarted;

        await waitForText(desk.locator('#conn-state'), 'Connected', 20_000);
        await desk.locator('#transcript .msg.pending').first().waitFor({ state: 'detached', timeout: 20_000 });
        await remy.widget.locator('#parley-transcript .msg-agent .bubble').getByText('written while away', { exact: true }).waitFor({ timeout: 20_000 });
        await typeAndEnter(remy.widget.getByLabel('Message', { exact: true }), 'welcome back');
        await desk.locator('#transcript .msg-text').getByText('welcome back', { exact: true }).waitFor();

        const shown = await deskMessages(desk);
        assert.deepEqual(shown.slice(-3), ['before the restart', 'written while away', 'welcome back']);
        // The server stored it once.
        const id = await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation');
        const res = await alice.context.request.get(`/api/conversations/${id}/transcript`);
        assert.equal(res.status(), 200);
        const stored = (await res.json()).events.filter((/** @type {any} */ e) => e.kind === 'message').map((/** @type {any} */ e) => e.text);
        assert.equal(stored.filter((/** @type {string} */ t) => t === 'written while away').length, 1, 'stored once');
        assert.deepEqual(stored, shown, 'the desk shows what the server stored');

        await endFromWidget(remy.widget);
        await desk.locator('#transcript .system', { hasText: 'Remy Restart ended the chat' }).waitFor();
        await wrapUp(desk, 'Remy Restart');
      } finally {
        await done(alice, remy);
      }
    }));
});

