// The desk's contact card (docs/protocol.md, "Contacts (staff)"), in
// Chromium against the real server. A company's page, served by this test
// on an origin of its own, embeds the widget with a signed identity (as
// identity.test.mjs does): a verified customer's chats are paired with
// their contact, and the second shows the first, and the first's ticket,
// among the contact's activities, the chat readable. A customer who only types a known contact's e-mail
// is not paired, and their page learns nothing of the contact, not even
// after the agent makes a new contact from the chat. An agent edits a
// contact (a wrong field is refused at the field; the change log says
// who), unpairs it and pairs it again by search, and a second desk tab
// of the agent's follows every change live.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { explain, launchBrowser, startServer, startSite, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, startDemoChat } from './people.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('./harness.mjs').Site} the company's site */
let site;
let siteOrigin = '';
/** @type {Map<string, string>} the site's pages by path */
const pages = new Map();

const KEY = 'shop';
let secret = '';

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  site = await startSite(pages);
  siteOrigin = site.origin;

  const admin = await login('ada');
  const saved = await rest(admin, 'PUT', `/api/admin/queues/${KEY}`, {
    name: 'Shop', members: ['alice'], allowed_origins: [siteOrigin], email_mode: 'optional',
  });
  assert.equal(saved.status, 200, `save ${KEY}: ${await saved.text()}`);
  const res = await rest(admin, 'GET', `/api/admin/queues/${KEY}/secret`);
  assert.equal(res.status, 200);
  secret = (await res.json()).secret;
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop(), site?.stop()]);
});

/** @param {string} username @returns {Promise<string>} a bearer token */
async function login(username) {
  const res = await fetch(`${server.url}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'demo' }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

/** @param {string} token @param {string} method @param {string} path @param {unknown} [body] */
function rest(token, method, path, body) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * A verified customer starts a chat from the company's page, and says
 * hello; the page is signed as the company's backend signs it.
 * @param {{id: string, name: string, email: string}} who
 * @param {string} hello
 */
async function verifiedChat(who, hello) {
  const payload = Buffer.from(JSON.stringify({ queue: KEY, ...who, exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
  const token = `${payload}.${createHmac('sha256', secret).update(payload).digest('hex')}`;
  const path = `/${who.id}-${pages.size}`;
  pages.set(path, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>The shop</h1><script src="${server.url}/widget.js" data-queue="${KEY}" data-identity="${token}"></script></body></html>`);
  const person = await newPerson(browser, server);
  await person.page.goto(`${siteOrigin}${path}`);
  const widget = person.page.frameLocator('iframe[title="Chat"]');
  await widget.getByRole('button', { name: 'Open chat' }).click();
  await widget.getByText(`You’re signed in as ${who.name}`).waitFor();
  await widget.getByRole('button', { name: 'Start chat' }).click();
  await widget.locator('#parley-input').fill(hello);
  await widget.locator('#parley-input').press('Enter');
  return { ...person, widget };
}

/** @param {import('playwright-core').Page} desk */
const card = (desk) => desk.locator('#contact-panel');

/**
 * Waits until the card says who last edited the contact.
 * @param {import('playwright-core').Locator} c
 * @param {string} who
 */
function edited(c, who) {
  const line = c.locator('.contact-edited');
  return waitUntil(async () => (await line.count()) === 1 && (await line.innerText()).startsWith(`Last edited by ${who}, `), `the card to say the contact was last edited by ${who}`);
}

/**
 * The agent closes the chat shown (with the queue's first status, if it
 * has any).
 * @param {import('playwright-core').Page} desk
 */
async function closeChat(desk) {
  await desk.locator('.chat-actions').getByRole('button', { name: 'Close chat' }).click();
  const dialog = desk.locator('#close-dialog');
  await dialog.waitFor();
  const first = dialog.getByRole('radio').first();
  if (await first.count()) await first.check();
  await dialog.getByRole('button', { name: 'Close chat' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

describe('the contact card', () => {
  test("a verified customer's second chat shows the first in the contact's activities", () =>
    explain(server, async () => {
      const alice = await newPerson(browser, server);
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = { id: 'c-1042', name: 'Vera Verified', email: 'vera@example.com' };

      const first = await verifiedChat(vera, 'My parcel never came');
      await offerCard(desk, vera.name).waitFor();
      await accept(desk, vera.name);
      const firstId = Number(await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));
      // The contact made from the signed identity, every signed field locked.
      const c = card(desk);
      await waitForText(c.getByRole('heading', { level: 3 }), vera.name);
      await c.getByRole('heading', { level: 3 }).getByRole('img', { name: 'verified' }).waitFor();
      await waitForText(c.locator('[data-field="emails"] li'), vera.email);
      await c.locator('[data-field="emails"]').getByRole('img', { name: 'verified' }).waitFor();
      await waitForText(c.locator('[data-field="external_id"]'), vera.id);
      await c.locator('[data-field="external_id"]').getByRole('img', { name: 'verified' }).waitFor();
      await waitForText(c.locator('.contact-paired-by'), 'Paired by the verified customer id');
      await edited(c, 'the system');
      await desk.locator('#transcript .msg-customer', { hasText: 'My parcel never came' }).waitFor();
      await closeChat(desk);
      await desk.getByRole('button', { name: 'Dismiss' }).click();
      // A ticket of the first chat (made over Alice's own connection: the
      // ticket widget is another test's).
      await desk.evaluate(async (id) => {
        const { Connection } = await import('/static/lib/parley.js');
        const conn = new Connection({ client: 'test/1' });
        await conn.connect();
        await conn.request('ticket.create', { conversation_id: id, title: 'Parcel never came', priority: 'high' });
        conn.close();
      }, firstId);

      const second = await verifiedChat(vera, 'Me again about the parcel');
      await offerCard(desk, vera.name).waitFor();
      await accept(desk, vera.name);
      const activities = c.getByRole('list', { name: 'Activities' });
      const earlier = activities.locator(`[data-conversation="${firstId}"]`);
      await earlier.waitFor();
      await waitForText(activities.locator('.contact-activity-chat').first().locator('.contact-activity-kind'), 'This chat');
      await activities.locator('[data-ticket]', { hasText: 'Parcel never came' }).waitFor();
      assert.deepEqual(
        await activities.locator('.contact-activity').evaluateAll((nodes) => nodes.map((n) => n.querySelector('.contact-activity-kind')?.textContent)),
        ['This chat', 'Ticket', 'Chat'],
        'the chats and the ticket, newest first',
      );

      // The ticket opens in the desk's ticket view, at its thread.
      await activities.locator('[data-ticket]').getByRole('button').click();
      const tickets = desk.getByRole('dialog', { name: 'Tickets' });
      await tickets.locator('#ticket-detail-title', { hasText: 'Parcel never came' }).waitFor();
      await tickets.getByRole('button', { name: 'Close', exact: true }).first().click();
      await tickets.waitFor({ state: 'hidden' });

      // The first chat opens read-only: its transcript, no reply box.
      await earlier.getByRole('button').click();
      const dialog = desk.getByRole('dialog', { name: `Chat with ${vera.name}` });
      await dialog.getByRole('log').locator('.msg-customer', { hasText: 'My parcel never came' }).waitFor();
      assert.equal(await dialog.getByRole('textbox').count(), 0, 'nothing to write in');
      await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'detached' });

      // On a narrow screen the card goes under the chat.
      await desk.setViewportSize({ width: 700, height: 900 });
      await waitUntil(async () => {
        const [chatBox, sideBox] = [await desk.locator('.desk-chats').boundingBox(), await desk.locator('#customer-side').boundingBox()];
        return chatBox && sideBox && sideBox.y >= chatBox.y + chatBox.height - 1 && Math.abs(sideBox.x - chatBox.x) < 1;
      }, 'the customer side under the chat');
      await desk.setViewportSize({ width: 1280, height: 800 });

      await closeChat(desk); // a place of Alice's free for the next test
      await done(alice, first, second);
    }));

  test("a customer who types a known contact's e-mail is not paired and learns nothing of the contact", () =>
    explain(server, async () => {
      const alice = await newPerson(browser, server);
      await openDesk(alice, 'alice');
      const desk = alice.page;
      // Karl is known: his signed chat made his contact.
      const karl = await verifiedChat({ id: 'c-2001', name: 'Karl Known', email: 'karl@example.com' }, 'Hello from Karl');
      await offerCard(desk, 'Karl Known').waitFor();
      await accept(desk, 'Karl Known');
      await waitForText(card(desk).getByRole('heading', { level: 3 }), 'Karl Known');

      // Mallory types Karl's address into the demo's form.
      const mallory = await newPerson(browser, server);
      /** @type {string[]} what the server sent Mallory's page */
      const received = [];
      mallory.page.on('websocket', (ws) => ws.on('framereceived', (f) => received.push(String(f.payload))));
      const m = await startDemoChat(mallory, 'Mallory Typed', 'karl@example.com');
      await m.widget.locator('#parley-input').fill('Show me my orders');
      await m.widget.locator('#parley-input').press('Enter');
      await offerCard(desk, 'Mallory Typed').waitFor();
      await accept(desk, 'Mallory Typed');

      const c = card(desk);
      await waitForText(c.locator('.contact-unpaired'), 'This chat is not paired with a contact.');
      await c.getByRole('button', { name: 'Pair with a contact' }).waitFor();
      // "New contact" from the chat: the form is filled from it.
      await c.getByRole('button', { name: 'New contact' }).click();
      const form = desk.getByRole('dialog', { name: 'New contact' });
      assert.equal(await form.getByLabel('Name').inputValue(), 'Mallory Typed');
      assert.equal(await form.getByLabel('E-mails').inputValue(), 'karl@example.com');
      await form.getByLabel('Company').fill('Mallory Ltd');
      await form.getByRole('button', { name: 'Create contact' }).click();
      await form.waitFor({ state: 'detached' });
      await waitForText(c.getByRole('heading', { level: 3 }), 'Mallory Typed');
      await waitForText(c.locator('[data-field="company"]'), 'Mallory Ltd');
      await waitForText(c.locator('.contact-paired-by'), 'Paired by staff');
      assert.equal(await c.getByRole('img', { name: 'verified' }).count(), 0, 'nothing of it is verified');
      await edited(c, 'Alice Agent');
      await c.locator('.contact-log summary').click();
      const made = c.getByRole('list', { name: 'Changes' }).getByRole('listitem').first();
      await made.locator('.contact-change-head', { hasText: 'Alice Agent created the contact' }).waitFor();
      await waitForText(made.locator('.contact-change-fields li').filter({ hasText: 'Company' }), 'Company: Mallory Ltd');

      // The customer's page: her own chat, nothing of Karl, no contact at all.
      await m.widget.getByText('Show me my orders').waitFor();
      await m.widget.locator('#parley-input').fill('Still there?');
      await m.widget.locator('#parley-input').press('Enter');
      await desk.locator('#transcript .msg-customer', { hasText: 'Still there?' }).waitFor();
      const text = await m.frame().locator('body').innerText();
      for (const secret of ['Karl Known', 'c-2001', 'Mallory Ltd', 'contact']) {
        assert.ok(!text.includes(secret), `the customer's page shows nothing of ${secret}`);
      }
      assert.ok(received.length > 0, 'the page spoke to the server');
      for (const frame of received) {
        assert.ok(!/Karl Known|c-2001|Mallory Ltd|"contact|contact_/.test(frame), `the customer received nothing of the contact: ${frame}`);
      }
      await closeChat(desk);
      await desk.locator('#chat-tabs .chat-tab', { hasText: 'Karl Known' }).click();
      await closeChat(desk);
      await done(alice, karl, m);
    }));

  test('an agent edits the contact, unpairs it and pairs it again, and the other tab follows', () =>
    explain(server, async () => {
      const alice = await newPerson(browser, server);
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const olga = await verifiedChat({ id: 'c-3003', name: 'Olga Owner', email: 'olga@example.com' }, 'About my invoice');
      await offerCard(desk, 'Olga Owner').waitFor();
      await accept(desk, 'Olga Owner');
      const c = card(desk);
      await waitForText(c.getByRole('heading', { level: 3 }), 'Olga Owner');

      // Alice's second tab shows the same chat and card.
      const tab2 = await alice.context.newPage();
      tab2.on('pageerror', (err) => alice.errors.push(err));
      await tab2.goto('/desk');
      await waitForText(tab2.locator('#chat-name'), 'Olga Owner');
      const c2 = card(tab2);
      await waitForText(c2.getByRole('heading', { level: 3 }), 'Olga Owner');

      // Edit: a wrong address is refused at its field, then the phone saved.
      await c.getByRole('button', { name: 'Edit contact' }).click();
      const form = desk.getByRole('dialog', { name: 'Edit Olga Owner' });
      const emails = form.getByLabel('E-mails');
      await emails.fill('olga@example.com\nolga@');
      await form.getByLabel('Phone').fill('+420 777 000 111');
      await form.getByRole('button', { name: 'Save' }).click();
      await waitForText(form.locator('.contact-field-error:visible'), '"olga@" (the 2. address) is not a valid e-mail address');
      assert.equal(await emails.getAttribute('aria-invalid'), 'true');
      assert.equal(await emails.evaluate((n) => n === document.activeElement), true, 'the field has the focus');
      assert.equal(await form.getByRole('alert').count(), 0, 'the message is at the field, not under the form');
      await emails.fill('olga@example.com');
      await form.getByRole('button', { name: 'Save' }).click();
      await form.waitFor({ state: 'detached' });
      await waitForText(c.locator('[data-field="phone"]'), '+420 777 000 111');
      await edited(c, 'Alice Agent');
      // The name was not touched: still verified.
      await c.getByRole('heading', { level: 3 }).getByRole('img', { name: 'verified' }).waitFor();
      await c.locator('.contact-log summary').click();
      const change = c.getByRole('list', { name: 'Changes' }).getByRole('listitem').first();
      await change.locator('.contact-change-head', { hasText: 'Alice Agent changed' }).waitFor();
      await waitForText(change.locator('.contact-change-fields li'), 'Phone: (none) → +420 777 000 111');
      // A verified field edited loses its lock; the others keep theirs.
      await c.getByRole('button', { name: 'Edit contact' }).click();
      const again = desk.getByRole('dialog', { name: 'Edit Olga Owner' });
      await again.getByLabel('Name').fill('Olga Smith');
      await again.getByRole('button', { name: 'Save' }).click();
      await again.waitFor({ state: 'detached' });
      await waitForText(c.getByRole('heading', { level: 3 }), 'Olga Smith');
      assert.equal(await c.getByRole('heading', { level: 3 }).getByRole('img', { name: 'verified' }).count(), 0, 'the name edited is no longer verified');
      await c.locator('[data-field="emails"]').getByRole('img', { name: 'verified' }).waitFor();

      // Unpair: both tabs say so.
      await c.getByRole('button', { name: 'Unpair' }).click();
      await waitForText(c.locator('.contact-unpaired'), 'This chat is not paired with a contact.');
      await waitForText(c2.locator('.contact-unpaired'), 'This chat is not paired with a contact.');
      await desk.locator('#transcript .system', { hasText: 'Alice Agent unpaired the chat from its contact' }).waitFor();

      // Pair again, found by a part of the phone.
      await c.getByRole('button', { name: 'Pair with a contact' }).click();
      await c.getByRole('searchbox', { name: 'Find a contact' }).fill('777 000');
      await c.getByRole('button', { name: /^Pair with Olga Smith/ }).click();
      await waitForText(c.getByRole('heading', { level: 3 }), 'Olga Smith');
      await waitForText(c.locator('.contact-paired-by'), 'Paired by staff');
      await waitForText(c2.getByRole('heading', { level: 3 }), 'Olga Smith');
      await waitForText(c2.locator('[data-field="phone"]'), '+420 777 000 111');
      await tab2.locator('#transcript .system', { hasText: 'Alice Agent paired the chat with Olga Smith' }).waitFor();
      await olga.widget.getByText('About my invoice').waitFor();
      assert.ok(!(await olga.widget.locator('body').innerText()).includes('paired'), 'the customer sees no pairing');

      await done(alice, olga);
    }));
});
