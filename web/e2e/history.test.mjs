// The supervisor's History tab in Chromium, against the real server: a
// customer chats with Alice, who writes a private note and closes the
// chat; the supervisor Sam opens /supervisor, History, searches a word of
// the chat, finds it with the word marked, opens the transcript (the
// note marked private, the close status, the times), marks the chat
// important and finds it again by that filter. Who may search what is
// proven by the Go tests (chat/search's role table, and
// cmd/parley/history_test.go over the websocket).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, openDesk, say, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
const WORD = 'flamingo';
const QUESTION = `Where is my ${WORD} lamp? It was due on Monday`;
const NOTE = `Staff only: the ${WORD} lamps are stuck in Brno`;
const REPLY = 'It ships tomorrow, sorry for the wait';
const GREETING = 'Hi! Thanks for reaching out to Acme. How can we help?'; // the demo queue's

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

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

describe('history', () => {
  test('the supervisor finds a closed chat by a word in it and reads its transcript, private note marked', () =>
    explain(server, async () => {
      // The chat: Vera asks, Alice notes privately, replies, closes.
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Flamingo', 'vera@example.com');
      await accept(desk, 'Vera Flamingo');
      const input = vera.widget.getByLabel('Message', { exact: true });
      await input.fill(QUESTION);
      await input.press('Enter');
      await desk.locator('#transcript .msg', { hasText: QUESTION }).waitFor();
      await say(desk, NOTE, { private: true });
      await say(desk, REPLY);
      await vera.widget.locator('#parley-transcript .msg-agent .bubble', { hasText: REPLY }).waitFor();
      await desk.getByRole('button', { name: 'Close chat' }).click();
      const dialog = desk.getByRole('dialog');
      await dialog.getByLabel('Resolved').check();
      await dialog.getByRole('button', { name: 'Close chat' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await done(alice, vera);

      // Sam opens the console's History tab and searches the word.
      const sam = await person();
      const login = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(login.status(), 200, 'sam signs in');
      const page = sam.page;
      await page.goto('/supervisor');
      await waitForText(page.locator('#conn-state'), 'Connected');
      await page.getByRole('button', { name: 'History' }).click();
      const history = page.locator('#history');
      await history.getByRole('search').waitFor();
      // The filters offer the demo queue (Sales) and its agents.
      await history.getByLabel('Queue').locator('option', { hasText: 'Sales' }).waitFor({ state: 'attached' });
      await history.getByLabel('Agent').locator('option', { hasText: 'Alice Agent' }).waitFor({ state: 'attached' });
      await history.getByLabel('Text').fill(WORD.toUpperCase());
      await history.getByRole('button', { name: 'Search' }).click();
      await waitForText(history.locator('.hist-summary'), '1 conversations found.');
      const result = history.locator('.hist-result', { hasText: 'Vera Flamingo' });
      await result.waitFor();
      const meta = await result.locator('.hist-result-meta').textContent();
      assert.match(meta ?? '', /Alice Agent/, 'the result names the agent');
      assert.match(meta ?? '', /Closed: Resolved/, 'and the close status');
      assert.equal(await result.locator('mark').first().textContent(), WORD, 'the word found is marked');
      assert.equal(await result.locator('.hist-email').textContent(), 'vera@example.com');

      // A word nobody wrote finds nothing, and says so.
      await history.getByLabel('Text').fill('zebracorn');
      await history.getByRole('button', { name: 'Search' }).click();
      await waitForText(history.locator('.hist-summary'), 'No conversation found.');
      assert.equal(await history.locator('.hist-result').count(), 0);

      // By the customer's e-mail, then open the transcript.
      await history.getByLabel('Text').fill('');
      await history.getByLabel('Contact').fill('vera@exam');
      await history.getByRole('button', { name: 'Search' }).click();
      await result.click();
      const transcript = history.getByRole('region', { name: 'Transcript' });
      await transcript.locator('.hist-event', { hasText: QUESTION }).waitFor();
      const note = transcript.locator('.hist-event', { hasText: NOTE });
      assert.ok(await note.evaluate((e) => e.classList.contains('hist-private')), 'the note is marked private');
      await waitForText(note.locator('.hist-tag'), 'Private');
      const reply = transcript.locator('.hist-event', { hasText: REPLY });
      assert.equal(await reply.locator('.hist-tag').count(), 0, 'a public reply is not marked');
      assert.match((await reply.locator('.hist-offset').textContent()) ?? '', /^\+\d+:\d\d$/, 'each event has its time after the start');
      await transcript.locator('.hist-event.hist-kind-closed', { hasText: 'Resolved' }).waitFor();
      await waitForText(transcript.locator('.hist-feedback'), 'No feedback.');
      const order = await transcript.locator('.hist-event .hist-text').allTextContents();
      assert.deepEqual(order, [GREETING, QUESTION, NOTE, REPLY], "the messages in their order, the queue's greeting first");

      // Marked important, it is found by that filter.
      const mark = transcript.getByRole('button', { name: /Mark important/ });
      await mark.click();
      await transcript.locator('.hist-mark[aria-pressed="true"]').waitFor();
      await history.getByLabel('Contact').fill('');
      await history.getByLabel('Important').selectOption('true');
      await history.getByRole('button', { name: 'Search' }).click();
      await waitForText(history.locator('.hist-summary'), '1 conversations found.');
      await result.locator('.hist-important').waitFor();
      await done(sam);
    }));
});
