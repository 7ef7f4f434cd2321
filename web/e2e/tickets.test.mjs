// Tickets in the desk, in Chromium, against the real server with its SMTP
// settings pointing at an SMTP server this test runs (./smtp.mjs). A
// customer who gave her e-mail starts a chat; Alice takes it and leaves a
// private note. Beside the chat, the ticket widget says no ticket is
// linked; Alice creates one from the chat (title, priority, assignee): the
// widget shows its title, state, priority and assignee. She unlinks it,
// finds it by searching, stars it (the Favourites filter finds it), and
// links it to the chat again. Opening it shows its thread: the chat's
// transcript, her private note included, then the ticket's events. She
// replies by e-mail: the SMTP server receives the reply at the customer's
// address, under the ticket's number and title, without the private note.
// She closes the ticket: it leaves her list of open tickets live and the
// widget says Closed; she reopens it. Bob, an agent of the same queue,
// sees the ticket appear in his "Unassigned in my queues" list, live, when
// Alice unassigns it, and takes it. The widget's filters: two customers of
// one company, each paired with a contact, each with a ticket; this
// contact finds one, this company both, mine and favourites narrow them.
// A ticket made by hand in the Tickets view ("New ticket"), for a contact
// found by search whose address fills the e-mail: a refused e-mail shows
// at its field; the ticket opens, her list follows, her reply reaches the
// contact by e-mail.
// Who may see which ticket is proven by the Go tests (chat/crm).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, say, startDemoChat } from './people.mjs';
import { bodyText, header, mailEnv, startSMTP } from './smtp.mjs';

const TIMEOUT = 10_000;
const NOTE = 'VIP: refund code 4711, never tell the customer';
const REPLY = 'We have sent the parcel again; it arrives on Friday.';

/** @type {import('./smtp.mjs').SMTPServer} */
let smtp;
/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  smtp = await startSMTP();
  [server, browser] = await startServerAndBrowser({ env: mailEnv(smtp) });
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop(), smtp?.close()]);
});

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * Alice takes a chat of a customer who gave her e-mail.
 * @param {string} name
 * @param {string} email
 */
async function aliceTakesAChat(name, email) {
  const alice = await person();
  await openDesk(alice, 'alice');
  const customer = await startDemoChat(await person(), name, email);
  await customer.widget.locator('#parley-input').fill('My parcel never arrived.');
  await customer.widget.locator('#parley-input').press('Enter');
  await offerCard(alice.page, name).waitFor();
  await accept(alice.page, name);
  await alice.page.locator('#transcript .msg-customer', { hasText: 'My parcel never arrived.' }).waitFor();
  return { alice, customer };
}

/**
 * Pairs the chat with a new contact as the contact card's "New contact"
 * would (contact.create with the chat), over a websocket of the desk's
 * page: the card itself is another file's test (contacts.test.mjs).
 * @param {import('playwright-core').Page} desk
 * @param {number} conversationId
 * @param {{name: string, company: string}} contact
 */
async function pair(desk, conversationId, contact) {
  const answer = await desk.evaluate(
    async ({ id, c }) => {
      const ws = new WebSocket(`ws://${location.host}/ws`);
      await new Promise((resolve, reject) => {
        ws.addEventListener('open', resolve);
        ws.addEventListener('error', reject);
      });
      /** @param {{type: string, id: string, data: object}} m */
      const ask = (m) =>
        new Promise((resolve) => {
          ws.addEventListener('message', (e) => {
            const d = JSON.parse(e.data);
            if (d.re === m.id) resolve(d);
          });
          ws.send(JSON.stringify(m));
        });
      await ask({ type: 'session.hello', id: '1', data: { version: 1, client: 'tickets.test' } });
      const a = await ask({ type: 'contact.create', id: '2', data: { name: c.name, company: c.company, conversation_id: id } });
      ws.close();
      return a;
    },
    { id: conversationId, c: contact },
  );
  assert.equal(/** @type {{error?: unknown}} */ (answer).error, undefined, `the chat is paired: ${JSON.stringify(answer)}`);
}

/**
 * The id of the chat whose tab is selected.
 * @param {import('playwright-core').Page} desk
 */
async function shownChat(desk) {
  return Number(await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));
}

/**
 * Creates a ticket from the chat shown with the widget's dialog.
 * @param {import('playwright-core').Page} desk
 * @param {string} title
 * @param {string} assignee the choice's label
 */
async function createFromChat(desk, title, assignee) {
  const panel = desk.getByRole('region', { name: 'Tickets' });
  await panel.getByRole('button', { name: 'Create ticket' }).click();
  const create = desk.getByRole('dialog', { name: 'Create ticket' });
  await create.getByLabel('Title').fill(title);
  await create.getByLabel('Assignee').selectOption({ label: assignee });
  await create.getByRole('button', { name: 'Create ticket' }).click();
  await create.waitFor({ state: 'detached' });
  const card = panel.locator('.ticket-card');
  await card.getByRole('button', { name: new RegExp(title) }).waitFor();
  return Number(await card.getAttribute('data-ticket'));
}

/**
 * Makes a contact (contact.create without a chat) over a websocket of the
 * desk's page, as the contact card's "New contact" would; the card itself
 * is another file's test (contacts.test.mjs).
 * @param {import('playwright-core').Page} desk
 * @param {{name: string, emails: string[], company: string}} contact
 * @returns {Promise<number>} its id
 */
async function makeContact(desk, contact) {
  const answer = /** @type {{error?: unknown, data?: {id: number}}} */ (
    await desk.evaluate(async (c) => {
      const ws = new WebSocket(`ws://${location.host}/ws`);
      await new Promise((resolve, reject) => {
        ws.addEventListener('open', resolve);
        ws.addEventListener('error', reject);
      });
      /** @param {{type: string, id: string, data: object}} m */
      const ask = (m) =>
        new Promise((resolve) => {
          ws.addEventListener('message', (e) => {
            const d = JSON.parse(e.data);
            if (d.re === m.id) resolve(d);
          });
          ws.send(JSON.stringify(m));
        });
      await ask({ type: 'session.hello', id: '1', data: { version: 1, client: 'tickets.test' } });
      const a = await ask({ type: 'contact.create', id: '2', data: c });
      ws.close();
      return a;
    }, contact)
  );
  assert.equal(answer.error, undefined, `the contact is made: ${JSON.stringify(answer)}`);
  return /** @type {{id: number}} */ (answer.data).id;
}

describe('tickets in the desk', () => {
  test('an agent creates a ticket from a chat and links it; the chat shows it; she replies by e-mail without the private notes; closes and reopens it', () =>
    explain(server, async () => {
      const { alice, customer } = await aliceTakesAChat('Vera Parcel', 'vera.parcel@example.com');
      const desk = alice.page;
      await say(desk, NOTE, { private: true });
      await say(desk, 'Let me look into it.');

      // The widget beside the chat: no ticket yet.
      const panel = desk.getByRole('region', { name: 'Tickets' });
      await waitForText(panel.locator('.ticket-none'), 'No ticket is linked to this chat.');

      // Create ticket: title, priority, assignee (herself, proposed).
      await panel.getByRole('button', { name: 'Create ticket' }).click();
      const create = desk.getByRole('dialog', { name: 'Create ticket' });
      await create.getByRole('button', { name: 'Create ticket' }).click();
      await waitForText(create.getByRole('alert'), 'Give the ticket a title.');
      await create.getByLabel('Title').fill('Parcel never arrived');
      await create.getByLabel('Priority').selectOption('high');
      assert.equal(await create.getByLabel('Assignee').locator('option:checked').textContent(), 'Alice Agent (me)', 'she is proposed');
      await create.getByRole('button', { name: 'Create ticket' }).click();
      await create.waitFor({ state: 'detached' });

      // The chat shows the ticket: title, state, priority, assignee.
      const card = panel.locator('.ticket-card');
      await card.getByRole('button', { name: /Parcel never arrived/ }).waitFor();
      const id = Number(await card.getAttribute('data-ticket'));
      assert.ok(id > 0, 'the card names the ticket');
      await waitForText(card.locator('.ticket-state'), 'Assigned');
      await waitForText(card.locator('.ticket-priority'), 'High');
      await waitForText(card.locator('.ticket-card-assignee'), 'Assigned to Alice Agent');
      // The chat's private line says so.
      await desk.locator('#transcript .system-ticket_linked.system-muted', { hasText: `Alice Agent linked the chat to ticket #${id} “Parcel never arrived”` }).waitFor();

      // Unlink, find it, star it, link it again.
      await card.getByRole('button', { name: 'Unlink' }).click();
      await waitForText(panel.locator('.ticket-none'), 'No ticket is linked to this chat.');
      await desk.locator('#transcript .system-ticket_linked', { hasText: 'Alice Agent unlinked the chat from its ticket' }).waitFor();
      await panel.getByLabel('Search tickets').fill('parcel never');
      const found = panel.getByRole('list', { name: 'Tickets found' }).locator(`[data-ticket="${id}"]`);
      await found.waitFor();
      await found.getByRole('button', { name: `Favourite ticket #${id}` }).click();
      await found.locator('.ticket-star[aria-pressed="true"]').waitFor();
      await panel.getByLabel('Search tickets').fill('');
      await panel.getByLabel('Favourites').check();
      await panel.getByRole('list', { name: 'Tickets found' }).locator(`[data-ticket="${id}"]`).waitFor();
      await panel.getByLabel('Favourites').uncheck();
      await panel.getByLabel('Mine').check();
      await panel.getByRole('button', { name: `Link ticket #${id} to this chat` }).click();
      await waitForText(card.locator('.ticket-card-assignee'), 'Assigned to Alice Agent');
      await panel.locator(`[data-ticket="${id}"] .ticket-linked-mark`).waitFor();

      // Its thread: the chat's transcript (the private note too), then the ticket's events.
      await card.getByRole('button', { name: /Parcel never arrived/ }).click();
      const view = desk.getByRole('dialog', { name: 'Tickets' });
      await waitForText(view.locator('#ticket-detail-title'), `#${id} Parcel never arrived`);
      const thread = view.getByRole('log', { name: 'Thread' });
      await thread.locator('.ticket-chat .msg-customer', { hasText: 'My parcel never arrived.' }).waitFor();
      await thread.locator('.ticket-chat .msg-private', { hasText: NOTE }).waitFor();
      await thread.locator('.ticket-events .ticket-line', { hasText: 'Alice Agent made the ticket' }).waitFor();

      // A reply by e-mail, to the customer's address.
      assert.equal(await view.getByLabel('To', { exact: true }).inputValue(), 'vera.parcel@example.com', 'the reply goes to the customer');
      await view.getByRole('button', { name: 'Send e-mail' }).click();
      await waitForText(view.getByRole('form', { name: 'Reply by e-mail' }).getByRole('alert'), 'Write the reply first.');
      await view.getByLabel('Reply to the customer', { exact: true }).fill(REPLY);
      await view.getByRole('button', { name: 'Send e-mail' }).click();
      await thread.locator('.ticket-reply', { hasText: REPLY }).waitFor();
      assert.equal(await view.getByLabel('Reply to the customer', { exact: true }).inputValue(), '', 'the reply box is emptied');
      const mail = await waitUntil(() => smtp.mails.find((m) => m.to.includes('vera.parcel@example.com')), 'the reply mail');
      assert.equal(header(mail.data, 'Subject'), `[#${id}] Parcel never arrived`);
      const body = bodyText(mail.data);
      assert.ok(body.includes(REPLY), `the mail has the reply: ${body}`);
      assert.ok(!body.includes('4711'), `the mail has none of the private note: ${body}`);

      // A note for staff.
      await view.getByRole('textbox', { name: /Note for staff/ }).fill('Courier says it was delivered');
      await view.getByRole('button', { name: 'Add note' }).click();
      await thread.locator('.ticket-note', { hasText: 'Courier says it was delivered' }).waitFor();

      // Its priority, changed here, changes beside the chat too.
      await view.getByLabel('Priority', { exact: true }).selectOption('urgent');
      await thread.locator('.ticket-line', { hasText: 'Alice Agent changed the priority from “High” to “Urgent”' }).waitFor();
      await waitForText(card.locator('.ticket-priority'), 'Urgent');

      // Her open tickets list it; closing it takes it off, live.
      const list = view.getByRole('list', { name: 'Ticket list' });
      await list.locator(`[data-ticket="${id}"]`).waitFor();
      await view.getByRole('button', { name: 'Close ticket' }).click();
      await waitForText(view.locator('.ticket-detail-head .ticket-state'), 'Closed');
      await thread.locator('.ticket-line', { hasText: 'Alice Agent closed it' }).waitFor();
      await list.locator(`[data-ticket="${id}"]`).waitFor({ state: 'detached' });
      await view.getByLabel('State', { exact: true }).selectOption('closed');
      await list.locator(`[data-ticket="${id}"][data-state="closed"]`).waitFor();

      // Reopen: assigned again (it has an assignee).
      await view.getByRole('button', { name: 'Reopen' }).click();
      await waitForText(view.locator('.ticket-detail-head .ticket-state'), 'Assigned');
      await thread.locator('.ticket-line', { hasText: 'Alice Agent reopened it' }).waitFor();
      await list.locator(`[data-ticket="${id}"]`).waitFor({ state: 'detached' });
      await view.getByRole('button', { name: 'Close', exact: true }).click();
      await view.waitFor({ state: 'hidden' });
      await waitForText(card.locator('.ticket-state'), 'Assigned');

      // The customer saw nothing of it.
      assert.equal(await customer.widget.getByText(/ticket/i).count(), 0, 'the customer sees no ticket');
      assert.equal(await customer.widget.getByText(NOTE).count(), 0, 'nor the note');

      // A reload of the desk shows the chat's ticket again (the Conversation carries it).
      await desk.reload();
      await waitForText(desk.locator('#chat-name'), 'Vera Parcel');
      await waitForText(card.locator('.ticket-card-title'), `#${id} Parcel never arrived`);
      await waitForText(card.locator('.ticket-card-assignee'), 'Assigned to Alice Agent');

      // Bob, of the same queue, sees it among the unassigned once Alice unassigns it, live; he takes it.
      const bob = await person();
      await openDesk(bob, 'bob');
      // His top bar counts it with what waits for him once nobody has it.
      const bobsButton = bob.page.locator('#tickets-open');
      await bobsButton.click();
      const bobView = bob.page.getByRole('dialog', { name: 'Tickets' });
      await bobView.getByLabel('Show', { exact: true }).selectOption('unassigned');
      await waitForText(bobView.locator('#tickets-list-state'), 'No tickets here.');
      await card.getByRole('button', { name: /Parcel never arrived/ }).click();
      await view.getByLabel('Assign to', { exact: true }).selectOption({ label: 'Nobody' });
      await view.getByRole('button', { name: 'Assign' }).click();
      await waitForText(view.locator('.ticket-detail-head .ticket-state'), 'Unassigned');
      await bob.page.locator('#tickets-open[aria-label="Tickets: 0 assigned to you, 1 unassigned"]').waitFor({ state: 'attached' });
      const bobs = bobView.getByRole('list', { name: 'Ticket list' }).locator(`[data-ticket="${id}"]`);
      await bobs.getByRole('button', { name: /Parcel never arrived/ }).click();
      await bobView.getByRole('button', { name: 'Take' }).click();
      await bobs.waitFor({ state: 'detached' });
      await waitForText(bobView.locator('.ticket-detail-meta dd').nth(1), 'Bob Agent');
      await bob.page.locator('#tickets-open[aria-label="Tickets: 1 assigned to you, 0 unassigned"]').waitFor({ state: 'attached' });
      // Alice's widget follows (ticket.changed): Bob has it now.
      await waitForText(card.locator('.ticket-card-assignee'), 'Assigned to Bob Agent');

      await done(alice, customer, bob);
    }));

  test('the widget finds tickets by this contact, this company, mine and favourites', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const panel = desk.getByRole('region', { name: 'Tickets' });
      const found = panel.getByRole('list', { name: 'Tickets found' });
      /** @type {import('./people.mjs').Customer[]} */
      const customers = [];
      /** @type {Record<string, number>} */
      const tickets = {};
      // Two customers of one company, each paired with a contact; a ticket from each chat.
      for (const [name, title, assignee] of [
        ['Olga Orders', 'Invoice is wrong', 'Alice Agent (me)'],
        ['Oskar Orders', 'Invoice never came', 'Nobody (unassigned)'],
      ]) {
        const customer = await startDemoChat(await person(), name);
        customers.push(customer);
        await customer.widget.locator('#parley-input').fill('About my invoice');
        await customer.widget.locator('#parley-input').press('Enter');
        await offerCard(desk, name).waitFor();
        await accept(desk, name);
        assert.equal(await panel.getByLabel('This contact').isDisabled(), true, 'an unpaired chat has no contact to filter by');
        await pair(desk, await shownChat(desk), { name, company: 'Orders Unlimited s.r.o.' });
        // The contact_paired event turns the contact's filters on.
        await panel.getByLabel('This contact').and(desk.locator(':enabled')).waitFor();
        tickets[name] = await createFromChat(desk, title, assignee);
      }
      const shows = async (/** @type {string[]} */ names) => {
        const want = names.map((n) => String(tickets[n])).sort();
        await waitUntil(async () => {
          const ids = await found.locator('.ticket-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-ticket') ?? ''));
          return JSON.stringify(ids.sort()) === JSON.stringify(want) && (await panel.locator('.ticket-list-state').textContent()) !== 'Searching…';
        }, `the tickets of ${names.join(', ') || 'nobody'}`);
      };

      // Oskar's chat is shown: this contact is his ticket; this company both; mine with it Olga's.
      await panel.getByLabel('This contact').check();
      await shows(['Oskar Orders']);
      await panel.getByLabel('This contact').uncheck();
      await panel.getByLabel('This company').check();
      await shows(['Olga Orders', 'Oskar Orders']);
      await panel.getByLabel('Mine').check();
      await shows(['Olga Orders']);
      await panel.getByLabel('Mine').uncheck();
      // Favourites of the company: none until one is starred.
      await panel.getByLabel('Favourites').check();
      await waitForText(panel.locator('.ticket-list-state'), 'No tickets found.');
      await panel.getByLabel('Favourites').uncheck();
      await panel.getByLabel('Search tickets').fill('never came');
      await shows(['Oskar Orders']);
      await found.getByRole('button', { name: `Favourite ticket #${tickets['Oskar Orders']}` }).click();
      await found.locator('.ticket-star[aria-pressed="true"]').waitFor();
      await panel.getByLabel('Search tickets').fill('');
      await panel.getByLabel('Favourites').check();
      await shows(['Oskar Orders']);

      await done(alice, ...customers);
    }));

  test('an agent makes a ticket by hand for a contact found by search; it opens, the list follows, and her e-mail reply reaches the contact', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      await makeContact(desk, { name: 'Nadia Handmade', emails: ['nadia.handmade@example.com'], company: 'Handmade Parcels s.r.o.' });

      await desk.locator('#tickets-open').click();
      const view = desk.getByRole('dialog', { name: 'Tickets' });
      const list = view.getByRole('list', { name: 'Ticket list' });
      // The list is read before the ticket is made: it follows the new one.
      await waitUntil(async () => (await view.locator('#tickets-list-state').textContent()) !== 'Loading…', 'her list');
      await view.getByRole('button', { name: 'New ticket' }).click();
      const form = desk.getByRole('dialog', { name: 'New ticket' });
      await form.waitFor();

      // Her queues to choose from; she is the proposed assignee.
      assert.ok((await form.getByLabel('Queue', { exact: true }).locator('option').count()) > 0, 'her queues are offered');
      assert.equal(await form.getByLabel('Assignee').locator('option:checked').textContent(), 'Alice Agent (me)', 'she is proposed');
      await form.getByLabel('Title').fill('Parcel made by hand');
      await form.getByLabel('Priority').selectOption('high');

      // The contact, found by search: picking it fills the e-mail.
      await form.getByLabel('Contact', { exact: true }).fill('handmade');
      await form.getByRole('button', { name: /^Choose Nadia Handmade/ }).click();
      await waitForText(form.locator('.ticket-contact-picked .ticket-contact-name'), 'Nadia Handmade <nadia.handmade@example.com>');
      const email = form.getByLabel('Customer’s e-mail');
      assert.equal(await email.inputValue(), 'nadia.handmade@example.com', 'the contact’s first address is proposed');

      // The server's refusal shows at its field.
      await email.fill('nadia');
      await form.getByRole('button', { name: 'Create ticket' }).click();
      const emailError = form.locator(`#${await email.getAttribute('aria-describedby')}`);
      await waitForText(emailError, '"email" must be an e-mail address (vera@example.com), not "nadia"');
      assert.equal(await email.getAttribute('aria-invalid'), 'true', 'the field is marked');
      assert.equal(await form.locator('.form-error[role="alert"]').isHidden(), true, 'the form-wide error line stays empty');
      await email.fill('nadia.handmade@example.com');
      await form.getByLabel('First note').fill('Called about a parcel; wants it by mail.');
      await form.getByRole('button', { name: 'Create ticket' }).click();
      await form.waitFor({ state: 'detached' });

      // It opens in the thread; her list (assigned to her, open) shows it.
      await view.locator('#ticket-detail-title').filter({ hasText: /^#\d+ Parcel made by hand$/ }).waitFor();
      const id = Number((await view.locator('#ticket-detail-title').textContent())?.match(/^#(\d+)/)?.[1]);
      await list.locator(`[data-ticket="${id}"][aria-current="true"]`).waitFor();
      await waitForText(view.locator('.ticket-detail-head .ticket-priority'), 'High');
      const meta = await view.locator('.ticket-detail-meta').textContent();
      assert.ok(meta?.includes('Nadia Handmade') && meta.includes('Alice Agent') && meta.includes('made by hand'), `the contact, assignee and source: ${meta}`);
      const thread = view.getByRole('log', { name: 'Thread' });
      await thread.locator('.ticket-line', { hasText: 'Alice Agent made the ticket' }).waitFor();
      await thread.locator('.ticket-note', { hasText: 'Called about a parcel; wants it by mail.' }).waitFor();

      // A reply by e-mail goes to the contact's address.
      assert.equal(await view.getByLabel('To', { exact: true }).inputValue(), 'nadia.handmade@example.com', 'the reply goes to the contact');
      await view.getByLabel('Reply to the customer', { exact: true }).fill('Your parcel is on its way.');
      await view.getByRole('button', { name: 'Send e-mail' }).click();
      await thread.locator('.ticket-reply', { hasText: 'Your parcel is on its way.' }).waitFor();
      const mail = await waitUntil(() => smtp.mails.find((m) => m.to.includes('nadia.handmade@example.com')), 'the reply mail');
      assert.equal(header(mail.data, 'Subject'), `[#${id}] Parcel made by hand`);
      assert.ok(bodyText(mail.data).includes('Your parcel is on its way.'), 'the mail has the reply');

      await done(alice);
    }));
});
