// Tickets in the supervisor console, in Chromium against the real server
// with its SMTP settings pointing at an SMTP server this test runs
// (smtp.mjs). A queue has a short maximum wait (set through the admin API,
// as rules.test.mjs does) and nobody on duty: a customer's chat waits past
// it and ends, and becomes an unassigned ticket, which appears live in the
// supervisor's Tickets tab. The supervisor reads it (the chat's
// transcript, then the ticket's thread; the chat, opened from it, names
// the ticket and no contact in its facts) and assigns it to an agent of its
// queue from the list (the picker offers only those); the agent, on duty
// once the chat has ended, sees it arrive in the desk's Tickets view and
// answers it by e-mail there; the SMTP server receives the mail and the
// supervisor sees the reply in the thread; the supervisor closes it (it
// moves to Closed, under the agent, counted) and reopens it (back under
// the agent in Assigned); the agent closes it in the desk, and the
// console follows live; reopened from the ticket's pane and assigned to
// nobody, it is unassigned again. Who may see and do what is proven by
// the Go tests (chat/crm, signaling/tickets_test.go).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { done, newPerson, openDesk, saveQueue } from './people.mjs';
import { bodyText, header, mailEnv, startSMTP } from './smtp.mjs';

const TIMEOUT = 10_000;
const BUSY = 'Nobody can answer right now. We will write back by e-mail.';
const QUESTION = 'My parcel never arrived. It was order 1042.';
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
 * The supervisor Sam, signed in, on the console's Tickets list.
 * @returns {Promise<import('./people.mjs').Person>}
 */
async function samOnTickets() {
  const sam = await person();
  const res = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
  assert.equal(res.status(), 200, 'sam signs in');
  await sam.page.goto('/supervisor');
  await waitForText(sam.page.locator('#conn-state'), 'Connected');
  await sam.page.getByRole('button', { name: 'Tickets', exact: true }).click();
  await sam.page.locator('#list-tickets-panel', { hasText: 'No unassigned tickets.' }).waitFor();
  return sam;
}

/**
 * The customer opens the queue's widget page, starts a chat with her name
 * and e-mail and writes.
 * @param {string} key
 * @param {string} name
 * @param {string} email
 */
async function customerWrites(key, name, email) {
  const p = await person();
  await p.page.goto(`/widget/${key}`);
  await p.page.getByRole('button', { name: 'Open chat' }).click();
  await p.page.locator('form#parley-prechat').waitFor();
  await p.page.getByLabel('Name').fill(name);
  await p.page.getByLabel('E-mail').fill(email);
  await p.page.getByRole('button', { name: 'Start chat' }).click();
  await p.page.getByText("You're in the queue").waitFor();
  await p.page.locator('#parley-input').fill(QUESTION);
  await p.page.locator('#parley-input').press('Enter');
  await p.page.locator('#parley-transcript', { hasText: QUESTION }).waitFor();
  return p;
}

/**
 * The agent opens the desk's Tickets view (their open tickets).
 * @param {import('playwright-core').Page} desk
 */
async function deskTickets(desk) {
  await desk.locator('#tickets-open').click();
  const view = desk.getByRole('dialog', { name: 'Tickets' });
  await view.waitFor();
  return view;
}

describe('tickets in the supervisor console', () => {
  test('a chat that waited past the maximum becomes an unassigned ticket; the supervisor assigns it, the agent answers by e-mail, the supervisor closes and reopens it', () =>
    explain(server, async () => {
      await saveQueue(server, 'tickets-wait', {
        name: 'Parcels', members: ['bob'], max_wait_seconds: 10, unavailable_message: BUSY,
      });
      const sam = await samOnTickets();
      const page = sam.page;
      const states = {
        unassigned: page.locator('#tickets-unassigned'),
        assigned: page.locator('#tickets-assigned'),
        closed: page.locator('#tickets-closed'),
      };
      await waitForText(states.unassigned.locator('.sup-count'), '0');
      await waitForText(states.assigned.locator('.sup-count'), '0');
      assert.equal(await states.unassigned.getAttribute('aria-pressed'), 'true', 'the list opens on Unassigned');

      // Nobody is on duty for Parcels: Tina's chat waits past ten seconds
      // and ends (the router looks once a second).
      const tina = await customerWrites('tickets-wait', 'Tina Ticket', 'tina@example.com');
      await tina.page.locator('#parley-transcript .system', { hasText: BUSY }).waitFor({ timeout: 25_000 });

      // It appears, live, as an unassigned ticket.
      const groups = page.locator('#tickets-groups');
      const row = groups.locator('.sup-ticket', { hasText: 'Tina Ticket' });
      await row.waitFor();
      await waitForText(states.unassigned.locator('.sup-count'), '1');
      await waitForText(groups.locator('[data-group="unassigned"] .sup-count'), '1');
      assert.match(await row.locator('.sup-ticket-meta').innerText(), /Tina Ticket · Parcels/);
      const id = Number(await row.getAttribute('data-ticket-id'));
      assert.ok(id > 0, 'the row names its ticket');
      // A screen reader is told of it (the list itself is redrawn silently).
      await page.locator('#list-tickets-panel [role="status"]', { hasText: new RegExp(`^#${id} .*Tina Ticket.*: unassigned\\.$`) }).waitFor();

      // The supervisor reads it: the chat, then the ticket's thread.
      await row.locator('.sup-ticket-open').click();
      const pane = page.locator('#ticket-pane');
      const title = (await row.locator('.sup-ticket-open').innerText()).replace(`#${id} `, '');
      await pane.getByRole('heading', { name: `Ticket #${id} ${title}` }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), `ticket-title-${id}`, 'the ticket opened has the focus');
      await waitForText(pane.locator('[data-fact="state"]'), 'Unassigned');
      await waitForText(pane.locator('[data-fact="customer"]'), 'Tina Ticket · tina@example.com');
      await waitForText(pane.locator('[data-fact="source"]'), 'a chat nobody answered in time');
      await pane.getByRole('list', { name: 'The chat' }).locator('.hist-event', { hasText: QUESTION }).waitFor();
      const thread = pane.getByRole('list', { name: 'Thread' });
      await thread.locator('.sup-ticket-kind-created').waitFor();

      // Its chat, opened from the ticket, names the ticket in its facts
      // (the Conversation's ticket) and no contact (Tina is unverified).
      await pane.getByRole('button', { name: 'Open the chat' }).click();
      const chat = page.locator('#chat-pane');
      await waitForText(chat.locator('[data-fact="ticket"]'), `#${id} ${title} (unassigned)`);
      await waitForText(chat.locator('[data-fact="contact"]'), 'Not paired');

      // Bob comes on duty (the chat has ended: nothing is offered to him)
      // and looks at his tickets: none yet.
      const bob = await person();
      await openDesk(bob, 'bob');
      const bobsView = await deskTickets(bob.page);
      await waitForText(bobsView.locator('#tickets-list-state'), 'No tickets here.');

      // Assign from the list: the picker offers the agents of Parcels
      // only (Bob, not Alice, who is on the floor for the demo queue).
      await row.getByRole('button', { name: `Assign ticket #${id} ` }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('heading', { name: `Assign ticket #${id} ` }).waitFor();
      await dialog.getByRole('radio', { name: /Bob Agent/ }).waitFor();
      assert.equal(await dialog.getByRole('radio', { name: /Alice Agent/ }).count(), 0, 'Alice is no agent of Parcels');
      assert.equal(await dialog.getByRole('radio', { name: /Nobody/ }).count(), 0, 'an unassigned ticket has nobody to take it from');
      await dialog.getByRole('radio', { name: /Bob Agent/ }).check();
      await dialog.getByRole('button', { name: 'Assign', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.locator('#notices', { hasText: `#${id} ` }).waitFor();

      // It leaves Unassigned, and is Bob's in Assigned, counted.
      await row.waitFor({ state: 'detached' });
      await waitForText(states.unassigned.locator('.sup-count'), '0');
      await waitForText(states.assigned.locator('.sup-count'), '1');
      await states.assigned.click();
      const bobs = groups.locator('.sup-group', { has: page.locator('h4', { hasText: 'Bob Agent' }) });
      await waitForText(bobs.locator('.sup-count'), '1');
      const assigned = bobs.locator(`.sup-ticket[data-ticket-id="${id}"]`);
      await assigned.waitFor();
      await waitForText(pane.locator('[data-fact="assignee"]'), 'Bob Agent');
      await waitForText(chat.locator('[data-fact="ticket"]'), `#${id} ${title} (assigned)`);
      await chat.getByRole('button', { name: 'Close the chat pane' }).click();
      await thread.locator('.sup-ticket-kind-assigned', { hasText: 'assigned it to Bob Agent' }).waitFor();

      // Bob has it in the desk's Tickets view, live, and answers by
      // e-mail; the customer's address receives it.
      const mine = bobsView.getByRole('list', { name: 'Ticket list' }).locator(`[data-ticket="${id}"]`);
      await mine.getByRole('button', { name: /Tina Ticket/ }).click();
      await bobsView.locator('#ticket-detail-title', { hasText: `#${id} ` }).waitFor();
      const to = bobsView.getByLabel('To', { exact: true });
      await waitUntil(async () => (await to.inputValue()) === 'tina@example.com', 'the reply to go to Tina', 5000);
      await bobsView.getByLabel('Reply to the customer', { exact: true }).fill(REPLY);
      await bobsView.getByRole('button', { name: 'Send e-mail' }).click();
      await bobsView.getByRole('log', { name: 'Thread' }).locator('.ticket-reply', { hasText: REPLY }).waitFor();
      await waitUntil(() => smtp.mails.some((m) => m.to.includes('tina@example.com')), 'the reply is mailed to Tina', 20_000);
      const mail = smtp.mails.find((m) => m.to.includes('tina@example.com'));
      assert.ok(mail);
      assert.match(header(mail.data, 'Subject'), new RegExp(`^\\[#${id}\\] `), 'the subject names the ticket');
      assert.match(bodyText(mail.data), new RegExp(REPLY.replace(/[.;]/g, '\\$&')), 'the mail carries the reply');
      assert.doesNotMatch(bodyText(mail.data), /order 1042/, 'and not the chat');

      // The supervisor's thread shows it, live.
      const reply = thread.locator('.sup-ticket-kind-reply');
      await waitForText(reply.locator('.sup-ticket-what'), 'replied by e-mail to tina@example.com');
      await waitForText(reply.locator('.sup-ticket-text'), REPLY);
      await waitForText(reply.locator('.hist-author'), 'Bob Agent');

      // Close from the list: it moves to Closed, under Bob, counted today.
      await assigned.getByRole('button', { name: `Close ticket #${id} ` }).click();
      await assigned.waitFor({ state: 'detached' });
      await waitForText(states.assigned.locator('.sup-count'), '0');
      await waitForText(states.closed.locator('.sup-count'), '1');
      await pane.locator('[data-fact="state"]', { hasText: /^Closed / }).waitFor();
      await states.closed.click();
      const closedBobs = groups.locator('.sup-group', { has: page.locator('h4', { hasText: 'Bob Agent' }) });
      await waitForText(closedBobs.locator('.sup-count'), '1');
      const closed = closedBobs.locator(`.sup-ticket[data-ticket-id="${id}"]`);
      await closed.waitFor();

      // Reopen: it is Bob's again, in Assigned.
      await closed.getByRole('button', { name: `Reopen ticket #${id} ` }).click();
      await closed.waitFor({ state: 'detached' });
      await waitForText(states.closed.locator('.sup-count'), '0');
      await waitForText(states.assigned.locator('.sup-count'), '1');
      await waitForText(pane.locator('[data-fact="state"]'), 'Assigned');
      await thread.locator('.sup-ticket-kind-reopened').waitFor();
      await states.assigned.click();
      const again = bobs.locator(`.sup-ticket[data-ticket-id="${id}"]`);
      await again.waitFor();

      // Bob closes it in the desk: the console follows, live.
      await bobsView.getByRole('button', { name: 'Close ticket' }).click();
      await again.waitFor({ state: 'detached' });
      await waitForText(states.assigned.locator('.sup-count'), '0');
      await waitForText(states.closed.locator('.sup-count'), '1');
      await thread.locator('.sup-ticket-kind-closed', { hasText: 'Bob Agent closed it' }).waitFor();

      // Reopened from the pane and given back to nobody: Unassigned again.
      await pane.getByRole('button', { name: `Reopen ticket #${id} ` }).click();
      await waitForText(pane.locator('[data-fact="state"]'), 'Assigned');
      await pane.getByRole('button', { name: `Assign ticket #${id} ` }).click();
      await dialog.getByRole('radio', { name: /Nobody/ }).check();
      await dialog.getByRole('button', { name: 'Assign', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
      await waitForText(pane.locator('[data-fact="assignee"]'), 'Nobody');
      await waitForText(states.unassigned.locator('.sup-count'), '1');
      await states.unassigned.click();
      await groups.locator(`[data-group="unassigned"] .sup-ticket[data-ticket-id="${id}"]`).waitFor();

      await done(sam, tina, bob);
    }));
});
