// The chat timers, the important mark and the transcript by e-mail in
// Chromium, against the real server with its SMTP settings pointing at an
// SMTP server this test runs (./smtp.mjs). The demo queue has a 2-second
// service level, and the admin Ada offers the transcript by e-mail
// ("ask") in the console's Queues page. Vera waits; Alice
// accepts: the hold time stands at the top of the chat ("Waited … before
// an agent answered"); the first response counts and turns red past the
// service level; Vera writes and "to reply" counts; Alice answers: the
// first response is fixed and "to reply" stops; Vera writes again and it
// counts afresh; the chat time counts on. Alice writes a private note,
// marks the chat important; Sam's chat pane shows the mark and the hold
// time. Alice closes the chat; Vera's widget offers "E-mail me the
// transcript" with her address filled in; she sends it; the SMTP server
// receives it with the public messages and without the private note.
// Sam's History shows the chat marked important with its hold time.
// Roles, once-only and off/ask/always are proven by the Go tests
// (cmd/parley/transcript_mail_test.go).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, openDesk, say, saveQueue, startDemoChat } from './people.mjs';
import { bodyText, header, mailEnv, startSMTP } from './smtp.mjs';

const TIMEOUT = 10_000;
const SECRET = 'Private: refund approved by finance';

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
 * @param {import('playwright-core').Page} desk
 * @param {string} key first-response, reply or age
 */
const timer = (desk, key) => desk.locator(`#chat-timers [data-timer="${key}"]`);

/** @param {import('playwright-core').Locator} t */
const valueOf = async (t) => ((await t.locator('.timer-value').textContent()) ?? '').trim();

/**
 * Waits until the timer's state attribute (counting, fixed, none) is want.
 * @param {import('playwright-core').Locator} t
 * @param {string} attr
 * @param {string} want
 */
async function waitAttr(t, attr, want) {
  await waitUntil(async () => (await t.getAttribute(attr)) === want, `${attr} ${want}`);
}

/**
 * Waits until the timer shows another value than from.
 * @param {import('playwright-core').Locator} t
 * @param {string} from
 */
async function waitChange(t, from) {
  return waitUntil(async () => {
    const v = await valueOf(t);
    return v !== from && v;
  }, `the timer to move on from ${from}`);
}

describe('timers', () => {
  test('the desk counts first response, time to reply and chat time; the agent marks the chat important; the customer gets the transcript by e-mail without the private note', () =>
    explain(server, async () => {
      await saveQueue(server, 'demo', { service_level_seconds: 2, chat_time_limits: [300, 600, 900] });
      // Ada offers the transcript by e-mail in the console's Queues page.
      const ada = await person();
      assert.equal((await ada.context.request.post('/api/login', { data: { username: 'ada', password: 'demo' } })).status(), 200);
      await ada.page.goto('/admin#queues');
      await ada.page.locator('.ql-open', { hasText: 'Sales' }).click();
      const select = ada.page.getByLabel('Transcript by e-mail');
      assert.equal(await select.inputValue(), 'off', 'off by default');
      await select.selectOption('ask');
      await ada.page.getByRole('button', { name: 'Save', exact: true }).click();
      await waitForText(ada.page.locator('#q-status'), 'Saved');
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Clock', 'vera.clock@example.com');
      const w = vera.widget;
      await accept(desk, 'Vera Clock');
      await w.getByText('Alice Agent joined the chat').waitFor();
      const id = Number(await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));
      assert.ok(id > 0, 'the chat has an id');

      // The hold time at the top of the conversation.
      const hold = desk.locator('#hold-time');
      await hold.waitFor();
      assert.match((await hold.textContent()) ?? '', /^Waited \d+:\d\d before an agent answered$/);

      // First response counts, and turns red past the 2-second service level.
      const first = timer(desk, 'first-response');
      const reply = timer(desk, 'reply');
      const age = timer(desk, 'age');
      await first.waitFor();
      await waitAttr(first, 'data-state', 'counting');
      await waitAttr(first, 'data-level', 'red');
      await waitAttr(reply, 'data-state', 'none');
      assert.equal(await valueOf(reply), '—', 'nothing to reply to yet');

      // Vera writes: time to reply counts.
      const input = w.getByLabel('Message', { exact: true });
      await input.fill('Hello? Is anyone there?');
      await input.press('Enter');
      await desk.locator('#transcript .msg', { hasText: 'Hello? Is anyone there?' }).waitFor();
      await waitAttr(reply, 'data-state', 'counting');
      await waitChange(reply, '0:00');

      // Alice answers: the first response is fixed, time to reply stops.
      await say(desk, 'Yes, Alice here. How can I help?');
      await waitAttr(first, 'data-state', 'fixed');
      await waitAttr(reply, 'data-state', 'none');
      const fixed = await valueOf(first);
      const ageNow = await valueOf(age);
      await waitChange(age, ageNow); // a second later: the chat time went on…
      assert.equal(await valueOf(first), fixed, '…and the first response did not');
      assert.equal(await age.getAttribute('data-state'), 'counting');

      // Vera writes again: time to reply counts afresh.
      await input.fill('My parcel never arrived');
      await input.press('Enter');
      await desk.locator('#transcript .msg', { hasText: 'My parcel never arrived' }).waitFor();
      await waitAttr(reply, 'data-state', 'counting');
      assert.match(await valueOf(reply), /^0:0\d$/, 'from zero');

      // A private note, and the important mark.
      await say(desk, SECRET, { private: true });
      await say(desk, 'A new one is on its way.');
      const mark = desk.getByRole('button', { name: '☆ Mark important' });
      await mark.click();
      const marked = desk.getByRole('button', { name: '★ Important' });
      await waitAttr(marked, 'aria-pressed', 'true');

      // Sam's chat pane shows the mark and the hold time.
      const sam = await person();
      const login = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(login.status(), 200, 'sam signs in');
      const page = sam.page;
      await page.goto('/supervisor');
      await page.locator(`#lists .sup-chip[data-conversation-id="${id}"]`).click();
      const pane = page.locator('#chat-pane');
      await waitForText(pane.locator('dd[data-fact="important"]'), '★ Marked important');
      assert.match((await pane.locator('dd[data-fact="hold"]').textContent()) ?? '', /^Waited \d+:\d\d before an agent answered$/);

      // Alice closes the chat: the timers stop.
      await desk.getByRole('button', { name: 'Close chat' }).click();
      const dialog = desk.getByRole('dialog');
      await dialog.getByLabel('Resolved').check();
      await dialog.getByRole('button', { name: 'Close chat' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await waitAttr(age, 'data-state', 'fixed');

      // Vera asks for the transcript, her address filled in.
      await w.getByText('The agent ended the chat.').waitFor();
      const form = w.getByRole('form', { name: 'Get the transcript' });
      await form.waitFor();
      assert.equal(await form.getByLabel('Send the transcript to').inputValue(), 'vera.clock@example.com');
      await form.getByRole('button', { name: 'E-mail me the transcript' }).click();
      await waitForText(w.getByRole('status').filter({ hasText: 'transcript' }), 'The transcript is on its way to vera.clock@example.com.');
      await form.waitFor({ state: 'hidden' });

      // The SMTP server receives it: the public messages, not the note.
      const mail = await waitUntil(() => smtp.mails.find((m) => m.to.includes('vera.clock@example.com')), 'the transcript mail');
      assert.equal(header(mail.data, 'Subject'), 'Your chat with Sales');
      const body = bodyText(mail.data);
      for (const want of ['Vera Clock: Hello? Is anyone there?', 'Alice Agent: Yes, Alice here. How can I help?', 'A new one is on its way.']) {
        assert.ok(body.includes(want), `the transcript has "${want}":\n${body}`);
      }
      assert.ok(!body.includes('refund approved'), `the transcript has no private note:\n${body}`);

      // Sam's History: marked important, with the hold time.
      await page.getByRole('button', { name: 'History' }).click();
      const history = page.locator('#history');
      await history.getByRole('search').waitFor();
      await history.getByLabel('Contact').fill('vera.clock@');
      await history.getByRole('button', { name: 'Search' }).click();
      const row = history.locator('.hist-result', { hasText: 'Vera Clock' });
      await row.locator('.hist-important').waitFor();
      await row.click();
      const transcript = history.getByRole('region', { name: 'Transcript' });
      assert.match((await transcript.locator('.hist-hold').textContent()) ?? '', /^Waited \d+:\d\d before an agent answered$/);
      await waitForText(transcript.getByRole('button', { name: '★ Important' }), '★ Important');
      await done(alice, vera, sam, ada);
    }));
});
