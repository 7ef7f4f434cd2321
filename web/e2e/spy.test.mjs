// Spying and comments in Chromium, against the real server
// (docs/protocol.md, "Comments (staff)"): a supervisor opens a live chat
// in the console's chat pane and sees it as it happens (the customer's
// message within a second, measured; typing; a private note, marked),
// while the customer's page, and every frame its websocket received,
// hold no trace of it. The supervisor comments with @alice (picked from
// the list of staff): Alice's desk shows the card, plays the tone, badges
// the chat's tab and the page title, and shows the comment in the chat;
// Alice answers with a comment of her own, which the supervisor sees.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, say, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
const NOTE = 'Staff only: check the courier';
const COMMENT = 'please offer her a voucher';

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

describe('spy and comments', () => {
  test('a supervisor spies a chat unseen by the customer and mentions the agent, who is told', () =>
    explain(server, async () => {
      const alice = await person();
      const sam = await person();
      const vera = await person();
      try {
        // Everything the customer's websocket receives, from the start.
        /** @type {string[]} */
        const frames = [];
        vera.page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));

        await openDesk(alice, 'alice');
        const customer = await startDemoChat(vera, 'Vera');
        await customer.widget.locator('#parley-input').fill('Hello, my parcel is late');
        await customer.widget.locator('#parley-input').press('Enter');
        await offerCard(alice.page, 'Vera').waitFor();
        await accept(alice.page, 'Vera');
        await customer.widget.getByText('Alice Agent joined the chat').waitFor();
        const id = Number(await alice.page.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));
        assert.ok(id > 0, 'the chat has an id');

        // Sam opens the chat in the console's chat pane.
        const res = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
        assert.equal(res.status(), 200, 'sam signs in');
        await sam.page.goto('/supervisor');
        // In the floor's Chats list, under Alice: Sam clicks the chat.
        await sam.page.locator(`#lists .sup-chip[data-conversation-id="${id}"]`).click();
        const pane = sam.page.locator('#chat-pane');
        await waitForText(pane.getByRole('heading', { level: 2 }), 'Chat with Vera');
        await waitForText(pane.locator('[data-fact="agents"]'), 'Alice Agent');
        await waitForText(pane.locator('[data-fact="queue"]'), 'Sales');
        await pane.locator('.msg-customer', { hasText: 'Hello, my parcel is late' }).waitFor();
        assert.equal(await pane.locator('textarea#compose, #parley-input').count(), 0, 'no message box for the customer');
        assert.equal(await pane.getByRole('button', { name: 'Watch video' }).isHidden(), true, 'no live room: no video to watch');

        // The customer types: Sam sees it; then the message, within a second.
        await customer.widget.locator('#parley-input').fill('Where is it now?');
        await waitForText(pane.locator('.spy-typing'), 'Vera is typing…');
        const sent = Date.now();
        await customer.widget.locator('#parley-input').press('Enter');
        await pane.locator('.msg-customer', { hasText: 'Where is it now?' }).waitFor();
        const took = Date.now() - sent;
        console.log(`the customer's message reached the supervisor's pane in ${took} ms`);
        assert.ok(took < 1000, `the customer's message took ${took} ms to reach the supervisor, want under a second`);

        // Alice types (Sam sees it), replies and writes a private note: Sam
        // sees both, the note marked.
        await alice.page.locator('#compose').fill('Let me');
        await waitForText(pane.locator('.spy-typing'), 'Alice Agent is typing…');
        await say(alice.page, 'Let me look into it.');
        await pane.locator('.msg-agent:not(.msg-private)', { hasText: 'Let me look into it.' }).waitFor();
        await say(alice.page, NOTE, { private: true });
        await pane.locator('.msg-private', { hasText: NOTE }).waitFor();

        // Alice's page may play sounds once she has clicked on it.
        await alice.page.locator('#chat-name').click();
        const played = Number((await alice.page.locator('#sound-toggle').getAttribute('data-played')) ?? 0);

        // Sam comments, mentioning Alice from the picker.
        const box = pane.getByLabel('Comment for staff');
        await pane.getByLabel('Mention a colleague').focus();
        await pane.getByLabel('Mention a colleague').locator('option', { hasText: 'Alice Agent (@alice)' }).waitFor({ state: 'attached' });
        await pane.getByLabel('Mention a colleague').selectOption({ label: 'Alice Agent (@alice)' });
        assert.equal(await box.inputValue(), '@alice ', 'the picker puts the login in');
        await box.pressSequentially(COMMENT);
        await pane.getByRole('button', { name: 'Comment', exact: true }).click();
        await pane.locator('.msg-comment', { hasText: `@alice ${COMMENT}` }).waitFor();
        assert.equal(await box.inputValue(), '', 'the box empties once the comment is stored');

        // Alice: the card, the tone, the badges, and the comment in the chat.
        const card = alice.page.locator('#mentions .mention-card');
        await waitForText(card.locator('.mention-card-text'), `Sam Supervisor mentioned you in the chat with Vera: @alice ${COMMENT}`);
        await alice.page.locator(`#sound-toggle[data-played="${played + 1}"]`).waitFor();
        await waitForText(alice.page.locator(`#chat-tabs .chat-tab[data-conversation="${id}"] .mention-badge`), '@1');
        await waitUntil(async () => (await alice.page.title()).startsWith('(1) '), 'the page title counts the mention');
        await alice.page.locator('#transcript .msg-comment', { hasText: `@alice ${COMMENT}` }).waitFor();
        await waitForText(alice.page.locator('#transcript .msg-comment .comment-label'), 'Comment');

        // Alice answers with a comment; Sam sees it. Open reads the mention.
        await alice.page.getByLabel('Comment for staff').fill('@sam done, voucher sent');
        await alice.page.getByLabel('Comment for staff').press('Enter');
        await pane.locator('.msg-comment', { hasText: '@sam done, voucher sent' }).waitFor();
        await card.getByRole('button', { name: 'Open' }).click();
        await card.waitFor({ state: 'detached' });
        await alice.page.locator('.mention-badge').waitFor({ state: 'detached' });
        await alice.page.reload();
        await waitForText(alice.page.locator('#conn-state'), 'Connected');
        await alice.page.locator('#transcript .msg-comment', { hasText: '@sam done, voucher sent' }).waitFor();
        assert.equal(await alice.page.locator('#mentions .mention-card').count(), 0, 'a read mention stays read after a reload');

        // Alice opens a video room: Sam may watch it.
        await alice.page.getByRole('button', { name: 'Create video room' }).click();
        await pane.getByRole('button', { name: 'Watch video' }).waitFor();

        // Another chat replaces this one in the pane.
        await sam.page.goto(`/supervisor#chat=${id + 1000}`);
        await waitForText(pane.locator('.spy-status'), 'There is no such chat, or you may not see it.');
        assert.equal(await pane.locator('.msg').count(), 0, 'the earlier chat is gone from the pane');

        // The customer's page: no trace of Sam, the note or the comments,
        // on the screen or in any frame its websocket received. Alice's
        // public reply arrived, so the frames are not empty.
        await customer.widget.getByText('Let me look into it.').waitFor();
        await say(alice.page, 'A voucher is on its way.');
        await customer.widget.getByText('A voucher is on its way.').waitFor();
        const seen = await customer.frame().locator('body').innerText();
        const received = frames.join('\n');
        assert.match(received, /Let me look into it\./, 'the frames were recorded');
        for (const trace of ['Sam', 'Supervisor', NOTE, COMMENT, 'voucher sent', 'comment', 'mention', '"private":true']) {
          assert.ok(!seen.includes(trace), `the customer's page shows "${trace}"`);
          assert.ok(!received.includes(trace), `the customer's websocket received "${trace}"`);
        }
      } finally {
        await done(alice, sam, vera);
      }
    }));
});
