// The offline form in Chromium, against the real server with its SMTP
// settings pointing at an SMTP server this test runs (a small listener
// speaking SMTP, smtp.mjs). The admin disables the demo queue and turns its
// offline form on, with an offline address. The customer opens the
// widget: it shows the queue's offline message and the form; Send with the
// e-mail left empty says so at the field; filled in, it thanks her naming
// her address. The SMTP server receives the mail to the offline address
// with her message; the admin's E-mail tab shows it sent; the supervisor
// finds it in the History as an offline message and reads it. A second
// message, which the SMTP server refuses for good, shows failed in the
// E-mail tab with its error; the admin's "Send again" delivers it once the
// server takes mail again. A server without SMTP settings keeps the
// mail, and its E-mail tab says SMTP is not configured. Roles and
// bad input of the REST are proven by the Go tests
// (cmd/parley/offline_test.go).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServer, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { done, newPerson, saveQueue } from './people.mjs';
import { bodyText, header, mailEnv, startSMTP } from './smtp.mjs';

const TIMEOUT = 10_000;
const AWAY = 'We are closed for the holidays. Leave us a message.';
const MESSAGE = 'Do you ship parcels to Reykjavik? I need two boxes by Friday.';

/** @typedef {import('./smtp.mjs').SMTPServer} SMTPServer */

/** @type {SMTPServer} */
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

/** @param {import('./harness.mjs').Server} [on] the server, by default the one with SMTP */
const person = (on = server) => newPerson(browser, on, { timeout: TIMEOUT });

/**
 * A customer opens the demo page's widget and sends the offline form.
 * @param {string} name
 * @param {string} email
 * @param {string} message
 * @param {import('./harness.mjs').Server} [on]
 */
async function leaveMessage(name, email, message, on = server) {
  const p = await person(on);
  await p.page.goto('/demo');
  const w = p.page.frameLocator('iframe[title="Chat"]');
  await w.getByRole('button', { name: 'Open chat' }).click();
  const form = w.getByRole('form', { name: 'Leave us a message' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Message').fill(message);
  await form.getByRole('button', { name: 'Send' }).click();
  await waitForText(w.locator('#parley-offline-thanks'), `Thanks — we got your message and will reply to ${email}.`);
  return p;
}

/**
 * The admin Ada, signed in, on the admin console's E-mail tab.
 * @param {import('./harness.mjs').Server} [on]
 */
async function emailTab(on = server) {
  const ada = await person(on);
  const login = await ada.context.request.post('/api/login', { data: { username: 'ada', password: 'demo' } });
  assert.equal(login.status(), 200, 'ada signs in');
  await ada.page.goto('/admin');
  await ada.page.getByRole('button', { name: 'E-mail' }).click();
  return { ada, tab: ada.page.locator('#section-email') };
}

describe('offline form', () => {
  test('a customer leaves a message outside the queue\'s hours; it is mailed, listed sent, and found in the history', () =>
    explain(server, async () => {
      // Open all day every day but today (UTC): now is outside its hours.
      const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
      const today = days[new Date().getUTCDay()];
      /** @type {Record<string, {from: string, to: string}[]>} */
      const hours = {};
      for (const d of days) if (d !== today) hours[d] = [{ from: '00:00', to: '24:00' }];
      await saveQueue(server, 'demo', {
        time_zone: 'UTC',
        hours,
        offline_form: true,
        offline_email: 'sales@example.com',
        offline_message: AWAY,
      });

      // The customer opens the widget: the offline message and the form,
      // no pre-chat form.
      const ann = await person();
      await ann.page.goto('/demo');
      const w = ann.page.frameLocator('iframe[title="Chat"]');
      await w.getByRole('button', { name: 'Open chat' }).click();
      await waitForText(w.locator('#parley-offline-message'), AWAY);
      const form = w.getByRole('form', { name: 'Leave us a message' });
      await form.waitFor();
      assert.equal(await w.locator('form#parley-prechat').isVisible(), false, 'no pre-chat form while closed');

      // Send with the e-mail and the message left empty: each says so at its field.
      await form.getByLabel('Name').fill('Ann Lee');
      await form.getByRole('button', { name: 'Send' }).click();
      const email = form.getByLabel('E-mail');
      await waitForText(form.locator('#parley-offline-email-error'), 'Please enter your e-mail address, so that we can reply.');
      assert.equal(await email.getAttribute('aria-invalid'), 'true', 'the e-mail field is marked invalid');
      assert.equal(await email.getAttribute('aria-describedby'), 'parley-offline-email-error', 'and points at its message');
      await waitForText(form.locator('#parley-offline-text-error'), 'Please write your message.');
      assert.ok(await email.evaluate((e) => e === document.activeElement), 'the first wrong field has the focus');
      assert.equal(smtp.mails.length, 0, 'nothing was sent');

      // Typing clears the field's message; filled in, it is sent.
      await email.fill('ann@example.org');
      assert.equal(await form.locator('#parley-offline-email-error').count(), 0, 'the e-mail message is gone');
      await form.getByLabel('Message').fill(MESSAGE);
      await form.getByRole('button', { name: 'Send' }).click();
      await waitForText(w.locator('#parley-offline-thanks'), 'Thanks — we got your message and will reply to ann@example.org.');
      assert.equal(await form.isVisible(), false, 'the form gives way to the thanks');

      // The SMTP server received it, to the offline address, with her message.
      await waitUntil(() => smtp.mails.length === 1, 'the mail at the SMTP server');
      const mail = smtp.mails[0];
      assert.equal(mail.from, 'desk@example.com');
      assert.deepEqual(mail.to, ['sales@example.com']);
      assert.equal(header(mail.data, 'Subject'), 'Offline message from Ann Lee via Sales');
      assert.match(header(mail.data, 'Reply-To'), /ann@example\.org/);
      const text = bodyText(mail.data);
      assert.ok(text.includes(MESSAGE), `the mail carries the message:\n${text}`);
      assert.ok(text.includes('E-mail: ann@example.org'), 'and the address');

      // The admin's E-mail tab lists it, sent.
      const { ada, tab } = await emailTab();
      await waitForText(tab.locator('#outbox-smtp'), `Mail is sent through 127.0.0.1:${smtp.port} (no TLS) from desk@example.com.`);
      const row = tab.locator('.outbox-row', { hasText: 'Offline message from Ann Lee via Sales' });
      await waitForText(row.locator('.outbox-state'), 'Sent');
      const cells = await row.locator('td').allTextContents();
      assert.equal(cells[0], 'sales@example.com', 'to');
      assert.match(cells[2], /^Offline message \(\d+\)$/, 'the cause, with the conversation');
      assert.equal(cells[5], '1', 'one attempt');
      assert.equal(cells[6], '—', 'no error');
      assert.notEqual(cells[7], '—', 'a time sent');
      assert.equal(await row.getByRole('button', { name: 'Send again' }).count(), 0, 'nothing to send again');

      // The supervisor finds it in the History, as an offline message, and reads it.
      const sam = await person();
      const slogin = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(slogin.status(), 200, 'sam signs in');
      await sam.page.goto('/supervisor');
      await waitForText(sam.page.locator('#conn-state'), 'Connected');
      await sam.page.getByRole('button', { name: 'History' }).click();
      const history = sam.page.locator('#history');
      await history.getByRole('search').waitFor();
      await history.getByLabel('Status', { exact: true }).selectOption('offline');
      await history.getByRole('button', { name: 'Search' }).click();
      const result = history.locator('.hist-result', { hasText: 'Ann Lee' });
      await result.waitFor();
      assert.match((await result.locator('.hist-result-meta').textContent()) ?? '', /Offline message/, 'shown as an offline message');
      await result.click();
      const transcript = history.getByRole('region', { name: 'Transcript' });
      await transcript.locator('.hist-event', { hasText: MESSAGE }).waitFor();

      await done(ann, ada, sam);
    }));

  test('a message the SMTP server refuses shows failed in the E-mail tab; Send again delivers it', () =>
    explain(server, async () => {
      smtp.refuse = '550 5.2.1 mailbox unavailable';
      const before = smtp.mails.length;
      const bo = await leaveMessage('Bo Brown', 'bo@example.org', 'Please call me back about the Tourer GT.');

      const { ada, tab } = await emailTab();
      const row = tab.locator('.outbox-row', { hasText: 'Offline message from Bo Brown via Sales' });
      // Listed while it waits; the list is read again until it has failed.
      await waitForText(row.locator('.outbox-state'), 'Failed: gave up');
      assert.ok(await row.evaluate((r) => r.classList.contains('outbox-failed')), 'the failed row is marked');
      assert.match((await row.locator('.outbox-error').textContent()) ?? '', /mailbox unavailable/, 'the last error shows');
      assert.equal(smtp.mails.length, before, 'nothing was delivered');

      // The SMTP server takes mail again; the admin sends it again.
      smtp.refuse = '';
      await row.getByRole('button', { name: 'Send again' }).click();
      await waitForText(row.locator('.outbox-state'), 'Sent');
      assert.equal(await row.getByRole('button', { name: 'Send again' }).count(), 0, 'no Send again once sent');
      await waitUntil(() => smtp.mails.length === before + 1, 'the mail sent again at the SMTP server');
      assert.equal(header(smtp.mails[before].data, 'Subject'), 'Offline message from Bo Brown via Sales');

      await done(bo, ada);
    }));

  test('without SMTP settings the message waits, and the E-mail tab says SMTP is not configured', async () => {
    const plain = await startServer();
    try {
      await explain(plain, async () => {
        await saveQueue(plain, 'demo', { disabled: true, offline_form: true, offline_email: 'sales@example.com' });
        const cy = await leaveMessage('Cy Young', 'cy@example.org', 'Is the Cargo in stock?', plain);
        const { ada, tab } = await emailTab(plain);
        await waitForText(
          tab.locator('#outbox-smtp'),
          'SMTP is not configured: mail waits here, not sent, until the server is started with --smtp-host.',
        );
        const row = tab.locator('.outbox-row', { hasText: 'Offline message from Cy Young via Sales' });
        await waitForText(row.locator('.outbox-state'), 'Not sent: SMTP is not configured');
        assert.ok(await row.evaluate((r) => r.classList.contains('outbox-pending')), 'the waiting row is marked');
        await done(cy, ada);
      });
    } finally {
      await plain.stop();
    }
  });
});
