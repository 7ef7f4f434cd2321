// Private notes in Chromium, against the real server: the agent turns on
// private mode (the eye in the compose area) with the keyboard, types and
// sends a note, then a public reply. The agent's transcript, and a
// supervisor's, show the note in the private colour with the eye; the
// customer's page never holds its text, nor a "typing" line while the
// agent typed privately. The mode belongs to each chat tab.
//
// A supervisor cannot open another agent's live chat from the desk yet
// (there is no "watch" in the desk); the desk's one way for a supervisor
// to read another agent's chat is the customer's history ("Load older
// messages"), so the supervisor takes the customer's next chat and reads
// the first there.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, openDesk, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
const NOTE = 'Staff only: she is a VIP, offer the discount';

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

/**
 * The admin makes the supervisor sam a member of the demo queue (with
 * alice and bob), so that the customer's next chat can be offered to sam.
 */
async function samJoinsTheDemoQueue() {
  const login = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ada', password: 'demo' }),
  });
  assert.equal(login.status, 200, 'ada signs in');
  const { token } = await login.json();
  const auth = { Authorization: `Bearer ${token}` };
  const list = await (await fetch(`${server.url}/api/admin/queues`, { headers: auth })).json();
  const demo = list.queues.find((/** @type {{key: string}} */ q) => q.key === 'demo');
  const res = await fetch(`${server.url}/api/admin/queues/demo`, {
    method: 'PUT',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...demo, members: ['alice', 'bob', 'sam'] }),
  });
  assert.equal(res.status, 200, await res.text());
}

/**
 * Records, in the widget's frame, every text that ever appears on its page
 * and every time the agent's "typing" line shows, so that something shown
 * for a moment and gone again is caught too.
 * @param {import('./people.mjs').Customer} c
 */
async function recordWidget(c) {
  await c.frame().evaluate(() => {
    const seen = { texts: /** @type {string[]} */ ([]), typing: /** @type {string[]} */ ([]) };
    /** @type {any} */ (window).parleySeen = seen;
    const line = /** @type {HTMLElement} */ (document.getElementById('parley-typing'));
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'characterData') seen.texts.push(r.target.textContent ?? '');
        for (const n of r.addedNodes) seen.texts.push(n.textContent ?? '');
      }
      if (!line.hidden && line.textContent) seen.typing.push(line.textContent);
    }).observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/**
 * What the recorder saw so far, and the page's text now.
 * @param {import('./people.mjs').Customer} c
 * @returns {Promise<{texts: string[], typing: string[], now: string}>}
 */
function widgetSaw(c) {
  return c.frame().evaluate(() => ({ .../** @type {any} */ (window).parleySeen, now: document.documentElement.textContent ?? '' }));
}

/**
 * The computed background colour of the first element the locator finds.
 * @param {import('playwright-core').Locator} locator
 */
const background = (locator) => locator.first().evaluate((e) => getComputedStyle(e).backgroundColor);

/**
 * The note as a staff viewer's transcript shows it: in the private colour,
 * with the eye and "Private", unlike a public message of an agent.
 * @param {import('playwright-core').Locator} note the note's .msg
 * @param {import('playwright-core').Locator} publicReply an agent's public .msg
 * @param {string} who
 */
async function shownAsPrivate(note, publicReply, who) {
  await note.waitFor();
  assert.ok(await note.locator('.msg-private-label .eye').isVisible(), `${who}: the note carries the eye`);
  await waitForText(note.locator('.msg-private-label'), 'Private');
  const [noteColour, publicColour] = await Promise.all([background(note.locator('.msg-text')), background(publicReply.locator('.msg-text'))]);
  assert.notEqual(noteColour, publicColour, `${who}: the note's colour differs from a public message's`);
}

describe('private notes', () => {
  test('the agent writes a private note with the eye on: staff see it marked, the customer never sees it nor its typing', () =>
    explain(server, async () => {
      await samJoinsTheDemoQueue();
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      // Every frame the customer's browser receives on its websockets: a
      // note that reached it and was not drawn is a leak too.
      const veraPerson = await person();
      /** @type {string[]} */
      const veraFrames = [];
      veraPerson.page.on('websocket', (ws) => ws.on('framereceived', (f) => veraFrames.push(String(f.payload))));
      const vera = await startDemoChat(veraPerson, 'Vera Private');
      await accept(desk, 'Vera Private');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();
      await recordWidget(vera);

      // The eye, by keyboard: a toggle button, off, with its meaning told.
      const eye = desk.locator('#private-toggle');
      const form = desk.locator('#compose-form');
      const compose = desk.locator('#compose');
      assert.equal(await eye.getAttribute('aria-pressed'), 'false');
      assert.equal(await eye.getAttribute('title'), 'Private: only staff see this');
      assert.equal(await desk.getByRole('button', { name: 'Private', exact: true }).count(), 1, 'the toggle is a button named Private');
      const publicColour = await background(form);
      await compose.focus();
      await desk.keyboard.press('Tab'); // from the reply box to the eye, the next control
      await eye.evaluate((e) => e === document.activeElement || Promise.reject(new Error('the eye is not focused')));
      await desk.keyboard.press('Space');
      assert.equal(await eye.getAttribute('aria-pressed'), 'true');
      assert.ok(await desk.locator('#private-banner').isVisible(), 'the compose area says it is private');
      // (its colour fades in: wait for the change, with a deadline)
      await waitUntil(async () => (await background(form)) !== publicColour, 'the compose area to change colour');
      assert.ok(await form.evaluate((f) => f.classList.contains('compose-private')));
      assert.equal(await compose.getAttribute('placeholder'), 'Write a private note: only staff see it…');
      await waitForText(desk.locator('#send'), 'Send note');

      // The note, typed as an agent types it (private typing), then sent.
      await compose.pressSequentially(NOTE);
      await compose.press('Enter');
      const note = desk.locator('#transcript .msg-private', { hasText: NOTE });
      await note.and(desk.locator('[data-seq]:not(.pending)')).waitFor(); // stored
      // A barrier: the customer's own message is answered after anything the
      // server sent it before, so a leak would be on its page by then.
      const input = vera.widget.getByLabel('Message', { exact: true });
      await input.fill('Are you still there?');
      await input.press('Enter');
      await vera.widget.locator('#parley-transcript .msg-own:not(.pending)', { hasText: 'Are you still there?' }).waitFor();
      let saw = await widgetSaw(vera);
      assert.deepEqual(saw.typing, [], 'the customer was not told of the private typing');
      assert.ok(veraFrames.length > 0, "the customer's websocket frames are recorded");
      assert.deepEqual(veraFrames.filter((f) => f.includes(NOTE) || f.includes('"private":true')), [], "the customer's browser never received the note");
      assert.ok(!saw.now.includes(NOTE) && !saw.texts.some((t) => t.includes(NOTE)), 'the customer never had the note');

      // The mode is the chat's: another chat's tab starts public, and
      // coming back finds Vera's chat still private.
      const walt = await startDemoChat(await person(), 'Walt Public');
      await accept(desk, 'Walt Public');
      assert.equal(await eye.getAttribute('aria-pressed'), 'false', "Walt's chat is public");
      assert.ok(!(await form.evaluate((f) => f.classList.contains('compose-private'))), "Walt's compose area is not private");
      await waitUntil(async () => (await background(form)) === publicColour, "Walt's compose area in the public colour");
      await desk.locator('#chat-tabs .chat-tab', { hasText: 'Vera Private' }).click();
      await waitForText(desk.locator('#chat-name'), 'Vera Private');
      assert.equal(await eye.getAttribute('aria-pressed'), 'true', "Vera's chat is still private");

      // Public again: now the customer is told of the typing, and gets the reply.
      await eye.click();
      assert.equal(await eye.getAttribute('aria-pressed'), 'false');
      assert.ok(!(await desk.locator('#private-banner').isVisible()));
      await compose.pressSequentially('Yes, I am here. ');
      await waitUntil(async () => (await widgetSaw(vera)).typing.length > 0, 'the customer to see the public typing');
      await compose.pressSequentially('The discount is yours.');
      await compose.press('Enter');
      await vera.widget.locator('#parley-transcript .msg-agent .bubble', { hasText: 'The discount is yours.' }).waitFor();
      saw = await widgetSaw(vera);
      assert.ok(saw.typing.every((t) => t === 'Alice Agent is typing…'), JSON.stringify(saw.typing));
      assert.ok(!saw.now.includes(NOTE) && !saw.texts.some((t) => t.includes(NOTE)), 'the customer never had the note');
      const agentSaid = await vera.widget.locator('#parley-transcript .msg-agent .bubble').allTextContents();
      assert.equal(agentSaid.at(-1), 'Yes, I am here. The discount is yours.', JSON.stringify(agentSaid));

      // The author's transcript: the note marked and coloured, the reply not.
      const reply = desk.locator('#transcript .msg-agent:not(.msg-private)', { hasText: 'The discount is yours.' });
      await shownAsPrivate(note, reply, 'the author');
      assert.equal(await reply.locator('.eye').count(), 0, 'a public reply has no eye');

      // Alice closes the chat and goes; the customer starts another, which
      // the supervisor takes.
      await desk.getByRole('button', { name: 'Close chat' }).click();
      const dialog = desk.getByRole('dialog');
      await dialog.getByLabel('Resolved').check();
      await dialog.getByRole('button', { name: 'Close chat' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await done(alice, walt);
      const sam = await person();
      await openDesk(sam, 'sam');
      await vera.widget.getByRole('button', { name: 'Start a new chat' }).click();
      await vera.widget.getByRole('button', { name: 'Start chat' }).click();
      await accept(sam.page, 'Vera Private');
      await vera.widget.getByText('Sam Supervisor joined the chat').waitFor();

      // The supervisor's view of Alice's chat: the note, marked.
      await sam.page.locator('#transcript[data-history="some"]').waitFor();
      await sam.page.getByRole('button', { name: 'Load older messages' }).click();
      const earlier = sam.page.locator('#transcript .earlier');
      await shownAsPrivate(
        earlier.locator('.msg-private', { hasText: NOTE }),
        earlier.locator('.msg-agent:not(.msg-private)', { hasText: 'The discount is yours.' }),
        'the supervisor',
      );

      saw = await widgetSaw(vera);
      assert.ok(!saw.now.includes(NOTE) && !saw.texts.some((t) => t.includes(NOTE)), 'the customer never had the note');
      assert.deepEqual(veraFrames.filter((f) => f.includes(NOTE) || f.includes('"private":true')), [], "the customer's browser never received the note");
      await done(vera, sam);
    }));
});
