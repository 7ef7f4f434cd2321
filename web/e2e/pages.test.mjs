// What a person meets in the pages, in Chromium against the real server,
// on every side involved: the length limit of a message (a counter near
// it, a refusal over it, nothing cut or lost) in the widget and the desk;
// a customer who closed the tab and comes back (an unread badge, their
// details remembered for the next chat); and the desk's small things
// ("Load older messages" only with history, a notice that leaves the
// button it names uncovered, End for everyone clicked before the join's
// answer, an invitation's whole room number, the chat header's buttons
// beside the video room).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, holdAnswer, newPerson, openDesk, startDemoChat, wrapUp } from './people.mjs';

const TIMEOUT = 15_000;
const LIMIT = 4000;

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

/**
 * An agent signs in and lands in the desk, Available.
 * @param {string} username
 * @param {{permissions?: string[], viewport?: {width: number, height: number}}} [opts]
 */
async function agentDesk(username, opts = {}) {
  const p = await newPerson(browser, server, { timeout: TIMEOUT, ...opts });
  await openDesk(p, username);
  return p;
}

/** @param {string} name @param {string} [email] */
async function customerChat(name, email) {
  return startDemoChat(await newPerson(browser, server, { timeout: TIMEOUT, permissions: ['camera', 'microphone'] }), name, email);
}

/**
 * Text of n characters that reads like a pasted document.
 * @param {number} n
 */
function pasted(n) {
  return 'All work and no play makes a long message. '.repeat(Math.ceil(n / 43)).slice(0, n);
}

/**
 * The length of a box's value in code points, read in the page.
 * @param {import('playwright-core').Locator} box
 */
async function lengthOf(box) {
  return box.evaluate((/** @type {HTMLTextAreaElement} */ b) => [...b.value].length);
}

/**
 * Whether the element is where a click lands: inside the viewport and not
 * covered by anything else.
 * @param {import('playwright-core').Locator} loc
 */
function onTop(loc) {
  return loc.evaluate((node) => {
    const r = node.getBoundingClientRect();
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    if (r.width === 0 || r.right > innerWidth || r.bottom > innerHeight || r.left < 0 || r.top < 0) return false;
    const hit = document.elementFromPoint(x, y);
    return hit !== null && (hit === node || node.contains(hit));
  });
}

describe('pages', () => {
  test('a 20,000-character paste is neither cut nor sent: both sides count near the limit, refuse over it and keep the text', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const vera = await customerChat('Vera Verbose');
      const desk = alice.page;
      try {
        await accept(desk, 'Vera Verbose');
        const big = pasted(20_000);

        // The customer pastes it: all of it stays in the box.
        const input = vera.widget.getByLabel('Message', { exact: true });
        const count = vera.widget.locator('#parley-count');
        await input.fill(pasted(3000));
        assert.equal(await count.isVisible(), false, 'no counter far from the limit');
        await input.fill(big);
        assert.equal(await lengthOf(input), 20_000, 'the widget keeps the whole paste');
        await waitForText(count, `20,000 / 4,000`);
        assert.equal(await count.getAttribute('data-over'), 'true');
        await input.press('Enter');
        const werror = vera.widget.locator('#parley-compose-error');
        await waitForText(werror, 'This message is 20,000 characters long, 16,000 over the limit of 4,000. Shorten it or send it in parts; nothing was sent.');
        assert.equal(await lengthOf(input), 20_000, 'the text stays in the box');
        assert.equal(await vera.widget.locator('.msg-own').count(), 0, 'nothing is sent');
        // Shortened to the limit (an emoji is one character), it goes, whole.
        const fits = pasted(LIMIT - 1) + '🙂';
        await input.fill(fits);
        await waitForText(count, '4,000 / 4,000');
        await werror.waitFor({ state: 'hidden' });
        await input.press('Enter');
        await vera.widget.locator('.msg-own[data-seq]').waitFor();
        const got = desk.locator('#transcript .msg-customer .msg-text');
        await got.waitFor();
        assert.equal(await got.evaluate((n) => n.textContent), fits, 'the agent reads it whole');
        assert.equal(await input.inputValue(), '', 'the sent text leaves the box');
        await count.waitFor({ state: 'hidden' });

        // The agent pastes it too.
        const agentLines = await vera.widget.locator('.msg-agent').count(); // the queue's greeting
        const compose = desk.locator('#compose');
        const dcount = desk.locator('#compose-count');
        await compose.fill(pasted(3600));
        await waitForText(dcount, '3,600 / 4,000');
        assert.equal(await dcount.getAttribute('data-over'), 'false');
        await compose.fill(big);
        assert.equal(await lengthOf(compose), 20_000, 'the desk keeps the whole paste');
        await waitForText(dcount, '20,000 / 4,000');
        await desk.getByRole('button', { name: 'Send', exact: true }).click();
        const derror = desk.locator('#compose-error');
        await waitForText(derror, 'This message is 20,000 characters long, 16,000 over the limit of 4,000. Shorten it or send it in parts; nothing was sent.');
        assert.equal(await lengthOf(compose), 20_000, 'the text stays in the box');
        await compose.press('Enter');
        assert.equal(await desk.locator('#transcript .msg-own').count(), 0, 'nothing is sent');
        assert.equal(await vera.widget.locator('.msg-agent').count(), agentLines, 'the customer got nothing');
        // Another chat's tab and back: the draft and its counter come back.
        await compose.fill(big.slice(0, 5000));
        await waitForText(dcount, '5,000 / 4,000');
        await compose.fill('Thanks, I have read it all.');
        await derror.waitFor({ state: 'hidden' });
        await dcount.waitFor({ state: 'hidden' });
        await compose.press('Enter');
        await waitForText(vera.widget.locator('.msg-agent .bubble').last(), 'Thanks, I have read it all.');
      } finally {
        await done(alice, vera);
      }
    }));

  test('a customer who closed the tab comes back to an unread count and the messages; a new chat has their details, which "Not you?" clears; the desk keeps its header buttons beside the video room', () =>
    explain(server, async () => {
      // A laptop's window: the docked room takes 40% of it.
      const alice = await agentDesk('alice', { permissions: ['camera', 'microphone'], viewport: { width: 1024, height: 768 } });
      const rita = await customerChat('Rita Returning', 'rita@example.com');
      const desk = alice.page;
      try {
        await accept(desk, 'Rita Returning');
        // No earlier chat: nothing older to load.
        await desk.locator('#transcript[data-history="none"]').waitFor();
        assert.equal(await desk.locator('#load-older').isVisible(), false, 'no "Load older messages" without history');
        await rita.widget.getByText('joined the chat', { exact: false }).waitFor();

        // She closes the tab; the agent writes twice meanwhile.
        await rita.page.close();
        await waitForText(desk.locator('#chat-presence'), 'Left the chat');
        for (const text of ['Your order has shipped.', 'Tracking number: 1Z999.']) {
          await desk.locator('#compose').fill(text);
          await desk.locator('#compose').press('Enter');
          await desk.locator('#transcript .msg-own[data-seq]', { hasText: text }).waitFor();
        }

        // She comes back: the launcher counts what she has not read.
        const page = await rita.context.newPage();
        page.on('pageerror', (err) => rita.errors.push(err));
        await page.goto('/demo');
        const widget = page.frameLocator('iframe[title="Chat"]');
        const launcher = widget.getByRole('button', { name: 'Open chat' });
        await waitForText(widget.locator('#parley-unread'), '2');
        assert.ok(await onTop(widget.locator('#parley-unread')), 'the badge is in sight');
        await launcher.click();
        await waitForText(widget.locator('.msg-agent .bubble').last(), 'Tracking number: 1Z999.');
        await widget.locator('.msg-agent .bubble', { hasText: 'Your order has shipped.' }).waitFor();
        // Read now: closed and opened again, no badge.
        await widget.getByRole('button', { name: 'Minimise chat' }).click();
        await launcher.waitFor();
        assert.equal(await widget.locator('#parley-unread').isVisible(), false, 'nothing unread');

        // She ends it and starts a new one: her details are filled in.
        await launcher.click();
        await widget.locator('#parley-end').click();
        await widget.locator('#parley-confirm').getByRole('button', { name: 'End chat' }).click();
        // The agent wraps it up, and Dismiss takes its tab away.
        await wrapUp(desk, 'Rita Returning');
        await desk.getByRole('button', { name: 'Dismiss' }).click();
        await desk.locator('#chat-tabs .chat-tab', { hasText: 'Rita Returning' }).waitFor({ state: 'detached' });
        await widget.getByRole('button', { name: 'Start a new chat' }).click();
        assert.equal(await widget.getByLabel('Name').inputValue(), 'Rita Returning');
        assert.equal(await widget.getByLabel('E-mail').inputValue(), 'rita@example.com');
        await waitForText(widget.locator('#parley-returning-text'), 'Welcome back, Rita Returning.');
        await widget.getByRole('button', { name: 'Start chat' }).click();
        await widget.locator('#parley-transcript').waitFor();
        const card = desk.locator('#offers .offer-card').filter({ hasText: 'Rita Returning' });
        await card.getByRole('button', { name: 'Accept' }).click();
        await card.waitFor({ state: 'detached' });
        // Now there is an earlier chat to load.
        await desk.locator('#transcript[data-history="some"]').waitFor();
        // The agent opens a video room: it docks beside the chat, and the
        // header's buttons stay in sight and clickable.
        await desk.getByRole('button', { name: 'Create video room' }).click();
        await desk.locator('#room-dock .room').waitFor();
        await desk.getByRole('button', { name: 'Create video room' }).waitFor({ state: 'hidden' });
        await desk.getByRole('button', { name: 'Join video room' }).waitFor({ state: 'hidden' });
        const pane = await desk.locator('#chat-pane').boundingBox();
        const buttons = await desk.locator('.chat-actions .button:visible').all();
        assert.deepEqual(await Promise.all(buttons.map((b) => b.innerText())), ['Load older messages', 'Invite', 'Transfer', '☆ Mark important', 'Close chat']);
        for (const button of buttons) {
          const box = await button.boundingBox();
          assert.ok(pane && box && box.x >= pane.x && box.x + box.width <= pane.x + pane.width + 0.5,
            `${await button.innerText()} ${JSON.stringify(box)} lies inside the chat pane ${JSON.stringify(pane)}`);
          assert.ok(await onTop(button), `${await button.innerText()} is where a click lands`);
        }
        await desk.locator('#room-dock').getByRole('button', { name: 'End for everyone' }).click();
        await desk.locator('#room-dock').waitFor({ state: 'hidden' });

        await desk.getByRole('button', { name: 'Load older messages' }).click();
        await desk.locator('#transcript .earlier', { hasText: 'Earlier conversation' }).waitFor();

        await widget.locator('#parley-end').click();
        await widget.locator('#parley-confirm').getByRole('button', { name: 'End chat' }).click();
        await wrapUp(desk, 'Rita Returning');

        // "Not you?" clears them, for good.
        await widget.getByRole('button', { name: 'Start a new chat' }).click();
        await widget.getByRole('button', { name: 'Not you? Clear' }).click();
        assert.equal(await widget.getByLabel('Name').inputValue(), '');
        assert.equal(await widget.getByLabel('E-mail').inputValue(), '');
        await widget.locator('#parley-returning').waitFor({ state: 'hidden' });
        await page.reload();
        await widget.locator('form#parley-prechat').waitFor(); // the window stays open across a reload
        assert.equal(await widget.getByLabel('Name').inputValue(), '', 'forgotten after a reload too');
        assert.equal(await widget.locator('#parley-returning').isVisible(), false);
        // Whoever chats next is a new visitor: the agent sees no earlier chat of Rita's.
        await widget.getByLabel('Name').fill('Nina Next');
        await widget.getByRole('button', { name: 'Start chat' }).click();
        await widget.locator('#parley-transcript').waitFor();
        await accept(desk, 'Nina Next');
        await desk.locator('#transcript[data-history="none"]').waitFor();
        assert.equal(await desk.locator('#load-older').isVisible(), false, 'no earlier chat joined to the new visitor');
      } finally {
        await done(alice, rita);
      }
    }));

  test('"Load older messages" shows only when there is history; the call notice leaves Join video room clickable', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice', { permissions: ['camera', 'microphone'] });
      const cleo = await customerChat('Cleo Caller');
      const desk = alice.page;
      try {
        await accept(desk, 'Cleo Caller');
        await waitForText(desk.locator('#chat-presence'), 'Online');
        const older = desk.locator('#load-older');
        assert.equal(await older.isVisible(), false, 'no "Load older messages" before the desk knows of history');
        // Asked, and answered with nothing: the button does not show.
        await desk.locator('#transcript[data-history="none"]').waitFor();
        await cleo.widget.getByRole('button', { name: 'Video call' }).click();
        const notice = desk.locator('#notices .notice-item', { hasText: 'Cleo Caller started a video call' });
        await notice.waitFor();
        assert.equal(await older.isVisible(), false, 'no "Load older messages" without history');
        const join = desk.getByRole('button', { name: 'Join video room' });
        await join.waitFor();
        const [a, b] = [await notice.boundingBox(), await join.boundingBox()];
        assert.ok(a && b, 'both are laid out');
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        assert.equal(overlap, false, `the notice ${JSON.stringify(a)} does not cover the button ${JSON.stringify(b)}`);
        assert.ok(await onTop(join), 'Join video room is where a click lands');
        await join.click();
        await desk.locator('#room-dock .room').waitFor();
        await desk.locator('#room-dock').getByRole('button', { name: 'End for everyone' }).click();
        await desk.locator('#room-dock').waitFor({ state: 'hidden' });
      } finally {
        await done(alice, cleo);
      }
    }));

  test('End for everyone, clicked while the join is still on its way, ends the room on both sides', () =>
    explain(server, async () => {
      // Bob: Alice's three places in the demo queue are taken by the
      // chats of the tests before, left open.
      const bob = await newPerson(browser, server, { timeout: TIMEOUT, permissions: ['camera', 'microphone'] });
      // A slow network: the answer to the desk's room.join comes late.
      const join = await holdAnswer(bob.page, 'room.join');
      await openDesk(bob, 'bob');
      const cleo = await customerChat('Cleo Caller');
      const desk = bob.page;
      try {
        await accept(desk, 'Cleo Caller');
        await cleo.widget.getByRole('button', { name: 'Video call' }).click();
        await desk.getByRole('button', { name: 'Join video room' }).click();
        await join.asked;
        await desk.locator('#room-dock .room').waitFor();
        await desk.locator('#room-dock').getByRole('button', { name: 'End for everyone' }).click();
        join.release();
        await desk.locator('#room-dock').waitFor({ state: 'hidden' });
        await desk.locator('#transcript .system', { hasText: 'The video room ended' }).waitFor();
        await cleo.widget.getByText('The video room ended.').waitFor();
        assert.equal(await desk.getByRole('button', { name: 'Join video room' }).isVisible(), false, 'no room left to join');
      } finally {
        await done(bob, cleo);
      }
    }));

  test('an invitation shows the whole room number', () =>
    explain(server, async () => {
      const bob = await agentDesk('bob');
      const alice = await newPerson(browser, server, { timeout: TIMEOUT, permissions: ['camera', 'microphone'] });
      try {
        const res = await alice.context.request.post('/api/login', { data: { username: 'alice', password: 'demo' } });
        assert.equal(res.status(), 200);
        await alice.page.goto('/external/conference');
        await alice.page.getByLabel('Room name').fill('Quarterly planning with the regional leads');
        await alice.page.locator('.invite-choice').filter({ hasText: 'Bob' }).locator('input').check();
        await alice.page.getByRole('button', { name: 'Create room' }).click();
        const shown = alice.page.locator('#room-number');
        await shown.and(alice.page.locator(':visible')).waitFor();
        const digits = (await shown.innerText()).replace(/\D/g, '');

        const number = bob.page.locator('.invite-card .invite-number');
        await number.waitFor();
        // Neither overflowing nor cut with an ellipsis (which keeps scrollWidth
        // equal to clientWidth): the laid-out text ends inside its box.
        const fit = await number.evaluate((n) => {
          const r = document.createRange();
          r.selectNodeContents(n);
          const textRight = Math.max(...[...r.getClientRects()].map((q) => q.right));
          return { scroll: n.scrollWidth, client: n.clientWidth, textRight, boxRight: n.getBoundingClientRect().right };
        });
        assert.ok(fit.scroll <= fit.client && fit.textRight <= fit.boxRight, `the number is not cut: ${JSON.stringify(fit)}`);
        assert.equal((await number.innerText()).replace(/\D/g, ''), digits, 'the card has every digit');
        const card = await bob.page.locator('.invite-card').boundingBox();
        const digitsBox = await bob.page.locator('.invite-card .invite-digits').boundingBox();
        assert.ok(card && digitsBox && digitsBox.x + digitsBox.width <= card.x + card.width, 'the number lies inside its card');
      } finally {
        await done(bob, alice);
      }
    }));
});
