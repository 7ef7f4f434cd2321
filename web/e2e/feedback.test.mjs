// Feedback after a chat in Chromium, against the real server (docs/protocol.md,
// chat.feedback): the demo queue asks for it. Alice closes Vera's chat;
// Vera's widget asks "How was this chat?", she picks 4 of 5, writes a
// note and sends; she is thanked and not asked again. Alice's desk, which
// still shows the closed chat, shows the feedback as a staff-only line,
// as does the supervisor Sam's chat pane, live; Sam then reads it in the
// History transcript. Who may give
// feedback, when and how often is proven by the Go tests
// (cmd/parley/feedback_test.go).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, openDesk, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
const NOTE = 'Quick and kind, thank you';
const LINE = `Feedback: ★★★★☆ 4/5 — “${NOTE}”`;

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

describe('feedback', () => {
  test('the customer rates the ended chat 4 of 5 with a note; the agent and the supervisor see it', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Stars', 'vera.stars@example.com');
      await accept(desk, 'Vera Stars');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();
      const id = Number(await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));
      assert.ok(id > 0, 'the chat has an id');

      // Sam follows the chat in the console's chat pane.
      const sam = await person();
      const login = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(login.status(), 200, 'sam signs in');
      const page = sam.page;
      await page.goto('/supervisor');
      await page.locator(`#lists .sup-chip[data-conversation-id="${id}"]`).click();
      const pane = page.locator('#chat-pane');
      await waitForText(pane.getByRole('heading', { level: 2 }), 'Chat with Vera Stars');

      // Not asked while the chat goes on.
      assert.equal(await vera.widget.getByText('How was this chat?').isVisible(), false, 'no question during the chat');

      // Alice closes the chat.
      await desk.getByRole('button', { name: 'Close chat' }).click();
      const dialog = desk.getByRole('dialog');
      await dialog.getByLabel('Resolved').check();
      await dialog.getByRole('button', { name: 'Close chat' }).click();
      await dialog.waitFor({ state: 'hidden' });

      // Vera is asked; Send waits for a rating.
      const w = vera.widget;
      await w.getByText('The agent ended the chat.').waitFor();
      const form = w.getByRole('form', { name: 'How was this chat?' });
      await form.waitFor();
      const send = form.getByRole('button', { name: 'Send' });
      assert.ok(await send.isDisabled(), 'Send is disabled until a rating is chosen');
      const stars = form.getByRole('group', { name: 'How was this chat?' }).getByRole('button');
      assert.deepEqual(
        await stars.evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label'))),
        ['1 of 5', '2 of 5', '3 of 5', '4 of 5', '5 of 5'],
        'five buttons, each labelled',
      );
      const four = form.getByRole('button', { name: '4 of 5' });
      await four.click();
      assert.equal(await four.getAttribute('aria-pressed'), 'true', '4 is chosen');
      assert.equal(await form.getByRole('button', { name: '5 of 5' }).getAttribute('aria-pressed'), 'false');
      await form.getByLabel('Add a note (optional)').fill(NOTE);
      await send.click();
      await w.getByText('Thank you for your feedback.').waitFor();
      await form.waitFor({ state: 'hidden' });
      assert.equal(await w.getByText('How was this chat?').isVisible(), false, 'not asked again');
      assert.equal(await w.getByText(NOTE).count(), 0, 'the note is not in the customer\'s transcript');

      // Sam's pane receives it live.
      await waitForText(pane.locator('.system-feedback .system-text'), LINE);

      // Alice's desk still shows the closed chat: the feedback arrives, for staff only.
      const line = desk.locator('#transcript .system-feedback');
      await waitForText(line.locator('.system-text'), LINE);
      assert.ok(await line.evaluate((e) => e.classList.contains('system-muted')), 'marked as what only staff see');
      await done(alice, vera);

      // Sam reads it in the History transcript: as the chat's feedback and as its event.
      await page.getByRole('button', { name: 'History' }).click();
      const history = page.locator('#history');
      await history.getByRole('search').waitFor();
      await history.getByLabel('Contact').fill('vera.stars@');
      await history.getByRole('button', { name: 'Search' }).click();
      await history.locator('.hist-result', { hasText: 'Vera Stars' }).click();
      const transcript = history.getByRole('region', { name: 'Transcript' });
      await waitForText(transcript.locator('.hist-feedback'), LINE);
      const ev = transcript.locator('.hist-event.hist-kind-feedback');
      assert.match((await ev.textContent()) ?? '', /4\/5/, 'the feedback event shows the rating');
      assert.match((await ev.textContent()) ?? '', new RegExp(NOTE), 'and the note');
      await done(sam);
    }));
});
