// Message markup and the emoji picker in Chromium, against the real server
// (docs/protocol.md, "Message markup"). renderMarkup's rules as a table,
// run in the page; then Alice and Vera write *bold*, _italic_, a link and
// an <img onerror> to each other: each side sees formatting, a safe link,
// and the tag as text; a private note and the supervisor's chat pane and
// History transcript render the same, as do staff messages (the Team
// panel). Last, the emoji picker of the desk and of the widget, by mouse
// and by keyboard.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, openDesk, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
const RICH = '*bold* _italic_ https://example.com <img src=x onerror=alert(1)>';
const PLAIN = 'snake_case_word 2*3*4 javascript:alert(1)';

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

/** Each input and the HTML renderMarkup makes of it. */
const TABLE = [
  ['*bold*', '<strong>bold</strong>'],
  ['_italic_', '<em>italic</em>'],
  ['a *b* c _d_.', 'a <strong>b</strong> c <em>d</em>.'],
  ['(*in parens*)', '(<strong>in parens</strong>)'],
  ['*bold _and italic_*', '<strong>bold <em>and italic</em></strong>'],
  ['snake_case_word', 'snake_case_word'],
  ['2*3*4', '2*3*4'],
  ['a * b * c', 'a * b * c'],
  ['*unmatched and _open', '*unmatched and _open'],
  ['**', '**'],
  ['*two\nlines*', '*two\nlines*'],
  ['line one\nline two', 'line one\nline two'],
  ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
  ['https://example.com', '<a href="https://example.com/" target="_blank" rel="noopener noreferrer">https://example.com</a>'],
  ['see http://a.example/x_y_z.', 'see <a href="http://a.example/x_y_z" target="_blank" rel="noopener noreferrer">http://a.example/x_y_z</a>.'],
  ['(https://a.example/p)', '(<a href="https://a.example/p" target="_blank" rel="noopener noreferrer">https://a.example/p</a>)'],
  ['https://a.example/wiki/X_(y)', '<a href="https://a.example/wiki/X_(y)" target="_blank" rel="noopener noreferrer">https://a.example/wiki/X_(y)</a>'],
  ['www.example.com', '<a href="https://www.example.com/" target="_blank" rel="noopener noreferrer">www.example.com</a>'],
  ['mailto:help@example.com', '<a href="mailto:help@example.com" target="_blank" rel="noopener noreferrer">mailto:help@example.com</a>'],
  ['*see https://example.com*', '<strong>see <a href="https://example.com/" target="_blank" rel="noopener noreferrer">https://example.com</a></strong>'],
  ['https://a.example/"onmouseover="x', '<a href="https://a.example/" target="_blank" rel="noopener noreferrer">https://a.example/</a>"onmouseover="x'],
  ['javascript:alert(1)', 'javascript:alert(1)'],
  ['data:text/html,hi', 'data:text/html,hi'],
  ['mailto:javascript:alert(1)', 'mailto:javascript:alert(1)'],
  ['xhttps://a.example', 'xhttps://a.example'],
];

describe('message markup', () => {
  test('renderMarkup, input by input', () =>
    explain(server, async () => {
      const p = await person();
      await p.page.goto('/login');
      const got = await p.page.evaluate(async (inputs) => {
        const { renderMarkup } = await import('/static/lib/markup.js');
        return inputs.map((text) => {
          const div = document.createElement('div');
          div.append(renderMarkup(text));
          return div.innerHTML;
        });
      }, TABLE.map(([input]) => input));
      TABLE.forEach(([input, want], i) => assert.equal(got[i], want, `renderMarkup(${JSON.stringify(input)})`));
      await done(p);
    }));

  test('agent and customer see each other\'s bold, italic and links, tags as text, on every side', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Marks', 'vera.marks@example.com');
      await accept(desk, 'Vera Marks');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();
      const id = Number(await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));

      // Alice writes; Vera sees formatting.
      const compose = desk.getByLabel('Reply', { exact: true });
      await compose.fill(RICH);
      await compose.press('Enter');
      const agentBubble = vera.widget.locator('.msg-agent .bubble', { hasText: 'italic' });
      await agentBubble.waitFor();
      await checkRich(agentBubble);

      // Vera writes back, with what must stay text; Alice's desk renders it.
      const box = vera.widget.getByLabel('Message', { exact: true });
      await box.fill(`${RICH}\n${PLAIN}`);
      await box.press('Enter');
      const customerText = desk.locator('#transcript .msg-customer .msg-text', { hasText: 'italic' });
      await customerText.waitFor();
      await checkRich(customerText);
      assert.match((await customerText.textContent()) ?? '', /\nsnake_case_word 2\*3\*4 javascript:alert\(1\)$/, 'the second line as typed');
      assert.equal(await customerText.locator('a').count(), 1, 'javascript: is no link');
      // Her own bubble in the widget too.
      await checkRich(vera.widget.locator('.msg-own .bubble', { hasText: 'italic' }));

      // A private note renders the same, in the desk.
      await desk.getByRole('button', { name: 'Private' }).click();
      await compose.fill('*only* for _staff_');
      await compose.press('Enter');
      const note = desk.locator('#transcript .msg-private .msg-text', { hasText: 'for' });
      await waitForText(note.locator('strong'), 'only');
      await waitForText(note.locator('em'), 'staff');
      await desk.getByRole('button', { name: 'Private' }).click();

      // Sam follows the chat in the console's chat pane.
      const sam = await person();
      const login = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(login.status(), 200, 'sam signs in');
      const page = sam.page;
      await page.goto('/supervisor');
      await page.locator(`#lists .sup-chip[data-conversation-id="${id}"]`).click();
      const pane = page.locator('#chat-pane');
      await waitForText(pane.getByRole('heading', { level: 2 }), 'Chat with Vera Marks');
      await checkRich(pane.locator('.msg-customer .msg-text', { hasText: 'italic' }));
      await checkRich(pane.locator('.msg-agent .msg-text', { hasText: 'italic' }));

      // Alice closes the chat; Sam reads the History transcript.
      await desk.getByRole('button', { name: 'Close chat' }).click();
      const dialog = desk.getByRole('dialog');
      await dialog.getByLabel('Resolved').check();
      await dialog.getByRole('button', { name: 'Close chat' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await done(alice, vera);

      await page.getByRole('button', { name: 'History' }).click();
      const history = page.locator('#history');
      await history.getByRole('search').waitFor();
      await history.getByLabel('Contact').fill('vera.marks@');
      await history.getByRole('button', { name: 'Search' }).click();
      await history.locator('.hist-result', { hasText: 'Vera Marks' }).click();
      const transcript = history.getByRole('region', { name: 'Transcript' });
      const messages = transcript.locator('.hist-event.hist-kind-message .hist-text', { hasText: 'italic' });
      await messages.first().waitFor();
      assert.equal(await messages.count(), 2, 'both messages in the transcript');
      for (const m of await messages.all()) await checkRich(m);
      await waitForText(transcript.locator('.hist-kind-message.hist-private .hist-text strong'), 'only');
      await done(sam);
    }));
});

describe('staff messages', () => {
  test('a staff message renders the same markup', () =>
    explain(server, async () => {
      const sam = await person();
      const alice = await person();
      await openDesk(alice, 'alice');
      await openDesk(sam, 'sam');
      const team = (/** @type {import('playwright-core').Page} */ desk, /** @type {string} */ name) =>
        desk.locator('#team-list .team-row').filter({ has: desk.locator('.team-name', { hasText: name }) }).getByRole('button');
      await team(sam.page, 'Alice Agent').click();
      const box = sam.page.getByLabel('Message', { exact: true });
      await box.fill(RICH);
      await box.press('Enter');
      await checkRich(sam.page.locator('#team-thread .team-msg-own:not(.pending) .msg-text', { hasText: 'italic' }));
      await team(alice.page, 'Sam Supervisor').click();
      await checkRich(alice.page.locator('#team-thread .team-msg-theirs .msg-text', { hasText: 'italic' }));
      await done(sam, alice);
    }));
});

/**
 * The rendering of RICH inside node: bold, italic, a safe link, the tag as
 * text and no image anywhere in the node's document.
 * @param {import('playwright-core').Locator} node
 */
async function checkRich(node) {
  await waitForText(node.locator('strong'), 'bold');
  await waitForText(node.locator('em'), 'italic');
  const link = node.locator('a');
  await waitForText(link, 'https://example.com');
  assert.equal(await link.getAttribute('href'), 'https://example.com/');
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  assert.match((await node.textContent()) ?? '', /^bold italic https:\/\/example\.com <img src=x onerror=alert\(1\)>/, 'the tag is text');
  assert.equal(await node.locator('img').count(), 0, 'no image element');
  assert.equal(await node.locator('xpath=/ancestor::body//img[@src="x"]').count(), 0, 'no image in the page');
}

describe('emoji picker', () => {
  test('the desk and the widget insert emoji at the caret, by mouse and by keyboard', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Emoji');
      await accept(desk, 'Vera Emoji');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();

      // The desk, by mouse: the emoji goes where the caret is, the focus stays in the box.
      const compose = desk.getByLabel('Reply', { exact: true });
      await pick(compose, desk.locator('#compose-form'));
      await compose.press('Enter');
      await vera.widget.locator('.msg-agent .bubble', { hasText: 'Thanks 👍 a lot' }).waitFor();
      await vera.widget.locator('.msg-agent .bubble', { hasText: 'Hi😊 there' }).waitFor();

      // The widget, the same.
      const box = vera.widget.getByLabel('Message', { exact: true });
      await pick(box, vera.widget.locator('#parley-compose'));
      await box.press('Enter');
      await desk.locator('#transcript .msg-customer .msg-text', { hasText: 'Thanks 👍 a lot' }).waitFor();
      await desk.locator('#transcript .msg-customer .msg-text', { hasText: 'Hi😊 there' }).waitFor();
      await done(alice, vera);
    }));
});

/**
 * In a compose form: inserts 👍 by mouse into "Thanks a lot" after
 * "Thanks ", then on a new line 😊 by keyboard (Enter opens, → then ↓ and
 * Enter picks the one below 😃) after "Hi"; checks focus, outside click
 * and Escape.
 * @param {import('playwright-core').Locator} box
 * @param {import('playwright-core').Locator} form
 */
async function pick(box, form) {
  const button = form.getByRole('button', { name: 'Emoji', exact: true });
  const panel = form.getByRole('dialog', { name: 'Emoji' });

  await box.fill('Thanks a lot');
  await box.evaluate((/** @type {HTMLTextAreaElement} */ t) => t.setSelectionRange(7, 7));
  await button.click();
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  await panel.getByRole('button', { name: 'thumbs up' }).click();
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await box.inputValue(), 'Thanks 👍a lot');
  assert.ok(await box.evaluate((t) => t === t.ownerDocument.activeElement), 'the focus is back in the box');
  await box.pressSequentially(' ');
  assert.equal(await box.inputValue(), 'Thanks 👍 a lot', 'typing goes on at the caret');

  // A click outside closes the panel without inserting.
  await button.click();
  await panel.waitFor();
  await box.click();
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await button.getAttribute('aria-expanded'), 'false');

  // Escape closes it and returns to the box.
  await button.focus();
  await button.press('Enter');
  await panel.waitFor();
  await panel.getByRole('button', { name: 'grinning face', exact: true }).press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.ok(await box.evaluate((t) => t === t.ownerDocument.activeElement), 'Escape returns to the box');
  assert.equal(await box.inputValue(), 'Thanks 👍 a lot', 'Escape inserts nothing');

  // By keyboard: the first emoji has the focus; → and ↓ move, Enter picks.
  await box.press('End');
  await box.press('Shift+Enter');
  await box.pressSequentially('Hi there');
  await box.evaluate((/** @type {HTMLTextAreaElement} */ t) => t.setSelectionRange(t.value.length - 6, t.value.length - 6));
  await button.focus();
  await button.press('Enter');
  const first = panel.getByRole('button', { name: 'grinning face', exact: true });
  assert.ok(await first.evaluate((b) => b === b.ownerDocument.activeElement), 'the first emoji has the focus');
  const page = box.page();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  assert.equal(await panel.locator('.emoji-cell:focus').getAttribute('aria-label'), 'smiling face with smiling eyes', '↓ goes to the emoji below');
  await page.keyboard.press('Enter');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await box.inputValue(), 'Thanks 👍 a lot\nHi😊 there');
  assert.ok(await box.evaluate((t) => t === t.ownerDocument.activeElement), 'the focus is back in the box');
}
