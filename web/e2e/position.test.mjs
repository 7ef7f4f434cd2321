// A live event the server lost on its side (its bus, between nodes), as
// the widget and the desk see it, on one node: the test's websocket route
// passes the real server's frames to the page but loses the event of a
// chosen message, as a node cut off its bus would. When nothing comes after
// it, no gap shows; the page finds it by the position check
// (web/static/lib/position.js): at once on session.resync, which the route
// then says as the node would, or by the check every 15 seconds. When a
// newer message comes, the widget fills the gap below it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, say, startDemoChat, wrapUp } from './people.mjs';

/** How long a page may take to find a lost event after session.resync:
 * well under the 15 s of the timer's check, which must not be what finds it. */
const RESYNC_MS = 8_000;

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

/**
 * Routes a context's websockets to the real server through a bus that
 * loses the chat.event (or staff.message) of each text in `lose`, and the
 * chat.offer of each customer named there, and can say session.resync.
 */
class LossyBus {
  constructor() {
    /** @type {Set<string>} texts whose live event is lost */
    this.lose = new Set();
    /** @type {string[]} texts lost so far */
    this.lost = [];
    /** chat.position requests the page sent */
    this.positions = 0;
    /** @type {Set<import('playwright-core').WebSocketRoute>} */
    this.open = new Set();
  }

  /** @param {import('playwright-core').BrowserContext} context */
  install(context) {
    return context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
      const upstream = ws.connectToServer();
      this.open.add(ws);
      ws.onMessage((message) => {
        if (JSON.parse(String(message)).type === 'chat.position') this.positions++;
        upstream.send(message);
      });
      upstream.onMessage((message) => {
        const env = JSON.parse(String(message));
        const what = env.type === 'chat.offer' ? env.data?.conversation?.customer?.name : env.data?.text;
        if (['chat.event', 'staff.message', 'chat.offer'].includes(env.type) && this.lose.delete(what)) {
          this.lost.push(what);
          return;
        }
        ws.send(message);
      });
      ws.onClose(() => {
        this.open.delete(ws);
        upstream.close().catch(() => {});
      });
      upstream.onClose(() => ws.close().catch(() => {}));
    });
  }

  /** The node's bus came back: session.resync to every connection. */
  resync() {
    for (const ws of this.open) ws.send(JSON.stringify({ type: 'session.resync', data: { reason: 'bus' } }));
  }
}

/**
 * Alice's desk and a customer's widget with a chat between them; bus
 * routes the one whose side it names.
 * @param {string} name the customer's
 * @param {'customer' | 'alice'} lossy
 * @param {LossyBus} bus
 */
async function chatWithLoss(name, lossy, bus, { clock = false } = {}) {
  const alice = await newPerson(browser, server, { timeout: 25_000 });
  const cust = await newPerson(browser, server, { timeout: 25_000 });
  await bus.install(lossy === 'alice' ? alice.context : cust.context);
  // The customer's pages on Playwright's clock: it runs on as time does,
  // and the test can move it on to the next position check.
  if (clock) await cust.context.clock.install();
  await openDesk(alice, 'alice');
  const customer = await startDemoChat(cust, name);
  await offerCard(alice.page, name).waitFor();
  await accept(alice.page, name);
  await customer.widget.getByText('Alice Agent joined the chat').waitFor();
  return { alice, customer };
}

/**
 * The customer ends the chat and Alice wraps it up, which frees her place
 * for the next test's chat.
 * @param {import('./people.mjs').Person} alice
 * @param {import('./people.mjs').Customer} customer
 * @param {string} name the customer's
 */
async function endChat(alice, customer, name) {
  await customer.widget.locator('#parley-end').click();
  await customer.widget.locator('#parley-confirm').getByRole('button', { name: 'End chat' }).click();
  await customer.widget.locator('#parley-transcript .system').getByText('You ended the chat.', { exact: true }).waitFor();
  await alice.page.locator('#transcript .system', { hasText: `${name} ended the chat` }).waitFor();
  await wrapUp(alice.page, name);
}

describe('position check', () => {
  test('the widget shows the last message its bus lost once session.resync comes, once', () =>
    explain(server, async () => {
      const bus = new LossyBus();
      const { alice, customer } = await chatWithLoss('Rita Resync', 'customer', bus);
      try {
        const agentSays = (/** @type {string} */ text) => customer.widget.locator('#parley-transcript .msg-agent .bubble', { hasText: text });
        bus.lose.add('Lost on the way');
        await say(alice.page, 'Lost on the way');
        await waitUntil(() => bus.lost.length === 1, 'the bus to lose the message');
        assert.equal(await agentSays('Lost on the way').count(), 0, 'not shown before anything finds it');

        bus.resync();
        await agentSays('Lost on the way').waitFor({ timeout: RESYNC_MS });
        assert.ok(bus.positions > 0, 'found by chat.position');
        await say(alice.page, 'And after it');
        await agentSays('And after it').waitFor();
        assert.equal(await agentSays('Lost on the way').count(), 1, 'shown once');
        const seqs = await customer.widget.locator('#parley-transcript [data-seq]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event once, in seq order');
        await endChat(alice, customer, 'Rita Resync');
      } finally {
        await done(alice, customer);
      }
    }));

  test('the desk shows the last message its bus lost once session.resync comes, once', () =>
    explain(server, async () => {
      const bus = new LossyBus();
      const { alice, customer } = await chatWithLoss('Desmond Desk', 'alice', bus);
      try {
        const customerSays = (/** @type {string} */ text) => alice.page.locator('#transcript .msg-customer .msg-text', { hasText: text });
        bus.lose.add('Did you get this?');
        await customer.widget.locator('#parley-input').fill('Did you get this?');
        await customer.widget.locator('#parley-input').press('Enter');
        await waitUntil(() => bus.lost.length === 1, 'the bus to lose the message');
        assert.equal(await customerSays('Did you get this?').count(), 0, 'not shown before anything finds it');

        bus.resync();
        await customerSays('Did you get this?').waitFor({ timeout: RESYNC_MS });
        assert.equal(await customerSays('Did you get this?').count(), 1, 'shown once');
        const seqs = await alice.page.locator('#transcript .events [data-seq]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event once, in seq order');
        await endChat(alice, customer, 'Desmond Desk');
      } finally {
        await done(alice, customer);
      }
    }));

  test('the widget fills a gap below a newer message at once, and shows each once, in order', () =>
    explain(server, async () => {
      const bus = new LossyBus();
      const { alice, customer } = await chatWithLoss('Greta Gap', 'customer', bus);
      try {
        const bubbles = customer.widget.locator('#parley-transcript .msg-agent .bubble');
        bus.lose.add('Lost in the middle');
        await say(alice.page, 'Lost in the middle');
        await waitUntil(() => bus.lost.length === 1, 'the bus to lose the message');
        await say(alice.page, 'Right after it');
        await bubbles.filter({ hasText: 'Right after it' }).waitFor({ timeout: RESYNC_MS });
        await bubbles.filter({ hasText: 'Lost in the middle' }).waitFor({ timeout: RESYNC_MS });
        assert.deepEqual((await bubbles.allTextContents()).slice(-2), ['Lost in the middle', 'Right after it']);
        assert.equal(await bubbles.filter({ hasText: 'Lost in the middle' }).count(), 1, 'shown once');
        const seqs = await customer.widget.locator('#parley-transcript [data-seq]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event once, in seq order');
        await endChat(alice, customer, 'Greta Gap');
      } finally {
        await done(alice, customer);
      }
    }));

  test("the desk's Team panel counts a staff message its bus lost once session.resync comes", () =>
    explain(server, async () => {
      const bus = new LossyBus();
      const sam = await newPerson(browser, server);
      const alice = await newPerson(browser, server);
      await bus.install(alice.context);
      try {
        await openDesk(alice, 'alice');
        await openDesk(sam, 'sam');
        const samRow = alice.page.locator('#team-list .team-row').filter({ has: alice.page.locator('.team-name', { hasText: 'Sam Supervisor' }) });
        await samRow.waitFor();
        await sam.page
          .locator('#team-list .team-row')
          .filter({ has: sam.page.locator('.team-name', { hasText: 'Alice Agent' }) })
          .getByRole('button')
          .click();
        await waitForText(sam.page.locator('#team-thread-title'), 'Alice Agent');
        bus.lose.add('Lost note to Alice');
        const box = sam.page.getByLabel('Message', { exact: true });
        await box.fill('Lost note to Alice');
        await box.press('Enter');
        await sam.page.locator('#team-thread .team-msg-own:not(.pending) .msg-text').getByText('Lost note to Alice').waitFor();
        await waitUntil(() => bus.lost.length === 1, 'the bus to lose the message');
        assert.equal(await samRow.locator('.team-badge:not([hidden])').count(), 0, 'no badge before anything finds it');

        bus.resync();
        await waitForText(samRow.locator('.team-badge'), '1', RESYNC_MS);
      } finally {
        await done(alice, sam);
      }
    }));

  test('the desk shows an offer its bus lost once session.resync comes', () =>
    explain(server, async () => {
      const bus = new LossyBus();
      const alice = await newPerson(browser, server, { timeout: 25_000 });
      await bus.install(alice.context);
      await openDesk(alice, 'alice');
      bus.lose.add('Olga Offer');
      const customer = await startDemoChat(await newPerson(browser, server, { timeout: 25_000 }), 'Olga Offer');
      try {
        await waitUntil(() => bus.lost.length === 1, 'the bus to lose the offer');
        assert.equal(await offerCard(alice.page, 'Olga Offer').count(), 0, 'no offer before anything finds it');

        bus.resync();
        await offerCard(alice.page, 'Olga Offer').waitFor({ timeout: RESYNC_MS });
        await accept(alice.page, 'Olga Offer');
        await customer.widget.getByText('Alice Agent joined the chat').waitFor();
        await endChat(alice, customer, 'Olga Offer');
      } finally {
        await done(alice, customer);
      }
    }));

  test('without session.resync, the check every 15 seconds finds it', () =>
    explain(server, async () => {
      const bus = new LossyBus();
      const { alice, customer } = await chatWithLoss('Tim Timer', 'customer', bus, { clock: true });
      try {
        bus.lose.add('Nobody noticed');
        await say(alice.page, 'Nobody noticed');
        await waitUntil(() => bus.lost.length === 1, 'the bus to lose the message');
        const missing = customer.widget.locator('#parley-transcript .msg-agent .bubble', { hasText: 'Nobody noticed' });
        assert.equal(await missing.count(), 0, 'not shown before the check finds it');
        const asked = bus.positions;
        // Fifteen seconds on in the widget (POSITION_CHECK_MS): its check
        // is due, and nothing else tells it of the loss.
        await customer.page.clock.fastForward(15_000);
        await missing.waitFor({ timeout: RESYNC_MS });
        assert.ok(bus.positions > asked, 'found by chat.position');
        await endChat(alice, customer, 'Tim Timer');
      } finally {
        await done(alice, customer);
      }
    }));
});
